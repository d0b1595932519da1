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

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import signal

from gaitimpact.core.definitions import IMPACT_WINDOW_S, LOADING_RATE_FRACTIONS
from gaitimpact.core.filters import local_step_s, search_times
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
IMPACT_ROWS = 4096
"""Strikes interpolated together (bounds the dense temporaries; each strike's figures are its own)."""


@dataclass
class ImpactFigures:
    """Per-strike impact figures (arrays of equal length): g, g/s, s, flags."""

    peak_g: np.ndarray
    peak_time_s: np.ndarray
    loading_rate_gps: np.ndarray
    clipped: np.ndarray


def infer_range_g(acc_g: np.ndarray, step: int = 1, res_g: np.ndarray | None = None) -> float | None:
    """Sensor range in g inferred from flat-topped maxima (>= 3 samples at the same max |a_axis|), else None.

    res_g (the resultant |a| of acc_g, g), if given, narrows the flat-top search to the rows whose resultant
    reaches the largest |a_axis| (an axis never exceeds the resultant).
    """
    a = np.asarray(acc_g, dtype=np.float64)[::step]  # any memory layout: no copy
    if a.size == 0:
        return None
    rows = None
    top = float(max(a.max(), -a.min()))
    if not np.isfinite(top) or top < 1.5:
        return None
    if res_g is not None:
        # a row with an axis at the top has |a| there too (less a margin for the rounding of |a|)
        rows = np.flatnonzero(np.asarray(res_g, dtype=np.float64)[::step] >= top * (1.0 - 1e-6))
        a = a[rows]
    thr = top * (1.0 - 1e-9)
    at_top = (a >= thr) | (a <= -thr)
    if int(np.count_nonzero(at_top)) < 3:
        return None
    # flat top: the same axis sits on the extreme in two consecutive samples
    pairs = at_top[1:] & at_top[:-1]
    if rows is not None:
        pairs &= (np.diff(rows) == 1)[:, None]
    return top if bool(np.any(pairs)) else None


def impact_figures(
    time_s: np.ndarray,
    res_g: np.ndarray,
    ic_time_s: np.ndarray,
    placement: str,
    *,
    acc_g: np.ndarray | None = None,
    range_g: float | None = None,
    interpolate: bool = True,
    steps_regular: bool = False,
) -> ImpactFigures:
    """Peak (g), peak time (s), loading rate (g/s) and clipped flag per IC time (s); window per placement.

    steps_regular: the caller found `filters.timestamps_regular` true for time_s's steps (no window can hold a
    gap: the interpolation's per-window gap check is left out; the same figures)."""
    ic = np.asarray(ic_time_s, dtype=np.float64)
    m = ic.shape[0]
    n = res_g.shape[0]
    if m == 0 or n < 3:
        z = np.zeros(m)
        return ImpactFigures(z, z.copy(), z.copy(), np.zeros(m, dtype=bool))
    win_s = IMPACT_WINDOW_S[placement]
    i0 = np.minimum(search_times(time_s, ic, side="left"), n - 1)
    i1 = np.maximum(search_times(time_s, ic + win_s, side="right"), i0 + 1)
    length = int((i1 - i0).max())
    idx = i0[:, None] + np.arange(length)[None, :]
    valid = idx < i1[:, None]
    idx = np.minimum(idx, n - 1)

    res_w = np.where(valid, res_g[idx], -np.inf)  # the window's samples (-inf after its end)
    clipped = np.zeros(m, dtype=bool)
    if range_g is not None and acc_g is not None:
        # an axis can only reach the range where the resultant does: check those strikes only
        thr = CLIP_FRACTION * range_g
        maybe = np.flatnonzero(np.any(res_w >= thr, axis=1))
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
        k_raw = idx[np.arange(m), np.argmax(res_w, axis=1)]
        # the stretch length follows each strike's own sample spacing (local: any window of a longer
        # recording interpolates a strike the same way); strikes of one length are interpolated together
        step_s = local_step_s(time_s, k_raw)
        # (rounded to 1e-6 samples first: timestamps' float noise must not decide a whole half, 0.05 s at 250 Hz)
        n_win = np.where(step_s > 0, np.rint(np.round(win_s / np.where(step_s > 0, step_s, 1.0), 6)) + 2,
                         length).astype(np.int64)
        for nw in np.unique(n_win).tolist():  # usually one length
            same = np.flatnonzero(n_win == nw)
            for r0 in range(0, same.size, IMPACT_ROWS):  # in batches: the dense temporaries stay small
                rows = same[r0:r0 + IMPACT_ROWS]
                for dense in _bandlimited_windows(time_s, res_g, k_raw[rows] - nw, nw, UPSAMPLED_HZ[placement],
                                                  ic[rows], win_s, ~clipped[rows], steps_regular):
                    sel = rows[dense.use]
                    peak[sel], peak_t[sel], lr[sel] = _dense_peak_and_rate(dense)
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
    l20, l80, rise = _rate_levels(peak, a_ic)
    upto = ok & (np.arange(tt.shape[1])[None, :] <= k[:, None])
    t20 = _first_crossing(tt, yy, upto, l20)
    t80 = _first_crossing(tt, yy, upto, l80)
    return peak, peak_t, _loading_rate(l20, l80, t20, t80, rise)


def _rate_levels(peak: np.ndarray, a_ic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The LOADING_RATE_FRACTIONS levels (g) of the rise from |a| at IC (a_ic, g) to the peak, and the rise (g)."""
    f20, f80 = LOADING_RATE_FRACTIONS
    rise = peak - a_ic
    return a_ic + f20 * rise, a_ic + f80 * rise, rise


def _loading_rate(l20: np.ndarray, l80: np.ndarray, t20: np.ndarray, t80: np.ndarray,
                  rise: np.ndarray) -> np.ndarray:
    """Loading rate (g/s) between the crossings of the two levels (g) at t20, t80 (s); NaN without a rise or
    without crossings in order."""
    dt = t80 - t20
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((dt > 0) & (rise > 0), (l80 - l20) / dt, np.nan)


@dataclass
class _Dense:
    """Band-limited curves of the rows `use` on a regular grid: column c of row r lies at
    ((c0[r] + c) / up) * dt[r] + t0[r] s, c in [0, width). Only the columns [lo, lo + yu.shape[1])
    are computed: yu (rows, ...) in g. Per row, the impact window [IC, IC + win] holds the columns
    [a, b), and IC lies at fraction f between the columns j and j + 1."""

    use: np.ndarray
    t0: np.ndarray
    dt: np.ndarray
    c0: np.ndarray
    up: int
    width: int
    lo: int = 0
    yu: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    j: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    f: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def times(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Time (s) of column cols of row rows (broadcast)."""
        return ((self.c0[rows] + cols) / self.up) * self.dt[rows] + self.t0[rows]

    def value(self, cols: np.ndarray) -> np.ndarray:
        """yu at column cols[r] of every row r (g)."""
        return _at(self.yu, cols - self.lo)

    def count_before(self, level: np.ndarray, inclusive: bool) -> np.ndarray:
        """Per row, how many columns lie before level (s), or at it if inclusive (times rise along a row)."""
        rows = np.arange(level.shape[0])

        def before(c: np.ndarray) -> np.ndarray:
            t = self.times(rows, c)
            return t <= level if inclusive else t < level

        c = np.clip(np.ceil((level - self.t0) / self.dt * self.up) - self.c0, 0, self.width).astype(np.int64)
        while True:  # the estimate is off by at most a column or so: step until exact
            back = (c > 0) & ~before(np.maximum(c - 1, 0))
            fwd = (c < self.width) & before(np.minimum(c, self.width - 1))
            if not (back.any() or fwd.any()):
                return c
            c += fwd.astype(np.int64) - back

    def locate(self, ic: np.ndarray, win_s: float) -> None:
        """Set a, b (the window's columns) and j, f (where IC falls) for IC times ic (s), one per row."""
        rows = np.arange(ic.shape[0])
        self.a = self.count_before(ic, inclusive=False)  # first column at or after IC
        self.b = self.count_before(ic + win_s, inclusive=True)  # first column after IC + win_s
        t_first = self.times(rows, np.zeros(rows.size, dtype=np.int64))
        step = (self.times(rows, np.full(rows.size, self.width - 1)) - t_first) / (self.width - 1)
        pos = np.clip((ic - t_first) / step, 0, self.width - 1.000001)
        self.j = np.floor(pos).astype(np.int64)
        self.f = pos - self.j


def _dense_peak_and_rate(d: _Dense) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_peak_and_rate` on the dense curves over their impact windows, the rise measured from |a|
    interpolated at IC; the same figures, without forming the (rows, width) times. d.yu is used up."""
    m, n_cols = d.yu.shape
    rows = np.arange(m)
    cols = d.lo + np.arange(n_cols)
    a_ic = d.value(d.j) * (1 - d.f) + d.value(d.j + 1) * d.f
    # the value in the column before each window: a crossing at the window's first column starts there
    before = d.value(np.maximum(d.a - 1, d.lo))
    # the values in the window, -inf elsewhere, in place (only the ragged edge columns need a look)
    ym = d.yu
    lo, hi = int(d.a.max()) - d.lo, max(int(d.b.min()) - d.lo, 0)
    np.copyto(ym[:, :lo], -np.inf, where=cols[None, :lo] < d.a[:, None])
    np.copyto(ym[:, hi:], -np.inf, where=cols[None, hi:] >= d.b[:, None])
    k = np.argmax(ym, axis=1) + d.lo
    peak = d.value(k)
    peak_t = d.times(rows, k)
    l20, l80, rise = _rate_levels(peak, a_ic)
    # the first crossing in the window comes at or before the peak whenever the level is below the peak,
    # and there is none otherwise: the columns up to the latest peak are searched, no further
    upto = ym[:, :int(k.max()) - d.lo + 1]
    t20 = _dense_crossing(d, upto, l20, before)
    t80 = _dense_crossing(d, upto, l80, before)
    return peak, peak_t, _loading_rate(l20, l80, t20, t80, rise)


def _dense_crossing(d: _Dense, ym: np.ndarray, level: np.ndarray, before: np.ndarray) -> np.ndarray:
    """`_first_crossing` on the dense curves (ym: values with -inf outside the window; before: the value
    of the column before each window)."""
    above = ym >= level[:, None]
    j = np.argmax(above, axis=1)
    rows = np.arange(ym.shape[0])
    has = _at(above, j)
    # a crossing lies after the window's first column, and a column before it is computed
    j = j + d.lo
    jp = np.maximum(j - 1, 0)
    ya = np.where(jp >= d.a, d.value(np.maximum(jp, d.lo)), before)
    yb = d.value(j)
    ta, tb = d.times(rows, jp), d.times(rows, j)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(yb > ya, (level - ya) / (yb - ya), 1.0)
        t = np.where(j > 0, ta + np.clip(frac, 0.0, 1.0) * (tb - ta), tb)
    return np.where(has, t, np.nan)


def _at(x: np.ndarray, col: np.ndarray) -> np.ndarray:
    """x[r, col[r]] for every row r of a C-contiguous 2-D array (a flat gather)."""
    return x.ravel()[np.arange(x.shape[0]) * x.shape[1] + col]


def _bandlimited_windows(
    time_s: np.ndarray, res_g: np.ndarray, i0: np.ndarray, length: int, target_hz: float, ic: np.ndarray,
    win_s: float, wanted: np.ndarray, steps_regular: bool = False,
) -> list[_Dense]:
    """Band-limited interpolation of |a| around every impact window, one `_Dense` per interpolation
    factor (each row's own, from its stretch's mean spacing; usually one).

    Each holds the rows used (wanted, and regularly sampled: no gap, in range, so the interpolation
    holds; rows that need no interpolation are in none) and, for those rows, the dense grid over the
    columns that can hold [IC, IC + win_s] and the one before it, with the values computed on the
    columns from IC to the window's end (the rest of the dense stretch is never looked at). steps_regular:
    no window can hold a gap (see `impact_figures`), so the stretches' steps are not looked at.
    """
    n = res_g.shape[0]
    big = PAD * 2 + length + 1
    if n < big:  # no window fits: nothing to interpolate
        return []
    start = i0 - PAD
    inside = (start >= 0) & (start + big <= n)
    # every row's stretch (a row that does not fit reads a stretch that fits; it is not used)
    start = np.clip(start, 0, n - big)
    t0 = time_s[start]
    span = time_s[start + big - 1] - t0
    dt = span / (big - 1)
    ups = np.minimum(MAX_UPSAMPLE, np.maximum(1, np.ceil(target_hz * np.maximum(dt, 0.0) - 0.05))).astype(np.int64)
    use = wanted & inside & (dt > 0) & (ups > 1)
    if not steps_regular:
        # regular: no step in the window longer than a gap step (timestamp jitter is fine, a gap is not)
        steps = np.diff(np.lib.stride_tricks.sliding_window_view(time_s, big)[start], axis=1)
        use &= steps.max(axis=1) < GAP_FACTOR * np.maximum(dt, 1e-12)
    y = np.lib.stride_tricks.sliding_window_view(res_g, big)
    return [_dense_rows(use & (ups == up), t0, dt, y, start, ic, big, up, win_s)
            for up in np.unique(ups[use]).tolist()]


def _dense_rows(use: np.ndarray, t_first: np.ndarray, dt: np.ndarray, y: np.ndarray, start: np.ndarray,
                ic: np.ndarray, big: int, up: int, win_s: float) -> _Dense:
    """The `_Dense` of the rows `use` of the stretches (first times t_first s, spacing dt s; |a| in g: the rows
    `start` of the sliding windows y) interpolated by up."""
    rows = np.flatnonzero(use)
    total = big * up
    t0, dt, icr = t_first[rows], dt[rows], ic[rows]
    # columns kept: from one input sample before IC, as many as the longest window needs (+ margins)
    width = min(total, int(np.ceil(float(np.max(win_s / dt)) * up)) + 2 * up + 2)
    first = np.clip(np.floor((icr - t0) / dt) - 1, 0, None) * up
    first = np.minimum(first, total - width).astype(np.int64)
    d = _Dense(use, t0, dt, first, up, width)
    d.locate(icr, win_s)
    # computed: the columns from the one before IC (or before the window) to the window's end
    d.lo = max(0, min(int(d.a.min()) - 1, int(d.j.min())))
    hi = min(width, max(int(d.b.max()), int(d.j.max()) + 2, d.lo + 1))
    y = y[start[rows]]
    matrix = _resample_matrix(big, up)
    d.yu = np.empty((rows.size, hi - d.lo))
    offsets = np.unique(first)
    if offsets.size == 1:  # usual case: every row at one offset, written in place (no row copies)
        c0 = int(offsets[0])
        np.matmul(y, matrix[:, c0 + d.lo:c0 + hi], out=d.yu)
    else:
        for c0 in offsets:  # a handful of offsets: one matrix product each
            sel = np.flatnonzero(first == c0)
            d.yu[sel] = y[sel] @ matrix[:, c0 + d.lo:c0 + hi]
    return d


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
