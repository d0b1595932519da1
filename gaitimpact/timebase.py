"""Timestamp rules every layer shares: the sampling rate, what a gap is, merging gap intervals.

One meaning of a gap everywhere: a step between consecutive timestamps longer than GAP_FACTOR
sample periods (the period from the nominal rate, or the median step when the rate is not yet known)
means at least one sample is missing. Readers list such gaps; the signal core additionally widens
the threshold for heavy timestamp jitter (`gaitimpact.core.filters.gap_threshold_s`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gaitimpact.notice import Notice
from gaitimpact.recording import Gap

GAP_FACTOR = 2.5
"""A time step longer than GAP_FACTOR sample periods is a gap (at least one sample missing)."""

RATE_SAMPLE_STEPS = 500_000
"""At most this many time steps (evenly strided) go into the median step: enough for any file."""


def nice_rate_hz(fs_hz: float) -> float:
    """A measured rate in Hz rounded for display: whole Hz when within 0.5 %, else 0.01 Hz
    (4 significant digits below 1 Hz, so a slow rate never rounds to 0)."""
    r = round(fs_hz)
    if r > 0 and abs(fs_hz - r) / fs_hz < 0.005:
        return float(r)
    return round(fs_hz, 2) if fs_hz >= 1.0 else float(f"{fs_hz:.4g}")


def median_step_s(dt_s: np.ndarray) -> float:
    """Median time step in s of an array of steps (strided to at most RATE_SAMPLE_STEPS; NaN if empty)."""
    if dt_s.size == 0:
        return float("nan")
    return float(median(dt_s[:: max(1, dt_s.size // RATE_SAMPLE_STEPS)]))


def median(x: np.ndarray) -> float:
    """np.median of a 1-D array, faster when its middle values repeat (regular timestamp steps): the
    median of a subsample is checked by counting what lies below and at it; else np.median."""
    n = x.shape[0]
    if n < 64:
        return float(np.median(x))
    guess = np.median(x[:: n // 32])
    below = int(np.count_nonzero(x < guess))
    at = int(np.count_nonzero(x == guess))
    above = int(np.count_nonzero(x > guess))
    # both middle order statistics equal the guess (and nothing is NaN): that is the median
    if below <= (n - 1) // 2 and below + at > n // 2 and below + at + above == n:
        return float(guess)
    return float(np.median(x))


def estimate_rate_hz(time_s: np.ndarray) -> float:
    """Nominal sampling rate in Hz: 1 / median time step, rounded by `nice_rate_hz` (0 when it cannot be told)."""
    if time_s.size < 2:
        return 0.0
    step = median_step_s(np.diff(time_s))
    return nice_rate_hz(1.0 / step) if step > 0 and np.isfinite(step) else 0.0


def gap_steps(dt_s: np.ndarray, period_s: float) -> np.ndarray:
    """Boolean mask of the time steps (s) that are gaps: longer than GAP_FACTOR sample periods (s)."""
    return dt_s > GAP_FACTOR * period_s


def find_gaps(time_s: np.ndarray, period_s: float) -> list[Gap]:
    """Gaps (`gap_steps`) between consecutive times in s, as Gap(last sample before, first after)."""
    if time_s.size < 2:
        return []
    idx = np.flatnonzero(gap_steps(np.diff(time_s), period_s))
    return [Gap(float(time_s[i]), float(time_s[i + 1]), "timestamps") for i in idx]


def timing_notes(n_gaps: int, longest_gap_s: float, total_gap_s: float, step_mean_s: float,
                 step_std_s: float) -> list[Notice]:
    """The readers' notices on gaps and jitter, from step statistics in s."""
    out = []
    if n_gaps:
        out.append(Notice("timestamp_gaps", f"{n_gaps} gap(s) in the timestamps (longest {longest_gap_s:.3g} s, "
                          f"total {total_gap_s:.3g} s); kept as gaps, not filled",
                          {"gaps": n_gaps, "longest_s": longest_gap_s, "total_s": total_gap_s}))
    if step_mean_s > 0 and step_std_s > 0.1 * step_mean_s:
        out.append(Notice("irregular_sampling", f"irregular sampling: interval {step_mean_s * 1e3:.3g} ms +- "
                          f"{step_std_s * 1e3:.2g} ms (std)", {"step_mean_s": step_mean_s, "step_std_s": step_std_s}))
    return out


def merge_gaps(detected: list[Gap], known: list[Gap]) -> list[Gap]:
    """Known gaps (metadata, with their reasons) plus detected gaps that none of them overlaps, sorted."""
    out = list(known)
    for g in detected:
        if not any(g.start_s < k.end_s and k.start_s < g.end_s for k in known):
            out.append(g)
    return sorted(out, key=lambda g: g.start_s)


def merge_intervals(intervals: Iterable[tuple[float, float]] | np.ndarray) -> np.ndarray:
    """Sorted (K, 2) intervals in s with overlapping (or touching within 1 ns) ones merged."""
    iv = np.asarray(list(intervals) if not isinstance(intervals, np.ndarray) else intervals,
                    dtype=np.float64).reshape(-1, 2)
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    out: list[list[float]] = []
    for a, b in iv.tolist():  # one step per gap
        if out and a <= out[-1][1] + 1e-9:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)
