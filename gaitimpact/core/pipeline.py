"""The signal core's entry points: `analyze_signal` (arrays) and `analyze_recording` (a Recording).

Steps (all vectorised, no I/O, no state; the raw samples are never modified):
1. resultant |a| once; gap-free stretches (declared gaps + timestamp steps > 2.5 / fs);
2. block statistics of |a| -> placement (if "auto") and running bouts (standing/walking excluded);
3. per bout: initial contacts (strikes.py), in real timestamps, never searched across a gap;
4. per strike: peak, loading rate, clipped (impact.py, definitions.py), near_gap flag;
5. cadence over running time and per bout (cadence.py), both feet counted.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gaitimpact.core import bouts as bouts_mod
from gaitimpact.core.cadence import cadence_per_bout_spm, cadence_spm
from gaitimpact.core.definitions import IMPACT_WINDOW_S, LOADING_RATE_FRACTIONS
from gaitimpact.core.filters import (
    contiguous_segments,
    effective_fs_hz,
    overlaps_intervals,
    resultant_g,
    timestamps_regular,
)
from gaitimpact.core.impact import impact_figures, infer_range_g
from gaitimpact.core.placement import decide_placement
from gaitimpact.core.result import Analysis, Bout, Strikes
from gaitimpact.core.strikes import WAIST_LP_HZ, DetectedStrikes, detect_foot, detect_waist, grid_samples
from gaitimpact.errors import InputError
from gaitimpact.notice import Notice
from gaitimpact.recording import PLACEMENTS, Recording, steps_per_strike
from gaitimpact.timebase import GAP_FACTOR

BOUT_MARGIN_S = 1.5
"""Strikes are searched this far (s) beyond each running bout's block edges."""
DUPLICATE_S = 0.1
"""Two ICs closer than this (s) are the same strike (no running step is this short)."""
NEAR_GAP_BEFORE_S = 0.2
"""A strike is near_gap when a gap overlaps [IC - NEAR_GAP_BEFORE_S, IC + impact window]."""
MIN_RATE_HZ = {"waist": 100.0, "shoe": 500.0, "shank": 200.0}
"""Below these rates (Hz) the impact transient is not resolved: peak and loading rate read low (on the
simulator: shoe at 200 Hz loading rate -22 %; waist at 50 Hz loading rate -29 %, at 20 Hz peak -21 %)."""
LOW_RATE_SHANK_TIMING = ("; IC may be late by the sensor's own low-pass delay (real shank trials at 100 Hz: "
                         "+8 ms behind a 40 Hz, +12 ms behind a 30 Hz 4th-order filter)")
"""Added to the shank's low_rate notice: the IC timing a chip's causal low-pass shifts (the analysis cannot
know the filter; measured on the bach2022 trials brought to 100 Hz, README)."""
CONTEXT_S = 50.0
"""How far (s) from a strike the signal can change its result: its IC depends on its period tile and
that tile's context (strikes.PERIOD_TILE_S + PERIOD_CONTEXT_S + PEAK_CONTEXT_S = 27 s) and on the moving
gravity (GRAVITY_HALF_S + 1 block = 6 s), its foot on the strikes within 2 * LR_HALF (14 s at 142
steps/min), the activity blocks on +-3 s. A window of a longer recording reaching this far beyond a
strike gives that strike exactly as the whole recording does (`gaitimpact.core.chunked` overlaps so)."""
MIN_SAMPLES = 32
"""Fewer samples than this cannot be analysed."""
NO_RUNNING = Notice("no_running", "no running found (standing/walking only?)")
"""The notice of an analysis without a running bout."""


def gaps_notice(gap_iv: np.ndarray) -> Notice:
    """The notice for (K, 2) gap intervals in s the analysis saw (count and total length)."""
    total_s = float(np.sum(gap_iv[:, 1] - gap_iv[:, 0]))
    return Notice("gaps", f"{gap_iv.shape[0]} gap(s) in the samples ({total_s:.2f} s in total): strikes next to "
                  "them are flagged near_gap, none invented", {"gaps": int(gap_iv.shape[0]), "total_s": total_s})


def _check_inputs(time_s: np.ndarray, acc_g: np.ndarray, fs_hz: float) -> None:
    if acc_g.ndim != 2 or acc_g.shape[1] != 3:
        raise InputError(f"acceleration must be N x 3, got shape {acc_g.shape}", field="acc_g")
    if time_s.shape != (acc_g.shape[0],):
        raise InputError("time and acceleration have different lengths", field="time_s")
    if not np.isfinite(fs_hz) or fs_hz <= 0:
        raise InputError(f"sampling rate must be > 0 Hz, got {fs_hz}", field="fs_hz")
    if time_s.shape[0] < MIN_SAMPLES:
        raise InputError(f"too short: {time_s.shape[0]} samples (need at least {MIN_SAMPLES})", field="time_s")


def analyze_signal(
    time_s: np.ndarray,
    acc_g: np.ndarray,
    fs_hz: float,
    *,
    placement: str = "auto",
    range_g: float | None = None,
    gaps: Iterable = (),
    check_placement: bool = True,
    gap_threshold_s: float | None = None,
    contact: bool = True,
) -> Analysis:
    """Strikes, impact (g, g/s), bouts and cadence (steps/min) of (N,) times in s and (N, 3) acc in g.

    Times stay in the input's time base (a window of a longer stream works). placement "auto"
    decides from the signal; range_g None infers the range from flat-topped maxima if any.
    check_placement False uses a given placement without comparing it with the signal (no
    placement_mismatch notice; saves the placement features, e.g. for the live re-runs).
    gap_threshold_s: the timestamp step (s) that is a gap, when a window of a longer recording is given
    the recording's (default: `filters.gap_threshold_s` of these times).
    contact False times no toe-off: contact_ms is all NaN, every other figure is the same (the live re-runs
    show no contact time; toe-off was a sixth of their cost).
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    acc_g = np.asarray(acc_g, dtype=np.float64)
    _check_inputs(time_s, acc_g, float(fs_hz))
    if placement not in PLACEMENTS and placement != "auto":
        raise InputError(f"unknown placement {placement!r}, expected auto, {', '.join(PLACEMENTS)}",
                         field="placement")
    warnings: list[Notice] = []
    res = resultant_g(acc_g)
    if not (np.isfinite(res.sum()) and np.isfinite(time_s.sum())):
        # rows without a value are left out like a gap (never filled in)
        finite = np.isfinite(res) & np.isfinite(time_s)
        time_s, acc_g, res = time_s[finite], acc_g[finite], res[finite]
        n_missing = int((~finite).sum())
        warnings.append(Notice("missing_values", f"{n_missing} samples with missing values left out",
                               {"samples": n_missing}))
        _check_inputs(time_s, acc_g, float(fs_hz))
    dt = np.diff(time_s)  # finite times: a step <= 0 exactly where a time does not increase
    if np.any(dt <= 0):
        raise InputError("timestamps must be strictly increasing", field="time_s")
    fs_eff = effective_fs_hz(time_s, fs_hz, dt)
    if fs_eff > 0 and abs(fs_eff - fs_hz) > 0.05 * fs_hz:
        warnings.append(Notice("rate_mismatch", f"timestamps say {fs_eff:.1f} Hz, not the nominal {fs_hz:.1f} Hz: "
                               f"using {fs_eff:.1f} Hz", {"timestamps_hz": fs_eff, "nominal_hz": float(fs_hz)}))
        fs_hz = fs_eff
    fs_hz = float(fs_hz)

    starts, stops, gap_iv = contiguous_segments(time_s, fs_hz, gaps, gap_threshold_s, dt)
    regular = timestamps_regular(dt)
    del dt
    if gap_iv.shape[0]:
        warnings.append(gaps_notice(gap_iv))
    stats = bouts_mod.block_stats(time_s, res, fs_hz)

    if placement == "auto":
        placement, why = decide_placement(time_s, acc_g, res, fs_hz, stats)
        source = "auto"
        warnings.append(Notice("placement_auto", f"placement decided from the signal: {placement} ({why})"))
    else:
        source = "declared"
        # a declared shoe or shank is only checked against the waist (which foot placement is not looked at)
        seen, why = (decide_placement(time_s, acc_g, res, fs_hz, stats, foot_kind=placement == "waist")
                     if check_placement else (placement, ""))
        if (seen == "waist") != (placement == "waist"):
            warnings.append(Notice("placement_mismatch", f"placement declared {placement}, but the signal looks "
                                   f"like {seen} ({why}): check --placement or the sidecar"))
    if fs_hz < MIN_RATE_HZ[placement]:
        warnings.append(Notice("low_rate", f"{fs_hz:.0f} Hz is below the {MIN_RATE_HZ[placement]:.0f} Hz a "
                               f"{placement} impact needs: peak_g and loading_rate_gps may read low"
                               + (LOW_RATE_SHANK_TIMING if placement == "shank" else ""),
                               {"fs_hz": fs_hz, "min_rate_hz": MIN_RATE_HZ[placement]}))

    if range_g is None:
        range_g = infer_range_g(acc_g, step=1, res_g=res)
        if range_g is not None:
            warnings.append(Notice("range_inferred", f"sensor range inferred as +-{range_g:g} g from flat-topped "
                                   "maxima", {"range_g": float(range_g)}))

    run = bouts_mod.running_blocks(stats, placement)
    bouts = bouts_mod.bouts_from_blocks(stats, run)

    det = _detect_in_bouts(time_s, acc_g, res, fs_hz, placement, bouts, starts, stops, contact)
    bouts, bout_idx, keep = trim_bouts(det.ic_time_s, bouts)
    if not bouts:
        warnings.append(NO_RUNNING)
    ic = det.ic_time_s[keep]
    bout_idx = bout_idx[keep]
    foot = det.foot[keep]
    contact_ms = (det.to_time_s[keep] - ic) * 1e3
    fig = impact_figures(time_s, res, ic, placement, acc_g=acc_g, range_g=range_g, steps_regular=regular)
    win = IMPACT_WINDOW_S[placement]
    near_gap = overlaps_intervals(ic - NEAR_GAP_BEFORE_S, ic + win, gap_iv)
    # strikes whose impact window runs past the end of the samples are incomplete: flag them like a gap
    # (the start of the file is not a gap: a strike 0.08 s in has its whole impact window)
    near_gap |= ic + win > time_s[-1]
    strikes = Strikes(
        time_s=ic,
        foot=foot.astype("<U1"),
        peak_g=fig.peak_g,
        loading_rate_gps=fig.loading_rate_gps,
        clipped=fig.clipped,
        near_gap=near_gap,
        bout=bout_idx,
        contact_ms=contact_ms,
    )
    if fig.clipped.any():
        n_clipped = int(fig.clipped.sum())
        warnings.append(Notice("clipped", f"{n_clipped} of {len(strikes)} strikes reached the sensor range "
                               f"(+-{range_g:g} g): their peak_g is a lower bound",
                               {"strikes": n_clipped, "range_g": float(range_g or 0.0)}))
    per_strike = steps_per_strike(placement)
    cad = cadence_spm(ic, per_strike, bout_idx, gap_iv)
    per_bout = cadence_per_bout_spm(ic, bout_idx, len(bouts), per_strike, gap_iv)
    running_s = float(sum(b.duration_s for b in bouts))
    params = {
        "impact_window_s": win,
        "peak": "max of the raw resultant |a| (g) in [IC, IC + impact_window_s], band-limited interpolation",
        "loading_rate": f"(a{int(LOADING_RATE_FRACTIONS[1] * 100)} - a{int(LOADING_RATE_FRACTIONS[0] * 100)})"
                        " / (t80 - t20) of the rise from |a| at IC to the peak, g/s",
        "detection_filter": (f"zero-phase Butterworth low-pass {WAIST_LP_HZ:g} Hz (sosfiltfilt) on the vertical"
                             if placement == "waist" else "raw resultant (impact transients)"),
        "gap_threshold_s": GAP_FACTOR / fs_hz,
        "range_g": range_g,
        "steps_per_strike": per_strike,
        "cadence_per_bout_spm": per_bout,
    }
    return Analysis(
        placement=placement,
        placement_source=source,
        fs_hz=fs_hz,
        duration_s=float(time_s[-1] - time_s[0]),
        running_s=running_s,
        strikes=strikes,
        bouts=bouts,
        cadence_spm=cad,
        warnings=warnings,
        params=params,
    )


def analyze_recording(rec: Recording, placement: str | None = None) -> Analysis:
    """`analyze_signal` on a Recording: placement argument > rec.meta.placement > "auto"; times in s."""
    place = placement or rec.meta.placement or "auto"
    ana = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement=place, range_g=rec.meta.range_g,
                         gaps=rec.gaps)
    return ana


def _detect_in_bouts(
    time_s: np.ndarray, acc_g: np.ndarray, res: np.ndarray, fs_hz: float, placement: str,
    bouts: list[Bout], starts: np.ndarray, stops: np.ndarray, toe_off: bool = True,
) -> DetectedStrikes:
    """Detect strikes bout by bout (slices aligned on the recording's grid: `strikes.grid_samples`); IC times in s
    (toe-offs NaN unless toe_off)."""
    ics, peaks, feet, tos = [], [], [], []
    n = time_s.shape[0]
    grid = grid_samples(fs_hz)
    for b in bouts:
        i0 = int(np.searchsorted(time_s, b.start_s - BOUT_MARGIN_S))
        i1 = int(np.searchsorted(time_s, b.end_s + BOUT_MARGIN_S, side="right"))
        i1 = min(i1, n)
        if i1 - i0 < MIN_SAMPLES:
            continue
        s_loc, e_loc = _local_segments(starts, stops, i0, i1)
        grid_offset = (-i0) % grid  # the slice's first sample on the recording's grid
        if placement == "waist":
            d = detect_waist(time_s[i0:i1], acc_g[i0:i1], fs_hz, s_loc, e_loc, grid_offset=grid_offset,
                             toe_off=toe_off)
        else:
            d = detect_foot(time_s[i0:i1], res[i0:i1], fs_hz, s_loc, e_loc, placement, grid_offset=grid_offset,
                            acc_g=acc_g[i0:i1], toe_off=toe_off)
        keep = (d.ic_time_s >= b.start_s - BOUT_MARGIN_S) & (d.ic_time_s <= b.end_s + BOUT_MARGIN_S)
        ics.append(d.ic_time_s[keep])
        peaks.append(d.peak_index[keep] + i0)
        feet.append(d.foot[keep])
        tos.append(d.to_time_s[keep])
    ic = np.concatenate(ics) if ics else np.zeros(0)
    if ic.size == 0:  # no bout long enough, or bouts that held no strike
        return DetectedStrikes(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype="<U1"))
    order = np.argsort(ic, kind="stable")
    ic, pk, ft = ic[order], np.concatenate(peaks)[order], np.concatenate(feet)[order]
    to = np.concatenate(tos)[order]
    # neighbouring bouts' search margins overlap: the same strike found twice is kept once
    keep = np.concatenate(([True], np.diff(ic) > DUPLICATE_S))
    return DetectedStrikes(ic[keep], pk[keep], ft[keep], to[keep])


def _local_segments(starts: np.ndarray, stops: np.ndarray, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
    """Gap-free stretches clipped to [i0, i1), re-based to i0."""
    keep = (stops > i0) & (starts < i1)
    s = np.clip(starts[keep], i0, i1) - i0
    e = np.clip(stops[keep], i0, i1) - i0
    return s, e


def trim_bouts(ic: np.ndarray, bouts: list[Bout]) -> tuple[list[Bout], np.ndarray, np.ndarray]:
    """Bouts trimmed to their strikes (first IC to last IC + one typical interval, s), bouts with
    fewer than 3 strikes dropped; each strike's index into the returned list; strikes to keep."""
    idx = _bout_index(ic, bouts)
    out: list[Bout] = []
    new_idx = np.zeros(ic.shape[0], dtype=np.int64)
    for b in range(len(bouts)):
        sel = np.flatnonzero(idx == b)
        if sel.size < 3:
            continue
        t = ic[sel]
        step = float(np.median(np.diff(t)))
        new_idx[sel] = len(out)
        out.append(Bout(float(t[0]), float(t[-1] + step), "running"))
    kept_bouts = [b for b in range(len(bouts)) if np.count_nonzero(idx == b) >= 3]
    keep = np.isin(idx, kept_bouts)
    return out, new_idx, keep


def _bout_index(ic: np.ndarray, bouts: list[Bout]) -> np.ndarray:
    """Index of the bout (with margin) holding each IC time (s)."""
    if not bouts or ic.shape[0] == 0:
        return np.zeros(ic.shape[0], dtype=np.int64)
    starts = np.array([b.start_s - BOUT_MARGIN_S for b in bouts])
    return np.clip(np.searchsorted(starts, ic, side="right") - 1, 0, len(bouts) - 1).astype(np.int64)
