"""Orientation invariance, standing/walking, clipping, gaps and irregular sampling."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.core.evaluate import score_strikes
from gaitimpact.core.orientation import rotation_matrix
from gaitimpact.core.pipeline import analyze_recording, analyze_signal
from gaitimpact.sim import SimConfig, SimSegment, simulate


@pytest.mark.parametrize(("placement", "fs_hz"), [("waist", 200.0), ("shoe", 500.0)])
def test_rotating_the_sensor_changes_nothing(sim, placement, fs_hz):
    rec = sim(placement, fs_hz).recording
    base = analyze_signal(rec.time_s, rec.acc_g, fs_hz, placement=placement)
    for k, angle in enumerate((35.0, 120.0, 180.0)):
        rot = rotation_matrix(np.array([1.0, -0.5 + k, 0.3]), np.radians(angle))
        turned = analyze_signal(rec.time_s, rec.acc_g @ rot.T, fs_hz, placement=placement)
        assert len(turned.strikes) == len(base.strikes)
        np.testing.assert_allclose(turned.strikes.time_s, base.strikes.time_s, atol=1e-3)
        np.testing.assert_allclose(turned.strikes.peak_g, base.strikes.peak_g, rtol=1e-9)
        if placement == "waist":
            assert np.mean(turned.strikes.foot == base.strikes.foot) >= 0.95


@pytest.mark.parametrize("placement", ["waist", "shoe", "shank"])
def test_standing_and_walking_give_no_strikes(placement):
    cfg = SimConfig(placement=placement, fs_hz=200.0, noise_g=0.02, mount_error_deg=15.0, seed=5,
                    segments=[SimSegment(5.0, "stand"), SimSegment(20.0, "walk", 1.4), SimSegment(5.0, "stand"),
                              SimSegment(15.0, "walk", 2.0)])
    ana = analyze_recording(simulate(cfg).recording, placement=placement)
    assert len(ana.strikes) == 0
    assert ana.bouts == []
    assert ana.running_s == 0.0
    assert np.isnan(ana.cadence_spm)
    assert [w.code for w in ana.warnings if w.code == "no_running"] == ["no_running"]


def test_clipped_strikes_are_flagged_with_declared_range(sim):
    res = sim("shoe", 500.0, range_g=8.0, speed_mps=4.0)
    tr = res.truth
    ana = analyze_recording(res.recording, placement="shoe")
    assert res.recording.meta.range_g == 8.0
    sc = score_strikes(ana.strikes.time_s, tr.ic_time_s, 0.04)
    assert tr.clipped.sum() > 10
    np.testing.assert_array_equal(ana.strikes.clipped[sc.det_index], tr.clipped[sc.ref_index])
    assert any(w.code == "clipped" and "lower bound" in w.message for w in ana.warnings)


def test_clipping_range_is_inferred_from_flat_tops(sim):
    rec = sim("shoe", 500.0, range_g=8.0, speed_mps=4.0).recording
    ana = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement="shoe", range_g=None)
    assert ana.params["range_g"] == pytest.approx(8.0)
    assert any("inferred" in w.message for w in ana.warnings)
    assert ana.strikes.clipped.mean() > 0.3


def test_unclipped_recording_infers_no_range(sim):
    rec = sim("shoe", 500.0).recording
    ana = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement="shoe")
    assert ana.params["range_g"] is None
    assert not ana.strikes.clipped.any()


@pytest.mark.parametrize(("placement", "fs_hz"), [("waist", 200.0), ("shoe", 500.0)])
def test_gaps_invent_no_strikes_and_flag_neighbours(sim, placement, fs_hz):
    res = sim(placement, fs_hz, seed=4, gaps=6, run_s=40.0)
    tr, rec = res.truth, res.recording
    assert len(rec.gaps) >= 4
    ana = analyze_recording(rec, placement=placement)
    tol = 0.06 if placement == "waist" else 0.04
    sc = score_strikes(ana.strikes.time_s, tr.ic_time_s, tol)
    assert sc.fp == 0  # every reported strike is a real one
    for g in rec.gaps:
        inside = (ana.strikes.time_s > g.start_s) & (ana.strikes.time_s < g.end_s)
        assert not inside.any()
        close = (ana.strikes.time_s > g.start_s - 0.05) & (ana.strikes.time_s < g.end_s + 0.2)
        assert ana.strikes.near_gap[close].all()
    # strikes away from gaps are all found
    assert sc.recall >= 0.9
    far = ~tr.near_gap
    assert np.isin(np.flatnonzero(far), sc.ref_index).mean() >= 0.99


def test_heavy_timestamp_jitter_does_not_shift_timings(sim):
    res = sim("shoe", 200.0, jitter_s=0.002)  # truncated by the sensor model to +-2.25 ms
    ana = analyze_recording(res.recording, placement="shoe")
    sc = score_strikes(ana.strikes.time_s, res.truth.ic_time_s, 0.04)
    assert sc.f1 >= 0.99
    assert abs(np.median(sc.timing_error_s)) <= 0.003


def test_irregular_sampling_uses_real_timestamps(sim):
    res = sim("shoe", 1000.0)
    rec = res.recording
    rng = np.random.default_rng(0)
    # keep every 2nd, 3rd or 4th sample at random: ~330 Hz on average, intervals 2-4 ms
    keep = np.cumsum(rng.integers(2, 5, size=rec.n_samples // 2))
    keep = np.concatenate(([0], keep[keep < rec.n_samples]))
    t, a = rec.time_s[keep], rec.acc_g[keep]
    ana = analyze_signal(t, a, 333.0, placement="shoe")
    sc = score_strikes(ana.strikes.time_s, res.truth.ic_time_s, 0.04)
    assert sc.f1 >= 0.99
    assert np.median(np.abs(sc.timing_error_s)) <= 0.005


def test_a_window_keeps_the_callers_time_base(sim):
    rec = sim("waist", 200.0).recording
    full = analyze_signal(rec.time_s, rec.acc_g, 200.0, placement="waist")
    i0, i1 = np.searchsorted(rec.time_s, [12.0, 30.0])
    win = analyze_signal(rec.time_s[i0:i1] + 5000.0, rec.acc_g[i0:i1], 200.0, placement="waist")
    inner = win.strikes.time_s[(win.strikes.time_s > 5014.0) & (win.strikes.time_s < 5028.0)] - 5000.0
    ref = full.strikes.time_s[(full.strikes.time_s > 14.0) & (full.strikes.time_s < 28.0)]
    assert len(inner) == len(ref) > 30
    np.testing.assert_allclose(inner, ref, atol=2e-3)


def test_bouts_without_any_detectable_strike_give_no_strikes_instead_of_crashing():
    # a smooth 3 Hz sine is periodic like running but has no impact transient to time
    t = np.arange(0, 30, 0.005)
    acc = np.c_[0 * t, 0 * t, 1 + 2 * np.sin(6 * np.pi * t)]
    for placement in ("shoe", "shank"):
        a = analyze_signal(t, acc, 200.0, placement=placement)
        assert len(a.strikes) == 0 and a.bouts == []


def test_declared_placement_that_contradicts_the_signal_is_warned():
    rec = simulate(SimConfig(placement="waist", fs_hz=200.0, seed=5,
                             segments=[SimSegment(30, "run", 3.5, "asphalt")])).recording
    a = analyze_recording(rec, placement="shoe")
    assert any("looks like waist" in w.message for w in a.warnings)
    assert not any("looks like" in w.message for w in analyze_recording(rec, placement="waist").warnings)


def test_a_rate_too_low_for_the_impact_transient_is_warned():
    rec = simulate(SimConfig(placement="shoe", fs_hz=200.0, seed=6,
                             segments=[SimSegment(30, "run", 3.5, "asphalt")])).recording
    assert any("below the 500 Hz" in w.message for w in analyze_recording(rec, placement="shoe").warnings)
