"""Detection, timing, cadence, impact and auto placement against the simulator's exact truth."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.core.evaluate import MATCH_TOLERANCE_S, score_strikes
from gaitimpact.core.pipeline import analyze_recording

TIMING_TARGET_S = {"waist": 0.020, "shoe": 0.010, "shank": 0.010}

CASES = [("waist", 100.0, 3.0), ("waist", 200.0, 4.5), ("shoe", 200.0, 2.5), ("shoe", 1000.0, 4.5),
         ("shank", 500.0, 3.5)]


@pytest.mark.parametrize(("placement", "fs_hz", "speed"), CASES)
def test_strikes_timing_cadence_and_peaks_meet_targets(sim, placement, fs_hz, speed):
    res = sim(placement, fs_hz, speed_mps=speed, jitter_s=0.001, gaps=2)
    tr = res.truth
    ana = analyze_recording(res.recording, placement=placement)
    sc = score_strikes(ana.strikes.time_s, tr.ic_time_s, MATCH_TOLERANCE_S[placement], ignore_ref=tr.near_gap)
    assert sc.f1 >= 0.99, (sc.tp, sc.fp, sc.fn)
    assert np.median(np.abs(sc.timing_error_s)) <= TIMING_TARGET_S[placement]
    assert abs(ana.cadence_spm - tr.cadence_spm) <= 1.0
    pk_err = np.abs(ana.strikes.peak_g[sc.det_index] - tr.peak_g[sc.ref_index]) / tr.peak_g[sc.ref_index]
    assert np.median(pk_err) <= 0.05
    assert np.all(np.isfinite(ana.strikes.loading_rate_gps[sc.det_index]))
    assert np.all(ana.strikes.loading_rate_gps[sc.det_index] > 0)


@pytest.mark.parametrize(("placement", "fs_hz"), [("waist", 100.0), ("waist", 500.0), ("shoe", 200.0),
                                                   ("shoe", 500.0), ("shank", 200.0), ("shank", 1000.0)])
def test_auto_placement_is_right_and_says_so(sim, placement, fs_hz):
    res = sim(placement, fs_hz, seed=11, speed_mps=3.0)
    ana = analyze_recording(res.recording, placement="auto")
    assert ana.placement == placement
    assert ana.placement_source == "auto"
    assert any("placement decided from the signal" in w.message for w in ana.warnings)


def test_declared_placement_wins_over_auto(sim):
    res = sim("shoe", 500.0)
    ana = analyze_recording(res.recording)  # meta.placement is "shoe" in a simulated recording
    assert ana.placement == "shoe" and ana.placement_source == "declared"


def test_shoe_cadence_counts_both_feet(sim):
    res = sim("shoe", 500.0, speed_mps=4.0)
    ana = analyze_recording(res.recording, placement="shoe")
    stride_s = np.median(np.diff(ana.strikes.time_s))
    assert ana.cadence_spm == pytest.approx(120.0 / stride_s, rel=0.02)
    assert abs(ana.cadence_spm - res.truth.cadence_spm) <= 1.0


def test_waist_left_right_follows_truth(sim):
    res = sim("waist", 200.0, seed=3, speed_mps=3.5, run_s=40.0)
    tr = res.truth
    ana = analyze_recording(res.recording, placement="waist")
    sc = score_strikes(ana.strikes.time_s, tr.ic_time_s, 0.06)
    foot = ana.strikes.foot[sc.det_index]
    known = foot != "?"
    assert known.mean() >= 0.8
    assert np.mean(foot[known] == tr.foot[sc.ref_index][known]) >= 0.95
    # consecutive strikes alternate feet
    f = ana.strikes.foot[ana.strikes.foot != "?"]
    assert np.mean(f[1:] != f[:-1]) >= 0.95


def test_running_bouts_match_truth_and_exclude_walking(sim):
    res = sim("waist", 200.0)
    ana = analyze_recording(res.recording, placement="waist")
    (t0, t1), = res.truth.run_bouts
    assert len(ana.bouts) == 1
    assert abs(ana.bouts[0].start_s - t0) <= 0.5 and abs(ana.bouts[0].end_s - t1) <= 0.5
    assert ana.running_s == pytest.approx(t1 - t0, abs=0.6)
    walk = res.truth.walk_ic_time_s
    det = ana.strikes.time_s
    # no detected strike sits on a walking step away from the run's edges
    inner_walk = walk[(walk < t0 - 1.0) | (walk > t1 + 1.0)]
    assert not np.any(np.min(np.abs(det[:, None] - inner_walk[None, :]), axis=0) < 0.06)


@pytest.mark.parametrize(("placement", "fs_hz", "target_ms"), [("waist", 200.0, 15.0), ("shoe", 500.0, 15.0),
                                                               ("shank", 500.0, 25.0)])
def test_contact_time_follows_the_simulated_toe_off(sim, placement, fs_hz, target_ms):
    res = sim(placement, fs_hz, speed_mps=3.5)
    tr = res.truth
    ana = analyze_recording(res.recording, placement=placement)
    sc = score_strikes(ana.strikes.time_s, tr.ic_time_s, MATCH_TOLERANCE_S[placement], ignore_ref=tr.near_gap)
    ct = ana.strikes.contact_ms[sc.det_index]
    assert np.mean(np.isfinite(ct)) >= 0.95  # nearly every strike gets a contact time
    err = ct - tr.contact_time_s[sc.ref_index] * 1e3
    assert np.nanmedian(np.abs(err)) <= target_ms
