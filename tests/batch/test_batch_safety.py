"""`batch` under attack (issue 15): killed with its workers, a damaged or hand-edited resume journal,
steps files that two recordings would share. Real processes and real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gaitimpact.batch.runner import read_results, run_batch, unique_steps_names
from gaitimpact.batch.state import journal_path
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Six different 15 s waist runs."""
    d = tmp_path_factory.mktemp("runs")
    for i in range(6):
        cfg = SimConfig(placement="waist", fs_hz=100.0, seed=200 + i,
                        segments=[SimSegment(15.0, "run", 3.0, "asphalt")])
        write_simulation(simulate(cfg), d / f"run{i}.csv")
    return d


@pytest.fixture(scope="module")
def long_runs(tmp_path_factory) -> list[bytes]:
    """Two 5-min 500 Hz shoe runs as CSV bytes: enough work per file that the pool is still busy when a
    signal sent at its start arrives, even on a loaded machine."""
    d = tmp_path_factory.mktemp("long")
    out = []
    for i in range(2):
        cfg = SimConfig(placement="shoe", fs_hz=500.0, seed=300 + i,
                        segments=[SimSegment(300.0, "run", 3.0, "asphalt")])
        write_simulation(simulate(cfg), d / f"long{i}.csv")
        out.append((d / f"long{i}.csv").read_bytes())
    return out


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pids: list[int]) -> list[int]:
    """Those of `pids` that still run (zombies count as gone)."""
    alive = []
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(p)
    return alive


def _wait(cond, timeout_s: float = 60.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_batch_leaves_no_worker_running(long_runs, tmp_path, sig):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(12):  # distinct contents (no resume shortcut), each file seconds of work
        (many / f"r{i}.csv").write_bytes(long_runs[i % 2] + b"\n" * (i + 1))
    proc = subprocess.Popen([sys.executable, "-m", "gaitimpact", "batch", str(many), "--jobs", "2", "--no-progress",
                             "--out", str(tmp_path / "out.csv")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: list[int] = []
    try:
        assert _wait(lambda: len(_children(proc.pid)) >= 2), "the pool never started"
        workers = _children(proc.pid)
        assert proc.poll() is None, "the batch finished before the signal: give it more work"
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert _wait(lambda: not _alive(workers), 20.0), f"workers still running after {sig.name}"
        if sig == signal.SIGTERM:
            err = proc.stderr.read()
            assert proc.returncode == 130 and b"Traceback" not in err, err.decode(errors="replace")[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _alive(workers):  # never leave a stray worker behind, even when the test fails
            os.kill(pid, signal.SIGKILL)


def test_damaged_and_edited_journal_entries_are_redone_with_a_warning(folder, tmp_path, capsys):
    out = tmp_path / "res.csv"
    first = run_batch([folder], jobs=1, out=out, progress=False)
    jpath = journal_path(out)
    lines = jpath.read_bytes().split(b"\n")
    lines[0] = b"\xff\xfe not utf-8 \x80"                                 # damaged line
    edited = json.loads(lines[1])
    edited["peak_g.median"] = 99.0                                        # hand-edited result
    lines[1] = json.dumps(edited).encode()
    wrong = json.loads(lines[2])
    wrong["sha256"] = [wrong["sha256"]]                                   # wrong type
    lines[2] = json.dumps(wrong).encode()
    lines.insert(3, b'{"sha256": 5, "status": "ok", "file": null}')       # a row of nonsense
    jpath.write_bytes(b"\n".join(lines))
    capsys.readouterr()
    again = run_batch([folder], jobs=1, out=out, progress=False)
    err = capsys.readouterr().err
    assert "4 damaged or edited entries ignored" in err and "Traceback" not in err
    assert again.analysed == 3 and again.reused == 3
    assert read_results(out)["peak_g.median"].tolist() == first.frame["peak_g.median"].tolist()


def test_old_or_torn_journal_never_crashes(folder, tmp_path):
    out = tmp_path / "res.csv"
    journal_path(out).write_bytes(b'{"sha256": "ab", "status": "ok"}\n[1, 2]\n{"torn": ')
    report = run_batch([folder / "run0.csv"], jobs=1, out=out, progress=False)
    assert report.analysed == 1 and report.rows[0]["status"] == "ok"


def test_steps_files_of_a_b_csv_and_a__b_csv_do_not_collide(folder, tmp_path):
    root = tmp_path / "DIR"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b.csv").write_bytes((folder / "run0.csv").read_bytes())
    (root / "a__b.csv").write_bytes((folder / "run1.csv").read_bytes())
    names = unique_steps_names([root / "a" / "b.csv", root / "a__b.csv"], [root])
    assert len(set(names)) == 2
    steps = tmp_path / "steps"
    run_batch([root], jobs=1, out=tmp_path / "r.csv", steps_dir=steps, progress=False)
    tables = sorted(steps.glob("*.steps.csv"))
    assert len(tables) == 2 and tables[0].read_bytes() != tables[1].read_bytes()


def test_unique_names_are_unchanged_when_nothing_collides(folder):
    files = [folder / "run0.csv", folder / "run1.csv"]
    assert unique_steps_names(files, [folder]) == ["run0.steps.csv", "run1.steps.csv"]
