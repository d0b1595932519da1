"""Shared simulator recordings for the core tests (simulated once per session, cached)."""

from __future__ import annotations

from functools import cache

import pytest

from gaitimpact.sim import SimConfig, SimResult, SimSegment, simulate


@cache
def sim_run(placement: str, fs_hz: float, seed: int = 7, *, speed_mps: float = 3.5, run_s: float = 30.0,
            gaps: int = 0, jitter_s: float = 0.0, noise_g: float = 0.02, range_g: float | None = None,
            mount_error_deg: float = 20.0, walk_s: float = 8.0) -> SimResult:
    """Stand 3 s, walk, run at speed_mps, walk: a small but complete recording with exact truth."""
    segments = [SimSegment(3.0, "stand"), SimSegment(walk_s, "walk", 1.4),
                SimSegment(run_s, "run", speed_mps, "asphalt"), SimSegment(walk_s, "walk", 1.4)]
    cfg = SimConfig(placement=placement, fs_hz=fs_hz, segments=segments, mount_error_deg=mount_error_deg,
                    noise_g=noise_g, jitter_s=jitter_s, gaps=gaps, range_g=range_g, seed=seed)
    return simulate(cfg)


@pytest.fixture
def sim():
    """The cached simulator call: sim(placement, fs_hz, seed, **options) -> SimResult."""
    return sim_run
