"""Chunked analysis equals the in-memory analysis strike for strike, wherever the windows start.

Every quantity of the core is local (moving gravity on the recording's block grid, gait period per
tile of the time axis, left/right from neighbouring strikes, interpolation and toe-off look-back per
strike) or the recording's own (the gap threshold, from its first steps, handed to every window), and the
chunker's windows reach `pipeline.CONTEXT_S` beyond their core interval, so the stitched strikes are
the whole recording's. Small chunks put many window edges inside running.

Tolerance: every field is compared exactly (times, foot, flags, bouts, contact time, cadence), except
peak_g and loading_rate_gps at 1e-9 relative: their band-limited interpolation is one BLAS matrix
product over the strikes interpolated together, and BLAS may sum a row in another order when the
product has another number of rows (numpy's matmul gives other last bits for some shapes); the
loading rate, a quotient of differences between nearby dense samples, turns those last bits into up
to 2.5e-11 relative (measured on the simulated shoe below).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaitimpact.core.chunked import analyze_blocks
from gaitimpact.core.pipeline import analyze_signal
from gaitimpact.core.result import Analysis
from gaitimpact.sim import SimConfig, SimSegment, simulate

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"

SEGMENTS = [SimSegment(12, "stand"), SimSegment(110, "run", 3.2, "asphalt"), SimSegment(25, "walk"),
            SimSegment(95, "run", 4.2, "grass"), SimSegment(6, "stand"), SimSegment(80, "run", 3.6, "track"),
            SimSegment(20, "walk"), SimSegment(70, "run", 3.0, "trail")]


def _blocks(t: np.ndarray, a: np.ndarray, rows: int = 3001):
    return [(t[i:i + rows], a[i:i + rows], None) for i in range(0, t.shape[0], rows)]


def assert_identical(full: Analysis, chunked: Analysis) -> None:
    """Same strikes field by field, same bouts, cadences, running time and placement."""
    a, b = full.strikes, chunked.strikes
    assert len(b) == len(a)
    for name in ("time_s", "foot", "clipped", "near_gap", "bout", "contact_ms"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    for name in ("peak_g", "loading_rate_gps"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-9, atol=0, err_msg=name)
    assert [(x.start_s, x.end_s, x.activity) for x in chunked.bouts] == \
        [(x.start_s, x.end_s, x.activity) for x in full.bouts]
    np.testing.assert_array_equal(chunked.cadence_spm, full.cadence_spm)
    assert chunked.params["cadence_per_bout_spm"] == full.params["cadence_per_bout_spm"]
    assert chunked.running_s == full.running_s
    assert chunked.placement == full.placement


def _turning_belt(acc_g: np.ndarray, degrees: float) -> np.ndarray:
    """The sensor turns steadily about its x axis by `degrees` over the recording (a slipping belt)."""
    ang = np.radians(np.linspace(0.0, degrees, acc_g.shape[0]))
    c, s = np.cos(ang), np.sin(ang)
    out = acc_g.copy()
    out[:, 1] = c * acc_g[:, 1] - s * acc_g[:, 2]
    out[:, 2] = s * acc_g[:, 1] + c * acc_g[:, 2]
    return out


@pytest.mark.parametrize("chunk_s", [60.0, 150.0])
@pytest.mark.parametrize(("placement", "fs_hz", "jitter_s"), [("waist", 100.0, 0.0002), ("shoe", 500.0, 0.0002),
                                                              ("waist", 100.0, 0.004)])
def test_chunks_of_a_long_run_with_bouts_surfaces_gaps_and_a_turning_sensor_give_the_same_strikes(
        placement: str, fs_hz: float, jitter_s: float, chunk_s: float) -> None:
    # 4 ms of timestamp jitter at 100 Hz (a BLE clock): step-based figures (toe-off look-back) stay local
    rec = simulate(SimConfig(placement=placement, fs_hz=fs_hz, segments=SEGMENTS, noise_g=0.02, gaps=3,
                             jitter_s=jitter_s, mount_error_deg=15.0, seed=11)).recording
    acc = _turning_belt(rec.acc_g, 40.0)
    full = analyze_signal(rec.time_s, acc, rec.fs_hz, gaps=rec.gaps)
    chunked, stats = analyze_blocks(_blocks(rec.time_s, acc), fs_hz=rec.fs_hz, declared_gaps=rec.gaps,
                                    chunk_s=chunk_s)
    assert stats.windows >= 3 and full.placement == placement and len(full.strikes) > 400
    assert_identical(full, chunked)


@pytest.mark.parametrize("chunk_s", [60.0, 150.0])
def test_gaps_are_judged_by_the_recordings_first_steps_in_every_window(chunk_s: float) -> None:
    # BLE-like timestamps: steady for the first minute, then jittery with late packets (30-45 ms steps).
    # A window judging gaps by its own jitter drops other stretches than the whole recording does.
    rec = simulate(SimConfig(placement="waist", fs_hz=100.0, segments=SEGMENTS[:4], noise_g=0.02, seed=9)).recording
    n = rec.n_samples
    rng = np.random.default_rng(3)
    steps = np.full(n - 1, 0.01) + rng.normal(0.0, 0.003, n - 1)
    steps[:6000] = 0.01 + rng.normal(0.0, 0.0005, 6000)
    late = rng.choice(np.arange(6000, n - 1), size=(n - 6000) // 300, replace=False)
    steps[late] = rng.uniform(0.03, 0.045, late.size)
    t = np.concatenate(([0.0], np.cumsum(np.clip(steps, 0.002, None))))
    full = analyze_signal(t, rec.acc_g, 100.0)
    chunked, stats = analyze_blocks(_blocks(t, rec.acc_g), fs_hz=100.0, chunk_s=chunk_s)
    assert stats.windows >= 2 and len(full.strikes) > 400
    assert_identical(full, chunked)


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata not present")
@pytest.mark.parametrize("name", ["adept_hip_b1", "adept_hip_b3", "adept_shoe_b1", "adept_shoe_b3"])
def test_chunks_of_the_real_outdoor_runs_give_the_same_strikes(name: str) -> None:
    from gaitimpact.io.load import load_recording

    rec = load_recording(REALDATA / f"{name}.csv")
    full = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, gaps=rec.gaps)
    chunked, stats = analyze_blocks(_blocks(rec.time_s, rec.acc_g), fs_hz=rec.fs_hz, declared_gaps=rec.gaps,
                                    chunk_s=60.0)
    assert stats.windows >= 3 and len(full.strikes) > 200
    assert_identical(full, chunked)
