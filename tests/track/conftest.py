"""Fixtures for the watch-track tests: a simulated run on disk and its GPX/TCX/FIT tracks."""

from __future__ import annotations

from pathlib import Path

import pytest
from track_helpers import (
    PLAN,
    START,
    SURFACES,
    WATCH_LEAD_S,
    strip_speeds,
    track_points,
    write_fit,
    write_gpx,
    write_tcx,
)

from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


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
