"""Simulator physics: timing vs speed, waist free fall and impulse balance, factors, truth definitions."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.core.definitions import IMPACT_WINDOW_S
from gaitimpact.sim import (
    SimConfig,
    SimSegment,
    cadence_model_spm,
    contact_time_model_s,
    simulate,
    speed_factor,
    speed_from_cadence_mps,
    surface_factor,
    wear_factor,
)
from gaitimpact.sim.truth import peak_and_loading_rate


def _run(placement="waist", fs=1000.0, dur=30.0, v=3.5, surface="asphalt", **kw):
    return simulate(SimConfig(placement=placement, fs_hz=fs, segments=[SimSegment(dur, "run", v, surface)], **kw))


@pytest.mark.parametrize("v", [2.5, 3.5, 5.0])
def test_cadence_follows_the_speed_model_within_one_spm(v):
    res = _run(v=v, fs=200.0, dur=60.0, seed=3)
    assert abs(res.truth.cadence_spm - cadence_model_spm(v)) < 1.0
    steps = np.diff(res.truth.ic_time_s)
    assert abs(60.0 / np.mean(steps) - cadence_model_spm(v)) < 1.0


def test_shoe_cadence_counts_both_feet_and_truth_lists_only_its_side():
    res = _run("shoe", fs=500.0, dur=40.0, side="R", seed=2)
    t = res.truth
    assert set(t.foot.tolist()) == {"R"}
    stride_s = np.median(np.diff(t.ic_time_s))
    assert abs(t.cadence_spm - 2 * 60.0 / stride_s) < 2.0
    assert abs(t.cadence_spm - cadence_model_spm(3.5)) < 1.0


def test_contact_time_shortens_with_speed_and_leaves_flight():
    assert contact_time_model_s(2.5) > contact_time_model_s(3.5) > contact_time_model_s(5.0)
    for v in (2.5, 3.5, 5.0):
        assert 60.0 / cadence_model_spm(v) - contact_time_model_s(v) > 0.03


def test_waist_reads_free_fall_in_flight():
    res = _run(dur=20.0, seed=1)
    t, a = res.recording.time_s, res.recording.acc_g
    tr = res.truth
    ic = tr.ic_time_s
    flight = np.zeros(len(t), dtype=bool)
    for i in range(len(ic) - 1):
        flight |= (t > ic[i] + tr.contact_time_s[i] + 0.003) & (t < ic[i + 1] - 0.003)
    assert flight.sum() > 500
    assert np.max(np.linalg.norm(a[flight], axis=1)) < 0.02


def test_waist_mean_specific_force_is_one_g_over_whole_steps():
    res = _run(dur=30.0, seed=4)
    t, a = res.recording.time_s, res.recording.acc_g
    ic = res.truth.ic_time_s
    m = (t >= ic[0]) & (t < ic[-1])
    mean = a[m].mean(axis=0)
    assert abs(np.linalg.norm(mean) - 1.0) < 0.01


def test_waist_left_and_right_steps_sway_opposite_ways():
    res = _run(dur=20.0, seed=5)
    t, a = res.recording.time_s, res.recording.acc_g
    tr = res.truth
    ml = []
    for ic, tc in zip(tr.ic_time_s, tr.contact_time_s):
        m = (t >= ic) & (t < ic + tc)
        ml.append(a[m, 1].mean())
    ml = np.array(ml)
    left = tr.foot == "L"
    assert np.all(ml[left] < 0) and np.all(ml[~left] > 0)


def test_standing_reads_one_g_and_walking_has_no_flight():
    segs = [SimSegment(10, "stand"), SimSegment(20, "walk", 1.4), SimSegment(10, "stand")]
    res = simulate(SimConfig(placement="waist", fs_hz=200, segments=segs, seed=1))
    t, a = res.recording.time_s, res.recording.acc_g
    n = np.linalg.norm(a, axis=1)
    stand = t < 9.5
    assert abs(n[stand].mean() - 1.0) < 0.01 and n[stand].std() < 0.01
    wb = res.truth.walk_bouts[0]
    walk = (t > wb[0]) & (t < wb[1])
    assert n[walk].min() > 0.5
    assert len(res.truth.ic_time_s) == 0 and res.truth.run_bouts == []
    assert 100 <= 60.0 / np.median(np.diff(res.truth.walk_ic_time_s)) <= 125


@pytest.mark.parametrize("placement", ["waist", "shoe", "shank"])
def test_truth_peak_is_the_clean_resultant_maximum_in_the_impact_window(placement):
    res = _run(placement, fs=10000.0, dur=8.0, seed=7)
    a = res.recording.acc_g
    w = IMPACT_WINDOW_S[placement]
    r = np.linalg.norm(a, axis=1)
    for ic, pk, lr in zip(res.truth.ic_time_s, res.truth.peak_g, res.truth.loading_rate_gps):
        i0 = int(round(ic * 10000.0))
        seg = r[i0:i0 + int(round(w * 10000.0)) + 1]
        assert seg.max() == pytest.approx(pk, rel=2e-3)
        pk2, lr2 = peak_and_loading_rate(seg[None, :], 1e-4)
        assert lr2[0] == pytest.approx(lr, rel=0.05)


@pytest.mark.parametrize("placement,lo,hi", [("waist", 3.0, 5.0), ("shank", 5.0, 10.0), ("shoe", 7.0, 15.0)])
def test_running_peaks_are_in_the_literature_range(placement, lo, hi):
    res = _run(placement, fs=500.0, dur=30.0, seed=8)
    assert lo < np.median(res.truth.peak_g) < hi
    assert np.all(res.truth.loading_rate_gps > 0)


def _median_peak(placement, v=3.5, surface="concrete", km=0.0, seed=11):
    res = _run(placement, fs=200.0, dur=90.0, v=v, surface=surface, shoe_km=km, seed=seed)
    return float(np.exp(np.mean(np.log(res.truth.peak_g))))


@pytest.mark.parametrize("placement", ["waist", "shank"])
def test_peaks_scale_with_the_surface_factor(placement):
    ratio = _median_peak(placement, surface="grass") / _median_peak(placement, surface="concrete")
    assert ratio == pytest.approx(surface_factor("grass", placement), rel=0.015)


def test_peaks_scale_with_the_speed_factor():
    ratio = _median_peak("shank", v=4.5) / _median_peak("shank", v=3.0)
    expected = speed_factor(4.5, "shank") / speed_factor(3.0, "shank")
    assert ratio == pytest.approx(expected, rel=0.015)


def test_peaks_scale_with_the_shoe_wear_factor():
    ratio = _median_peak("shoe", km=800.0) / _median_peak("shoe", km=0.0)
    assert wear_factor(800.0) > wear_factor(0.0) == 1.0
    assert ratio == pytest.approx(wear_factor(800.0), rel=0.015)


def test_surface_effects_are_small_and_treadmill_is_lower_at_the_shank():
    for placement in ("waist", "shank", "shoe"):
        for s in ("asphalt", "track", "grass", "trail", "treadmill"):
            assert 0.8 <= surface_factor(s, placement) <= 1.15
    assert surface_factor("treadmill", "shank") < surface_factor("concrete", "shank")
    assert surface_factor("treadmill", "waist") == surface_factor("concrete", "waist")


def test_truth_factor_functions_match_the_module_functions():
    t = _run("shank", fs=200.0, dur=5.0, shoe_km=300.0).truth
    assert t.surface_factor("grass") == surface_factor("grass", "shank")
    assert t.speed_factor(4.0) == pytest.approx(speed_factor(4.0, "shank"))
    assert t.wear_factor(300.0) == wear_factor(300.0)
    assert t.expected_peak_g(3.5, "concrete") == pytest.approx(7.5 * wear_factor(300.0))


@pytest.mark.parametrize("placement", ["shoe", "shank"])
def test_foot_reads_one_g_at_mid_stance_and_rotates_through_gravity_in_swing(placement):
    res = _run(placement, fs=500.0, dur=20.0, seed=12)
    t, a = res.recording.time_s, res.recording.acc_g
    tr = res.truth
    mid = np.zeros(len(t), dtype=bool)
    for ic, tc in zip(tr.ic_time_s, tr.contact_time_s):
        mid |= (t > ic + 0.28 * tc) & (t < ic + 0.42 * tc)
    # foot flat (shoe) or shank rolling over the ankle (small centripetal term): about 1 g
    assert np.abs(np.linalg.norm(a[mid], axis=1) - 1.0).max() < 0.2
    # gravity seen along the segment's axes changes as it rotates: at mid-stance the segment is
    # near level/upright, over the stride the forward axis sweeps through several g
    assert abs(a[mid, 0].mean()) < 0.3
    assert np.ptp(a[:, 0]) > 4.0


def test_run_bouts_follow_the_segments_and_exclude_walking_and_standing():
    segs = [SimSegment(5, "stand"), SimSegment(30, "run", 3.0, "track"), SimSegment(10, "walk"),
            SimSegment(30, "run", 4.0, "trail")]
    res = simulate(SimConfig(placement="waist", fs_hz=100, segments=segs, seed=2))
    tr = res.truth
    assert len(tr.run_bouts) == 2 and len(tr.walk_bouts) == 1
    (a0, a1), (b0, b1) = tr.run_bouts
    assert a0 == pytest.approx(5.0) and abs(a1 - 35.0) < 0.4 and abs(b1 - b0 - 30.0) < 0.4
    assert np.all((tr.ic_time_s >= a0) & (tr.ic_time_s < a1) | (tr.ic_time_s >= b0) & (tr.ic_time_s < b1))
    assert set(tr.surface[tr.ic_time_s < a1]) == {"track"} and set(tr.surface[tr.ic_time_s > b0]) == {"trail"}
    assert np.all(tr.speed_mps[tr.ic_time_s > b0] == 4.0)
    assert tr.bout_cadence_spm[1] > tr.bout_cadence_spm[0]
    assert np.array_equal(tr.bout, (tr.ic_time_s >= b0).astype(int))
    assert speed_from_cadence_mps(tr.bout_cadence_spm[1]) == pytest.approx(4.0, abs=0.15)
