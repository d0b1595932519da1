"""Initial contact (IC) of every foot strike; left/right at the waist. Vectorised over strikes.

Waist/sacrum: the vertical specific force v = a . up (up = gravity direction from the data) drops
towards 0 g in flight and rises steeply when a foot lands. v is low-passed (zero-phase Butterworth,
WAIST_LP_HZ) for detection only; every stance peak is found with `scipy.signal.find_peaks`
(spacing from the step period measured by autocorrelation), and IC is the onset of the rise before
it: the first crossing of ONSET_FRACTION of the trough-to-peak rise, extrapolated back along the
local slope to the trough level (tangent method), in real timestamps.

Shoe/shank: the impact transient is the sharpest event of each stride in the raw resultant |a|
(swing accelerations can be as high but are ~10x slower). Strides are found with `find_peaks` on
the spikiness of |a| (spacing from the stride period), the impact peak is the raw maximum next to
it, and IC is the onset of the transient before the peak by the same tangent method on the raw
resultant (no filter). The strides are then re-chosen among all impact-like spikes so that they fit
the local stride period and (shoe) each is followed by a still stance (`periodic.select_periodic`): a
saturated late-swing peak whose landing spike sits on its falling edge no longer pulls strikes back
and forth.

Shank IC (`shank_axial_ic`): the minimum of the axial acceleration before the tibial shock, the
IC definition of the tibial-shock literature (Mercer et al. 2003, after Shorten & Winslow 1992 and
Derrick et al. 1998; catalogued with code in Kiernan et al. 2023, Sensors 23:5022). In terminal swing
the tibia's axial specific force points distally (the leg is driven down against the free-falling
body) and peaks at touchdown; the ground then reverses it, rising slowly through 0 g, and the steep
shock peaks 30-40 ms after contact (real shank trials). |a| folds that sign change into a bump at
contact, a valley where the axial crosses 0 g, and the shock, so an onset timed on |a| lands 15-20 ms
late. Axial = the direction of each strike's own shock (the shock runs along the tibia: no sensor
orientation needed). Unlike Mercer's 15 Hz low-pass, the raw samples are used: a zero-phase
low-pass spreads the shock backwards and moves the minimum 10-20 ms early.

Strikes are never searched across a gap: peaks are found per gap-free stretch, and a rise whose
look-back reaches a gap is not timed (the strike is dropped rather than guessed). Thresholds
relative to "the typical strike" use the median of the neighbouring strikes, so they follow
changes of pace.

Waist left/right: see `waist_feet`.

All times are in the input's time base (s); the functions hold no state, so they work on any window.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, signal
from scipy.fft import next_fast_len

from gaitimpact.core.bouts import block_samples
from gaitimpact.core.contact import FOOT_LP_HZ, foot_toe_off_s, waist_toe_off_s
from gaitimpact.core.filters import autocorrelation_rows, block_view, search_times, zero_phase_filter
from gaitimpact.core.orientation import gravity_blocks, moving_up, moving_vertical_g, vertical_g
from gaitimpact.core.periodic import choose_per_step, local_period_s, select_periodic

PERIOD_TILE_S = 20.0
"""The gait period (peak spacing, look-back) is estimated per tile of this length (s) of the recording's
time axis (tiles start at multiples of it), so it depends on a bounded neighbourhood only."""
PERIOD_CONTEXT_S = 5.0
"""...from the signal of the tile and this long (s) on each side of it."""
TILE_ROWS = 32
"""Tiles whose periods are computed together (bounds the temporaries; a row's period is the same in any batch)."""
PEAK_CONTEXT_S = 2.0
"""Peaks of a tile are found on the tile plus this long (s) on each side (spacing and prominence)."""
LOCAL_HALF = 8
"""Neighbours (strikes) on each side used for the local typical strike."""
WAIST_DETECT_HZ = 250.0
"""Waist detection runs on at most about this rate (Hz): higher rates are subsampled first."""
GRAVITY_HALF_S = 5.0
"""Waist gravity (vertical) is the mean specific force over about +-this long (s) around each sample."""
WAIST_LP_HZ = 30.0
"""Low-pass cut-off (Hz) of the vertical signal used to find waist strikes."""
ONSET_FRACTION = {"waist": 0.2, "shoe": 0.2, "shank": 0.2}
"""Fraction of the trough-to-peak rise where the onset tangent is taken."""
WAIST_MAX_TROUGH_G = 0.6
"""A waist strike needs a flight phase before it: the low-passed vertical must drop below this (g)."""
WAIST_MAX_TROUGH_FIRST_G = 0.9
"""...unless it is the first step of a run: trough below this (g) and a peak of a running step."""
WAIST_FIRST_REL_PEAK = 0.8
"""Relative height (of the median running peak) a step without flight needs to count."""
WAIST_MIN_REL_PEAK = 0.65
"""A waist strike's vertical peak must reach this fraction of the median one (drops walking steps)."""
STEP_PERIOD_RANGE_S = (0.25, 0.55)
"""Plausible running step period (s): 110-240 steps/min."""
SPIKE_HALF_WIDTH_S = {"shoe": 0.010, "shank": 0.015}
"""Half width (s) of the spikiness detector for shoe/shank impacts (tibial transients are slower)."""
SPIKE_MIN_G = 1.0
"""Smallest spikiness (g) that can be a running impact (running impacts give >= 3 g)."""
SPIKE_REL_HEIGHT = 0.25
"""Shoe/shank candidates below this fraction of the median spikiness are not strikes."""
FOOT_MIN_REL_PEAK = 0.6
"""A shoe/shank impact must reach this fraction of the median impact peak of the stretch."""
POST_IMPACT_S = (0.03, 0.08)
"""Window after an impact peak (s) where the foot is on the ground: |a| stays near 1 g."""
POST_IMPACT_MAX_G = 2.5
"""A stride candidate followed by a mean |a| above this (g) is a swing jolt, not a landing..."""
POST_IMPACT_REL = 1.5
"""...and above this multiple of the typical (local median) candidate's (a real shank stance is loaded:
3-3.5 g after every landing of the bach2022 trials, more than after their swing jolts)."""
SWAP_MIN_REL_SPIKE = 0.6
"""A candidate with a loud stance is replaced only by a landing at least this fraction as spiky."""
FOOT_LOOKBACK_S = 0.04
"""How far before the impact peak (s) the onset of the transient is searched (shoe/shank)."""
SHANK_AXIAL_BACK_S = 0.04
"""How far before the onset of the tibial shock (s) the shank's pre-impact axial minimum (IC) is searched."""
TO_DETECT_HZ = 200.0
"""Shoe/shank toe-off is timed on |a| block-averaged down to about this rate (Hz) before its low-pass."""
CAND_MIN_G = 0.3
"""Smallest spikiness (g) of a candidate for the period-consistent choice (a weak landing beats none)."""
CAND_SPACING_S = 0.08
"""Foot candidates for the period-consistent choice are at least this fraction of a stride apart."""
PERIOD_FOLLOW = 1.4
"""A local stride period (from the first-pass strikes) more than this factor off the tile's autocorrelation
stride is replaced by the tile's: a pace change is followed, a half or double period (first-pass picks
at a harmonic, e.g. mid-swing jolts between the landings) is not."""
STANCE_SEARCH_S = (0.02, 0.25)
"""Window after a foot candidate (s) searched for the still mid-stance of a landing."""
STILL_HZ = 200.0
"""The stance stillness is read on samples about this rate (Hz) apart."""
STILL_S = 0.04
"""Length (s) of the sub-window that must be still (|a| near 1 g, small spread) in mid-stance."""
STILL_OK_G = 0.3
"""Stillness score (|mean - 1| + std of |a|, g) counted as a full landing."""
STILL_RANGE_G = 1.0
"""Above STILL_OK_G the landing factor falls linearly over this many g down to LAND_MIN_FACTOR."""
LAND_MIN_FACTOR = 0.3
"""Landing factor of a candidate not followed by a still stance."""
STILL_PLACEMENTS = ("shoe",)
"""Placements whose mid-stance is still near 1 g (the foot lies flat on the ground). Not the shank: the
tibia is loaded and rotates over the foot, |a| 2-3.5 g through stance. On the real shank trials
(bach2022, 143 Hz) the stillness test scored the tibial shock lowest of the spikes within 200 ms after
contact on 125 of 126 strides (median 0.30 for runner S2, 0.73-0.79 for S1; the best later spike
0.86-1.00), so it favoured stance peaks 80 ms after the shock; once a 40 Hz IMU low-pass halves the
shock's one-sample peak (100 Hz), those won (100 Hz shank F1 0.92, contacts timed 70 ms late)."""

WAIST_CAND_SPACING = 0.15
"""Alternative waist peaks are at least this fraction of a step apart."""
WAIST_CAND_PROM_G = 0.3
"""Smallest prominence (g) of an alternative waist peak (a second stance peak is less prominent)."""
WAIST_ALT_S = 0.35
"""An alternative rise must begin within this fraction of a step of a first-pass IC."""
WAIST_SAME_ONSET_S = 0.015
"""Alternative rises that begin this close (s) to the IC are the same rise."""
LR_HALF = 16
"""Left/right of a waist strike is decided from its chain's strikes within +-this many strikes."""
LR_STANCE_S = 0.06
"""Window after IC (s) over which the mediolateral acceleration decides left/right at the waist."""


@dataclass
class DetectedStrikes:
    """IC times (s, input time base), index of the detection peak, foot ("L", "R", "?") and toe-off
    times (s, NaN where not timed; see `gaitimpact.core.contact`)."""

    ic_time_s: np.ndarray
    peak_index: np.ndarray
    foot: np.ndarray
    to_time_s: np.ndarray = None  # type: ignore[assignment]  # None -> all NaN (__post_init__)

    def __post_init__(self) -> None:
        if self.to_time_s is None:
            self.to_time_s = np.full(self.ic_time_s.shape[0], np.nan)


def dominant_periods_s(y: np.ndarray, fs_hz: float, lo_s: float, hi_s: float) -> np.ndarray:
    """Dominant period (s) within [lo_s, hi_s] of every row of y (K, n) from its autocorrelation (FFT);
    NaN where none. Rows are independent: a row gives the same bits in any batch."""
    k_rows, n = y.shape
    lo, hi = int(lo_s * fs_hz), min(int(hi_s * fs_hz) + 1, n - 1)
    if k_rows == 0 or n < int(3 * hi_s * fs_hz) or hi <= lo + 1:
        return np.full(k_rows, np.nan)
    # zero-padding to n + the longest lag kept makes the circular correlation linear for those lags
    nfft = next_fast_len(n + hi + 2, real=True)
    padded = np.zeros((k_rows, nfft))
    np.subtract(y, y.mean(axis=1, keepdims=True), out=padded[:, :n])
    ac = autocorrelation_rows(padded, nfft, hi + 2)
    rows = np.arange(k_rows)
    k = lo + np.argmax(ac[:, lo:hi], axis=1)
    ok = (ac[:, 0] > 0) & (ac[rows, k] >= 0.1 * ac[:, 0])
    # parabolic refinement of the lag
    y0, y1, y2 = ac[rows, k - 1], ac[rows, k], ac[rows, k + 1]
    den = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where((k > lo) & (k < hi - 1) & (den < 0), 0.5 * (y0 - y2) / den, 0.0)
    return np.where(ok, (k + frac) / fs_hz, np.nan)


def local_median(x: np.ndarray, use: np.ndarray | None = None, half: int = LOCAL_HALF) -> np.ndarray:
    """Per element, the median of x over the `use` elements among its +-half neighbours (same unit).

    Used for "relative to the typical strike" thresholds that must follow changes of pace.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    vals = x if use is None else np.where(use, x, np.nan)
    if n == 0:
        return vals.copy()
    size = 2 * half + 1
    finite = np.isfinite(vals)
    every = bool(finite.all())
    # a window of all finite values: its middle value (scipy's median filter; the NaN are never in it)
    if every:  # the windows reaching past either end are the others
        full = np.zeros(n, dtype=bool)
        full[half:n - half] = True
    else:
        counts = np.concatenate(([0], np.cumsum(np.pad(finite, half))))
        full = counts[size:] - counts[:-size] == size
    med = np.full(n, np.nan)
    if full.any():
        med[full] = ndimage.median_filter(vals if every else np.where(finite, vals, 0.0), size=size,
                                          mode="constant")[full]
    part = np.flatnonzero(~full)
    if part.size:
        # median of the finite values of the other windows: sort (NaN last), average the middle pair
        pad = np.pad(vals, half, constant_values=np.nan)
        win = np.sort(np.lib.stride_tricks.sliding_window_view(pad, size)[part], axis=1)
        c = np.isfinite(win).sum(axis=1)
        rows = np.arange(part.size)
        lo, hi = np.maximum((c - 1) // 2, 0), np.maximum(c // 2, 0)
        med[part] = np.where(c > 0, 0.5 * (win[rows, lo] + win[rows, hi]), np.nan)
    missing = ~np.isfinite(med)
    if missing.any():  # windows without a finite value: the median of all finite values
        med[missing] = np.nanmedian(vals) if finite.any() else 0.0
    return med


def _windows(idx_end: np.ndarray, length: int, lo: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(M, length) index matrix ending at idx_end (inclusive), and a validity mask (index >= lo)."""
    cols = np.arange(-length + 1, 1)
    idx = idx_end[:, None] + cols[None, :]
    valid = idx >= (0 if lo is None else lo[:, None])
    return np.maximum(idx, 0), valid


def onset_times(
    time_s: np.ndarray, x: np.ndarray, peak_idx: np.ndarray, lookback: int, fraction: float,
    seg_start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onset time (s) of the rise into every peak of x, whether it was found, and the trough value.

    Trough = minimum of x in the `lookback` samples before the peak (not before seg_start); onset =
    first crossing of trough + fraction * (peak - trough) after the trough, extrapolated back along
    the slope there to the trough level.
    """
    m = peak_idx.shape[0]
    if m == 0:
        return np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0)
    per_row = np.ndim(lookback) > 0
    lb = np.asarray(lookback, dtype=np.int64)
    lookback = int(lb.max()) if per_row else int(lookback)
    back = np.arange(-lookback, 1)  # column offsets from the peak
    seg0 = 0 if seg_start is None else seg_start
    # the first column offset that counts per row (before the stretch, or the row's own look-back, does not);
    # None: every column counts (no row is limited)
    limit = np.maximum(seg0 - peak_idx, -lb if per_row else -lookback)
    valid = back[None, :] >= limit[:, None] if bool(np.any(limit > -lookback)) else None
    # the samples x[peak + back] (x[0] for an index before 0), read through a sliding view; the rows that
    # reach before the first sample read a padded copy of the head only
    early = np.flatnonzero(peak_idx < lookback) if x.shape[0] > lookback else np.arange(m)
    w = (np.lib.stride_tricks.sliding_window_view(x, lookback + 1)[np.maximum(peak_idx - lookback, 0)]
         if x.shape[0] > lookback else np.empty((m, lookback + 1)))
    if early.size:
        w[early] = x[np.maximum(peak_idx[early, None] + back[None, :], 0)]
    if valid is not None:
        np.copyto(w, np.inf, where=~valid)
    kmin = np.argmin(w, axis=1)
    rows = np.arange(m)
    trough = w[rows, kmin]
    pk = x[peak_idx]
    level = trough + fraction * (pk - trough)
    cols = np.arange(lookback + 1)
    after = w >= level[:, None]
    if valid is not None:
        after &= valid
    after &= cols[None, :] >= kmin[:, None]
    j = np.argmax(after, axis=1)
    # the whole look-back must lie inside one gap-free stretch (a rise cut by a gap is not timed)
    first_ok = (peak_idx - lb) >= seg0
    found = after[rows, j] & (j > kmin) & first_ok
    jj = np.maximum(peak_idx + back[j], 0)
    jp = np.maximum(jj - 1, 0)
    ta, tb = time_s[jp], time_s[jj]
    ya, yb = x[jp], x[jj]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (yb - ya) / (tb - ta)
        tc = ta + (level - ya) / slope
        onset = tc - (level - trough) / slope
    ok = found & np.isfinite(onset) & (slope > 0)
    onset = np.where(ok, np.maximum(onset, time_s[np.maximum(peak_idx + back[kmin], 0)]), np.nan)
    return onset, ok, trough


def _is_in_sorted(x: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """np.isin(x, sorted_values) for ascending sorted_values (a binary search, no sort of x)."""
    if sorted_values.size == 0:
        return np.zeros(x.shape, dtype=bool)
    k = np.minimum(np.searchsorted(sorted_values, x), sorted_values.size - 1)
    return sorted_values[k] == x


def _segment_start_of(idx: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """First sample index of the gap-free stretch holding each index."""
    return starts[np.searchsorted(starts, idx, side="right") - 1]


def period_tiles(time_s: np.ndarray, tile_s: float = PERIOD_TILE_S) -> np.ndarray:
    """Sample bounds (K + 1,) of the tiles of the recording's time axis (multiples of tile_s, s) that
    the samples of time_s (s) fall in."""
    n = time_s.shape[0]
    if n == 0:
        return np.zeros(2, dtype=np.int64)
    # the first sample of every tile number floor(t / tile_s) after the first one: found near k * tile_s by
    # a binary search, then moved to where floor(t / tile_s) itself changes (the product and the quotient
    # may round differently by an ulp); no pass over all samples
    ks = np.arange(np.floor(time_s[0] / tile_s) + 1, np.floor(time_s[-1] / tile_s) + 1)
    idx = np.searchsorted(time_s, ks * tile_s)
    while True:
        back = (idx > 0) & (np.floor(time_s[np.maximum(idx - 1, 0)] / tile_s) >= ks)
        fwd = (idx < n) & (np.floor(time_s[np.minimum(idx, n - 1)] / tile_s) < ks)
        if not (back.any() or fwd.any()):
            break
        idx += fwd.astype(np.int64) - back
    # a tile without samples (a gap) starts where the next one does
    return np.unique(np.concatenate(([0], idx, [n]))).astype(np.int64)


def tile_periods_s(time_s: np.ndarray, x: np.ndarray, fs_hz: float, tiles: np.ndarray, lo_s: float, hi_s: float,
                   default_s: float) -> np.ndarray:
    """Gait period (s) per tile: `dominant_periods_s` of x (about 100 Hz: every step-th sample from the
    context's first) over the tile and PERIOD_CONTEXT_S on each side; default_s where none is found."""
    step = max(1, int(fs_hz // 100))
    t0 = np.floor(time_s[tiles[:-1]] / PERIOD_TILE_S) * PERIOD_TILE_S
    a = np.searchsorted(time_s, t0 - PERIOD_CONTEXT_S, side="left")
    b = np.searchsorted(time_s, t0 + PERIOD_TILE_S + PERIOD_CONTEXT_S, side="left")
    size = (b - a + step - 1) // step
    out = np.full(a.shape[0], float(default_s))
    for m in np.unique(size).tolist():  # tiles of one context length together (usually all but the ends)
        # row i: x[i], x[i + step], ... (m of them), a view; a tile's context is the row at its first sample
        rows = np.lib.stride_tricks.sliding_window_view(x, (m - 1) * step + 1)[:, ::step]
        same = np.flatnonzero(size == m)
        for r0 in range(0, same.size, TILE_ROWS):  # in batches: the temporaries stay small
            sel = same[r0:r0 + TILE_ROWS]
            per = dominant_periods_s(rows[a[sel]], fs_hz / step, lo_s, hi_s)
            out[sel] = np.where(np.isfinite(per), per, default_s)
    return out


def find_peaks_tiled(x: np.ndarray, fs_hz: float, starts: np.ndarray, stops: np.ndarray, tiles: np.ndarray,
                     distance: np.ndarray, wlen: np.ndarray | None = None, **kwargs) -> np.ndarray:
    """`scipy.signal.find_peaks` per tile and gap-free stretch (a sample `distance` never reaches across a
    gap) with that tile's `distance` (and `wlen`, if given), each run on the tile and PEAK_CONTEXT_S around
    it; the peaks (indices) inside each tile, ascending.

    Tiles that share distance and wlen go through one `scipy.signal.find_peaks` call: their stretches
    are laid end to end, each between barriers (higher than any sample, longer than 2 * distance, and
    not peaks themselves: too high), so no peak, spacing or prominence reaches from one stretch into
    the next: the same peaks as one call per stretch, without the per-call cost. `height` and
    `prominence` are minimums (the prominence is applied after height and distance, as find_peaks does:
    `_prominent`).
    """
    n = x.shape[0]
    k = tiles.shape[0] - 1
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    margin = int(np.ceil(PEAK_CONTEXT_S * fs_hz))
    dist = np.asarray(distance, dtype=np.int64)[:k]
    wl = np.full(k, -1, dtype=np.int64) if wlen is None else np.asarray(wlen, dtype=np.int64)[:k]
    a, b = tiles[:-1].astype(np.int64), tiles[1:].astype(np.int64)
    ca, cb = np.maximum(0, a - margin), np.minimum(n, b + margin)
    # every tile context's pieces of gap-free stretch (tile-major, ascending); none known: the whole context
    s0 = np.maximum(np.asarray(starts, dtype=np.int64)[None, :], ca[:, None])
    e0 = np.minimum(np.asarray(stops, dtype=np.int64)[None, :], cb[:, None])
    some = e0 > s0
    count = some.sum(axis=1)
    # a context cut by gaps drops its crumbs shorter than 3 samples (no peak fits)
    some &= (e0 - s0 >= 3) | (count[:, None] <= 1)
    tile, col = np.nonzero(some)
    p_tile = np.concatenate((tile, np.flatnonzero(count == 0)))
    p_lo = np.concatenate((s0[tile, col], ca[count == 0]))
    p_hi = np.concatenate((e0[tile, col], cb[count == 0]))
    order = np.lexsort((p_lo, p_tile))
    p_tile, p_lo, p_hi = p_tile[order], p_lo[order], p_hi[order]
    wall = float(np.max(x)) + 1.0 if n else 1.0
    prominence = kwargs.pop("prominence", None)
    out = []
    span = int(wl.max()) + 2  # (distance, wlen) pairs as one integer each: a 1-D unique
    for key in np.unique(dist * span + (wl + 1)).tolist():
        d_j, w_j = divmod(key, span)
        w_j -= 1
        sel = np.flatnonzero((dist[p_tile] == d_j) & (wl[p_tile] == w_j))
        if sel.size == 0:
            continue
        lo, hi, own = p_lo[sel], p_hi[sel], p_tile[sel]
        barrier = np.full(2 * d_j + 3, wall)
        parts = [barrier]
        for i0, i1 in zip(lo.tolist(), hi.tolist()):
            parts += [x[i0:i1], barrier]
        off = barrier.size * np.arange(1, sel.size + 1) + np.concatenate(([0], np.cumsum(hi - lo)[:-1]))
        xx = np.concatenate(parts)
        # the barriers' own peaks are left out by their height (before spacing and prominence)
        opts = dict(kwargs, distance=d_j, height=(kwargs.get("height"), wall - 0.5))
        if w_j >= 0:
            opts["wlen"] = w_j
        found, _ = signal.find_peaks(xx, **opts)
        if prominence is not None:
            found = found[_prominent(xx, found, prominence, w_j if w_j >= 0 else None, 2 * d_j + 1)]
        seg = np.searchsorted(off, found, side="right") - 1
        inside = (seg >= 0) & (found - off[np.maximum(seg, 0)] < (hi - lo)[np.maximum(seg, 0)])
        seg, found = seg[inside], found[inside]
        idx = found - off[seg] + lo[seg]
        out.append(idx[(idx >= a[own[seg]]) & (idx < b[own[seg]])])
    if not out:
        return np.zeros(0, dtype=np.int64)
    # one call's peaks come in tile order, so ascending; several calls' are merged
    return out[0] if len(out) == 1 else np.sort(np.concatenate(out), kind="stable")


def _prominent(x: np.ndarray, peaks: np.ndarray, minimum: float, wlen: int | None, first_wlen: int) -> np.ndarray:
    """Which peaks have a `scipy.signal.peak_prominences` (within wlen samples, None: unlimited) of at
    least minimum (same unit as x).

    Unlimited, the prominence within first_wlen samples is taken first: a window only narrows the
    search for the bases, so it is never larger, and a peak that reaches the minimum there reaches it;
    only the others are searched without limit (the long searches of a tall peak are left out).
    """
    if peaks.size == 0:
        return np.zeros(0, dtype=bool)
    with warnings.catch_warnings():  # a zero prominence within the window is no news
        warnings.filterwarnings("ignore", message="some peaks have a prominence of 0")
        prom = signal.peak_prominences(x, peaks, wlen=wlen if wlen is not None else first_wlen)[0]
    if wlen is None:
        weak = np.flatnonzero(prom < minimum)
        if weak.size:
            prom[weak] = signal.peak_prominences(x, peaks[weak])[0]
    return prom >= minimum


def _tile_of(idx: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """Tile number of each sample index."""
    return np.searchsorted(tiles, idx, side="right") - 1


def waist_step(fs_hz: float) -> int:
    """Subsampling step of the waist detection at fs_hz (Hz): about WAIST_DETECT_HZ is kept."""
    return max(1, int(fs_hz // WAIST_DETECT_HZ))


def grid_samples(fs_hz: float) -> int:
    """Samples per period of the recording's fixed grid at fs_hz (Hz): whole activity blocks and whole
    waist subsampling steps. A window of a longer recording that starts on this grid sees every
    block, decimation and subsample exactly as the whole recording does."""
    return math.lcm(block_samples(fs_hz)[0], waist_step(fs_hz))


def detect_waist(
    time_s: np.ndarray, acc_g: np.ndarray, fs_hz: float, starts: np.ndarray, stops: np.ndarray,
    up: np.ndarray | None = None, grid_offset: int = 0, toe_off: bool = True,
) -> DetectedStrikes:
    """Waist ICs (s) of both feet in a stretch of running, with L/R from mediolateral sway.

    Above WAIST_DETECT_HZ the samples are subsampled for detection (the WAIST_LP_HZ low-pass
    follows, the timestamps stay real), which keeps the waist path as fast as the shoe path.
    up: one fixed (3,) vertical, else gravity is estimated locally (`orientation.gravity_blocks`, over
    +-GRAVITY_HALF_S). grid_offset: first index of the slice on the recording's grid (`grid_samples`),
    so subsamples and gravity blocks are the recording's, whatever the slice. toe_off False leaves the
    toe-offs untimed (NaN; nothing else depends on them).
    """
    d = waist_step(fs_hz)
    block, decim = block_samples(fs_hz)
    off = int(grid_offset) % d
    grav = None if up is not None else gravity_blocks(acc_g, block, grid_offset, decim,
                                                       max(1, round(GRAVITY_HALF_S * fs_hz / block)))
    if d > 1:
        time_s, acc_g, fs_hz = time_s[off::d], np.ascontiguousarray(acc_g[off::d]), fs_hz / d
        starts, stops = (np.maximum(starts - off, 0) + d - 1) // d, (np.maximum(stops - off, 0) + d - 1) // d
    # detection sample i is sample off + d * i of the slice (the gravity blocks' index)
    if grav is not None:
        vert = moving_vertical_g(acc_g, grav, off + d * np.arange(time_s.shape[0]))
    else:
        assert up is not None  # gravity is estimated exactly when no fixed vertical is given
        vert = vertical_g(acc_g, up)
    v = zero_phase_filter(vert, fs_hz, WAIST_LP_HZ, starts, stops)
    del vert
    tiles = period_tiles(time_s)
    tile_period = tile_periods_s(time_s, v, fs_hz, tiles, *STEP_PERIOD_RANGE_S, 0.33)
    tile_dist = np.maximum(1, (0.6 * tile_period * fs_hz).astype(np.int64))
    peaks = find_peaks_tiled(v, fs_hz, starts, stops, tiles, tile_dist, height=1.4, prominence=0.6)
    tile_lookback = np.maximum(2, tile_dist)
    lookback = tile_lookback[_tile_of(peaks, tiles)]
    seg0 = _segment_start_of(peaks, starts)
    ic, ok, trough = onset_times(time_s, v, peaks, lookback, ONSET_FRACTION["waist"], seg0)
    flight = trough <= WAIST_MAX_TROUGH_G
    if np.count_nonzero(ok & flight) >= 3:
        typical = local_median(v[peaks], ok & flight)
        # the first step of a run follows walking (no flight before it) but lands like a running step
        first_step = (trough <= WAIST_MAX_TROUGH_FIRST_G) & (v[peaks] >= WAIST_FIRST_REL_PEAK * typical)
        ok &= (flight | first_step) & (v[peaks] >= WAIST_MIN_REL_PEAK * typical)
    else:
        ok &= flight
    ic, peaks, trough = ic[ok], peaks[ok], trough[ok]
    if ic.size >= 6:
        ic, peaks = _periodic_waist(time_s, v, ic, peaks, trough, starts, stops, tiles, tile_period, fs_hz,
                                    tile_lookback)
    i_ic = np.minimum(search_times(time_s, ic), time_s.shape[0] - 1)  # first sample at or after each IC
    if grav is not None:  # the local vertical at every strike
        up = moving_up(grav, off + d * i_ic)
    assert up is not None
    foot = waist_feet(time_s, acc_g, ic, up, i_ic)
    to = (waist_toe_off_s(time_s, v, peaks, ic, starts, stops, tile_period[_tile_of(peaks, tiles)]) if toe_off
          else np.full(ic.shape[0], np.nan))
    return DetectedStrikes(ic, peaks * d + off, foot, to)


def _periodic_waist(time_s: np.ndarray, v: np.ndarray, ic: np.ndarray, peaks: np.ndarray, trough_c: np.ndarray,
                    starts: np.ndarray, stops: np.ndarray, tiles: np.ndarray, tile_period: np.ndarray,
                    fs_hz: float, tile_lookback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step, keep the IC (s) among the step's candidate rises that best fits the step rhythm.

    Each first-pass strike (IC s, peak index, trough g) is a group; other peaks of v (closer
    spacing, lower prominence) whose rise starts from a flight trough, reaches WAIST_MIN_REL_PEAK
    of the typical peak and begins within WAIST_ALT_S of a step's IC (but not at it) are its
    alternatives (e.g. the rise into a second stance peak after a mid-stance dip). Strength = rise
    (peak - trough) relative to the local typical first-pass rise. The expected interval is the
    local median of the first-pass intervals of the same parity (left and right steps may differ,
    e.g. a belt on one side of the hip). `choose_per_step` keeps one candidate per step: no step
    is added or dropped.
    """
    dist = np.maximum(1, (WAIST_CAND_SPACING * tile_period * fs_hz).astype(np.int64))
    more = find_peaks_tiled(v, fs_hz, starts, stops, tiles, dist, wlen=2 * tile_lookback + 1, height=1.4,
                            prominence=WAIST_CAND_PROM_G)
    more = more[~_is_in_sorted(more, peaks)]
    if more.size == 0:
        return ic, peaks
    tile_m = _tile_of(more, tiles)
    ic_m, ok_m, trough_m = onset_times(time_s, v, more, tile_lookback[tile_m], ONSET_FRACTION["waist"],
                                       _segment_start_of(more, starts))
    rise_c = v[peaks] - trough_c
    typ_rise, typ_peak = local_median(rise_c), local_median(v[peaks])
    ic_m = np.where(ok_m, ic_m, -np.inf)
    j = np.clip(np.searchsorted(ic, ic_m), 1, ic.size - 1)
    near = np.where(np.abs(ic[j] - ic_m) < np.abs(ic[j - 1] - ic_m), j, j - 1)
    gap = np.abs(ic[near] - ic_m)
    ok_m &= ((trough_m <= WAIST_MAX_TROUGH_G) & (v[more] >= WAIST_MIN_REL_PEAK * typ_peak[near])
             & (gap <= WAIST_ALT_S * tile_period[tile_m]) & (gap > WAIST_SAME_ONSET_S))
    if not ok_m.any():
        return ic, peaks
    more, ic_m, near = more[ok_m], ic_m[ok_m], near[ok_m]
    group = np.concatenate((np.arange(ic.size), near))
    t = np.concatenate((ic, ic_m))
    strength = np.minimum(np.concatenate((rise_c / typ_rise, (v[more] - trough_m[ok_m]) / typ_rise[near])), 1.5)
    pk = np.concatenate((peaks, more))
    order = np.lexsort((t, group))
    t, strength, pk, group = t[order], strength[order], pk[order], group[order]
    d = np.diff(ic)
    expect = np.empty(ic.size)
    expect[0] = np.median(d)
    for par in (0, 1):
        expect[1 + par::2] = local_median(d[par::2], half=LOCAL_HALF // 2)
    sel = choose_per_step(t, strength, group, expect)
    return t[sel], pk[sel]


def spikiness_g(res_g: np.ndarray, half_width: int) -> np.ndarray:
    """|a| minus the mean of its values half_width samples before and after (g): high on sharp impacts."""
    n = res_g.shape[0]
    out = np.zeros(n)
    k = int(half_width)
    if n > 2 * k:
        out[k:n - k] = res_g[k:n - k] - 0.5 * (res_g[: n - 2 * k] + res_g[2 * k:])
    return out


def detect_foot(
    time_s: np.ndarray, res_g: np.ndarray, fs_hz: float, starts: np.ndarray, stops: np.ndarray,
    placement: str, grid_offset: int = 0, acc_g: np.ndarray | None = None, toe_off: bool = True,
) -> DetectedStrikes:
    """Shoe/shank ICs (s) of the instrumented foot from impact transients in the raw resultant (g).

    Swing-phase accelerations can be as large as the impact but are ~10x slower, so strides are
    found on the spikiness of |a| (|a| minus the mean of its values SPIKE_HALF_WIDTH_S before and
    after), one per stride (spacing from the stride period), keeping those at least
    SPIKE_REL_HEIGHT of the typical one. At the shank, with the 3 axes (acc_g, g) given, IC is the
    start of the tibia's axial deceleration (`shank_axial_ic`). toe_off False leaves the toe-offs untimed
    (NaN; nothing else depends on them).
    """
    k = max(1, int(round(SPIKE_HALF_WIDTH_S[placement] * fs_hz)))
    spike = spikiness_g(res_g, k)
    tiles = period_tiles(time_s)
    tile_stride = tile_periods_s(time_s, res_g, fs_hz, tiles, 2 * STEP_PERIOD_RANGE_S[0], 2 * STEP_PERIOD_RANGE_S[1],
                                 0.7)
    tile_dist = np.maximum(1, (0.6 * tile_stride * fs_hz).astype(np.int64))
    # a spike must be seen whole: blank k samples at the edges of every gap-free stretch
    if starts.shape[0] > 1 or (starts.shape[0] and (starts[0] > 0 or stops[0] < res_g.shape[0])):
        edge = np.zeros(res_g.shape[0] + 1, dtype=np.int64)
        np.add.at(edge, np.clip(starts, 0, res_g.shape[0]), 1)
        np.add.at(edge, np.clip(starts + k, 0, res_g.shape[0]), -1)
        np.add.at(edge, np.clip(stops - k, 0, res_g.shape[0]), 1)
        np.add.at(edge, np.clip(stops, 0, res_g.shape[0]), -1)
        spike[np.cumsum(edge[:-1]) > 0] = 0.0
    cand = find_peaks_tiled(spike, fs_hz, starts, stops, tiles, tile_dist, height=SPIKE_MIN_G)
    cand = _prefer_landings(time_s, res_g, spike, cand, lambda i: tile_dist[_tile_of(i, tiles)], k)
    if cand.size:
        cand = cand[spike[cand] >= SPIKE_REL_HEIGHT * local_median(spike[cand])]
    cand = _periodic_landings(time_s, res_g, spike, cand, starts, stops, tiles, tile_stride, fs_hz, k, placement)
    # the impact peak: the raw maximum within +-k samples of the spike
    peaks = _local_argmax(res_g, cand, k)
    if peaks.size >= 3:  # walking heel strikes at the edges of a run land far softer
        peaks = peaks[res_g[peaks] >= FOOT_MIN_REL_PEAK * local_median(res_g[peaks])]
    lookback = max(3, int(FOOT_LOOKBACK_S * fs_hz))
    seg0 = _segment_start_of(peaks, starts)
    ic, ok, _ = onset_times(time_s, res_g, peaks, lookback, ONSET_FRACTION[placement], seg0)
    ic, peaks, seg0 = ic[ok], peaks[ok], seg0[ok]
    if placement == "shank" and acc_g is not None:
        ic = shank_axial_ic(time_s, acc_g, peaks, ic, seg0, fs_hz)
    to = np.full(ic.shape[0], np.nan)
    if ic.size and toe_off:
        to = _foot_toe_off(time_s, res_g, fs_hz, starts, stops, placement, ic, grid_offset)
    return DetectedStrikes(ic, peaks, np.full(ic.shape[0], "?", dtype="<U1"), to)


def shank_axial_ic(time_s: np.ndarray, acc_g: np.ndarray, peaks: np.ndarray, onset_s: np.ndarray,
                   seg_start: np.ndarray, fs_hz: float) -> np.ndarray:
    """Shank IC (s): the minimum of the axial acceleration (g) before the tibial shock.

    Axial = the direction of each strike's own shock (the sum of its acceleration vectors at >= half the
    peak |a|, within SPIKE_HALF_WIDTH_S of the peak; the shock runs along the tibia), so no sensor
    orientation is needed. The minimum is searched from SHANK_AXIAL_BACK_S before the onset
    of the shock's steep rise (onset_s, tangent method on |a|) up to that onset, inside the gap-free
    stretch, and timed to sub-sample by a parabola through it and its neighbours; a minimum on the
    window's first or last sample (no minimum inside it) keeps the onset.
    """
    m = peaks.shape[0]
    if m == 0:
        return onset_s
    end = np.minimum(search_times(time_s, onset_s), peaks)
    idx, valid = _windows(end, max(2, int(round(SHANK_AXIAL_BACK_S * fs_hz))) + 1, seg_start)
    # the shock's direction: the sum of its vectors within SPIKE_HALF_WIDTH_S of the peak at >= half the
    # peak |a| (a single peak sample of a clipped shock has its axial component cut: the axis would tilt)
    kh = max(1, int(round(SPIKE_HALF_WIDTH_S["shank"] * fs_hz)))
    near = np.clip(peaks[:, None] + np.arange(-kh, kh + 1)[None, :], 0, acc_g.shape[0] - 1)
    vec = acc_g[near]
    mag = np.linalg.norm(vec, axis=2)
    pk = np.einsum("mkj,mk->mj", vec, (mag >= 0.5 * mag.max(axis=1, keepdims=True)).astype(float))
    u = pk / np.maximum(np.linalg.norm(pk, axis=1), 1e-9)[:, None]
    axial = np.where(valid, np.einsum("mkj,mj->mk", acc_g[idx], u), np.inf)
    k = np.argmin(axial, axis=1)
    rows = np.arange(m)
    inside = (k > np.argmax(valid, axis=1)) & (k < axial.shape[1] - 1)
    # the vertex of the parabola through the minimum and its two neighbours (sub-sample timing)
    kk = np.clip(k, 1, axial.shape[1] - 2)
    ya, yb, yc = axial[rows, kk - 1], axial[rows, kk], axial[rows, kk + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip(0.5 * (ya - yc) / (ya - 2.0 * yb + yc), -0.5, 0.5)
    ta, tb, tc = time_s[idx[rows, kk - 1]], time_s[idx[rows, kk]], time_s[idx[rows, kk + 1]]
    t_min = tb + np.where(frac >= 0, frac * (tc - tb), frac * (tb - ta))
    return np.where(inside & np.isfinite(t_min), t_min, onset_s)


def _foot_toe_off(time_s: np.ndarray, res_g: np.ndarray, fs_hz: float, starts: np.ndarray, stops: np.ndarray,
                  placement: str, ic: np.ndarray, grid_offset: int) -> np.ndarray:
    """Toe-off times (s) on the FOOT_LP_HZ low-pass of |a| block-averaged to about TO_DETECT_HZ (cheap).

    The averaging blocks sit on a fixed grid of the recording (grid_offset = first index of the slice
    on the activity-block grid), so a window of a longer recording averages the same samples.
    """
    decim = block_samples(fs_hz)[1]
    d = max(k for k in range(1, decim + 1) if decim % k == 0 and k <= max(1.0, fs_hz / TO_DETECT_HZ))
    off = int(grid_offset) % d
    t_d = block_view(time_s[off:], d).mean(axis=1) if d > 1 else time_s
    r_d = block_view(res_g[off:], d).mean(axis=1) if d > 1 else res_g
    s_d = np.maximum(starts - off, 0) // d
    e_d = np.minimum(np.maximum(stops - off, 0) // d, t_d.shape[0])
    keep = e_d > s_d
    s_d, e_d = s_d[keep], e_d[keep]
    res_lp = zero_phase_filter(r_d, fs_hz / d, FOOT_LP_HZ, s_d, e_d)
    return foot_toe_off_s(t_d, res_lp, ic, s_d, e_d, placement)


def _post_level_g(time_s: np.ndarray, res_g: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean |a| (g) over POST_IMPACT_S after each index (the foot is on the ground after a landing)."""
    n = res_g.shape[0]
    a = search_times(time_s, time_s[idx] + POST_IMPACT_S[0])
    b = np.maximum(search_times(time_s, time_s[idx] + POST_IMPACT_S[1]), a + 1)
    width = int(min((b - a).max(), n)) if idx.size else 1
    w = np.minimum(a[:, None] + np.arange(width)[None, :], n - 1)
    ok = w < b[:, None]
    return np.where(ok, res_g[w], 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)


def _prefer_landings(time_s: np.ndarray, res_g: np.ndarray, spike: np.ndarray, cand: np.ndarray,
                     dist_of: Callable[[np.ndarray], np.ndarray], k: int) -> np.ndarray:
    """Replace stride candidates that are not followed by stance (|a| stays high: a swing jolt, e.g.
    the push-off stride at the start of a run) by the best landing within +-dist samples, if any.

    A loop runs over such candidates only (normally none or one per run).
    """
    if cand.size == 0:
        return cand
    post = _post_level_g(time_s, res_g, cand)
    level = np.maximum(POST_IMPACT_MAX_G, POST_IMPACT_REL * local_median(post))
    bad = np.flatnonzero(post > level)
    if bad.size == 0:
        return cand
    out = cand.copy()
    n = spike.shape[0]
    dist = dist_of(cand)  # stride spacing (samples) where each candidate is
    for i in bad.tolist():
        p = int(cand[i])
        lo, hi = max(0, p - int(dist[i])), min(n, p + int(dist[i]) + 1)
        seg = spike[lo:hi].copy()
        seg[max(0, p - k - lo):p + k + 1 - lo] = -np.inf
        order = np.argsort(seg)[::-1][:8] + lo  # a few best alternatives
        # only a comparably sharp landing may replace it: on a real shank |a| stays at 3-6 g for
        # 50-100 ms after the impact (the stance is not quiet), and the mid-swing jolts are far softer
        order = order[spike[order] >= max(SPIKE_MIN_G, SWAP_MIN_REL_SPIKE * spike[p])]
        good = order[_post_level_g(time_s, res_g, order) <= level[i]] if order.size else order
        if good.size:
            out[i] = good[0]  # else keep it: better a strike with a doubtful stance than none
    out = np.unique(out)
    # two candidates must not land within dist of each other
    return out[np.concatenate(([True], np.diff(out) > dist_of(out)[1:] // 2))]


def _stance_stillness_g(res_g: np.ndarray, idx: np.ndarray, fs_hz: float) -> np.ndarray:
    """Per index, how far (g) the foot is from a still stance after it: the smallest |mean - 1| + std
    of |a| over STILL_S sub-windows of STANCE_SEARCH_S after the index (0 = still at 1 g).

    Read on every d-th sample from each index (about STILL_HZ), relative to the index, so any window
    of a recording gives the same value.
    """
    n = res_g.shape[0]
    d = max(1, int(fs_hz // STILL_HZ))
    fs = fs_hz / d
    w = max(2, int(round(STILL_S * fs)))
    a0, a1 = int(round(STANCE_SEARCH_S[0] * fs)), max(int(round(STANCE_SEARCH_S[1] * fs)), w)
    cols = idx[:, None] + d * np.arange(a0, a1)[None, :]
    inside = cols < n
    x = res_g[np.minimum(cols, n - 1)]
    cs = np.concatenate((np.zeros((idx.size, 1)), np.cumsum(x, axis=1)), axis=1)
    cs2 = np.concatenate((np.zeros((idx.size, 1)), np.cumsum(x * x, axis=1)), axis=1)
    mean = (cs[:, w:] - cs[:, :-w]) / w
    var = np.maximum((cs2[:, w:] - cs2[:, :-w]) / w - mean * mean, 0.0)
    score = np.where(inside[:, w - 1:], np.abs(mean - 1.0) + np.sqrt(var), np.inf)
    return score.min(axis=1)


def _periodic_landings(time_s: np.ndarray, res_g: np.ndarray, spike: np.ndarray, cand: np.ndarray,
                       starts: np.ndarray, stops: np.ndarray, tiles: np.ndarray, tile_stride_s: np.ndarray,
                       fs_hz: float, k: int, placement: str) -> np.ndarray:
    """Re-choose one landing per stride among all impact-like spikes, consistent with the local stride.

    Candidates: the first-pass strikes and every spike >= CAND_MIN_G (at least CAND_SPACING_S apart),
    those whose impact peak (the raw maximum within +-k samples) has a timed rise before it.
    Strength = spikiness relative to the local typical strike (capped) times a landing factor (shoe:
    a landing is followed by the still mid-stance near 1 g, a swing jolt is not; shank: 1, its stance
    is loaded, see STILL_PLACEMENTS), relative to that of the local first-pass strikes; candidates
    below SPIKE_REL_HEIGHT of it are none. The chosen sequence is the one that best fits the local
    stride period (`select_periodic`; from the first-pass strikes, see PERIOD_FOLLOW).
    """
    if cand.size < 5:
        return cand
    dist = np.maximum(1, (CAND_SPACING_S * tile_stride_s * fs_hz).astype(np.int64))
    more = find_peaks_tiled(spike, fs_hz, starts, stops, tiles, dist, height=CAND_MIN_G)
    more = more[~_is_in_sorted(more, cand)]
    # a candidate whose impact peak has no rise before it (a kink on a falling edge) is none
    both = np.concatenate((cand, more))
    pk = _local_argmax(res_g, both, k)
    lookback = max(3, int(FOOT_LOOKBACK_S * fs_hz))
    timed = onset_times(time_s, res_g, pk, lookback, ONSET_FRACTION[placement], _segment_start_of(pk, starts))[1]
    if np.count_nonzero(timed[:cand.size]) < 5:
        return cand
    cand, more = cand[timed[:cand.size]], more[timed[cand.size:]]
    tc, tm = time_s[cand], time_s[more]
    typ_spike = local_median(spike[cand])
    raw_c = np.minimum(spike[cand] / typ_spike, 1.5) * _landing_factor(res_g, cand, fs_hz, placement)
    typ_raw = local_median(raw_c)
    rel_m = np.minimum(spike[more] / np.interp(tm, tc, typ_spike), 1.5)
    typ_m = np.interp(tm, tc, typ_raw)
    # as in the first pass, a candidate far weaker than the typical strike is none (those that stay
    # below even with a full landing factor are dropped before their stance is read)
    fit = rel_m >= SPIKE_REL_HEIGHT * typ_m
    more, rel_m, typ_m = more[fit], rel_m[fit], typ_m[fit]
    allc = np.concatenate((cand, more))
    strength = np.minimum(np.concatenate((raw_c / typ_raw,
                                          rel_m * _landing_factor(res_g, more, fs_hz, placement) / typ_m)), 1.5)
    order = np.argsort(allc, kind="stable")
    allc, strength = allc[order], strength[order]
    keep = strength >= SPIKE_REL_HEIGHT
    allc, strength = allc[keep], strength[keep]
    t = time_s[allc]
    mid, per = local_period_s(tc)
    # the first-pass strikes follow changes of pace; the tile's autocorrelation stride (searched within the
    # running stride range, so never a half or double of it) overrules them when they sit at a harmonic
    ref = tile_stride_s[_tile_of(allc, tiles)]
    per = np.interp(t, mid, per)
    per = np.where((per > ref / PERIOD_FOLLOW) & (per < ref * PERIOD_FOLLOW), per, ref)
    return allc[select_periodic(t, strength, per)]


def _landing_factor(res_g: np.ndarray, idx: np.ndarray, fs_hz: float, placement: str) -> np.ndarray:
    """1 for a candidate followed by a still stance near 1 g, down to LAND_MIN_FACTOR for none; 1 at
    the shank, whose stance is not still (see STILL_PLACEMENTS)."""
    if idx.size == 0:
        return np.zeros(0)
    if placement not in STILL_PLACEMENTS:
        return np.ones(idx.size)
    still = _stance_stillness_g(res_g, idx, fs_hz)
    return np.clip(1.0 - (still - STILL_OK_G) / STILL_RANGE_G, LAND_MIN_FACTOR, 1.0)


def _local_argmax(x: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Index of the highest local maximum of x (a sample not below its neighbours) within
    [i - k, i + k] for every i in idx; the plain maximum where the window holds none (a peak on the
    falling edge of a larger one is its own peak, not the higher edge sample beside it)."""
    if idx.size == 0:
        return idx
    n = x.shape[0]
    # x[i - k - 1 .. i + k + 1] per row, read as one row (rows whose window reaches past an end: below)
    width = 2 * k + 3
    lo = idx - k - 1
    seg = (np.lib.stride_tricks.sliding_window_view(x, width)[np.clip(lo, 0, n - width)] if n >= width
           else np.zeros((idx.size, width)))
    v = seg[:, 1:-1]
    is_peak = (v >= seg[:, :-2]) & (v >= seg[:, 2:])
    edge = np.flatnonzero((lo < 0) | (lo + width > n))
    if edge.size:  # the window's indices clamped to the samples, each compared with its clamped neighbours
        w = np.clip(idx[edge, None] + np.arange(-k, k + 1)[None, :], 0, n - 1)
        v[edge] = x[w]
        is_peak[edge] = (x[w] >= x[np.maximum(w - 1, 0)]) & (x[w] >= x[np.minimum(w + 1, n - 1)])
    best = np.argmax(np.where(is_peak, v, -np.inf), axis=1)
    plain = np.argmax(v, axis=1)
    return np.clip(idx - k + np.where(is_peak.any(axis=1), best, plain), 0, n - 1)


def waist_feet(time_s: np.ndarray, acc_g: np.ndarray, ic_time_s: np.ndarray, up: np.ndarray,
               i_ic: np.ndarray | None = None) -> np.ndarray:
    """Left/right per waist IC from the mediolateral acceleration in early stance; "?" where unsure.

    In the first LR_STANCE_S after IC the braking force is large and the pelvis is yawed with the
    landing leg's hip forward, so the horizontal acceleration leans towards the stance-foot side;
    it alternates from step to step. Forward is opposite to the local median early-stance (braking)
    horizontal acceleration; left = up x forward (up: one (3,) vector or one per strike). Feet
    alternate, so each strike is decided from the evidence of the strikes of its chain (no missed
    strike or gap) within +-LR_HALF strikes, and stays "?" when that evidence is weak. Everything is
    local (neighbouring strikes only), so a window of a longer recording decides the same. i_ic: the
    first sample at or after each IC (the last sample for an IC after it), if the caller has it.
    """
    m = ic_time_s.shape[0]
    foot = np.full(m, "?", dtype="<U1")
    if m < 4:
        return foot
    n = time_s.shape[0]
    i0 = np.minimum(search_times(time_s, ic_time_s), n - 1) if i_ic is None else i_ic
    u = np.asarray(up, dtype=np.float64) if np.ndim(up) == 2 else np.tile(np.asarray(up, dtype=np.float64), (m, 1))
    stance, early = _window_means(acc_g, i0, search_times(time_s, ic_time_s + LR_STANCE_S),
                                  search_times(time_s, ic_time_s + 0.05))
    # forward: opposite to the (large) braking acceleration just after IC; left = up x forward
    brake = np.column_stack([local_median(early[:, j], half=LR_HALF) for j in range(3)])
    brake -= u * np.einsum("ij,ij->i", brake, u)[:, None]
    norm = np.sqrt(np.einsum("ij,ij->i", brake, brake))
    left = np.cross(u, -brake / np.where(norm > 1e-6, norm, 1.0)[:, None])
    p = np.where(norm > 1e-6, np.einsum("ij,ij->i", stance, left), 0.0)
    # remove slow drift (speed, posture): compare each strike with the mean of its two neighbours
    q = np.empty_like(p)
    q[1:-1] = p[1:-1] - 0.5 * (p[:-2] + p[2:])
    q[0], q[-1] = p[0] - p[1], p[-1] - p[-2]
    # chains of consecutive strikes: an interval far from the local typical one breaks them
    d = np.diff(ic_time_s)
    med = local_median(d)
    chain = np.concatenate(([0], np.cumsum((d > 1.5 * med) | (d < 0.5 * med))))
    # evidence of strike i: q_j * (-1)^(j - i) over its chain's strikes within +-LR_HALF (a chain is a run
    # of consecutive strikes: the window is the offsets [lo, hi] from i)
    e = q * np.where(np.arange(m) % 2 == 0, 1.0, -1.0)
    first = np.flatnonzero(np.concatenate(([True], chain[1:] != chain[:-1])))
    runs = np.diff(np.append(first, m))
    own_first, own_last = np.repeat(first, runs), np.repeat(first + runs - 1, runs)
    lo = np.maximum(own_first - np.arange(m), -LR_HALF)
    hi = np.minimum(own_last - np.arange(m), LR_HALF)
    cnt = hi - lo + 1
    ev = np.lib.stride_tricks.sliding_window_view(np.pad(e, LR_HALF), 2 * LR_HALF + 1).copy()
    # the rows whose chain ends inside their window: the offsets outside [lo, hi] count as 0
    cut = np.flatnonzero(cnt < 2 * LR_HALF + 1)
    offsets = np.arange(-LR_HALF, LR_HALF + 1)
    out = (offsets[None, :] < lo[cut, None]) | (offsets[None, :] > hi[cut, None])
    part = ev[cut]
    np.copyto(part, 0.0, where=out)
    ev[cut] = part
    mean = ev.sum(axis=1) / cnt
    ev -= mean[:, None]  # in place from here: the squared deviations inside the window
    np.square(ev, out=ev)
    np.copyto(part, ev[cut])
    np.copyto(part, 0.0, where=out)
    ev[cut] = part
    spread = np.sqrt(ev.sum(axis=1) / cnt)
    score = mean * np.where(np.arange(m) % 2 == 0, 1.0, -1.0)
    sure = (cnt >= 4) & (np.abs(score) >= 3.0 * (spread / np.sqrt(cnt) + 1e-12))
    # early-stance acceleration towards the left => the left foot landed (see docstring)
    foot[sure] = np.where(score[sure] > 0, "L", "R")
    return foot


def _window_means(acc_g: np.ndarray, i0: np.ndarray, i1: np.ndarray, i2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3) means of acc_g over samples [i0, i1) and over [i0, i2) per row, i2 <= i1 (each at least sample i0)."""
    n = acc_g.shape[0]
    c1 = np.maximum(i1, i0 + 1) - i0
    c2 = np.maximum(i2, i0 + 1) - i0
    cols = np.arange(int(max(c1.max(), c2.max())))[:, None]
    idx = np.minimum(i0[None, :] + cols, n - 1)  # (width, M): sample c of every window in row c
    after = cols >= c1[None, :]  # samples after a window's end count as 0
    last2 = c2[None, :] == cols + 1  # the shorter sum is the longer one's first terms: taken at its last one
    out1, out2 = np.empty((i0.shape[0], 3)), np.empty((i0.shape[0], 3))
    for k in range(3):  # per axis, the window's samples added in order (a handful per strike)
        w = np.asarray(acc_g[:, k], dtype=np.float64)[idx]
        np.copyto(w, 0.0, where=after)
        total = w[0].copy()
        out2[:, k] = total
        for c in range(1, w.shape[0]):
            total += w[c]
            np.copyto(out2[:, k], total, where=last2[c])
        out1[:, k] = total
    return out1 / c1[:, None], out2 / c2[:, None]
