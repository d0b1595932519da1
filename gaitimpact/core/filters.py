"""Signal helpers: resultant, local sample step, contiguous stretches between gaps, zero-phase low-pass, blocks.

All functions are pure and work on any window of samples (times in the caller's time base, s).
The low-pass is a zero-phase Butterworth (scipy ``butter(..., output="sos")`` + ``sosfiltfilt``)
applied separately to every stretch between gaps, so nothing is smeared or interpolated across a gap.
It is used for detection only; impact figures come from the raw resultant.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import signal

from gaitimpact.timebase import GAP_FACTOR, median, median_step_s, merge_intervals

GAP_JITTER_SIGMAS = 8.0
"""A step between consecutive timestamps longer than GAP_FACTOR sample periods (`gaitimpact.timebase`)
and well outside the timestamp jitter (median step + GAP_JITTER_SIGMAS robust std) is a gap."""


def squared_resultant_g2(acc_g: np.ndarray) -> np.ndarray:
    """Squared vector norm of (N, 3) acceleration in g -> (N,) in g^2 (x^2 + y^2 + z^2, column by column)."""
    a = np.asarray(acc_g, dtype=np.float64)
    out = np.square(a[:, 0])
    tmp = np.square(a[:, 1])
    out += tmp
    np.square(a[:, 2], out=tmp)
    out += tmp
    return out


def resultant_g(acc_g: np.ndarray) -> np.ndarray:
    """Vector norm of (N, 3) acceleration in g -> (N,) resultant in g (sqrt of `squared_resultant_g2`)."""
    out = squared_resultant_g2(acc_g)
    return np.sqrt(out, out=out)


def effective_fs_hz(time_s: np.ndarray, fs_hz: float | None = None, dt_s: np.ndarray | None = None) -> float:
    """Sampling rate in Hz from the median timestamp step (`gaitimpact.timebase.median_step_s`, not
    rounded; falls back to fs_hz). dt_s: np.diff(time_s) (s), if the caller has it."""
    if time_s.shape[0] < 3:
        return float(fs_hz or 0.0)
    med = median_step_s(np.diff(time_s) if dt_s is None else dt_s)
    if not med > 0:
        return float(fs_hz or 0.0)
    return 1.0 / med


def local_step_s(time_s: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Per index, the median sample step (s) of the 16 steps around it (clipped at the ends; a local rate
    estimate: any window of a longer recording gives the same); 0 for fewer than 2 samples."""
    n = time_s.shape[0]
    if n < 2:
        return np.zeros(idx.shape[0])
    if n >= 17:  # the 17 samples from idx - 8 on, read as one row (rows near an end are redone below)
        steps = np.diff(np.lib.stride_tricks.sliding_window_view(time_s, 17)[np.clip(idx - 8, 0, n - 17)], axis=1)
        edge = np.flatnonzero((idx < 8) | (idx > n - 10))
    else:
        steps, edge = np.empty((idx.shape[0], 16)), np.arange(idx.shape[0])
    if edge.size:
        j = np.clip(idx[edge, None] + np.arange(-8, 8)[None, :], 0, n - 2)
        steps[edge] = time_s[j + 1] - time_s[j]
    steps.sort(axis=1)  # the median of 16: the mean of the middle two (a row sort beats np.median's partition)
    return 0.5 * (steps[:, 7] + steps[:, 8])


NEAR_STEPS = 3
"""`searchsorted_near` steps a guess this many times before it searches the keys still unplaced."""


def searchsorted_near(sorted_x: np.ndarray, keys: np.ndarray, guess: np.ndarray,
                      side: Literal["left", "right"] = "left") -> np.ndarray:
    """np.searchsorted(sorted_x, keys, side) for ascending sorted_x, from a guess index per key: each answer
    is checked and stepped (a few element-wise passes when the guesses are within a few places; a binary
    search over a long array misses the cache at every key), the keys still unplaced searched by
    np.searchsorted. The same result whatever the guesses."""
    n = sorted_x.shape[0]
    keys = np.asarray(keys, dtype=np.float64)
    r = np.clip(np.asarray(guess, dtype=np.int64), 0, n)
    if n == 0 or r.size == 0:
        return np.searchsorted(sorted_x, keys, side=side)
    before = np.less if side == "left" else np.less_equal  # sorted_x[i] lies before the key's place
    for _ in range(NEAR_STEPS):
        low = (r > 0) & ~before(sorted_x[np.maximum(r - 1, 0)], keys)  # the answer lies lower
        high = (r < n) & before(sorted_x[np.minimum(r, n - 1)], keys)  # ... higher
        if not (low.any() or high.any()):
            return r
        r += high
        r -= low
    low = (r > 0) & ~before(sorted_x[np.maximum(r - 1, 0)], keys)
    high = (r < n) & before(sorted_x[np.minimum(r, n - 1)], keys)
    off = np.flatnonzero(low | high)
    if off.size:
        r[off] = np.searchsorted(sorted_x, keys[off], side=side)
    return r


def index_guess(time_s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Sample index near each time t (s) of time_s (ascending, s) at its mean rate (a guess for `searchsorted_near`)."""
    n = time_s.shape[0]
    span = float(time_s[-1] - time_s[0]) if n > 1 else 0.0
    if not span > 0:
        return np.zeros(np.shape(t), dtype=np.int64)
    g = np.rint((np.asarray(t, dtype=np.float64) - time_s[0]) * ((n - 1) / span))
    return np.clip(np.nan_to_num(g, nan=0.0), 0, n).astype(np.int64)


def search_times(time_s: np.ndarray, t: np.ndarray, side: Literal["left", "right"] = "left") -> np.ndarray:
    """np.searchsorted(time_s, t, side) for times t (s) in an ascending time axis time_s (s): `searchsorted_near`
    from the indices the mean rate gives (the same result, faster for many times)."""
    return searchsorted_near(time_s, t, index_guess(time_s, t), side)


REGULAR_MARGIN = 1e-6
"""Relative margin of `timestamps_regular` (a computed step of times near 1e4 s is off by ~1e-12 s)."""


def timestamps_regular(dt_s: np.ndarray) -> bool:
    """True when the largest timestamp step (dt_s = np.diff(time_s), s) is below GAP_FACTOR times the smallest
    (less a margin): then no window of the times holds a step of GAP_FACTOR times its own mean step."""
    if dt_s.shape[0] == 0:
        return True
    return bool(dt_s.max() < GAP_FACTOR * dt_s.min() * (1.0 - REGULAR_MARGIN))


GAP_STAT_STEPS = 2000
"""The timestamp jitter that widens the gap threshold is measured on the recording's first this many steps
(so every window of a longer recording is given the same threshold: `gaitimpact.core.chunked`)."""


def gap_threshold_s(dt: np.ndarray, fs_hz: float) -> float:
    """Timestamp step (s) above which a gap is declared: GAP_FACTOR / fs_hz, widened for heavy jitter
    (median + GAP_JITTER_SIGMAS robust std of the first GAP_STAT_STEPS steps dt, s)."""
    thr = GAP_FACTOR / fs_hz
    if dt.shape[0] >= 10:
        sample = dt[:GAP_STAT_STEPS]
        med = median(sample)
        sigma = 1.4826 * median(np.abs(sample - med))
        thr = max(thr, med + GAP_JITTER_SIGMAS * sigma)
    return thr


def contiguous_segments(
    time_s: np.ndarray, fs_hz: float, gaps: Iterable = (), threshold_s: float | None = None,
    dt_s: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index stretches without gaps: (starts, stops) (stop exclusive) and gap intervals (K, 2) in s.

    A gap is either declared (objects with ``start_s``/``end_s`` or (start_s, end_s) pairs) or a
    timestamp step longer than threshold_s (default `gap_threshold_s` of these times' steps).
    dt_s: np.diff(time_s) (s), if the caller has it.
    """
    n = time_s.shape[0]
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, 2))
    dt = np.diff(time_s) if dt_s is None else dt_s
    brk = dt > (gap_threshold_s(dt, fs_hz) if threshold_s is None else threshold_s)
    declared = [_gap_pair(g) for g in gaps]
    for g0, g1 in declared:
        # a declared gap lying between two samples breaks the stretch there
        k = int(np.searchsorted(time_s, g1 - 1e-9, side="left"))
        if 0 < k < n and time_s[k - 1] <= g0 + 1e-9:
            brk[k - 1] = True
    cut = np.flatnonzero(brk) + 1
    starts = np.concatenate(([0], cut)).astype(np.int64)
    stops = np.concatenate((cut, [n])).astype(np.int64)
    gap_iv = np.column_stack((time_s[cut - 1], time_s[cut])) if cut.size else np.zeros((0, 2))
    if declared:
        gap_iv = merge_intervals(np.vstack((gap_iv, np.asarray(declared, dtype=np.float64))))
    return starts, stops, gap_iv


def _gap_pair(gap) -> tuple[float, float]:
    if hasattr(gap, "start_s"):
        return float(gap.start_s), float(gap.end_s)
    return float(gap[0]), float(gap[1])


@lru_cache(maxsize=64)
def _butter_sos(order: int, cutoff_hz: float, fs_hz: float, btype: str) -> np.ndarray:
    return signal.butter(order, cutoff_hz, btype=btype, fs=fs_hz, output="sos")


def zero_phase_filter(
    x: np.ndarray,
    fs_hz: float,
    cutoff_hz: float,
    starts: np.ndarray | None = None,
    stops: np.ndarray | None = None,
    *,
    order: int = 2,
    btype: str = "lowpass",
) -> np.ndarray:
    """Zero-phase Butterworth (sosfiltfilt, effective order 2*order) of x along axis 0, per stretch.

    cutoff_hz in Hz (clamped below Nyquist). Stretches too short to filter are returned unchanged.
    """
    x = np.asarray(x, dtype=np.float64)
    if starts is None or stops is None:
        starts, stops = np.array([0]), np.array([x.shape[0]])
    cutoff_hz = min(float(cutoff_hz), 0.45 * fs_hz)
    sos = _butter_sos(order, round(cutoff_hz, 6), round(float(fs_hz), 6), btype)
    padlen = 3 * (2 * sos.shape[0] + 1)
    if starts.shape[0] == 1 and stops[0] - starts[0] == x.shape[0] and x.shape[0] > padlen:
        # sosfiltfilt returns a reversed view: a forward copy reads faster in every later pass
        return np.ascontiguousarray(signal.sosfiltfilt(sos, x, axis=0))
    out = x.copy()
    for a, b in zip(starts.tolist(), stops.tolist()):
        if b - a > padlen:
            out[a:b] = signal.sosfiltfilt(sos, x[a:b], axis=0)
    return out


def autocorrelation_rows(y: np.ndarray, nfft: int, n_lags: int) -> np.ndarray:
    """Circular autocorrelation (lags 0 .. n_lags - 1, unit of y squared) of every row of y (K, n), zero-padded
    to nfft samples (nfft >= n + n_lags - 1 makes those lags linear): irfft(|rfft(y)|^2). A row gives the same
    bits in any batch (only element-wise operations between the two transforms)."""
    spec = np.fft.rfft(y, nfft, axis=1)
    re, im = spec.real, spec.imag
    # |spectrum|^2 as two real squares (a complex product's bits depend on the batch: SIMD tails), in place
    np.square(re, out=re)
    np.square(im, out=im)
    re += im
    im.fill(0.0)
    return np.fft.irfft(spec, nfft, axis=1)[:, :n_lags]


def block_view(x: np.ndarray, block: int) -> np.ndarray:
    """Reshape the first len(x)//block*block samples of x into (n_blocks, block, ...) (no copy)."""
    nb = x.shape[0] // block
    return x[: nb * block].reshape((nb, block) + x.shape[1:])


def in_intervals(t: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """Boolean mask: which times t (s) fall inside any closed interval (K, 2) in s (sorted by start)."""
    t = np.asarray(t, dtype=np.float64)
    if intervals.shape[0] == 0 or t.shape[0] == 0:
        return np.zeros(t.shape, dtype=bool)
    k = np.searchsorted(intervals[:, 0], t, side="right") - 1
    ok = k >= 0
    inside = np.zeros(t.shape, dtype=bool)
    # intervals may overlap (declared + detected): use the running max of ends
    run_end = np.maximum.accumulate(intervals[:, 1])
    inside[ok] = t[ok] <= run_end[k[ok]]
    return inside


def overlaps_intervals(t0: np.ndarray, t1: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """Boolean mask: does [t0, t1] (s) overlap any interval (K, 2) in s (sorted by start)."""
    t0 = np.asarray(t0, dtype=np.float64)
    t1 = np.asarray(t1, dtype=np.float64)
    if intervals.shape[0] == 0 or t0.shape[0] == 0:
        return np.zeros(t0.shape, dtype=bool)
    # an interval overlaps [t0, t1] iff it starts before t1 and ends after t0
    k = np.searchsorted(intervals[:, 0], t1, side="right") - 1
    run_end = np.maximum.accumulate(intervals[:, 1])
    ok = k >= 0
    out = np.zeros(t0.shape, dtype=bool)
    out[ok] = run_end[k[ok]] >= t0[ok]
    return out
