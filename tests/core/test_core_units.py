"""Small unit tests of the core's building blocks on hand-made signals."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.core.cadence import cadence_between_spm, cadence_spm, valid_intervals
from gaitimpact.core.definitions import IMPACT_WINDOW_S
from gaitimpact.core.evaluate import match_events, score_strikes
from gaitimpact.core.filters import contiguous_segments, in_intervals, overlaps_intervals, resultant_g
from gaitimpact.core.impact import impact_figures, infer_range_g
from gaitimpact.core.orientation import gravity_direction, rotation_matrix
from gaitimpact.core.pipeline import analyze_signal
from gaitimpact.errors import InputError
from gaitimpact.recording import Gap


def test_resultant_is_the_vector_norm():
    acc = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, -1.0], [1.0, 2.0, 2.0]])
    np.testing.assert_allclose(resultant_g(acc), [5.0, 1.0, 3.0])


def test_gravity_direction_finds_up_in_any_orientation():
    rng = np.random.default_rng(1)
    acc = np.tile([0.0, 0.0, 1.0], (1000, 1)) + 0.3 * rng.standard_normal((1000, 3))
    rot = rotation_matrix(np.array([1.0, 2.0, 0.5]), 2.0)
    up = gravity_direction(acc @ rot.T)
    np.testing.assert_allclose(up, rot @ [0.0, 0.0, 1.0], atol=0.03)


def test_linear_rise_gives_exact_peak_and_loading_rate():
    fs = 1000.0
    t = np.arange(0, 1.0, 1 / fs)
    res = np.ones_like(t)
    ic = 0.5
    rise = (t >= ic) & (t <= ic + 0.02)
    res[rise] = 1.0 + 400.0 * (t[rise] - ic)  # 400 g/s up to 9 g at IC + 20 ms
    after = t > ic + 0.02
    res[after] = np.maximum(1.0, 9.0 - 400.0 * (t[after] - ic - 0.02))
    fig = impact_figures(t, res, np.array([ic]), "shoe")
    assert fig.peak_g[0] == pytest.approx(9.0, abs=1e-6)
    assert fig.peak_time_s[0] == pytest.approx(ic + 0.02, abs=1e-6)
    assert fig.loading_rate_gps[0] == pytest.approx(400.0, rel=1e-6)
    assert not fig.clipped[0]


def test_bandlimited_interpolation_recovers_the_continuous_peak_between_samples():
    fs = 100.0
    t = np.arange(0, 2.0, 1 / fs)
    t_peak = 1.0537  # between samples
    res = 1.0 + 3.0 * np.exp(-((t - t_peak) / 0.04) ** 2)
    fig = impact_figures(t, res, np.array([1.0]), "waist")
    raw = impact_figures(t, res, np.array([1.0]), "waist", interpolate=False)
    assert abs(fig.peak_g[0] - 4.0) < abs(raw.peak_g[0] - 4.0)
    assert fig.peak_g[0] == pytest.approx(4.0, abs=0.01)
    assert fig.peak_time_s[0] == pytest.approx(t_peak, abs=0.002)


def test_impact_window_is_the_shared_definition():
    fs = 1000.0
    t = np.arange(0, 1.0, 1 / fs)
    res = np.ones_like(t)
    res[np.searchsorted(t, 0.5 + IMPACT_WINDOW_S["shoe"] + 0.005)] = 20.0  # just outside the window
    res[np.searchsorted(t, 0.51)] = 5.0
    fig = impact_figures(t, res, np.array([0.5]), "shoe", interpolate=False)
    assert fig.peak_g[0] == 5.0


def test_clipping_flag_and_range_inference():
    fs = 500.0
    t = np.arange(0, 2.0, 1 / fs)
    acc = np.zeros((t.size, 3))
    acc[:, 2] = 1.0
    i = np.searchsorted(t, 1.005)
    acc[i:i + 4, 2] = 8.0  # flat top at the range
    assert infer_range_g(acc) == pytest.approx(8.0)
    fig = impact_figures(t, resultant_g(acc), np.array([1.0, 1.5]), "shoe", acc_g=acc, range_g=8.0)
    assert fig.clipped.tolist() == [True, False]
    acc[i + 1:i + 4, 2] = 7.0  # a single sample at the maximum is no evidence of a range
    assert infer_range_g(acc) is None


def test_cadence_counts_both_feet_and_skips_missed_strikes_and_gaps():
    ic = np.arange(0.0, 10.0, 0.35)  # 171.4 steps/min
    assert cadence_spm(ic) == pytest.approx(60 / 0.35)
    stride = np.arange(0.0, 10.0, 0.7)
    assert cadence_spm(stride, steps_per_strike=2) == pytest.approx(60 / 0.35)
    missed = np.delete(ic, [5, 12])
    assert cadence_spm(missed) == pytest.approx(60 / 0.35)
    d, ok = valid_intervals(ic, gap_iv=np.array([[2.0, 2.05]]))
    assert not ok[np.searchsorted(ic, 2.0) - 1] and ok.sum() == d.size - 1
    assert np.isnan(cadence_spm(np.array([1.0])))
    two_paces = np.concatenate((np.arange(0.0, 10.0, 0.36), np.arange(10.0, 20.0, 0.32)))
    assert cadence_between_spm(two_paces, 0.0, 9.9) == pytest.approx(60 / 0.36)
    assert cadence_between_spm(two_paces, 10.0, 20.0) == pytest.approx(60 / 0.32)


def test_gaps_split_the_signal_from_timestamps_and_declared_gaps():
    t = np.concatenate((np.arange(0, 1, 0.01), np.arange(1.5, 2, 0.01)))
    starts, stops, gaps = contiguous_segments(t, 100.0)
    assert starts.tolist() == [0, 100] and stops.tolist() == [100, 150]
    assert gaps[0, 0] == pytest.approx(0.99) and gaps[0, 1] == pytest.approx(1.5)
    t2 = np.arange(0, 2, 0.01)
    starts, _, gaps = contiguous_segments(t2, 100.0, [Gap(0.99, 1.0)])
    assert starts.tolist() == [0, 100]
    assert in_intervals(np.array([0.5, 1.0]), gaps).tolist() == [False, True]
    assert overlaps_intervals(np.array([0.9, 0.2]), np.array([0.999, 0.3]), gaps).tolist() == [True, False]


def test_jitter_is_not_mistaken_for_gaps():
    rng = np.random.default_rng(2)
    t = np.arange(0, 10, 0.005) + rng.uniform(-0.002, 0.002, 2000)
    t = np.sort(t)
    _, _, gaps = contiguous_segments(t, 200.0)
    assert gaps.shape[0] == 0


def test_matching_is_one_to_one_and_scores_f1():
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    det = np.array([1.01, 1.02, 2.5, 3.99])
    d, r = match_events(det, ref, 0.05)
    assert sorted(zip(d.tolist(), r.tolist())) == [(0, 0), (3, 3)]
    sc = score_strikes(det, ref, 0.05, ignore_ref=np.array([False, True, False, False]))
    assert (sc.tp, sc.fp, sc.fn) == (2, 2, 1)


def test_bad_input_raises_input_error():
    t = np.arange(100) / 100.0
    with pytest.raises(InputError, match="N x 3"):
        analyze_signal(t, np.zeros((100, 2)), 100.0)
    with pytest.raises(InputError, match="too short"):
        analyze_signal(t[:10], np.zeros((10, 3)), 100.0)
    with pytest.raises(InputError, match="placement"):
        analyze_signal(t, np.zeros((100, 3)), 100.0, placement="wrist")
    with pytest.raises(InputError, match="rate"):
        analyze_signal(t, np.zeros((100, 3)), 0.0)
    with pytest.raises(InputError, match="increasing"):
        analyze_signal(t[::-1], np.zeros((100, 3)), 100.0)


def test_missing_values_are_left_out_not_invented(sim):
    rec = sim("shoe", 500.0).recording
    acc = rec.acc_g.copy()
    acc[1000:1010] = np.nan
    ana = analyze_signal(rec.time_s, acc, 500.0, placement="shoe")
    ref = analyze_signal(rec.time_s, rec.acc_g, 500.0, placement="shoe")
    assert any("missing values" in w.message for w in ana.warnings)
    assert np.all(np.isfinite(ana.strikes.peak_g))
    assert abs(len(ana.strikes) - len(ref.strikes)) <= 1


def test_still_sensor_has_no_running_and_no_strikes():
    t = np.arange(0, 30, 0.01)
    acc = np.tile([0.1, 0.2, 0.97], (t.size, 1))
    ana = analyze_signal(t, acc, 100.0)
    assert len(ana.strikes) == 0 and ana.bouts == [] and ana.running_s == 0.0


def test_a_declared_gap_that_is_also_in_the_timestamps_counts_once():
    t = np.concatenate((np.arange(0, 1, 0.01), np.arange(1.5, 2, 0.01)))
    _, _, gaps = contiguous_segments(t, 100.0, [Gap(float(t[99]), 1.5)])
    assert gaps.shape == (1, 2)


def test_bouts_are_trimmed_to_their_strikes_and_empty_bouts_dropped():
    from gaitimpact.core.pipeline import trim_bouts
    from gaitimpact.core.result import Bout

    ic = np.array([10.2, 10.55, 10.9, 11.25, 30.0])
    bouts, idx, keep = trim_bouts(ic, [Bout(9.0, 12.0), Bout(29.0, 31.0)])
    assert len(bouts) == 1
    assert bouts[0].start_s == pytest.approx(10.2) and bouts[0].end_s == pytest.approx(11.6)
    assert keep.tolist() == [True, True, True, True, False]
    assert idx[keep].tolist() == [0, 0, 0, 0]


def test_local_median_is_the_median_of_the_finite_neighbours():
    from gaitimpact.core.strikes import local_median

    rng = np.random.default_rng(3)
    for trial in range(200):
        n, half = int(rng.integers(1, 80)), int(rng.integers(1, 9))
        x = rng.normal(size=n) if trial % 2 else rng.integers(0, 3, size=n).astype(float)  # ties too
        use = None if trial % 3 == 0 else rng.random(n) < (0.8 if trial % 5 else 0.1)
        vals = np.where(np.ones(n, bool) if use is None else use, x, np.nan)
        got = local_median(x, use, half)
        for i in range(n):
            w = vals[max(0, i - half):i + half + 1]
            fallback = np.median(vals[np.isfinite(vals)]) if np.isfinite(vals).any() else 0.0
            want = np.median(w[np.isfinite(w)]) if np.isfinite(w).any() else fallback
            assert got[i] == want


def test_dense_impact_window_columns_are_exactly_those_inside_the_window():
    from gaitimpact.core.impact import _Dense

    rng = np.random.default_rng(4)
    m, width, up = 500, 60, 7
    dt = 0.01 * (1 + 1e-4 * rng.standard_normal(m))
    d = _Dense(np.ones(m, bool), 100.0 + rng.random(m), dt, rng.integers(0, 30, m), up, width)
    times = d.times(np.arange(m)[:, None], np.arange(width)[None, :])
    ic = times[np.arange(m), rng.integers(0, width, m)] + rng.choice([0.0, 1e-15, -1e-15, 3e-4], m)
    d.locate(ic, 0.05)
    np.testing.assert_array_equal(d.a, (times < ic[:, None]).sum(axis=1))
    np.testing.assert_array_equal(d.b, (times <= (ic + 0.05)[:, None]).sum(axis=1))


def find_peaks_per_stretch(x: np.ndarray, starts: np.ndarray, stops: np.ndarray, **kwargs) -> np.ndarray:
    """The reference: `scipy.signal.find_peaks` on every gap-free stretch of at least 3 samples separately."""
    from scipy import signal

    out = [signal.find_peaks(x[a:b], **kwargs)[0] + a for a, b in zip(starts.tolist(), stops.tolist()) if b - a >= 3]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def test_tiled_peaks_equal_one_find_peaks_call_per_tile_and_stretch():
    from scipy import signal

    from gaitimpact.core.strikes import PEAK_CONTEXT_S, find_peaks_tiled

    rng = np.random.default_rng(5)
    fs = 100.0
    for trial in range(12):
        n = int(rng.integers(3000, 9000))
        x = signal.sosfiltfilt(signal.butter(2, 8, fs=fs, output="sos"), rng.normal(size=n)) * 3 + 1.5
        cuts = np.sort(rng.choice(np.arange(10, n - 10), size=int(rng.integers(0, 4)), replace=False))
        starts, stops = np.concatenate(([0], cuts)), np.concatenate((cuts, [n]))
        tiles = np.unique(np.concatenate(([0], rng.integers(1, n, 6), [n])))
        dist = rng.choice([5, 7, 7, 12], size=tiles.size - 1)
        wlen = 2 * dist + 1 if trial % 2 else None
        got = find_peaks_tiled(x, fs, starts, stops, tiles, dist, wlen=wlen, height=1.4, prominence=0.6)
        want = []
        margin = int(np.ceil(PEAK_CONTEXT_S * fs))
        for j in range(tiles.size - 1):  # the reference: one call per tile context and stretch
            a, b = int(tiles[j]), int(tiles[j + 1])
            ca, cb = max(0, a - margin), min(n, b + margin)
            keep = (stops > ca) & (starts < cb)
            opts = {"distance": int(dist[j]), "height": 1.4, "prominence": 0.6}
            if wlen is not None:
                opts["wlen"] = int(wlen[j])
            idx = find_peaks_per_stretch(x[ca:cb], np.clip(starts[keep], ca, cb) - ca,
                                         np.clip(stops[keep], ca, cb) - ca, **opts)
            want.append(idx[(idx + ca >= a) & (idx + ca < b)] + ca)
        np.testing.assert_array_equal(got, np.concatenate(want))


def test_moving_up_is_the_unit_mean_of_the_neighbouring_grid_blocks():
    from gaitimpact.core.orientation import gravity_blocks, moving_up, moving_vertical_g

    rng = np.random.default_rng(6)
    for n, block, step, offset, half in [(1000, 100, 2, 30, 1), (777, 50, 5, 0, 2), (333, 128, 1, 127, 0)]:
        acc = rng.normal(size=(n, 3)) * 0.2 + [0.1, 0.0, 1.0]
        at = np.arange(n)
        # reference: blocks start at offset + k * block (a partial one before); every step-th sample on
        # that grid; each block's mean over it and its +-half neighbours, interpolated between centres
        starts = np.arange(offset % block - block, n, block)
        starts = starts[starts + block > 0]
        used = [np.arange(max(s, offset % step), min(s + block, n)) for s in starts]
        used = [u[(u - offset) % step == 0] for u in used]
        sums = np.array([acc[u].sum(axis=0) for u in used])
        counts = np.array([u.size for u in used], dtype=float)
        near = np.array([sums[max(0, k - half):k + half + 1].sum(axis=0) / counts[max(0, k - half):k + half + 1].sum()
                         for k in range(len(used))])
        centre = starts + 0.5 * (block - 1)
        g = np.column_stack([np.interp(at, centre, near[:, j]) for j in range(3)])
        grav = gravity_blocks(acc, block, offset, step, half)
        up = g / np.linalg.norm(g, axis=1)[:, None]
        np.testing.assert_allclose(moving_up(grav, at), up, rtol=1e-12)
        np.testing.assert_allclose(moving_vertical_g(acc, grav, at), np.einsum("ij,ij->i", acc, up), rtol=1e-12)


def test_decimate_mean_is_the_block_mean():
    from gaitimpact.core.bouts import decimate_mean

    rng = np.random.default_rng(7)
    for factor in (2, 3, 4, 5, 20):
        x = rng.normal(size=factor * 1000 + factor - 1) * 3 + 1  # the incomplete block is left out
        want = x[: factor * 1000].reshape(1000, factor).mean(axis=1)
        np.testing.assert_array_equal(decimate_mean(x, factor), want)


def test_timebase_median_equals_numpy_median():
    from gaitimpact.timebase import median

    rng = np.random.default_rng(8)
    cases = [rng.normal(size=999), np.full(500, 0.005), rng.choice([0.01, 0.01 + 1e-17, 0.0099999], 4000),
             rng.integers(0, 3, 1001).astype(float), np.append(np.full(300, 0.01), np.nan), rng.normal(size=5)]
    for x in cases:
        want = np.median(x)
        assert median(x) == want or (np.isnan(want) and np.isnan(median(x)))


def test_block_autocorrelation_in_batches_is_each_window_own_autocorrelation():
    """`_block_acf` batches its rows (ACF_ROWS, the last batch overlapping): every row must be the
    normalised autocorrelation of its own window, bit for bit the same whatever the number of blocks."""
    from gaitimpact.core.bouts import ACF_ROWS, MAX_LAG_S, WINDOW_S, _block_acf

    rng = np.random.default_rng(7)
    fs_dec, per_block = 50.0, 50
    nb = 2 * ACF_ROWS + 37  # two full batches and an overlapping last one
    t = np.arange(nb * per_block) / fs_dec
    rd = 1.0 + 0.3 * np.sin(2 * np.pi * 1.4 * t) + 0.1 * rng.standard_normal(t.size)
    acf = _block_acf(rd, nb, per_block, fs_dec)
    n_lags, win = int(MAX_LAG_S * fs_dec) + 2, int(WINDOW_S * fs_dec)
    padded = np.pad(rd, ((win - per_block) // 2, win - per_block - (win - per_block) // 2), mode="reflect")
    for b in (0, ACF_ROWS - 1, ACF_ROWS, nb - ACF_ROWS - 1, nb - 1):
        w = padded[b * per_block:b * per_block + win]
        w = w - w.mean()
        direct = np.correlate(w, w, mode="full")[win - 1:win - 1 + n_lags] / (win - np.arange(n_lags)) * win
        np.testing.assert_allclose(acf[b], direct / direct[0], rtol=0, atol=1e-12)
    # the first blocks alone (one batch) give the same bits as inside the longer run
    assert np.array_equal(_block_acf(rd[: 40 * per_block], 40, per_block, fs_dec)[:20], acf[:20])


def test_dominant_periods_are_the_same_bits_in_any_batch():
    """A tile's period must not depend on which other tiles share its `dominant_periods_s` call (chunked
    and in-memory runs group the tiles differently), and must be the rows' own period."""
    from gaitimpact.core.strikes import dominant_periods_s

    rng = np.random.default_rng(3)
    t = np.arange(3000) / 100.0
    true_s = rng.uniform(0.3, 0.4, 60)
    y = np.sin(2 * np.pi * t[None, :] / true_s[:, None]) + 0.5 * rng.standard_normal((60, t.size))
    full = dominant_periods_s(y, 100.0, 0.25, 0.6)
    np.testing.assert_allclose(full, true_s, atol=0.01)
    for i, k in [(0, 1), (3, 2), (10, 3), (20, 5), (31, 17), (59, 1)]:
        assert np.array_equal(dominant_periods_s(y[i:i + k], 100.0, 0.25, 0.6), full[i:i + k])


def test_local_step_is_the_median_of_the_16_steps_around_each_index():
    from gaitimpact.core.filters import local_step_s

    rng = np.random.default_rng(11)
    t = np.cumsum(0.01 + rng.uniform(-0.002, 0.002, 500))
    t[200:] += 0.5  # a gap: the steps around it hold one long step
    idx = np.array([0, 1, 5, 100, 195, 200, 205, 490, 498, 499])
    j = np.clip(idx[:, None] + np.arange(-8, 8)[None, :], 0, t.size - 2)
    np.testing.assert_array_equal(local_step_s(t, idx), np.median(t[j + 1] - t[j], axis=1))
    assert local_step_s(t[:1], np.array([0])).tolist() == [0.0]


def test_harmonic_powers_are_the_lag_windowed_cosine_sums_of_the_autocorrelation():
    from gaitimpact.core.bouts import BlockStats, harmonic_powers

    rng = np.random.default_rng(12)
    acf = rng.normal(size=(40, 82))
    stats = BlockStats(*(np.zeros(40),) * 5, acf=acf, fs_dec=50.0, block=100, decim=2)
    period = rng.uniform(0.44, 1.5, 40)
    period[3] = np.nan
    lags = np.arange(82) / 50.0
    w = 0.5 * (1.0 + np.cos(np.pi * lags / lags[-1]))
    w[1:] *= 2.0
    p1, p2 = harmonic_powers(stats, period)
    for h, got in ((1, p1), (2, p2)):
        want = (acf * w * np.cos(2 * np.pi * h * lags[None, :] / period[:, None])).sum(axis=1)
        np.testing.assert_allclose(np.delete(got, 3), np.delete(want, 3), rtol=1e-11, atol=1e-11)
        assert np.isnan(got[3])


def test_placement_check_without_foot_kind_stops_at_waist_or_foot():
    from gaitimpact.core.bouts import block_stats
    from gaitimpact.core.placement import decide_placement
    from gaitimpact.sim import SimConfig, SimSegment, simulate

    for place in ("shoe", "waist"):
        rec = simulate(SimConfig(placement=place, fs_hz=200.0, seed=3,
                                 segments=[SimSegment(30.0, "run", 3.2, "asphalt")])).recording
        res = resultant_g(rec.acc_g)
        stats = block_stats(rec.time_s, res, rec.fs_hz)
        full = decide_placement(rec.time_s, rec.acc_g, res, rec.fs_hz, stats)
        short = decide_placement(rec.time_s, rec.acc_g, res, rec.fs_hz, stats, foot_kind=False)
        assert full[0] == place
        assert short[0] == ("waist" if place == "waist" else "foot")
        assert full[1].startswith(short[1])


def test_moving_up_at_indices_in_any_order_is_the_same_as_in_order():
    from gaitimpact.core.orientation import gravity_blocks, moving_up

    rng = np.random.default_rng(13)
    acc = rng.normal(size=(2000, 3)) * 0.2 + [0.1, 0.0, 1.0]
    grav = gravity_blocks(acc, 100, 0, 2, 2)
    at = rng.integers(-50, 2100, 300)  # before the first and after the last block centre too
    order = np.argsort(at, kind="stable")
    np.testing.assert_array_equal(moving_up(grav, at)[order], moving_up(grav, at[order]))
    assert np.allclose(np.linalg.norm(moving_up(grav, at), axis=1), 1.0)


def test_period_tiles_start_where_the_tile_number_of_the_time_changes():
    from gaitimpact.core.strikes import period_tiles

    rng = np.random.default_rng(14)
    for _ in range(300):
        t = np.cumsum(rng.uniform(0.0, 3.0, int(rng.integers(1, 300)))) + rng.uniform(-30.0, 30.0)
        # samples on and an ulp below tile edges, and gaps longer than a tile
        edges = 20.0 * rng.integers(-2, 15, 4)
        t = np.unique(np.concatenate((t, edges, np.nextafter(edges, -np.inf), [t[-1] + 65.0])))
        k = np.floor(t / 20.0)
        want = np.concatenate(([0], np.flatnonzero(k[1:] != k[:-1]) + 1, [t.size]))
        np.testing.assert_array_equal(period_tiles(t), want)


def test_local_argmax_is_the_highest_local_maximum_within_k_samples_with_the_ends_clamped():
    from gaitimpact.core.strikes import _local_argmax

    rng = np.random.default_rng(15)
    for trial in range(2000):
        n, k = int(rng.integers(1, 30)), int(rng.integers(1, 5))
        x = rng.integers(0, 4, n).astype(float)  # ties and plateaus
        if trial % 3 == 1:
            x = np.sort(x)  # rising to the end: the maxima sit on the last sample
        idx = np.concatenate((rng.integers(0, n, 4), [0, n - 1]))
        w = np.clip(idx[:, None] + np.arange(-k, k + 1)[None, :], 0, n - 1)
        peak = (x[w] >= x[np.maximum(w - 1, 0)]) & (x[w] >= x[np.minimum(w + 1, n - 1)])
        pick = np.where(peak.any(axis=1), np.argmax(np.where(peak, x[w], -np.inf), axis=1), np.argmax(x[w], axis=1))
        np.testing.assert_array_equal(_local_argmax(x, idx, k), w[np.arange(idx.size), pick])


def test_range_inference_given_the_resultant_finds_the_same_range():
    rng = np.random.default_rng(16)
    found = 0
    for trial in range(400):
        acc = rng.normal(scale=rng.uniform(0.5, 6.0), size=(int(rng.integers(1, 80)), 3))
        if trial % 2:
            rail = float(rng.uniform(2.0, 8.0))
            acc = np.clip(acc, -rail, rail)  # a sensor at its range: flat tops
        want = infer_range_g(acc)
        assert infer_range_g(acc, res_g=resultant_g(acc)) == want
        found += want is not None
    assert found > 50


def test_search_times_is_searchsorted_for_any_guess():
    """`search_times` / `searchsorted_near` give np.searchsorted's index (both sides) with jittered steps, a gap,
    times on, between and beyond the samples, and guesses from good to far off."""
    from gaitimpact.core.filters import search_times, searchsorted_near

    rng = np.random.default_rng(7)
    for case in range(300):
        n = int(rng.integers(1, 400))
        t = np.cumsum(rng.uniform(0.008, 0.012, n))
        if case % 3 == 0 and n > 4:
            t[n // 2:] += rng.uniform(0.1, 5.0)  # a gap
        keys = rng.uniform(t[0] - 0.05, t[-1] + 0.05, int(rng.integers(0, 50)))
        keys[: keys.size // 3] = t[rng.integers(0, n, keys.size // 3)]  # on samples
        if case % 2:
            keys.sort()
        for side in ("left", "right"):
            want = np.searchsorted(t, keys, side=side)
            np.testing.assert_array_equal(search_times(t, keys, side=side), want)
            far = rng.integers(-20, n + 20, keys.size)
            np.testing.assert_array_equal(searchsorted_near(t, keys, far, side=side), want)


def test_autocorrelation_rows_are_each_rows_own_autocorrelation():
    """Rows of `autocorrelation_rows` equal np.correlate of the row with itself for the lags kept."""
    from gaitimpact.core.filters import autocorrelation_rows

    rng = np.random.default_rng(8)
    y = rng.standard_normal((5, 60))
    ac = autocorrelation_rows(y, 96, 20)
    for row, got in zip(y, ac):
        full = np.correlate(row, row, mode="full")[59:59 + 20]
        np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-12)


def test_waist_window_means_are_the_means_of_their_samples():
    """`strikes._window_means`: means of [i0, i1) and [i0, i2) per axis, at least sample i0, the last sample
    standing in for those past the end."""
    from gaitimpact.core.strikes import _window_means

    rng = np.random.default_rng(9)
    acc = rng.standard_normal((30, 3))
    i0 = np.array([0, 3, 10, 27, 29])
    i1 = np.array([4, 3, 16, 33, 30])
    i2 = np.array([2, 2, 13, 28, 30])
    long_, short = _window_means(acc, i0, i1, i2)
    padded = np.vstack((acc, np.repeat(acc[-1:], 10, axis=0)))
    for r in range(i0.size):
        np.testing.assert_allclose(long_[r], padded[i0[r]:max(i1[r], i0[r] + 1)].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(short[r], padded[i0[r]:max(i2[r], i0[r] + 1)].mean(axis=0), rtol=1e-12)


def test_regular_timestamps_skip_only_a_check_that_cannot_fail():
    """`timestamps_regular` is False with a gap step, True with jitter; impact figures with steps_regular give
    the same bits as the per-window gap check."""
    from gaitimpact.core.filters import timestamps_regular

    rng = np.random.default_rng(12)
    t = np.cumsum(rng.uniform(0.0095, 0.0105, 3000)) + 1000.0
    assert timestamps_regular(np.diff(t))
    gap = t.copy()
    gap[1500:] += 0.05
    assert not timestamps_regular(np.diff(gap))
    res = 1.0 + np.abs(np.sin(t * 9.0)) ** 8 * 3.0 + 0.05 * rng.standard_normal(t.size)
    ic = t[np.arange(50, 2950, 37)] + 0.003
    plain = impact_figures(t, res, ic, "waist")
    quick = impact_figures(t, res, ic, "waist", steps_regular=True)
    for a, b in ((plain.peak_g, quick.peak_g), (plain.loading_rate_gps, quick.loading_rate_gps),
                 (plain.peak_time_s, quick.peak_time_s)):
        np.testing.assert_array_equal(a, b)
