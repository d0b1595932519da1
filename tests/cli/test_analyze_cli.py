"""`gaitimpact analyze` through the command line (in process; one real process): JSON and steps-CSV contract,
plot, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clirun import run_cli, run_cli_process

from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

JSON_KEYS = {"file", "placement", "fs_hz", "duration_s", "running_s", "steps", "cadence_spm", "peak_g",
             "loading_rate_gps", "segments", "bouts", "warnings"}
STEPS_COLUMNS = ["time_s", "foot", "peak_g", "loading_rate_gps", "clipped", "surface", "bout"]


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2, a single stderr line mentioning each needle, and no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def two_surface_run(tmp_path_factory) -> tuple[Path, object]:
    """A simulated waist run: asphalt then grass at 200 Hz, with a walk between, written to disk."""
    cfg = SimConfig(
        placement="waist",
        fs_hz=200.0,
        segments=[
            SimSegment(duration_s=10, activity="stand"),
            SimSegment(duration_s=60, activity="run", speed_mps=3.5, surface="asphalt"),
            SimSegment(duration_s=15, activity="walk", speed_mps=1.4, surface="asphalt"),
            SimSegment(duration_s=60, activity="run", speed_mps=3.5, surface="grass"),
        ],
        seed=11,
    )
    result = simulate(cfg)
    path = tmp_path_factory.mktemp("run") / "two_surfaces.csv"
    write_simulation(result, path)
    return path, result.truth


def test_analyze_writes_json_steps_csv_and_plot_that_match_truth(two_surface_run, tmp_path):
    path, truth = two_surface_run
    out_json, out_steps, out_png = tmp_path / "s.json", tmp_path / "steps.csv", tmp_path / "run.png"
    proc = run_cli("analyze", path, "--json", out_json, "--steps-csv", out_steps, "--plot", out_png)
    assert proc.returncode == 0, proc.stderr
    assert "cadence" in proc.stdout and "peak impact" in proc.stdout

    summary = json.loads(out_json.read_text())
    assert JSON_KEYS <= summary.keys()
    assert summary["placement"] == "waist"
    assert set(summary["peak_g"]) >= {"median", "p95"}
    n_true = len(truth.ic_time_s)
    assert abs(summary["steps"] - n_true) <= max(2, 0.01 * n_true)
    assert abs(summary["cadence_spm"] - truth.cadence_spm) < 1.5
    assert [s["surface"] for s in summary["segments"]][-2:] == ["asphalt", "grass"] or {
        s["surface"] for s in summary["segments"]} == {"asphalt", "grass"}
    assert summary["running_s"] == pytest.approx(120, abs=6)

    steps = pd.read_csv(out_steps)
    assert list(steps.columns[: len(STEPS_COLUMNS)]) == STEPS_COLUMNS or set(STEPS_COLUMNS) <= set(steps.columns)
    assert len(steps) == summary["strikes"]
    assert np.all(np.diff(steps["time_s"]) > 0)
    assert set(steps["surface"]) <= {"asphalt", "grass"}
    assert set(steps["foot"]) <= {"L", "R", "?"}
    # every detected strike is within 60 ms of a true initial contact
    err = np.abs(steps["time_s"].to_numpy()[:, None] - np.asarray(truth.ic_time_s)[None, :]).min(axis=1)
    assert np.median(err) < 0.03

    png = out_png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_surface_flag_overrides_sidecar_segments(two_surface_run, tmp_path):
    path, _ = two_surface_run
    out_steps = tmp_path / "steps.csv"
    proc = run_cli("analyze", path, "--surface", "track", "--steps-csv", out_steps)
    assert proc.returncode == 0, proc.stderr
    assert set(pd.read_csv(out_steps)["surface"]) == {"track"}


def test_missing_file_is_one_line_exit_2(tmp_path):
    assert_one_line_error(run_cli("analyze", tmp_path / "nope.csv"), "nope.csv")


@pytest.mark.e2e
def test_a_real_process_reports_bad_input_in_one_line_with_exit_2_and_no_traceback(tmp_path):
    assert_one_line_error(run_cli_process("analyze", tmp_path / "nope.csv"), "nope.csv")
    assert_one_line_error(run_cli_process("analyze", tmp_path / "nope.csv", "--placement", "wrist"), "wrist")


def test_csv_without_acceleration_columns_is_rejected(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,heart_rate\n0,120\n1,121\n2,122\n")
    assert_one_line_error(run_cli("analyze", bad), "bad.csv")


def test_too_short_recording_is_rejected(tmp_path):
    short = tmp_path / "short.csv"
    t = np.arange(0, 2, 0.01)
    pd.DataFrame({"time_s": t, "ax_g": 0.0, "ay_g": 0.0, "az_g": 1.0}).to_csv(short, index=False)
    assert_one_line_error(run_cli("analyze", short), "short.csv")


def test_standing_only_recording_says_no_running(tmp_path):
    cfg = SimConfig(placement="waist", fs_hz=100.0, segments=[SimSegment(duration_s=30, activity="stand")],
                    seed=3)
    path = tmp_path / "standing.csv"
    write_simulation(simulate(cfg), path)
    proc = run_cli("analyze", path)  # a result, not an error (issue 10): exit 0, says so
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "no running found" in proc.stdout


def test_file_without_time_column_needs_rate(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "notime.csv"
    pd.DataFrame(rng.normal(0, 0.01, (2000, 3)) + [0, 0, 1], columns=["ax", "ay", "az"]).to_csv(path, index=False)
    assert_one_line_error(run_cli("analyze", path), "notime.csv", "--rate")


def test_unknown_placement_is_a_usage_error(two_surface_run):
    path, _ = two_surface_run
    proc = run_cli("analyze", path, "--placement", "wrist")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_json_to_stdout_keeps_tables_and_warnings_off_stdout(two_surface_run):
    path, _ = two_surface_run
    proc = run_cli("analyze", path, "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["placement"] == "waist"
    assert "cadence" in proc.stderr


def test_first_strike_just_before_a_segment_start_takes_that_segment(tmp_path):
    cfg = SimConfig(placement="shoe", fs_hz=500.0, seed=2, side="R",
                    segments=[SimSegment(5, "stand"), SimSegment(30, "run", 3.5, "grass")])
    path = tmp_path / "shoe.csv"
    write_simulation(simulate(cfg), path)
    out = tmp_path / "steps.csv"
    assert run_cli("analyze", path, "--steps-csv", out).returncode == 0
    steps = pd.read_csv(out, keep_default_na=False)
    assert set(steps["surface"]) == {"grass"}
    assert set(steps["foot"]) == {"R"}  # the side named in the sidecar


def test_chunked_analysis_gives_the_same_summary_as_in_memory(two_surface_run, tmp_path):
    path, _ = two_surface_run
    whole, chunked = tmp_path / "whole.json", tmp_path / "chunked.json"
    assert run_cli("analyze", path, "--json", whole).returncode == 0
    proc = run_cli("analyze", path, "--chunked", "--json", chunked)
    assert proc.returncode == 0, proc.stderr
    a, b = json.loads(whole.read_text()), json.loads(chunked.read_text())
    for key in ("strikes", "steps", "placement", "n_samples"):
        assert a[key] == b[key], key
    assert b["cadence_spm"] == pytest.approx(a["cadence_spm"], abs=0.1)
    assert b["peak_g"]["median"] == pytest.approx(a["peak_g"]["median"], rel=1e-3)
