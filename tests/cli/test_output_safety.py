"""Outputs never replace an input or a special file (issue 15): one shared guard for every command.

Each test is one small file and one in-process command (`gaitimpact.cli.main.main`), checking exit 2,
one stderr line naming the path, and the bytes of what must stay untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from errorlines import one_error

from gaitimpact.cli.main import main
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


@pytest.fixture(scope="module")
def run_csv(tmp_path_factory) -> Path:
    """A 20 s simulated waist run (CSV + sidecar) in its own folder."""
    folder = tmp_path_factory.mktemp("rec")
    res = simulate(SimConfig(placement="waist", fs_hz=100.0, segments=[SimSegment(20.0, "run", 3.0, "asphalt")],
                             seed=1))
    csv, _, _ = write_simulation(res, folder / "run.csv")
    return csv


@pytest.fixture()
def run(tmp_path, run_csv) -> Path:
    """A private copy of the run (CSV + sidecar) that a test may try to damage."""
    for p in (run_csv, run_csv.with_suffix(".json")):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    return tmp_path / run_csv.name


def snapshot(*paths: Path) -> dict[Path, bytes]:
    """The bytes of each file (to prove they were left untouched)."""
    return {p: p.read_bytes() for p in paths}


@pytest.mark.parametrize("flag", ["--json", "--steps-csv"])
def test_analyze_refuses_to_write_over_the_recording(run, capsys, flag):
    before = snapshot(run, run.with_suffix(".json"))
    assert main(["analyze", str(run), flag, str(run)]) == 2
    one_error(capsys, str(run), "input recording")
    assert snapshot(*before) == before


def test_analyze_refuses_to_write_over_the_sidecar(run, capsys):
    side = run.with_suffix(".json")
    before = snapshot(run, side)
    assert main(["analyze", str(run), "--json", str(side)]) == 2
    one_error(capsys, "input sidecar")
    assert snapshot(*before) == before


def test_analyze_refuses_a_symlink_to_the_input_as_output(run, capsys, tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(run)
    before = snapshot(run)
    assert main(["analyze", str(run), "--steps-csv", str(link)]) == 2
    one_error(capsys, "symbolic link")
    assert snapshot(run) == before and link.is_symlink()


def test_analyze_refuses_a_fifo_as_output_and_leaves_it_a_fifo(run, capsys, tmp_path):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    assert main(["analyze", str(run), "--json", str(fifo)]) == 2
    one_error(capsys, "named pipe")
    assert fifo.is_fifo()


def test_analyze_refuses_a_device_as_output(run, capsys):
    assert main(["analyze", str(run), "--json", "/dev/null"]) == 2
    one_error(capsys, "/dev/null", "character device")
    assert Path("/dev/null").is_char_device()


def test_analyze_checks_outputs_before_the_work(run, capsys, tmp_path):
    """An unwritable --json place fails before the table is printed (no wasted analysis)."""
    assert main(["analyze", str(run), "--json", str(tmp_path / "missing" / "x.json")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "folder does not exist" in out.err


def test_analyze_refuses_the_same_file_for_two_outputs(run, capsys, tmp_path):
    out = tmp_path / "x.out"
    assert main(["analyze", str(run), "--json", str(out), "--steps-csv", str(out)]) == 2
    one_error(capsys, "same file as --json")


def test_analyze_needs_force_to_replace_another_recording(run, run_csv, capsys, tmp_path):
    other = tmp_path / "other.csv"
    other.write_bytes(run_csv.read_bytes())
    assert main(["analyze", str(run), "--steps-csv", str(other)]) == 2
    one_error(capsys, "looks like a recording", "--force")
    assert other.read_bytes() == run_csv.read_bytes()
    assert main(["analyze", str(run), "--steps-csv", str(other), "--force"]) == 0
    assert other.read_text().startswith("time_s,foot")


def test_analyze_says_which_files_it_wrote_and_replaces_its_own_outputs(run, capsys, tmp_path):
    outs = [tmp_path / "s.json", tmp_path / "s.steps.csv", tmp_path / "s.png"]
    for _ in range(2):  # the second run replaces its own outputs without --force
        assert main(["analyze", str(run), "--json", str(outs[0]), "--steps-csv", str(outs[1]),
                     "--plot", str(outs[2])]) == 0
        stdout = capsys.readouterr().out
        for p in outs:
            assert f"wrote {p}" in stdout and p.stat().st_size > 0


def test_analyze_json_to_stdout_keeps_working(run, capsys):
    assert main(["analyze", str(run), "--json", "-"]) == 0
    out = capsys.readouterr()
    assert out.out.lstrip().startswith("{") and "wrote" not in out.out


def test_batch_refuses_out_over_a_recording_in_the_folder(run, capsys, tmp_path):
    other = tmp_path / "another_recording.csv"
    other.write_bytes(run.read_bytes())
    before = snapshot(other)
    assert main(["batch", str(tmp_path), "--out", str(other), "--jobs", "1", "--no-progress"]) == 2
    one_error(capsys, "looks like a recording")
    assert snapshot(other) == before


def test_batch_refuses_out_under_a_file_before_work(run, capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["batch", str(run), "--out", str(afile / "y.csv"), "--jobs", "1", "--no-progress"]) == 2
    one_error(capsys, "not a folder")


def test_batch_refuses_steps_dir_that_is_a_file(run, capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["batch", str(run), "--out", str(tmp_path / "r.csv"), "--steps-dir", str(afile), "--jobs", "1",
                 "--no-progress"]) == 2
    one_error(capsys, "is not a folder", "--steps-dir")
    assert afile.read_text() == "x" and not (tmp_path / "r.csv").exists()


def test_simulate_needs_force_to_replace_a_recording_and_its_sidecar(run, capsys):
    before = snapshot(run, run.with_suffix(".json"))
    assert main(["simulate", "--duration", "5", "--out", str(run)]) == 2
    one_error(capsys, "--force")
    assert snapshot(*before) == before


def test_convert_does_not_replace_an_existing_sidecar_without_force(run, capsys, tmp_path):
    pq = tmp_path / "x.parquet"
    assert main(["convert", str(run), str(pq)]) == 0
    assert f"wrote {pq}" in capsys.readouterr().err
    (tmp_path / "b.json").write_text('{"shoe": "mine"}')
    assert main(["convert", str(pq), str(tmp_path / "b.csv")]) == 2
    one_error(capsys, "b.json", "--force")
    assert (tmp_path / "b.json").read_text() == '{"shoe": "mine"}' and not (tmp_path / "b.csv").exists()


def test_convert_refuses_its_input_sidecar_as_output(run, capsys, tmp_path):
    pq = tmp_path / "x.parquet"
    assert main(["convert", str(run), str(pq)]) == 0
    capsys.readouterr()
    assert main(["convert", str(pq), str(pq)]) == 2
    one_error(capsys, "input recording")


def test_report_html_refuses_a_fifo_and_the_library_itself(capsys, tmp_path):
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    lib = tmp_path / "lib.sqlite"
    assert main(["report", "--html", str(fifo), "--library", str(lib)]) == 2
    one_error(capsys, "named pipe")
    assert fifo.is_fifo()
    lib.write_bytes(b"")
    assert main(["report", "--html", str(lib), "--library", str(lib)]) == 2
    one_error(capsys, "input recording")
    assert main(["report", "--html", "/dev/full", "--library", str(lib)]) == 2  # replaced the device as root
    one_error(capsys, "/dev/full", "character device")
    assert Path("/dev/full").is_char_device()


@pytest.mark.parametrize("command", ["compare", "shoes"])
def test_compare_and_shoes_refuse_a_symlinked_plot(run, capsys, tmp_path, command):
    target = tmp_path / "keep.png"
    target.write_bytes(b"keep")
    link = tmp_path / "out.png"
    link.symlink_to(target)
    args = [command, "--plot", str(link), "--library", str(tmp_path / "lib.sqlite")]
    if command == "compare":
        args.insert(1, str(run))
    assert main(args) == 2
    one_error(capsys, "symbolic link")
    assert link.is_symlink() and target.read_bytes() == b"keep"


def test_compare_refuses_json_over_one_of_its_recordings(run, capsys, tmp_path):
    before = snapshot(run)
    assert main(["compare", str(run), "--json", str(run), "--library", str(tmp_path / "l.sqlite")]) == 2
    one_error(capsys, "input recording")
    assert snapshot(run) == before
