"""Simulator robustness: any valid configuration gives a consistent recording and truth."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitimpact.recording import SURFACES
from gaitimpact.sim import SimConfig, SimSegment, simulate

segment = st.one_of(
    st.builds(SimSegment, st.floats(0.05, 6.0), st.just("stand")),
    st.builds(SimSegment, st.floats(0.2, 6.0), st.just("walk"), st.floats(0.6, 2.0)),
    st.builds(SimSegment, st.floats(0.2, 8.0), st.just("run"), st.floats(1.6, 6.5), st.sampled_from(SURFACES)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    placement=st.sampled_from(["waist", "shoe", "shank"]),
    fs=st.sampled_from([25.0, 100.0, 200.0, 1000.0]),
    segments=st.lists(segment, min_size=1, max_size=4),
    mount=st.floats(0, 45),
    jitter=st.floats(0, 0.01),
    gaps=st.integers(0, 3),
    range_g=st.one_of(st.none(), st.floats(2.0, 32.0)),
    seed=st.integers(0, 2**31),
)
def test_any_valid_config_gives_a_consistent_recording_and_truth(placement, fs, segments, mount, jitter, gaps,
                                                                   range_g, seed):
    res = simulate(SimConfig(placement=placement, fs_hz=fs, segments=segments, mount_error_deg=mount,
                             jitter_s=jitter, gaps=gaps, range_g=range_g, noise_g=0.01, seed=seed, gyro=True))
    rec, tr = res.recording, res.truth
    assert rec.time_s[0] == 0.0 and np.all(np.diff(rec.time_s) > 0)
    assert np.all(np.isfinite(rec.acc_g)) and np.all(np.isfinite(rec.gyro_dps))
    assert np.linalg.norm(rec.acc_g, axis=1).max() < 40.0  # no runaway accelerations at transitions
    if range_g is not None:
        assert np.abs(rec.acc_g).max() <= range_g
    n = len(tr.ic_time_s)
    for arr in (tr.foot, tr.peak_g, tr.loading_rate_gps, tr.speed_mps, tr.surface, tr.clipped, tr.near_gap, tr.bout):
        assert len(arr) == n
    assert np.all(np.diff(tr.ic_time_s) > 0)
    assert np.all((tr.ic_time_s >= 0) & (tr.ic_time_s <= tr.duration_s))
    assert np.all(tr.peak_g > 0.5) and np.all(np.isfinite(tr.peak_g))
    assert np.all(tr.bout >= 0)
    if n:
        assert tr.cadence_spm > 100
    if placement != "waist":
        assert set(tr.foot.tolist()) <= {"L"}
    for s, e in tr.run_bouts:
        assert 0 <= s < e <= tr.duration_s + 1e-9
