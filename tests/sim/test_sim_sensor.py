"""Simulator sensor effects: mounting, clipping, quantisation, jitter, gaps, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.errors import InputError
from gaitimpact.sim import SimConfig, SimSegment, parse_segments, simulate

SEGS = [SimSegment(20.0, "run", 3.5, "asphalt")]


def _sim(**kw):
    kw.setdefault("segments", SEGS)
    kw.setdefault("fs_hz", 500.0)
    return simulate(SimConfig(**kw))


def test_same_seed_gives_identical_recordings_and_another_seed_does_not():
    kw = dict(placement="shoe", noise_g=0.02, jitter_s=0.0005, gaps=2, mount_error_deg=15, range_g=16)
    a, b, c = _sim(seed=9, **kw), _sim(seed=9, **kw), _sim(seed=10, **kw)
    assert np.array_equal(a.recording.acc_g, b.recording.acc_g)
    assert np.array_equal(a.recording.time_s, b.recording.time_s)
    assert np.array_equal(a.truth.ic_time_s, b.truth.ic_time_s)
    assert not np.array_equal(a.truth.ic_time_s, c.truth.ic_time_s)


@pytest.mark.parametrize("placement", ["waist", "shoe", "shank"])
def test_mounting_rotation_preserves_the_norm_and_changes_the_axes(placement):
    a = _sim(placement=placement, seed=4)
    b = _sim(placement=placement, seed=4, mount_error_deg=20.0, random_orientation=True)
    na, nb = (np.linalg.norm(r.recording.acc_g, axis=1) for r in (a, b))
    assert np.allclose(na, nb, atol=1e-9)
    assert not np.allclose(a.recording.acc_g, b.recording.acc_g, atol=0.1)
    R = b.truth.mount_rotation
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-12)


def test_mount_error_is_the_stated_angle():
    res = _sim(seed=1, mount_error_deg=12.0)
    R = res.truth.mount_rotation
    angle = np.degrees(np.arccos((np.trace(R) - 1) / 2))
    assert angle == pytest.approx(12.0, abs=1e-6)


def test_clipping_caps_every_axis_at_the_range_and_flags_the_strikes():
    res = _sim(placement="shoe", seed=2, range_g=8.0)
    a = res.recording.acc_g
    assert np.max(np.abs(a)) == pytest.approx(8.0)
    assert np.count_nonzero(np.isclose(np.abs(a), 8.0)) > 10
    t = res.truth
    assert np.all(t.peak_g > 8.0)  # truth is before clipping
    assert t.clipped.mean() > 0.9


def test_quantisation_puts_samples_on_the_lsb_grid():
    res = _sim(placement="waist", seed=2, range_g=8.0, quant_bits=12, noise_g=0.01)
    lsb = 16.0 / 2 ** 12
    q = res.recording.acc_g / lsb
    assert np.allclose(q, np.round(q), atol=1e-9)


def test_noise_and_bias_have_the_stated_size():
    clean = _sim(placement="waist", seed=3)
    noisy = _sim(placement="waist", seed=3, noise_g=0.05, bias_g=0.1)
    d = noisy.recording.acc_g - clean.recording.acc_g
    assert np.allclose(d.mean(axis=0), noisy.truth.bias_g, atol=0.005)
    assert np.std(d - d.mean(axis=0), axis=0) == pytest.approx(np.full(3, 0.05), rel=0.05)


def test_jitter_moves_timestamps_but_not_the_sampled_signal():
    a = _sim(placement="shank", seed=6)
    b = _sim(placement="shank", seed=6, jitter_s=0.0004)
    tb = b.recording.time_s
    assert tb[0] == 0.0 and np.all(np.diff(tb) > 0)
    e = tb - a.recording.time_s
    assert 0.0003 < e.std() < 0.0005 and np.max(np.abs(e)) <= 0.45 / 500.0 + 1e-12
    assert np.array_equal(a.recording.acc_g, b.recording.acc_g)


def test_gaps_remove_samples_and_truth_lists_them():
    full = _sim(placement="waist", seed=8)
    res = _sim(placement="waist", seed=8, gaps=[(5.0, 0.5), (12.0, 0.2)])
    rec = res.recording
    assert len(res.truth.gaps) == 2 and rec.gaps == res.truth.gaps
    assert full.recording.n_samples - rec.n_samples == 250 + 100
    t = rec.time_s
    for g in rec.gaps:
        assert not np.any((t > g.start_s) & (t < g.end_s))
        assert g.duration_s > 0.19
    ic = res.truth.ic_time_s  # near a gap: the gap overlaps [IC - 0.2 s, IC + 0.1 s window]
    assert np.array_equal(res.truth.near_gap, (ic > 4.9) & (ic < 5.7) | (ic > 11.9) & (ic < 12.4))
    assert 2 <= res.truth.near_gap.sum() <= 8
    # samples that remain are the same samples
    keep = np.isin(np.round(full.recording.time_s, 9), np.round(t, 9))
    assert np.array_equal(full.recording.acc_g[keep], rec.acc_g)


def test_random_gap_count_is_honoured():
    res = _sim(placement="waist", seed=5, gaps=4)
    assert 1 <= len(res.truth.gaps) <= 4
    assert np.all(np.diff(res.recording.time_s) > 0)


def test_segment_spec_parses_and_rejects_bad_input():
    segs = parse_segments("run:120:3.5:asphalt, walk:30,stand:10,run:60::grass")
    assert [s.activity for s in segs] == ["run", "walk", "stand", "run"]
    assert segs[1].speed_mps == 1.4 and segs[3].speed_mps == 3.5 and segs[3].surface == "grass"
    for bad in ("run", "jog:10", "run:x", "run:10:9", ""):
        with pytest.raises(InputError):
            parse_segments(bad)


def test_bad_config_raises_input_error():
    for kw in (dict(placement="hip"), dict(fs_hz=1.0), dict(side="X"), dict(range_g=-1),
               dict(noise_g=-0.1), dict(quant_bits=12)):
        with pytest.raises(InputError):
            simulate(SimConfig(**kw))


@pytest.mark.parametrize("placement", ["waist", "shoe", "shank"])
def test_gyro_is_the_segment_rotation_rate_and_follows_the_mounting(placement):
    a = _sim(placement=placement, seed=3, gyro=True)
    b = _sim(placement=placement, seed=3, gyro=True, mount_error_deg=20.0)
    ga, gb = a.recording.gyro_dps, b.recording.gyro_dps
    assert ga.shape == a.recording.acc_g.shape
    assert np.allclose(np.linalg.norm(ga, axis=1), np.linalg.norm(gb, axis=1))
    peak = np.abs(ga).max()
    if placement == "waist":
        assert 5 < peak < 100
        return
    assert 500 < peak < 2500  # foot/shank swing: hundreds to ~2000 deg/s
    # planar segment rotation: integrating the rate over whole strides returns to the same pitch
    # (within the stride-to-stride variation of the pitch 0.1 s after IC)
    t = a.recording.time_s
    ic = a.truth.ic_time_s
    i0, i1 = np.searchsorted(t, [ic[2] + 0.1, ic[-3] + 0.1])
    angle = np.trapezoid(ga[i0:i1], t[i0:i1], axis=0)
    assert np.all(np.abs(angle) < 2.5)
