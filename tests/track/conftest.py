"""Fixtures for the watch-track tests: a simulated run on disk and its GPX/TCX/FIT tracks."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from track_helpers import strip_speeds, track_points, write_fit, write_gpx, write_tcx

from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

PLAN = [("stand", 5.0, 0.0), ("run", 120.0, 3.5), ("walk", 20.0, 1.4), ("run", 120.0, 4.0), ("run", 120.0, 3.0)]
"""(activity, duration_s, speed_mps): 1288 m of running and walking."""
SURFACES = ["asphalt", "asphalt", "asphalt", "grass", "track"]
START = datetime(2026, 11, 3, 7, 0, 0, tzinfo=timezone.utc)
"""Wall-clock time of the sensor's first sample."""
WATCH_LEAD_S = 47.0
"""The watch starts this long before the sensor (and stops 30 s after it)."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """run.csv (+ sidecar without speeds, start_utc START), run_nostart.csv (no start_utc), run.{gpx,tcx,fit}."""
    d = tmp_path_factory.mktemp("track")
    cfg = SimConfig(segments=[SimSegment(dur, act, v if act != "stand" else None, s)
                              for (act, dur, v), s in zip(PLAN, SURFACES)], seed=3, noise_g=0.02)
    res = simulate(cfg)
    for name, start in (("run.csv", START), ("run_nostart.csv", None)):
        write_simulation(res, d / name)
        strip_speeds(d / name, start)
    pts = track_points(PLAN, START, WATCH_LEAD_S, 30.0)
    write_gpx(d / "run.gpx", *pts)
    write_tcx(d / "run.tcx", *pts)
    write_fit(d / "run.fit", *pts)
    return d
