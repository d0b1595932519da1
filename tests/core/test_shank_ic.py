"""Shank initial contact = the minimum of the axial acceleration before the tibial shock.

Synthetic tibia, shaped like the real shank trials (bach2022): in terminal swing the axial specific
force points distally (negative) and reaches its extreme at touchdown; the ground then reverses it
(a slow rise through 0 g), and the steep shock peaks ~35 ms after contact. |a| folds that sign change
into a bump at contact, a valley where the axial crosses 0 g and the shock: an onset timed on |a|
lands on the shock, ~20 ms late.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from gaitimpact.core.strikes import SHANK_AXIAL_BACK_S, onset_times, shank_axial_ic

FS = 500.0
T0 = 0.200  # contact (s)


def _tibia(rot: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(time s, acc g N x 3): axial along +z of the tibia, rotated into the sensor frame by rot."""
    t = np.arange(0.0, 0.4, 1.0 / FS)
    axial = np.where(t < T0, -0.8 * np.exp(-(((t - T0) / 0.025) ** 2)), 0.0)
    rise = (t >= T0) & (t < T0 + 0.02)
    axial[rise] = -0.8 + 50.0 * (t[rise] - T0)  # the ground reverses the distal acceleration: 50 g/s
    tau = np.clip(t - (T0 + 0.02), 0.0, None)
    axial += np.where(t >= T0 + 0.02, 0.2 + 8.0 * (tau / 0.015) ** 2 * np.exp(2.0 * (1 - tau / 0.015)), 0.0)
    lateral = 0.3 * np.exp(-(((t - T0) / 0.01) ** 2))  # a little off-axis content at touchdown
    acc = np.column_stack([lateral, np.zeros_like(t), axial])
    return t, acc if rot is None else acc @ rot.T


def _onset(t: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shock's peak index and the onset (s) of its steep rise on |a| (the tangent method)."""
    res = np.linalg.norm(acc, axis=1)
    peak = np.array([int(np.argmax(res))])
    onset, ok, _ = onset_times(t, res, peak, int(0.04 * FS), 0.2, np.array([0]))
    assert ok.all()
    return peak, onset


def test_contact_is_the_axial_minimum_not_the_onset_of_the_resultant_shock():
    t, acc = _tibia()
    peak, onset = _onset(t, acc)
    assert onset[0] - T0 > 0.015  # what |a| alone gives: the shock, not the contact
    ic = shank_axial_ic(t, acc, peak, onset, np.array([0]), FS)
    assert abs(ic[0] - T0) <= 1.0 / FS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shank_contact_needs_no_sensor_orientation(seed):
    rot = Rotation.random(random_state=seed).as_matrix()
    t, acc = _tibia(rot)
    peak, onset = _onset(t, acc)
    ic = shank_axial_ic(t, acc, peak, onset, np.array([0]), FS)
    assert abs(ic[0] - T0) <= 1.0 / FS


@pytest.mark.parametrize("seed", [4, 5])
def test_a_clipped_shock_still_times_the_contact(seed):
    # a +-4 g sensor worn any way up: the 8 g shock is cut on several axes, its peak sample tilted
    t, acc = _tibia(Rotation.random(random_state=seed).as_matrix())
    acc = np.clip(acc, -4.0, 4.0)
    peak, onset = _onset(t, acc)
    ic = shank_axial_ic(t, acc, peak, onset, np.array([0]), FS)
    assert abs(ic[0] - T0) <= 1.0 / FS


def test_a_minimum_cut_off_by_a_gap_keeps_the_shock_onset():
    t, acc = _tibia()
    peak, onset = _onset(t, acc)
    # the stretch starts just after the contact: the axial is still falling at its first sample
    start = np.array([int(np.searchsorted(t, T0 + 0.004))])
    assert onset[0] - SHANK_AXIAL_BACK_S < t[start[0]]
    ic = shank_axial_ic(t, acc, peak, onset, start, FS)
    assert ic[0] == onset[0]
