"""`gaitimpact batch`: one row per file with the analyze-JSON names, parallel, resumable, failures listed,
the same rows through a Dask cluster; `gaitimpact convert` between CSV and Parquet."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clirun import run_cli

from gaitimpact.analysis.service import analyze_path
from gaitimpact.analysis.summary import steps_table
from gaitimpact.batch.flatten import flatten_summary, rows_equal
from gaitimpact.batch.runner import read_results, run_batch
from gaitimpact.batch.state import journal_path
from gaitimpact.cli.main import main
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

CASES = [("waist", 100.0, "asphalt", 0), ("shoe", 200.0, "grass", 1), ("shank", 500.0, "track", 2),
         ("waist", 200.0, "trail", 3), ("shoe", 500.0, "concrete", 4)]


def analyze_file(path):
    """In-memory analysis of a file: (recording, analysis, summary)."""
    r = analyze_path(path, chunked=False)
    return r.recording, r.analysis, r.summary


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A folder tree of short simulated recordings (CSV + sidecar), one Parquet, one broken file."""
    root = tmp_path_factory.mktemp("club")
    for i, (placement, fs, surface, seed) in enumerate(CASES):
        res = simulate(SimConfig(placement=placement, fs_hz=fs, seed=seed,
                                 segments=[SimSegment(4, "stand"), SimSegment(26, "run", 3.0 + 0.2 * i, surface)]))
        sub = root / ("ann" if i % 2 else "bob")
        sub.mkdir(exist_ok=True)
        write_simulation(res, sub / f"run{i}.csv")
    from gaitimpact.io.parquet import write_parquet

    rec, _, _ = analyze_file(root / "bob" / "run0.csv")
    write_parquet(root / "bob" / "run0_copy.parquet", rec)
    (root / "ann" / "broken.csv").write_text("time_s,ax_g,ay_g,az_g\n0,0,0,1\n0.01,zz,0,1\n")
    return root


def _copy(library: Path, dest: Path) -> Path:
    shutil.copytree(library, dest)
    return dest


def _expected_row(path: Path) -> dict:
    _, _, summary = analyze_file(path)
    row = flatten_summary(summary)
    row["file"] = str(path)
    return row


def test_batch_gives_one_row_per_file_with_the_analyze_json_names(library, tmp_path):
    report = run_batch([library], jobs=1, out=tmp_path / "r.csv", progress=False)
    files = [r["file"] for r in report.rows]
    assert len(files) == 7 and files == sorted(files)
    ok = [r for r in report.rows if r["status"] == "ok"]
    assert len(ok) == 6
    for row in ok:
        expected = _expected_row(Path(row["file"]))
        for key, value in expected.items():
            assert row[key] == value or (value != value and row[key] != row[key]), key
        assert {"file", "placement", "steps", "cadence_spm", "peak_g.median", "peak_g.p95",
                "loading_rate_gps.median", "segments", "warnings", "sha256"} <= row.keys()
    failed = [r for r in report.rows if r["status"] == "failed"]
    assert [Path(f["file"]).name for f in failed] == ["broken.csv"]
    assert "broken.csv" in failed[0]["error"] and "\n" not in failed[0]["error"]
    assert report.failures == [(failed[0]["file"], failed[0]["error"])]
    table = read_results(tmp_path / "r.csv")
    assert list(table["file"]) == files and table.loc[table["status"] == "ok", "steps"].min() > 20


def test_process_pool_gives_the_same_rows_in_the_same_order(library, tmp_path):
    one = run_batch([library], jobs=1, progress=False)
    two = run_batch([library], jobs=2, progress=False)
    assert len(one.rows) == len(two.rows) == 7
    assert all(rows_equal(a, b) for a, b in zip(one.rows, two.rows))


def test_rerun_skips_files_already_done_and_redoes_changed_ones(library, tmp_path):
    data = _copy(library, tmp_path / "data")
    out = tmp_path / "res.parquet"
    first = run_batch([data], jobs=1, out=out, progress=False)
    assert (first.analysed, first.reused) == (7, 0)
    again = run_batch([data], jobs=1, out=out, progress=False)
    assert (again.analysed, again.reused) == (1, 6)  # only the broken file is tried again
    assert all(rows_equal(a, b) for a, b in zip(first.rows, again.rows))
    side = data / "ann" / "run1.json"
    meta = json.loads(side.read_text())
    meta["notes"] = "changed"
    side.write_text(json.dumps(meta))
    third = run_batch([data], jobs=1, out=out, progress=False)
    assert third.analysed == 2 and third.reused == 5
    assert read_results(out).shape[0] == 7


def test_a_resumed_batch_with_every_file_done_starts_no_worker_and_rewrites_only_a_changed_table(
        library, tmp_path, monkeypatch):
    data = _copy(library, tmp_path / "data")
    (data / "ann" / "broken.csv").unlink()
    out = tmp_path / "res.csv"
    first = run_batch([data], jobs=2, out=out, progress=False)
    assert (first.analysed, first.reused) == (6, 0)
    written = out.stat().st_mtime_ns

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started with nothing to do")

    monkeypatch.setattr("gaitimpact.batch.runner.ProcessPoolExecutor", no_pool)
    again = run_batch([data], jobs=2, out=out, progress=False)
    assert (again.analysed, again.reused) == (0, 6)
    assert all(rows_equal(a, b) for a, b in zip(first.rows, again.rows))
    assert out.stat().st_mtime_ns == written  # the same rows: the table is left as it is
    out.write_text("edited by hand\n")
    third = run_batch([data], jobs=2, out=out, progress=False)
    assert third.analysed == 0 and read_results(out).shape[0] == 6  # a table changed since is written again
    run_batch([data / "bob"], jobs=2, out=out, progress=False)
    assert read_results(out).shape[0] == 4  # other rows (bob's 4 files only): written again


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_interrupted_batch_continues_where_it_stopped(library, tmp_path, jobs):
    data = _copy(library, tmp_path / "data")
    out = tmp_path / "res.csv"
    seen = []

    def stop_after_three(row):
        seen.append(row)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch([data], jobs=jobs, out=out, progress=False, on_row=stop_after_three)
    assert not out.exists()
    lines = journal_path(out).read_text().splitlines()
    assert len(lines) == 3
    done_ok = sum(1 for r in seen if r["status"] == "ok")
    rest = run_batch([data], jobs=jobs, out=out, progress=False)
    assert rest.reused == done_ok and rest.analysed == 7 - done_ok
    assert len(read_results(out)) == 7


def test_steps_dir_holds_one_per_strike_table_per_file(library, tmp_path):
    report = run_batch([library / "ann"], jobs=1, steps_dir=tmp_path / "steps", progress=False)
    names = sorted(p.name for p in (tmp_path / "steps").iterdir())
    assert names == ["run1.steps.csv", "run3.steps.csv"]
    rec, analysis, _ = analyze_file(library / "ann" / "run1.csv")
    expected = steps_table(rec, analysis)
    got = pd.read_csv(tmp_path / "steps" / "run1.steps.csv", keep_default_na=False)
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
    np.testing.assert_allclose(got["time_s"], expected["time_s"])
    assert report.rows[1]["steps"] == len(expected) * 2  # shoe sensor: two steps per strike


def test_dask_cluster_gives_the_same_rows_row_for_row(library):
    distributed = pytest.importorskip("distributed")
    local = run_batch([library], jobs=1, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = run_batch([library], dask_address=cluster.scheduler_address, progress=False)
    assert len(remote.rows) == len(local.rows) == 7
    assert all(rows_equal(a, b) for a, b in zip(local.rows, remote.rows))


def test_dask_flag_without_dask_installed_says_how_to_get_it(library, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code = main(["batch", str(library), "--dask", "tcp://127.0.0.1:1", "--out", str(tmp_path / "r.csv")])
    assert code == 2
    assert "pip install gaitimpact[dask]" in capsys.readouterr().err


def test_batch_cli_reports_failures_with_exit_code_1_and_progress(library, tmp_path):
    out = tmp_path / "r.parquet"
    proc = run_cli("batch", library, "--jobs", "2", "--out", out, "--steps-dir", tmp_path / "steps",
                   env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 1, proc.stderr
    assert "broken.csv" in proc.stderr and "1 file(s) failed" in proc.stderr
    failed_line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("failed "))
    assert failed_line.count("broken.csv") == 1, failed_line  # the path is named once
    assert (proc.stderr + proc.stdout).count("broken.csv") == 1  # ... in the whole output
    assert "Traceback" not in proc.stderr
    assert "files/s" in proc.stderr and "7/7" in proc.stderr
    # the summary's rate is the rate the progress bar showed last (same clock, same definition)
    bar_rate = re.findall(r"([\d.]+) files/s", proc.stderr)[-1]
    assert re.search(r"\(([\d.]+) files/s\)", proc.stdout).group(1) == bar_rate, (proc.stderr, proc.stdout)
    assert read_results(out)["status"].tolist().count("ok") == 6
    assert len(list((tmp_path / "steps").glob("*.steps.csv"))) == 6
    again = run_cli("batch", library / "bob", "--out", tmp_path / "bob.csv", "--no-progress",
                    env={**os.environ, "COLUMNS": "200"})
    assert again.returncode == 0, again.stderr
    assert re.search(r"ok / failed\s+│\s+4 / 0 ", again.stdout) and again.stderr == ""


@pytest.mark.parametrize(("argv_tail", "message"), [
    (["--out", "r.txt"], "must end in .csv or .parquet"),
    (["--jobs", "0"], "must be at least 1"),
])
def test_batch_cli_rejects_bad_options_with_exit_2(library, tmp_path, capsys, argv_tail, message):
    assert main(["batch", str(library), *argv_tail]) == 2
    assert message in capsys.readouterr().err


def test_batch_of_a_missing_or_empty_folder_is_an_input_error(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "r.csv")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "--out", str(tmp_path / "r.csv")]) == 2
    assert "no recordings" in capsys.readouterr().err


def test_convert_csv_to_parquet_and_back_keeps_samples_and_metadata(library, tmp_path, capsys):
    src = library / "ann" / "run1.csv"
    pq_path, back = tmp_path / "run1.parquet", tmp_path / "back" / "run1.csv"
    back.parent.mkdir()
    assert main(["convert", str(src), str(pq_path)]) == 0
    assert main(["convert", str(pq_path), str(back)]) == 0
    assert main(["convert", str(src), str(pq_path)]) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err
    a, b = analyze_file(src)[0], analyze_file(back)[0]
    np.testing.assert_allclose(b.time_s, a.time_s, atol=1e-6)
    np.testing.assert_allclose(b.acc_g, a.acc_g, atol=1e-5)
    assert (b.meta.placement, b.meta.segments, b.meta.simulated) == (a.meta.placement, a.meta.segments, True)
    assert b.gaps == a.gaps
    s_src, s_pq = analyze_file(src)[2], analyze_file(pq_path)[2]
    assert (s_pq["steps"], s_pq["peak_g"], s_pq["segments"]) == (s_src["steps"], s_src["peak_g"], s_src["segments"])


def test_convert_rejects_unknown_formats_and_missing_inputs(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "a.csv"), str(tmp_path / "b.xlsx")]) == 2
    assert main(["convert", str(tmp_path / "missing.csv"), str(tmp_path / "b.parquet")]) == 2
    err = capsys.readouterr().err
    assert "must end in .csv or .parquet" in err and "file not found" in err


def test_big_files_go_through_the_chunked_analysis_with_the_same_row(library):
    small = run_batch([library / "bob"], jobs=1, progress=False)
    chunked = run_batch([library / "bob"], jobs=1, progress=False, chunked_min_bytes=0)
    for a, b in zip(small.rows, chunked.rows):
        assert b["status"] == a["status"] == "ok"
        for key in ("steps", "strikes", "placement", "duration_s", "running_s", "n_samples", "segments",
                    "peak_g.median", "peak_g.p95", "peak_g.clipped", "warnings"):
            assert b[key] == a[key], (a["file"], key)
        assert b["cadence_spm"] == pytest.approx(a["cadence_spm"], abs=0.15)
        assert not any(k.startswith("definitions.chunked") for k in b)  # the same columns as in memory


@pytest.mark.parametrize("gyro", [False, True])
def test_streamed_convert_writes_what_the_in_memory_convert_writes(tmp_path, gyro):
    from gaitimpact.batch.convert import stream_convert
    from gaitimpact.io.csv_writer import write_csv
    from gaitimpact.io.load import load_recording
    from gaitimpact.io.sidecar import write_sidecar

    res = simulate(SimConfig(placement="shoe", fs_hz=500.0, seed=5, gaps=2, jitter_s=0.0002,
                             segments=[SimSegment(20, "run", 3.4, "track")]))
    rec = res.recording
    if gyro:
        rec.gyro_dps = np.random.default_rng(0).normal(0, 90, rec.acc_g.shape)
    src = tmp_path / "src.csv"
    write_csv(src, rec)
    write_sidecar(src, rec.meta, gaps=list(rec.gaps), fs_hz=rec.fs_hz)
    assert main(["convert", str(src), str(tmp_path / "mem.parquet")]) == 0
    n, _, fs = stream_convert(src, tmp_path / "str.parquet", rows=777)
    a, b = load_recording(tmp_path / "mem.parquet"), load_recording(tmp_path / "str.parquet")
    assert n == a.n_samples == b.n_samples and a.fs_hz == b.fs_hz and fs == pytest.approx(a.fs_hz, rel=0.005)
    np.testing.assert_array_equal(b.time_s, a.time_s)
    np.testing.assert_array_equal(b.acc_g, a.acc_g)
    if gyro:
        np.testing.assert_array_equal(b.gyro_dps, a.gyro_dps)
    assert b.gaps == a.gaps and b.meta.segments == a.meta.segments and b.meta.placement == a.meta.placement
    assert main(["convert", str(tmp_path / "str.parquet"), str(tmp_path / "back.csv"), "--stream"]) == 0
    c = load_recording(tmp_path / "back.csv")
    np.testing.assert_allclose(c.time_s, a.time_s, atol=1e-6)
    np.testing.assert_allclose(c.acc_g, a.acc_g, atol=1e-5)
    assert c.gaps == a.gaps and c.meta.segments == a.meta.segments


def test_stream_flag_refuses_a_non_canonical_csv(tmp_path, capsys):
    src = tmp_path / "x.csv"
    src.write_text("t;x;y;z\n" + "".join(f"{i / 100};0;0;1\n" for i in range(800)))
    assert main(["convert", str(src), str(tmp_path / "x.parquet"), "--stream"]) == 2
    assert "--stream needs a canonical CSV" in capsys.readouterr().err
