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
