"""Toe-off (TO) of every strike, ground contact time, flight time and duty factor. Vectorised over strikes.

Every TO is the end or the start of a stance-to-swing transition timed by the same tangent method as
IC (a level crossing, extrapolated along the local slope to the level the transition ends/starts at):

- waist/sacrum: the vertical specific force of the trunk follows the vertical ground reaction force
  (GRF / body mass, Newton's second law on the centre of mass): it rises at IC and falls back to the
  flight level at TO. TO = end of the stance fall on the WAIST_LP_HZ low-passed vertical: the tangent
  at the steepest descent after the last sample at >= 1 g (the stride mean of the vertical specific
  force is exactly 1 g) meets the flight trough's level; a shoulder or soft-tissue tail before the
  trough does not move it. After the sacral contact/flight-time methods of Auvinet et al. 2002
  (Science & Sports 17:92) and Lee et al. 2010 (J Sci Med Sport 13:559).
- shank (tibia): the loaded stance keeps |a| well above 1 g until the foot leaves the ground; then the
  unloaded early swing reads ~1-1.5 g before the swing whip. TO = end of that fall on the FOOT_LP_HZ
  low-passed resultant, tangent at SHANK_TO_FRACTION between the late-stance maximum and the
  early-swing minimum (tibial TO from the end of the stance pattern, after Purcell et al. 2006,
  Proc SPIE 6036; the exact rule is ours and is measured in benchmarks/realdata.py).
- shoe (foot): the foot is flat and still in mid-stance (|a| ~ 1 g); after push-off it accelerates
  into swing. TO = onset of the swing rise on the low-passed resultant, tangent at SHOE_TO_FRACTION
  of the trough-to-swing-maximum rise (after Sinclair et al. 2013, J Appl Biomech 29:118).

A TO whose contact time falls outside CONTACT_RANGE_S, or whose search window reaches a gap or the
next strike, is not timed (NaN): no contact time is guessed.
"""

from __future__ import annotations

import numpy as np

from gaitimpact.core.filters import local_step_s, search_times

CONTACT_RANGE_S = (0.10, 0.45)
"""Plausible running ground contact time (s); outside it no contact time is reported."""
WAIST_TO_BACK_S = 0.03
"""The waist's steepest stance fall is searched from this long (s) before the last 1-g sample on."""
FOOT_LP_HZ = 15.0
"""Low-pass cut-off (Hz) of the resultant used to time TO at the shoe/shank (impacts filtered out)."""
SHANK_TO_FRACTION = 0.5
"""Fraction of the late-stance-to-early-swing fall (shank resultant) where the TO tangent is taken."""
SHOE_TO_FRACTION = 0.2
"""Fraction of the stance-trough-to-swing-maximum rise (shoe resultant) where the TO tangent is taken."""
SWING_SEARCH_S = 0.6
"""The shoe's swing maximum is searched up to this long (s) after IC."""


def tangent_events(time_s: np.ndarray, x: np.ndarray, a_idx: np.ndarray, b_idx: np.ndarray,
                   fraction: float, falling: bool) -> np.ndarray:
    """Time (s) where x's transition between the extremes at a_idx and b_idx (a < b) ends (falling:
    maximum at a, minimum at b: last crossing of the level, tangent extrapolated to x[b]) or starts
    (rising: minimum at a, maximum at b: first crossing, tangent extrapolated back to x[a]); NaN where
    there is no transition."""
    m = a_idx.shape[0]
    out = np.full(m, np.nan)
    ok = b_idx > a_idx
    if not ok.any():
        return out
    a, b = a_idx[ok], b_idx[ok]
    width = int((b - a).max()) + 1
    idx = np.minimum(a[:, None] + np.arange(width)[None, :], b[:, None])
    xa, xb = x[a], x[b]
    w = x[idx]
    rows = np.arange(a.shape[0])
    if falling:
        level = xb + fraction * (xa - xb)
        above = w >= level[:, None]
        j = width - 1 - np.argmax(above[:, ::-1], axis=1)  # last sample at or above the level
        j0, j1 = idx[rows, j], idx[rows, np.minimum(j + 1, width - 1)]
        end_level = xb
    else:
        level = xa + fraction * (xb - xa)
        above = w >= level[:, None]
        j = np.argmax(above, axis=1)  # first sample at or above the level
        j0, j1 = idx[rows, np.maximum(j - 1, 0)], idx[rows, j]
        end_level = xa
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (x[j1] - x[j0]) / (time_s[j1] - time_s[j0])
        tc = time_s[j0] + (level - x[j0]) / slope
        ev = tc + (end_level - level) / slope
    good = (j1 > j0) & np.isfinite(ev) & ((slope < 0) if falling else (slope > 0)) & (xa != xb)
    ev = np.clip(ev, time_s[a], time_s[b])
    out[np.flatnonzero(ok)] = np.where(good, ev, np.nan)
    return out


def steepest_fall_end(time_s: np.ndarray, x: np.ndarray, a_idx: np.ndarray, b_idx: np.ndarray) -> np.ndarray:
    """Time (s) where the tangent at x's steepest descent within [a_idx, b_idx] reaches x[b_idx] (the
    fall's end, robust to a shoulder or tail before the minimum); NaN where x does not fall there."""
    m = a_idx.shape[0]
    out = np.full(m, np.nan)
    ok = b_idx > a_idx
    if not ok.any():
        return out
    a, b = a_idx[ok], b_idx[ok]
    width = int((b - a).max())
    # the slope between every two neighbouring samples once (g/s; NaN past the end), read per row as one window
    with np.errstate(divide="ignore", invalid="ignore"):
        step_slope = np.diff(x) / np.diff(time_s)
    slope = np.lib.stride_tricks.sliding_window_view(np.append(step_slope, np.full(width, np.nan)), width)[a]
    np.copyto(slope, np.inf, where=~(np.isfinite(slope) & (np.arange(width)[None, :] < (b - a)[:, None])))
    k = np.argmin(slope, axis=1)
    rows = np.arange(a.shape[0])
    s_min = slope[rows, k]
    j0 = a + k
    j1 = j0 + 1
    tm = 0.5 * (time_s[j0] + time_s[j1])
    xm = 0.5 * (x[j0] + x[j1])
    with np.errstate(divide="ignore", invalid="ignore"):
        ev = tm + (x[b] - xm) / s_min
    good = np.isfinite(ev) & (s_min < 0)
    out[np.flatnonzero(ok)] = np.where(good, np.clip(ev, time_s[a], time_s[b]), np.nan)
    return out


def _window(time_s: np.ndarray, ic_time_s: np.ndarray, lo_s: float, hi_s: np.ndarray,
            seg_stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample index ranges [i0, i1] (inclusive) from IC + lo_s to hi_s (s), cut at the stretch's end."""
    return search_times(time_s, ic_time_s + lo_s), _window_end(time_s, hi_s, seg_stop)


def _window_end(time_s: np.ndarray, hi_s: np.ndarray, seg_stop: np.ndarray) -> np.ndarray:
    """`_window`'s last index: the last sample at or before hi_s (s), cut at the stretch's end."""
    return np.minimum(search_times(time_s, hi_s, side="right") - 1, seg_stop - 1)


def _argext(x: np.ndarray, i0: np.ndarray, i1: np.ndarray, use_max: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index of the maximum (or minimum) of x within [i0, i1] per row (i0 where the range is empty), and
    the windows x[i0 + c] it was read from ((M, W), for a second look within them: `_argext_before`)."""
    width = int(max((i1 - i0).max(), 0)) + 1 if i0.size else 1
    w = _windows_of(x, i0, width)
    valid = np.arange(width)[None, :] <= (i1 - i0)[:, None]
    k = _arg_in(w, valid, use_max)
    return np.minimum(i0 + k, x.shape[0] - 1), w


def _arg_in(w: np.ndarray, valid: np.ndarray, use_max: bool) -> np.ndarray:
    """Column of the maximum (or minimum) of each row of w among its valid columns (0 if none)."""
    masked = np.where(valid, w, -np.inf if use_max else np.inf)
    return np.argmax(masked, axis=1) if use_max else np.argmin(masked, axis=1)


def _argext_before(w: np.ndarray, i0: np.ndarray, end: np.ndarray, use_max: bool, n: int) -> np.ndarray:
    """`_argext` within [i0, max(end, i0)] on windows w from an `_argext` of the same i0 (end no further
    than that call's range), without reading x again; n: len(x)."""
    valid = np.arange(w.shape[1])[None, :] <= (np.maximum(end, i0) - i0)[:, None]
    return np.minimum(i0 + _arg_in(w, valid, use_max), n - 1)


def _windows_of(x: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    """(M, width) copy of x[start + c], c < width, per row (x's last value beyond its end)."""
    n = x.shape[0]
    base = max(0, n - width)  # windows starting after this run past the end: read from a padded tail
    if start.size and int(start.max()) <= base and n >= width:
        return np.lib.stride_tricks.sliding_window_view(x, width)[start]
    tail = np.concatenate((x[base:], np.full(width, x[-1])))
    if base == 0:
        return np.lib.stride_tricks.sliding_window_view(tail, width)[np.minimum(start, n)]
    out = np.lib.stride_tricks.sliding_window_view(x, width)[np.minimum(start, base)]
    late = np.flatnonzero(start > base)
    out[late] = np.lib.stride_tricks.sliding_window_view(tail, width)[np.minimum(start[late], n) - base]
    return out


def _stretch_stop(idx: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """End (exclusive sample index) of the gap-free stretch holding each index."""
    if starts.shape[0] == 0:
        return np.full(idx.shape[0], np.iinfo(np.int64).max)
    return stops[np.clip(np.searchsorted(starts, idx, side="right") - 1, 0, stops.shape[0] - 1)]


def waist_toe_off_s(time_s: np.ndarray, v_lp: np.ndarray, peak_idx: np.ndarray, ic_time_s: np.ndarray,
                    starts: np.ndarray, stops: np.ndarray, period_s: float | np.ndarray) -> np.ndarray:
    """TO (s) after every waist strike from the low-passed vertical v_lp (g): end of the stance fall to
    the flight trough before the next strike (NaN where not timed); period_s: step period (s), one or
    one per strike."""
    if peak_idx.size == 0:
        return np.zeros(0)
    nxt = np.append(ic_time_s[1:], np.inf)
    hi = np.minimum(nxt, ic_time_s + np.minimum(CONTACT_RANGE_S[1] + 0.5 * period_s, 1.5 * period_s))
    seg_stop = _stretch_stop(peak_idx, starts, stops)
    i1 = _window_end(time_s, hi, seg_stop)
    trough, w = _argext(v_lp, peak_idx, np.maximum(i1, peak_idx), use_max=False)
    # the last support sample (v >= 1 g: the trunk still decelerating its fall) before the trough; the
    # steepest descent from there on is the end of the push-off, its tangent meets the flight level at TO
    above = (w >= 1.0) & (np.arange(w.shape[1])[None, :] <= (trough - peak_idx)[:, None])
    j = w.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    support = np.where(above.any(axis=1), peak_idx + j, peak_idx)  # the peak itself if none
    to = steepest_fall_end(time_s, v_lp, np.maximum(support - _samples_in(time_s, peak_idx, WAIST_TO_BACK_S), peak_idx),
                           trough)
    return _plausible(to, ic_time_s)


def _samples_in(time_s: np.ndarray, idx: np.ndarray, span_s: float) -> np.ndarray:
    """Per index, how many samples (>= 1) span_s (s) holds at the median of the 16 sample steps around it
    (local: a window of a longer recording counts the same, whatever its first step)."""
    if time_s.shape[0] < 2:
        return np.ones(idx.shape[0], dtype=np.int64)
    step = local_step_s(time_s, idx)
    # rounded to 1e-6 samples first: timestamps' float noise must not decide a count that is a whole half
    # (0.03 s at 250 Hz = 7.5 samples)
    return np.maximum(1, np.rint(np.round(span_s / np.maximum(step, 1e-6), 6))).astype(np.int64)


def foot_toe_off_s(time_s: np.ndarray, res_lp: np.ndarray, ic_time_s: np.ndarray, starts: np.ndarray,
                   stops: np.ndarray, placement: str) -> np.ndarray:
    """TO (s) after every shoe/shank strike from the low-passed resultant res_lp (g) (NaN where not timed)."""
    if ic_time_s.size == 0:
        return np.zeros(0)
    nxt = np.append(ic_time_s[1:], np.inf)
    i_ic = search_times(time_s, ic_time_s)
    seg_stop = _stretch_stop(i_ic, starts, stops)
    if placement == "shank":
        hi = np.minimum(ic_time_s + CONTACT_RANGE_S[1], nxt - 0.05)
        i0, i1 = _window(time_s, ic_time_s, CONTACT_RANGE_S[0], hi, seg_stop)
        low, w = _argext(res_lp, i0, i1, use_max=False)  # early swing, unloaded
        high = _argext_before(w, i0, low, True, res_lp.shape[0])  # late stance, loaded
        to = tangent_events(time_s, res_lp, high, low, SHANK_TO_FRACTION, falling=True)
    else:
        hi = np.minimum(ic_time_s + SWING_SEARCH_S, nxt - 0.05)
        i0, i1 = _window(time_s, ic_time_s, CONTACT_RANGE_S[0], hi, seg_stop)
        swing, w = _argext(res_lp, i0, i1, use_max=True)
        trough = _argext_before(w, i0, swing, False, res_lp.shape[0])
        to = tangent_events(time_s, res_lp, trough, swing, SHOE_TO_FRACTION, falling=False)
    return _plausible(to, ic_time_s)


def _plausible(to: np.ndarray, ic_time_s: np.ndarray) -> np.ndarray:
    """TO times (s) whose contact time is inside CONTACT_RANGE_S; NaN otherwise."""
    ct = to - ic_time_s
    return np.where((ct >= CONTACT_RANGE_S[0]) & (ct <= CONTACT_RANGE_S[1]), to, np.nan)


def flight_and_duty(ic_time_s: np.ndarray, contact_ms: np.ndarray, valid_next: np.ndarray,
                    steps_per_strike: int) -> tuple[np.ndarray, np.ndarray]:
    """Per strike: flight time (ms) after its contact and duty factor (contact / stride time).

    valid_next[i] says the interval from strike i to i + 1 is a usable step (waist) or stride (foot)
    interval (same bout, no gap, no missed strike). Waist: flight = next IC - TO, stride = 2 steps.
    One-foot sensor: the other foot's step is not seen, so flight = stride / 2 - contact (symmetric
    steps assumed) and stride = the interval itself. NaN where not known.
    """
    m = ic_time_s.shape[0]
    flight = np.full(m, np.nan)
    duty = np.full(m, np.nan)
    if m < 2:
        return flight, duty
    d_ms = np.diff(ic_time_s) * 1e3
    ct = contact_ms[:-1]
    ok = valid_next & np.isfinite(ct)
    stride = d_ms * (2.0 if steps_per_strike == 1 else 1.0)
    step = stride / 2.0
    flight[:-1] = np.where(ok, step - ct, np.nan)
    duty[:-1] = np.where(ok, ct / stride, np.nan)
    return flight, duty
