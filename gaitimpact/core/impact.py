"""Per-strike impact figures: peak resultant, loading rate, clipping; vectorised over strikes.

Definitions come from `gaitimpact.core.definitions` (shared with the simulator's truth):
- peak_g: maximum of the RAW (unfiltered) resultant |a| in g over [IC, IC + IMPACT_WINDOW_S[placement]].
- loading_rate_gps: (a80 - a20) / (t80 - t20) in g/s, a20/a80 the levels at 20 %/80 % of the rise
  from |a| at IC to the peak, t20/t80 their first crossings after IC.
- clipped: some axis in the window reaches the sensor range (|a_axis| >= CLIP_FRACTION * range_g);
  the peak is then the highest raw sample, a lower bound.

The truth is the continuous signal, and at 100-500 Hz the samples straddle a 5-40 ms impact: the raw
maximum reads low and a 20-80 % rise spans one or two samples. So, unless a strike is clipped or its
window holds a gap, the raw resultant around the window (PAD samples each side) is interpolated
band-limited (FFT zero-padding, after removing the straight line through the end samples, on the
window's own mean sample spacing) to >= UPSAMPLED_HZ[placement], and peak, IC value and crossings are taken on
that dense curve (crossings linearly interpolated). Nothing is filtered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

from gaitimpact.core.definitions import IMPACT_WINDOW_S, LOADING_RATE_FRACTIONS
from gaitimpact.timebase import GAP_FACTOR

CLIP_FRACTION = 0.999
"""A sample counts as at the range when |a_axis| >= CLIP_FRACTION * range_g."""
UPSAMPLED_HZ = {"waist": 1000.0, "shoe": 2500.0, "shank": 2500.0}
"""Band-limited interpolation target rate (Hz) for peak and loading rate, per placement (the waist
transient is ~5x slower than the shoe's)."""
PAD = 6
"""Samples of context on each side of the impact window for the interpolation."""
MAX_UPSAMPLE = 16
"""Largest interpolation factor."""


@dataclass
class ImpactFigures:
    """Per-strike impact figures (arrays of equal length): g, g/s, s, flags."""

    peak_g: np.ndarray
    peak_time_s: np.ndarray
    loading_rate_gps: np.ndarray
    clipped: np.ndarray


def infer_range_g(acc_g: np.ndarray, step: int = 1) -> float | None:
    """Sensor range in g inferred from flat-topped maxima (>= 3 samples at the same max |a_axis|), else None."""
    a = np.asarray(acc_g, dtype=np.float64)[::step]  # any memory layout: no copy
    if a.size == 0:
        return None
    top = float(max(a.max(), -a.min()))
    if not np.isfinite(top) or top < 1.5:
        return None
    thr = top * (1.0 - 1e-9)
    at_top = (a >= thr) | (a <= -thr)
    if int(np.count_nonzero(at_top)) < 3:
        return None
    # flat top: the same axis sits on the extreme in two consecutive samples
    flat = bool(np.any(at_top[1:] & at_top[:-1]))
    return top if flat else None


def impact_figures(
    time_s: np.ndarray,
    res_g: np.ndarray,
    ic_time_s: np.ndarray,
    placement: str,
    *,
    acc_g: np.ndarray | None = None,
    range_g: float | None = None,
    interpolate: bool = True,
) -> ImpactFigures:
    """Peak (g), peak time (s), loading rate (g/s) and clipped flag per IC time (s); window per placement."""
    ic = np.asarray(ic_time_s, dtype=np.float64)
    m = ic.shape[0]
    n = res_g.shape[0]
    if m == 0 or n < 3:
        z = np.zeros(m)
        return ImpactFigures(z, z.copy(), z.copy(), np.zeros(m, dtype=bool))
    win_s = IMPACT_WINDOW_S[placement]
    i0 = np.minimum(np.searchsorted(time_s, ic, side="left"), n - 1)
    i1 = np.maximum(np.searchsorted(time_s, ic + win_s, side="right"), i0 + 1)
    length = int((i1 - i0).max())
    idx = i0[:, None] + np.arange(length)[None, :]
    valid = idx < i1[:, None]
    idx = np.minimum(idx, n - 1)

    clipped = np.zeros(m, dtype=bool)
    if range_g is not None and acc_g is not None:
        # an axis can only reach the range where the resultant does: check those strikes only
        thr = CLIP_FRACTION * range_g
        maybe = np.flatnonzero(np.any(valid & (res_g[idx] >= thr), axis=1))
        if maybe.size:
            amax = np.abs(acc_g[idx[maybe]]).max(axis=2)
            clipped[maybe] = np.any(valid[maybe] & (amax >= thr), axis=1)

    peak = np.empty(m)
    peak_t = np.empty(m)
    lr = np.empty(m)
    todo = np.ones(m, dtype=bool)
    if interpolate:
        # the dense stretch is anchored on the highest raw sample (not on IC): strikes whose ICs differ
        # by less than a sample (e.g. overlapping windows of a stream) get the very same peak
        k_raw = idx[np.arange(m), np.argmax(np.where(valid, res_g[idx], -np.inf), axis=1)]
        # the stretch length follows each strike's own sample spacing (local: any window of a longer
        # recording interpolates a strike the same way); strikes of one length are interpolated together
        step_s = _local_step_s(time_s, k_raw)
        n_win = np.where(step_s > 0, np.rint(win_s / np.where(step_s > 0, step_s, 1.0)) + 2, length).astype(np.int64)
        for nw in np.unique(n_win).tolist():  # usually one length
            rows = np.flatnonzero(n_win == nw)
            for r, tu, yu in _bandlimited_windows(time_s, res_g, k_raw[rows] - nw, nw, UPSAMPLED_HZ[placement],
                                                  ic[rows], win_s, ~clipped[rows]):
                sel = rows[r]
                icu = ic[sel]
                inwin = (tu >= icu[:, None]) & (tu <= icu[:, None] + win_s)
                peak[sel], peak_t[sel], lr[sel] = _peak_and_rate(tu, yu, inwin, _interp_rows(tu, yu, icu))
                todo[sel] = False
    if todo.any():
        # sampled curve: the IC point (|a| linearly interpolated) followed by the window's samples
        sel = np.flatnonzero(todo)
        a_ic = np.interp(ic[sel], time_s, res_g)
        tt = np.concatenate((ic[sel, None], time_s[idx[sel]]), axis=1)
        yy = np.concatenate((a_ic[:, None], res_g[idx[sel]]), axis=1)
        ok = np.concatenate((np.ones((sel.size, 1), dtype=bool), valid[sel]), axis=1)
        peak[sel], peak_t[sel], lr[sel] = _peak_and_rate(tt, yy, ok, a_ic)
    return ImpactFigures(peak, peak_t, lr, clipped)


def _peak_and_rate(
    tt: np.ndarray, yy: np.ndarray, ok: np.ndarray, a_ic: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peak (g), its time (s) and the 20-80 % loading rate (g/s) of time-sorted curves (M, L) over
    the columns `ok` (the impact window); the rise is measured from a_ic (|a| at IC, g)."""
    m = tt.shape[0]
    rows = np.arange(m)
    k = np.argmax(np.where(ok, yy, -np.inf), axis=1)
    peak = yy[rows, k]
    peak_t = tt[rows, k]
    f20, f80 = LOADING_RATE_FRACTIONS
    rise = peak - a_ic
    l20 = a_ic + f20 * rise
    l80 = a_ic + f80 * rise
    upto = ok & (np.arange(tt.shape[1])[None, :] <= k[:, None])
    t20 = _first_crossing(tt, yy, upto, l20)
    t80 = _first_crossing(tt, yy, upto, l80)
    dt = t80 - t20
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.where((dt > 0) & (rise > 0), (l80 - l20) / dt, np.nan)
    return peak, peak_t, lr


def _bandlimited_windows(
    time_s: np.ndarray, res_g: np.ndarray, i0: np.ndarray, length: int, target_hz: float, ic: np.ndarray,
    win_s: float, wanted: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Band-limited interpolation of |a| around every impact window.

    Returns, per interpolation factor (each row's own: from its stretch's mean spacing), the rows used
    (wanted, and regularly sampled: no gap, in range, so the interpolation holds; rows that need no
    interpolation are in none) and their dense times (s) and values (g) on the columns that can hold
    [IC, IC + win_s] and the one before it (the rest of the dense stretch is never looked at).
    """
    n = res_g.shape[0]
    big = PAD * 2 + length + 1
    start = i0 - PAD
    idx = start[:, None] + np.arange(big)[None, :]
    inside = (start >= 0) & (start + big <= n)
    idx = np.clip(idx, 0, n - 1)
    t = time_s[idx]
    span = t[:, -1] - t[:, 0]
    dt = span / (big - 1)
    ups = np.minimum(MAX_UPSAMPLE, np.maximum(1, np.ceil(target_hz * np.maximum(dt, 0.0) - 0.05))).astype(np.int64)
    # regular: no step in the window longer than a gap step (timestamp jitter is fine, a gap is not)
    steps = np.diff(t, axis=1)
    use = wanted & inside & (steps.max(axis=1) < GAP_FACTOR * np.maximum(dt, 1e-12)) & (dt > 0) & (ups > 1)
    out = []
    for up in np.unique(ups[use]).tolist():  # usually one factor
        rows = np.flatnonzero(use & (ups == up))
        out.append((rows, *_dense_rows(t[rows], res_g[idx[rows]], dt[rows], ic[rows], big, up, win_s)))
    return out


def _dense_rows(t: np.ndarray, y: np.ndarray, dt: np.ndarray, icr: np.ndarray, big: int, up: int,
                win_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Dense times (s) and values (g) of the stretches (rows of t, y; spacing dt s) interpolated by `up`,
    on the columns from one input sample before IC (icr, s) that can hold [IC, IC + win_s]."""
    rows = np.arange(t.shape[0])
    total = big * up
    # columns kept: from one input sample before IC, as many as the longest window needs (+ margins)
    width = min(total, int(np.ceil(float(np.max(win_s / dt)) * up)) + 2 * up + 2)
    first = np.clip(np.floor((icr - t[:, 0]) / dt) - 1, 0, None) * up
    first = np.minimum(first, total - width).astype(np.int64)
    matrix = _resample_matrix(big, up)
    tu = np.empty((rows.size, width))
    yu = np.empty((rows.size, width))
    offsets = np.unique(first)
    if offsets.size == 1:  # usual case: every row at one offset, written in place (no row copies)
        c0 = int(offsets[0])
        np.matmul(y, matrix[:, c0:c0 + width], out=yu)
        np.multiply((np.arange(c0, c0 + width) / up)[None, :], dt[:, None], out=tu)
        tu += t[:, :1]
        return tu, yu
    for c0 in offsets:  # a handful of offsets: one matrix product each
        sel = np.flatnonzero(first == c0)
        cols = np.arange(c0, c0 + width)
        yu[sel] = y[sel] @ matrix[:, c0:c0 + width]
        tu[sel] = t[sel, :1] + (cols[None, :] / up) * dt[sel, None]
    return tu, yu


@lru_cache(maxsize=32)
def _resample_matrix(length: int, up: int) -> np.ndarray:
    """(length, length * up) linear map of the band-limited interpolation of one window: remove the
    straight line through the end samples, `scipy.signal.resample` (FFT zero-padding) by `up`, add the
    line back. One matrix product then interpolates many windows at once."""
    eye = np.eye(length)
    ramp = np.arange(length) / (length - 1)
    ramp_u = np.arange(length * up) / (up * (length - 1))
    line = eye[:, :1] + (eye[:, -1:] - eye[:, :1]) * ramp[None, :]
    line_u = eye[:, :1] + (eye[:, -1:] - eye[:, :1]) * ramp_u[None, :]
    return signal.resample(eye - line, length * up, axis=1) + line_u


def _local_step_s(time_s: np.ndarray, around: np.ndarray) -> np.ndarray:
    """Per index, the median sample step (s) over the 16 steps around it (a stable local rate estimate)."""
    n = time_s.shape[0]
    if n < 2:
        return np.zeros(around.shape[0])
    j = np.clip(around[:, None] + np.arange(-8, 8)[None, :], 0, n - 2)
    return np.median(time_s[j + 1] - time_s[j], axis=1)


def _interp_rows(tt: np.ndarray, yy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per row, y linearly interpolated at x (rows sorted in t, uniformly spaced)."""
    m, L = tt.shape
    dt = (tt[:, -1] - tt[:, 0]) / (L - 1)
    pos = np.clip((x - tt[:, 0]) / dt, 0, L - 1.000001)
    j = np.floor(pos).astype(np.int64)
    f = pos - j
    rows = np.arange(m)
    return yy[rows, j] * (1 - f) + yy[rows, j + 1] * f


def _first_crossing(tt: np.ndarray, yy: np.ndarray, allowed: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Time (s) of the first upward crossing of level per row, linearly interpolated; NaN if none."""
    above = allowed & (yy >= level[:, None])
    has = above.any(axis=1)
    j = np.argmax(above, axis=1)
    rows = np.arange(tt.shape[0])
    jp = np.maximum(j - 1, 0)
    ya, yb = yy[rows, jp], yy[rows, j]
    ta, tb = tt[rows, jp], tt[rows, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(yb > ya, (level - ya) / (yb - ya), 1.0)
    t = np.where(j > 0, ta + np.clip(frac, 0.0, 1.0) * (tb - ta), tb)
    return np.where(has, t, np.nan)
