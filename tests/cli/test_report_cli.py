"""Library and report commands through the command line (in process; add + report also as real processes):
add, sessions, shoe, compare, shoes, report; bad input."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from clirun import run_cli, run_cli_process

from gaitimpact.cli.main import main
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

SPEEDS = {"concrete": [2.8, 3.2, 3.6], "grass": [3.2, 3.6, 4.0]}


def one_line_error(err: str, *needles: str) -> None:
    """A single non-empty stderr line containing every needle, no traceback."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]


def write(path: Path, segments: list[tuple[float, float, str]], seed: int, **kw: object) -> Path:
    cfg = SimConfig(
        placement="waist",
        fs_hz=200.0,
        segments=[SimSegment(d, "run", v, s) for d, v, s in segments],
        seed=seed,
        noise_g=0.02,
        **kw,
    )
    write_simulation(simulate(cfg), path)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three simulated waist runs, each concrete then grass at different speeds, shoe 'Pegasus <40>'."""
    folder = tmp_path_factory.mktemp("runs")
    return [
        write(
            folder / f"run{k}.csv",
            [(35.0, SPEEDS["concrete"][k], "concrete"), (35.0, SPEEDS["grass"][k], "grass")],
            seed=k,
            shoe="Pegasus <40>",
            shoe_km=150.0 * k,
        )
        for k in range(3)
    ]


@pytest.mark.e2e
def test_add_then_report_end_to_end_through_subprocess(runs: list[Path], tmp_path: Path) -> None:
    env = {**os.environ, "GAITIMPACT_LIBRARY": str(tmp_path / "env-lib.sqlite")}
    proc = run_cli_process("add", *runs, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "session 3" in proc.stdout and "new shoe 'Pegasus <40>'" in proc.stdout
    again = run_cli("add", runs[0], env=env)
    assert again.returncode == 0 and "already in the library as session 1" in again.stdout
    html = tmp_path / "report.html"
    proc = run_cli_process("report", "--html", html, env=env)
    assert proc.returncode == 0, proc.stderr
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "Pegasus &lt;40&gt;" in page and "Pegasus <40>" not in page
    assert "grass vs concrete" in page or "grass:" in page
    with sqlite3.connect(tmp_path / "env-lib.sqlite") as con:
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 3


def test_compare_json_and_plot_from_files(runs: list[Path], tmp_path: Path) -> None:
    out, png = tmp_path / "cmp.json", tmp_path / "cmp.png"
    proc = run_cli("compare", *runs, "--json", out, "--plot", png, "--library", tmp_path / "unused.sqlite")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["reference"] == "concrete" and doc["adjusted_for"] == ["speed", "shoe km"]
    assert doc["by"] == "surface" and [g["name"] for g in doc["groups"]] == ["concrete", "grass"]
    assert {g["status"] for g in doc["groups"]} <= {"reference", "higher", "lower", "within_noise", "cannot_tell"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "concrete" in proc.stdout and "grass" in proc.stdout
    for jargon in ("strata", "bootstrap", "replicates", "its interval"):
        assert jargon not in proc.stdout
    assert not (tmp_path / "unused.sqlite").exists()


def test_library_commands_in_process(runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["shoe", "add", "Clifton 9", "--km", "120", *lib]) == 0
    assert main(["add", str(runs[0]), "--shoe", "Clifton 9", "--distance-km", "8", *lib]) == 0
    assert main(["add", *map(str, runs[1:]), *lib]) == 0
    capsys.readouterr()
    assert main(["shoe", "list", *lib]) == 0
    listing = capsys.readouterr().out
    assert "Clifton 9" in listing and "128" in listing and "Pegasus <40>" in listing
    assert main(["sessions", "--json", "-", *lib]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["sessions"]) == 3 and doc["sessions"][0]["distance_km"] == 8.0
    assert all(s["bone_stimulus_g"] > 0 for s in doc["sessions"]) and doc["weeks"]
    assert main(["shoes", "--json", "-", *lib]) == 0
    shoes = {s["shoe"]: s for s in json.loads(capsys.readouterr().out)["shoes"]}
    assert shoes["Pegasus <40>"]["sessions"] == 2 and shoes["Clifton 9"]["km_first"] == 120.0
    for key in ("km_last", "pct_per_100km", "pct_per_100km_ci95", "hint"):
        assert key in shoes["Clifton 9"]
    assert main(["shoes", "--wide", *lib]) == 0  # the table says each km trend in words, not status codes
    table = capsys.readouterr().out
    assert "can't tell yet" in table and "cannot tell" not in table and "95% range" not in table
    assert main(["shoe", "retire", "Clifton 9", *lib]) == 0
    assert "retired at 128 km" in capsys.readouterr().out
    assert main(["compare", "--by", "shoe", "--json", "-", *lib]) == 0
    assert {g["name"] for g in json.loads(capsys.readouterr().out)["groups"]} == {"Clifton 9", "Pegasus <40>"}


def test_unknown_shoe_is_refused_and_existing_sessions_kept(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(runs[0]), *lib]) == 0
    capsys.readouterr()
    assert main(["add", str(runs[1]), "--shoe", "Nimbus", *lib]) == 2
    one_line_error(capsys.readouterr().err, "unknown shoe 'Nimbus'", "shoe add")
    with sqlite3.connect(tmp_path / "lib.sqlite") as con:
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1


def test_empty_library_is_a_clear_error_and_no_file_is_created(tmp_path: Path, capsys) -> None:
    path = tmp_path / "none.sqlite"
    for cmd in (["sessions"], ["compare"], ["shoes"], ["report", "--html", str(tmp_path / "r.html")]):
        assert main([*cmd, "--library", str(path)]) == 2
        one_line_error(capsys.readouterr().err, "library is empty")
    assert not path.exists() and not (tmp_path / "r.html").exists()
    assert main(["shoe", "add", "X", "--library", str(path)]) == 0
    capsys.readouterr()
    assert main(["compare", "--library", str(path)]) == 2
    one_line_error(capsys.readouterr().err, "library is empty")


def test_corrupt_library_is_reported_and_left_byte_for_byte(runs: list[Path], tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.sqlite"
    garbage = b"SQLite format 2\x00" + os.urandom(3000)
    path.write_bytes(garbage)
    for cmd in (["sessions"], ["add", str(runs[0])], ["shoe", "add", "A"]):
        assert main([*cmd, "--library", str(path)]) == 2
        one_line_error(capsys.readouterr().err, str(path), "left untouched")
    assert path.read_bytes() == garbage


def test_surface_with_too_few_strikes_exits_2_unless_the_minimum_is_lowered(tmp_path: Path, capsys) -> None:
    csv = write(tmp_path / "short_grass.csv", [(40.0, 3.0, "concrete"), (6.0, 3.0, "grass")], seed=9)
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(csv), *lib]) == 0
    capsys.readouterr()
    assert main(["compare", *lib]) == 2
    one_line_error(capsys.readouterr().err, "too few strikes", "'grass'")
    assert main(["compare", "--min-strikes", "5", "--json", "-", *lib]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["day_to_day"]["from"] == "literature"
    assert any("from day to day" in n for n in doc["notes"])


def test_bad_or_too_late_since_date_is_a_usage_error(runs: list[Path], tmp_path: Path, capsys) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(runs[0]), *lib]) == 0
    capsys.readouterr()
    assert main(["sessions", "--since", "last tuesday", *lib]) == 2
    one_line_error(capsys.readouterr().err, "--since")
    assert main(["sessions", "--since", "2999-01-01", *lib]) == 2
    one_line_error(capsys.readouterr().err, "no sessions since 2999-01-01")


def test_add_keeps_good_files_when_one_is_malformed(runs: list[Path], tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,ax_g,ay_g,az_g\n0.0,0,0,1\nnot,a,number,row\n")
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(bad), str(runs[2]), *lib]) == 2
    captured = capsys.readouterr()
    one_line_error(captured.err, "bad.csv")
    assert "session 1" in captured.out
    with sqlite3.connect(tmp_path / "lib.sqlite") as con:
        assert con.execute("SELECT source FROM sessions").fetchall() == [("run2.csv",)]


def test_shoes_plot_is_a_png_and_a_library_without_shoes_says_so(runs: list[Path], tmp_path: Path, capsys) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", *map(str, runs), *lib]) == 0
    png = tmp_path / "shoes.png"
    assert main(["shoes", "--plot", str(png), *lib]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "Pegasus <40>" in capsys.readouterr().out
    csv = write(tmp_path / "noshoe.csv", [(30.0, 3.0, "asphalt")], seed=4, shoe=None)
    other = ["--library", str(tmp_path / "other.sqlite")]
    assert main(["add", str(csv), *other]) == 0
    capsys.readouterr()
    assert main(["shoes", *other]) == 0
    assert "no shoes yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command", [["add"], ["sessions"], ["shoe"], ["shoe", "add"], ["compare"], ["shoes"], ["report"]]
)
def test_help_of_every_report_command_prints(command: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: gaitimpact" in capsys.readouterr().out
