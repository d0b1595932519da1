"""Period-consistent choice among IC candidates (gaitimpact.core.periodic.select_periodic)."""

import numpy as np

from gaitimpact.core.periodic import select_periodic


def _strides(n: int, period: float, t0: float = 1.0) -> np.ndarray:
    return t0 + period * np.arange(n)


def test_regular_landings_beat_slightly_stronger_offbeat_features():
    true = _strides(20, 0.75)
    # every other stride also has a late-swing feature 0.2 s early, a little stronger than the landing
    decoys = true[1::2] - 0.2
    t = np.concatenate((true, decoys))
    s = np.concatenate((np.full(true.size, 1.0), np.full(decoys.size, 1.2)))
    order = np.argsort(t)
    chosen = t[order][select_periodic(t[order], s[order], np.full(t.size, 0.75))]
    np.testing.assert_allclose(chosen, true)


def test_a_stride_without_candidate_stays_missed_not_invented():
    true = np.delete(_strides(20, 0.75), 9)
    chosen = true[select_periodic(true, np.ones(true.size), np.full(true.size, 0.75))]
    np.testing.assert_allclose(chosen, true)


def test_cadence_change_and_gap_keep_every_strike():
    a = _strides(15, 0.80)
    b = _strides(15, 0.70, t0=a[-1] + 5.0)  # a 5 s gap, then a faster pace
    t = np.concatenate((a, b))
    period = np.where(t < a[-1] + 1.0, 0.80, 0.70)
    chosen = t[select_periodic(t, np.ones(t.size), period)]
    np.testing.assert_allclose(chosen, t)


def test_a_lone_candidate_far_from_any_chain_is_not_a_strike():
    true = _strides(12, 0.75)
    t = np.sort(np.append(true, true[-1] + 4.0))  # an isolated jolt 4 s after the last stride
    chosen = t[select_periodic(t, np.full(t.size, 0.9), np.full(t.size, 0.75))]
    np.testing.assert_allclose(chosen, true)


def test_waist_ic_stays_on_the_landing_when_a_second_stance_peak_follows_a_deep_dip():
    """A bouncing belt: on some steps a mid-stance dip below the flight level and a higher second
    stance peak. The first pass times those steps from the dip (~0.1 s late); the per-step choice
    keeps the landing rise, so no interval is off the rhythm."""
    from gaitimpact.core.pipeline import analyze_signal
    from gaitimpact.sim.config import SimConfig, SimSegment
    from gaitimpact.sim.simulate import simulate

    sim = simulate(SimConfig(placement="waist", fs_hz=200.0, segments=[SimSegment(40.0, "run", 4.5, "asphalt")],
                             noise_g=0.02, seed=3))
    t, acc = sim.recording.time_s, sim.recording.acc_g.copy()
    up = acc.mean(axis=0) / np.linalg.norm(acc.mean(axis=0))
    ic = sim.truth.ic_time_s
    hit = ic[5:-5][np.random.default_rng(0).random(ic.size - 10) < 0.25]
    for t0 in hit:
        dip = -3.5 * np.exp(-0.5 * ((t - (t0 + 0.09)) / 0.018) ** 2)
        bump = dip + 3.0 * np.exp(-0.5 * ((t - (t0 + 0.15)) / 0.02) ** 2)
        acc += bump[:, None] * up[None, :]
    det = analyze_signal(t, acc, 200.0, placement="waist").strikes.time_s
    err = np.abs(det[:, None] - ic[None, :]).min(axis=1)
    assert hit.size >= 10
    assert det.size >= ic.size - 2
    assert np.all(err <= 0.03)
    d = np.diff(det)
    assert np.all(np.abs(d / np.median(d) - 1.0) <= 0.2)


def test_impact_peak_on_a_falling_edge_is_its_own_local_maximum():
    """At 100 Hz a landing spike sits on the falling edge of a saturated swing peak: the impact peak
    is the spike (a local maximum), not the higher edge sample two samples before it."""
    from gaitimpact.core.strikes import _local_argmax

    x = np.array([1.0, 7.05, 6.79, 6.31, 4.87, 5.97, 3.05, 1.0])
    assert _local_argmax(x, np.array([4]), 2).tolist() == [5]
    assert _local_argmax(np.array([1.0, 2.0, 5.0, 3.0, 1.0]), np.array([2]), 1).tolist() == [2]
