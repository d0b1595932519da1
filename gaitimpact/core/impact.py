"""Per-strike impact figures: peak resultant, loading rate, clipping; vectorised over strikes.

Definitions come from `gaitimpact.core.definitions` (shared with the simulator's truth):
- peak_g: maximum of the RAW (unfiltered) resultant |a| in g over [IC, IC + IMPACT_WINDOW_S[placement]].
  The continuous peak is estimated by fitting a parabola through the highest sample and its two
  neighbours (real timestamps), because at low rates the samples straddle the true peak. The
  refinement is skipped for clipped strikes (the peak is then only a lower bound).
- loading_rate_gps: (a80 - a20) / (t80 - t20) in g/s, a20/a80 the levels at 20 %/80 % of the rise
  from |a| at IC (linearly interpolated) to the peak, t20/t80 their first crossings after IC
  (linear interpolation between samples).
- clipped: some axis in the window reaches the sensor range (|a_axis| >= CLIP_FRACTION * range_g).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitimpact.core.definitions import IMPACT_WINDOW_S, LOADING_RATE_FRACTIONS

CLIP_FRACTION = 0.999
"""A sample counts as at the range when |a_axis| >= CLIP_FRACTION * range_g."""

STANDARD_RANGES_G = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 64.0, 100.0, 200.0, 400.0)
"""Full-scale ranges of common accelerometers, in g."""


@dataclass
class ImpactFigures:
    """Per-strike impact figures (arrays of equal length): g, g/s, s, flags."""

    peak_g: np.ndarray
    peak_time_s: np.ndarray
    loading_rate_gps: np.ndarray
    clipped: np.ndarray


def infer_range_g(acc_g: np.ndarray, step: int = 1) -> float | None:
    """Sensor range in g inferred from flat-topped maxima (>= 3 samples at the same max |a_axis|), else None."""
    a = np.abs(np.asarray(acc_g)[::step])
    if a.size == 0:
        return None
    top = float(a.max())
    if not np.isfinite(top) or top < 1.5:
        return None
    at_top = a >= top * (1.0 - 1e-9)
    n_top = int(np.count_nonzero(at_top))
    if n_top < 3:
        return None
    # flat top: at least one pair of consecutive samples sits on the same extreme value
    flat = np.any(at_top[1:] & at_top[:-1])
    return top if flat else None


def impact_figures(
    time_s: np.ndarray,
    res_g: np.ndarray,
    ic_time_s: np.ndarray,
    placement: str,
    *,
    acc_g: np.ndarray | None = None,
    range_g: float | None = None,
    refine_peak: bool = True,
) -> ImpactFigures:
    """Peak (g), peak time (s), loading rate (g/s) and clipped flag per IC time (s); window per placement."""
    ic = np.asarray(ic_time_s, dtype=np.float64)
    m = ic.shape[0]
    n = res_g.shape[0]
    if m == 0 or n < 3:
        z = np.zeros(m)
        return ImpactFigures(z, z.copy(), z.copy(), np.zeros(m, dtype=bool))
    win_s = IMPACT_WINDOW_S[placement]
    i0 = np.searchsorted(time_s, ic, side="left")
    i1 = np.searchsorted(time_s, ic + win_s, side="right")
    i0 = np.minimum(i0, n - 1)
    i1 = np.maximum(i1, i0 + 1)
    length = int((i1 - i0).max())
    cols = np.arange(length)
    idx = i0[:, None] + cols[None, :]
    valid = idx < i1[:, None]
    idx = np.minimum(idx, n - 1)
    win = np.where(valid, res_g[idx], -np.inf)
    k = np.argmax(win, axis=1)
    rows = np.arange(m)
    kpk = idx[rows, k]
    peak = res_g[kpk].copy()
    peak_t = time_s[kpk].copy()

    clipped = np.zeros(m, dtype=bool)
    if range_g is not None and acc_g is not None:
        amax = np.abs(acc_g[idx]).max(axis=2)
        clipped = np.any(valid & (amax >= CLIP_FRACTION * range_g), axis=1)

    if refine_peak:
        inner = (kpk > 0) & (kpk < n - 1) & ~clipped
        j = kpk[inner]
        t0, t1, t2 = time_s[j - 1], time_s[j], time_s[j + 1]
        y0, y1, y2 = res_g[j - 1], res_g[j], res_g[j + 1]
        # parabola through three (t, y) points, vertex; accept only a true maximum near the sample
        d1 = (y1 - y0) / (t1 - t0)
        d2 = (y2 - y1) / (t2 - t1)
        a2 = (d2 - d1) / (t2 - t0)
        ok = a2 < 0
        tv = np.where(ok, 0.5 * (t0 + t1) - d1 / np.where(ok, 2 * a2, 1.0), t1)
        ok &= (tv > t0) & (tv < t2)
        yv = y1 + d1 * (tv - t1) + a2 * (tv - t0) * (tv - t1)
        ok &= yv >= y1
        peak[inner] = np.where(ok, yv, y1)
        peak_t[inner] = np.where(ok, tv, t1)

    # value at IC by linear interpolation between the samples around it
    a_ic = np.interp(ic, time_s, res_g)
    f20, f80 = LOADING_RATE_FRACTIONS
    rise = peak - a_ic
    l20 = a_ic + f20 * rise
    l80 = a_ic + f80 * rise
    # virtual first column = the IC point itself, then the window samples up to the peak
    tt = np.concatenate((ic[:, None], time_s[idx]), axis=1)
    yy = np.concatenate((a_ic[:, None], np.where(valid, res_g[idx], np.nan)), axis=1)
    upto = np.concatenate((np.ones((m, 1), dtype=bool), cols[None, :] <= k[:, None]), axis=1)
    t20 = _first_crossing(tt, yy, upto, l20)
    t80 = _first_crossing(tt, yy, upto, l80)
    dt = t80 - t20
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.where((dt > 0) & (rise > 0), (l80 - l20) / dt, np.nan)
    return ImpactFigures(peak, peak_t, lr, clipped)


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
