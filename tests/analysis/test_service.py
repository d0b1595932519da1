"""The analysis service: one path for every command; a recording without running is a result, not an error."""

from __future__ import annotations

import json

import pytest

from gaitimpact.analysis.service import analyze_path
from gaitimpact.batch.runner import run_batch
from gaitimpact.cli.main import main
from gaitimpact.errors import InputError
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


@pytest.fixture(scope="module")
def standing(tmp_path_factory):
    """30 s of a waist sensor standing still (no running), written as a canonical CSV."""
    cfg = SimConfig(placement="waist", fs_hz=100.0, segments=[SimSegment(duration_s=30, activity="stand")], seed=3)
    folder = tmp_path_factory.mktemp("standing")
    path, _, _ = write_simulation(simulate(cfg), folder / "standing.csv")
    return path


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """A short waist run (stand, run, stand) as a canonical CSV."""
    cfg = SimConfig(placement="waist", fs_hz=100.0, seed=5, segments=[
        SimSegment(5, "stand"), SimSegment(40, "run", 3.2, "asphalt"), SimSegment(5, "stand")])
    folder = tmp_path_factory.mktemp("running")
    path, _, _ = write_simulation(simulate(cfg), folder / "run.csv")
    return path


@pytest.mark.parametrize("chunked", [False, True])
def test_no_running_is_a_result_with_status_and_zero_running_time(standing, chunked):
    result = analyze_path(standing, chunked=chunked)
    assert result.status == "no_running" and not result.running_found
    assert result.summary["running_s"] == 0.0 and result.summary["strikes"] == 0
    assert "no_running" in result.summary["warning_codes"]
    assert len(result.summary["warning_codes"]) == len(result.summary["warnings"])
    assert [n.code for n in result.warnings] == result.summary["warning_codes"]
    assert len(result.steps_table()) == 0


def test_analyze_cli_exits_0_and_says_no_running_found(standing, tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["analyze", str(standing), "--json", str(out)]) == 0
    printed = capsys.readouterr()
    assert "no running found" in printed.out + printed.err
    doc = json.loads(out.read_text())
    assert doc["status"] == "no_running" and doc["running_s"] == 0.0


def test_batch_row_of_a_file_without_running_is_not_a_failure(standing, running, tmp_path):
    folder = standing.parent
    report = run_batch([folder, running], jobs=1, progress=False, out=tmp_path / "rows.csv")
    status = {r["file"]: r["status"] for r in report.rows}
    assert status[str(standing)] == "no_running" and status[str(running)] == "ok"
    assert report.failures == []
    again = run_batch([folder, running], jobs=1, progress=False, out=tmp_path / "rows.csv")
    assert again.reused == 2 and again.analysed == 0  # a no-running row counts as done on resume


def test_add_and_compare_name_a_file_without_running_and_exit_0(standing, running, tmp_path, capsys):
    db = tmp_path / "lib.sqlite"
    assert main(["add", "--library", str(db), str(standing)]) == 0
    assert "no running found" in capsys.readouterr().out
    code = main(["compare", "--by", "session", str(standing), str(running), str(running)])
    out = capsys.readouterr().out  # on stdout, as add says it (issue 16: the same way in every command)
    assert f"{standing}: no running found" in out and code == 0


def test_too_short_recordings_stay_input_errors(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("time_s,ax_g,ay_g,az_g\n" + "".join(f"{i / 100},0,0,1\n" for i in range(200)))
    with pytest.raises(InputError, match="too short"):
        analyze_path(path)
    with pytest.raises(InputError, match="too short"):
        analyze_path(path, chunked=True)


def test_add_and_compare_stream_big_files_through_the_service(running, tmp_path, monkeypatch, capsys):
    from gaitimpact.analysis import service

    streamed = []
    real, plain = service._analyze_streamed, service._analyze_plain
    monkeypatch.setattr(service, "CHUNKED_MIN_BYTES", 0)  # every streamable file counts as big
    monkeypatch.setattr(service, "_analyze_streamed", lambda path, **kw: streamed.append(path) or real(path, **kw))

    def plain_streamed(path, overrides, **kw):
        found = plain(path, overrides, **kw)  # a plain file of any size is streamed
        return streamed.append(path) or found if found is not None else None

    monkeypatch.setattr(service, "_analyze_plain", plain_streamed)
    assert main(["add", "--library", str(tmp_path / "lib.sqlite"), str(running)]) == 0
    assert main(["compare", "--by", "session", str(running), str(running)]) == 0
    assert streamed == [running] * 3  # bounded memory for add and compare FILE too
