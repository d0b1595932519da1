"""Long recordings in bounded memory: analyse a stream of sample blocks in overlapping windows, stitch.

Pure (numpy in, numpy out, no I/O): the blocks come from `gaitimpact.io.blocks` and the file-level
orchestration (metadata, warnings, summary) is `gaitimpact.analysis.service`.

The recording is cut into core intervals of `chunk_s` seconds (times from the first sample). Each
core interval is analysed by the ordinary signal core (`gaitimpact.core.pipeline.analyze_signal`) on a
window that reaches `overlap_s` (at least the core's `pipeline.CONTEXT_S`) further on both sides and starts
on the core's sample grid (`strikes.grid_samples`). Every quantity of the core is local (moving gravity,
per-tile gait period, blocks on the recording's grid, left/right from neighbouring strikes), so the
strikes whose IC falls inside the core interval are exactly those of a whole-file run; only those are
kept. Running bouts are clipped to their core interval and re-joined where they touch across a
boundary. Cadence is recomputed over all stitched strikes with `gaitimpact.core.cadence.cadence_spm`
(the same definition the whole-file analysis uses).

Memory holds one window (chunk_s + 2 * overlap_s of samples) plus the per-strike results: a 10 h file
at 1000 Hz with the default 600 s chunks keeps about 0.7 M samples in memory at a time.

Placement "auto" is decided on the first window that contains running and then kept for the rest
(reported as placement_source "auto").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gaitimpact.core import filters, pipeline
from gaitimpact.core.cadence import cadence_per_bout_spm, cadence_spm
from gaitimpact.core.result import Analysis, Bout, Strikes
from gaitimpact.core.strikes import grid_samples
from gaitimpact.errors import InputError
from gaitimpact.notice import Notice
from gaitimpact.recording import Gap, steps_per_strike
from gaitimpact.timebase import GAP_FACTOR, estimate_rate_hz, gap_steps, merge_intervals, timing_notes

DEFAULT_CHUNK_S = 600.0
"""Core interval per analysis window, s."""

DEFAULT_OVERLAP_S = pipeline.CONTEXT_S
"""Extra signal on each side of a core interval, s: at least the core's context (`pipeline.CONTEXT_S`),
the farthest any sample can change a strike, so every kept strike is the whole recording's."""

WINDOW_ONLY_CODES = ("gaps", "no_running")
"""Notices of one window that the stitched, whole-recording notices replace."""

MIN_WINDOW_SAMPLES = 32
"""Windows with fewer samples are not analysed (the core needs at least this many; no strike fits)."""

Block = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]
"""(time_s (n,), acc_g (n, 3), gyro_dps (n, 3) or None): time from the first sample, strictly increasing."""


@dataclass
class ChunkedStats:
    """What the streaming pass saw: samples, duration (s), rate (Hz), gaps, windows analysed, step sums (s)."""

    n_samples: int = 0
    duration_s: float = 0.0
    fs_hz: float = 0.0
    gaps: list[Gap] = field(default_factory=list)
    windows: int = 0
    regular_steps: int = 0
    regular_sum_s: float = 0.0
    regular_sumsq_s2: float = 0.0
    first_steps: list[np.ndarray] = field(default_factory=list)
    """The recording's first filters.GAP_STAT_STEPS steps (s): the core's gap threshold comes from them."""
    gap_candidates: list[tuple[float, float]] = field(default_factory=list)
    """Steps longer than GAP_FACTOR periods (s, start and end): the core's gaps are those above the threshold."""

    def core_gap_threshold_s(self) -> float:
        """The signal core's gap threshold (s) of the whole recording (`filters.gap_threshold_s`)."""
        dt = np.concatenate(self.first_steps) if self.first_steps else np.zeros(0)
        return float(filters.gap_threshold_s(dt, self.fs_hz))

    def core_gaps(self) -> list[tuple[float, float]]:
        """The gaps the signal core sees in the whole recording, (start, end) s."""
        thr = self.core_gap_threshold_s()
        return [g for g in self.gap_candidates if g[1] - g[0] > thr]

    def timing_warnings(self) -> list[Notice]:
        """The readers' notes on gaps and jitter, from the streamed step statistics."""
        lengths = [g.duration_s for g in self.gaps]
        n = self.regular_steps
        mean = self.regular_sum_s / n if n else 0.0
        std = math.sqrt(max(0.0, self.regular_sumsq_s2 / n - mean * mean)) if n > 2 else 0.0
        return timing_notes(len(lengths), max(lengths, default=0.0), sum(lengths), mean, std)


# ------------------------------------------------------------------------------------------- windowing


def _steps_of(t: np.ndarray, fs_hz: float, prev_t: float | None, stats: ChunkedStats) -> None:
    """Gaps (steps longer than GAP_FACTOR periods) in a block, including the step from the previous block,
    and running sums of the regular steps (for the rate and jitter figures)."""
    tt = t if prev_t is None else np.concatenate(([prev_t], t))
    if tt.size < 2:
        return
    dt = np.diff(tt)
    have = sum(x.size for x in stats.first_steps)
    if have < filters.GAP_STAT_STEPS:
        stats.first_steps.append(dt[:filters.GAP_STAT_STEPS - have].copy())
    long = gap_steps(dt, 1.0 / fs_hz)
    stats.gaps.extend(Gap(float(tt[i]), float(tt[i + 1]), "timestamps") for i in np.flatnonzero(long))
    # the core's threshold (`filters.gap_threshold_s`) is never below GAP_FACTOR / fs_hz: keep those steps,
    # decide at the end
    stats.gap_candidates.extend((float(tt[i]), float(tt[i + 1])) for i in np.flatnonzero(dt > GAP_FACTOR / fs_hz))
    regular = dt[~long]
    stats.regular_steps += int(regular.size)
    stats.regular_sum_s += float(regular.sum())
    stats.regular_sumsq_s2 += float(np.square(regular).sum())


STRIKE_FIELDS = ("time_s", "foot", "peak_g", "loading_rate_gps", "clipped", "near_gap", "bout", "contact_ms")
"""The per-strike arrays a window hands to the stitcher."""


def _select_strikes(strikes: Strikes, keep: np.ndarray) -> dict[str, np.ndarray]:
    """The fields of the kept strikes."""
    return {name: np.asarray(getattr(strikes, name))[keep] for name in
            STRIKE_FIELDS}


def analyze_blocks(
    blocks: Iterable[Block],
    *,
    fs_hz: float | None = None,
    placement: str = "auto",
    range_g: float | None = None,
    declared_gaps: Iterable[Gap] = (),
    chunk_s: float = DEFAULT_CHUNK_S,
    overlap_s: float = DEFAULT_OVERLAP_S,
) -> tuple[Analysis, ChunkedStats]:
    """Analyse a stream of clean sample blocks (time s from 0, strictly increasing; acc g) in overlapping
    windows; returns the stitched Analysis and what the pass saw."""
    if chunk_s <= 0 or overlap_s < 0:
        raise InputError("chunk_s must be > 0 and overlap_s >= 0", field="chunk_s")
    overlap_s = max(float(overlap_s), pipeline.CONTEXT_S)  # less would let a window edge move strikes
    stats = ChunkedStats()
    declared = sorted(declared_gaps, key=lambda g: g.start_s)
    buf_t: list[np.ndarray] = []
    buf_a: list[np.ndarray] = []
    buf_i0 = 0  # global index of the first buffered sample
    fs = float(fs_hz) if fs_hz else 0.0
    block = 1
    prev_t: float | None = None
    k = 0
    saturated = False
    kept: list[dict[str, np.ndarray]] = []
    bouts: list[tuple[float, float, str]] = []  # bouts clipped to their core interval
    window_first: Analysis | None = None
    chosen = placement
    source = "declared" if placement != "auto" else "auto"
    warnings: list[Notice] = []

    def align(i_local: int) -> int:
        """Local index rounded down so that its global index is on the core's activity-block grid."""
        return max(0, (buf_i0 + i_local) // block * block - buf_i0)

    def run_window(core_start: float, core_end: float, final: bool) -> float | None:
        """Analyse one window; keep what later windows need; return the first time >= core_end (or None)."""
        nonlocal window_first, chosen, buf_t, buf_a, buf_i0
        t = np.concatenate(buf_t) if len(buf_t) > 1 else buf_t[0]
        a = np.concatenate(buf_a) if len(buf_a) > 1 else buf_a[0]
        buf_t, buf_a = [], []  # the blocks are in t, a now: freed before the core runs
        lo = align(int(np.searchsorted(t, core_start - overlap_s, side="left")))
        hi = t.size if final else int(np.searchsorted(t, core_end + overlap_s, side="right"))
        core_has = bool(np.any((t[lo:hi] >= core_start) & (t[lo:hi] < core_end)))
        if core_has and hi - lo >= MIN_WINDOW_SAMPLES:
            tw, aw = t[lo:hi], a[lo:hi]
            gaps_w = [g for g in declared if g.end_s >= tw[0] and g.start_s <= tw[-1]]
            # the placement is decided (auto) or checked (declared) on the windows up to the first with running,
            # as auto placement is: later windows take it as it is
            decided = window_first is not None and bool(window_first.bouts)
            an = pipeline.analyze_signal(tw, aw, fs, placement=chosen, range_g=range_g, gaps=gaps_w,
                                         check_placement=not decided,
                                         # the recording's gap threshold (from its first steps, all seen by now
                                         # at >= 40 Hz)
                                         gap_threshold_s=stats.core_gap_threshold_s())
            stats.windows += 1
            if window_first is None or (not window_first.bouts and an.bouts):
                window_first = an
            if chosen == "auto" and an.bouts:
                chosen = an.placement
            # gap counts and "no running" of one window are replaced by whole-recording notices
            warnings.extend(w for w in an.warnings if w not in warnings and w.code not in WINDOW_ONLY_CODES)
            kept.append(_keep_core(an, core_start, core_end, bouts))
        # keep only what the next window needs (from its aligned start on)
        keep_from = align(int(np.searchsorted(t, core_end - overlap_s, side="left")))
        buf_t, buf_a = [t[keep_from:].copy()], [a[keep_from:].copy()]  # copies: the window's arrays go
        buf_i0 += keep_from
        nxt = int(np.searchsorted(t, core_end, side="left"))
        return float(t[nxt]) if nxt < t.size else None

    for t, a, _gyro in blocks:
        if t.size == 0:
            continue
        if block == 1:  # the first block: the rate (unless given) and the core's grid (`strikes.grid_samples`)
            fs = fs or _rate_of_first_block(t)
            stats.fs_hz = fs
            block = grid_samples(fs)
        _steps_of(t, fs, prev_t, stats)
        prev_t = float(t[-1])
        stats.n_samples += int(t.size)
        buf_t.append(t)
        buf_a.append(a)
        while not saturated and float(t[-1]) >= (k + 1) * chunk_s + overlap_s:
            next_t = run_window(k * chunk_s, (k + 1) * chunk_s, final=False)
            # jump over core intervals without samples (long gaps, absurd timestamps) in one step
            k = max(k + 1, int(next_t // chunk_s)) if next_t is not None and math.isfinite(next_t) else k + 1
            # absurd times (e.g. 1e300 s): the float grid no longer advances; the rest is one final window
            saturated = (k + 2) * chunk_s - (k + 1) * chunk_s < 0.5 * chunk_s
    if stats.n_samples < 2:
        raise InputError("too few valid samples for analysis")
    if buf_t and sum(x.size for x in buf_t):
        run_window(k * chunk_s, math.inf, final=True)
    stats.duration_s = float(prev_t or 0.0)
    stats.fs_hz = fs
    return _stitch(kept, bouts, stats, window_first, chosen, source, warnings, declared), stats


def _rate_of_first_block(t: np.ndarray) -> float:
    """Nominal rate (Hz) from the first block's times (s); InputError when it cannot be told."""
    fs = estimate_rate_hz(t)
    if not fs:
        raise InputError("cannot tell the sampling rate from the time column", field="time_s")
    return fs


def _keep_core(an: Analysis, core_start: float, core_end: float,
               bouts: list[tuple[float, float, str]]) -> dict[str, np.ndarray]:
    """The strikes of a window whose IC falls in its core interval [core_start, core_end) (s); the
    window's bouts clipped to that interval are appended to `bouts` and the strikes renumbered to them."""
    st = an.strikes
    sel = (st.time_s >= core_start) & (st.time_s < core_end)
    picked = _select_strikes(st, sel)
    to_global: dict[int, int] = {}
    for i, b in enumerate(an.bouts):
        s0, s1 = max(b.start_s, core_start), min(b.end_s, core_end)
        if s1 > s0 or np.any(sel & (st.bout == i)):
            to_global[i] = len(bouts)
            bouts.append((s0, max(s0, s1), b.activity))
    picked["bout"] = np.array([to_global.get(int(i), -1) for i in picked["bout"]], dtype=np.int64)
    return picked


def _retrim(bouts: list[Bout], cols: dict[str, np.ndarray]) -> tuple[list[Bout], dict[str, np.ndarray]]:
    """Re-apply the core's bout trimming (bout = first IC .. last IC + typical interval) to the stitched
    strikes, so a bout's end uses the interval of the whole bout, not of its last window."""
    if not bouts:
        return bouts, cols
    new_bouts, new_idx, keep = pipeline.trim_bouts(cols["time_s"], bouts)
    cols = {name: values[keep] for name, values in cols.items()}
    cols["bout"] = np.asarray(new_idx, dtype=np.int64)[keep]
    return list(new_bouts), cols


def _stitch(
    kept: list[dict[str, np.ndarray]],
    clipped_bouts: list[tuple[float, float, str]],
    stats: ChunkedStats,
    first: Analysis | None,
    placement: str,
    source: str,
    warnings: list[Notice],
    declared: list[Gap],
) -> Analysis:
    """Join per-window strikes and bouts into one Analysis over the whole recording."""
    # merge clipped bouts that touch across a window boundary
    merged: list[list[Any]] = []
    remap: dict[int, int] = {}
    for i, (s0, s1, act) in enumerate(clipped_bouts):
        if merged and merged[-1][2] == act and s0 <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], s1)
        else:
            merged.append([s0, s1, act])
        remap[i] = len(merged) - 1
    bouts = [Bout(float(s0), float(s1), str(act)) for s0, s1, act in merged]
    if kept:
        cols = {name: np.concatenate([k[name] for k in kept]) for name in kept[0]}
    else:
        empty = Strikes.empty()
        cols = {name: getattr(empty, name) for name in STRIKE_FIELDS}
    cols["bout"] = np.array([remap.get(int(b), -1) for b in cols["bout"]], dtype=np.int64)
    bouts, cols = _retrim(bouts, cols)
    strikes = Strikes(**cols)
    if placement == "auto" and first is not None:
        placement = first.placement
    per = steps_per_strike(placement)
    gap_iv = merge_intervals([*stats.core_gaps(), *((g.start_s, g.end_s) for g in declared)])
    cadence = cadence_spm(strikes.time_s, per, strikes.bout, gap_iv) if len(strikes) >= 2 else float("nan")
    running_s = float(sum(b.duration_s for b in bouts))
    if gap_iv.shape[0]:
        warnings = [pipeline.gaps_notice(gap_iv), *warnings]
    if not bouts:
        warnings.append(pipeline.NO_RUNNING)
    params = dict(first.params) if first is not None else {}
    params["cadence_per_bout_spm"] = cadence_per_bout_spm(strikes.time_s, strikes.bout, len(bouts), per, gap_iv)
    return Analysis(
        placement=placement,
        placement_source=(first.placement_source if first is not None and source == "auto" else source),
        fs_hz=stats.fs_hz or (first.fs_hz if first is not None else 0.0),
        duration_s=stats.duration_s,
        running_s=running_s,
        strikes=strikes,
        bouts=bouts,
        cadence_spm=cadence,
        warnings=list(warnings),
        params=params,
    )
