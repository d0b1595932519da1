"""Cadence in steps/min, both feet counted, from IC times.

Cadence = 60 * (number of step intervals) / (their total duration), using only intervals between
consecutive strikes of the same running bout that do not span a gap and are not much longer than
the typical interval (a missed strike). A shoe/shank sensor sees one foot, so its strike-to-strike
interval is a stride: its cadence is 2 x stride rate.
"""

from __future__ import annotations

import numpy as np

from gaitimpact.core.filters import overlaps_intervals

MAX_INTERVAL_RATIO = 1.5
"""Intervals longer than this multiple of the median are treated as missed strikes and not counted."""
FEW_INTERVALS = 5
"""With fewer usable intervals than this the shortest one, not the median, is the typical interval."""


def valid_intervals(
    ic_time_s: np.ndarray, bout: np.ndarray | None = None, gap_iv: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Intervals (s) between consecutive strikes and a mask of those usable for cadence."""
    t = np.asarray(ic_time_s, dtype=np.float64)
    if t.shape[0] < 2:
        return np.zeros(0), np.zeros(0, dtype=bool)
    d = np.diff(t)
    ok = d > 0
    if bout is not None:
        ok &= bout[1:] == bout[:-1]
    if gap_iv is not None and gap_iv.shape[0]:
        ok &= ~overlaps_intervals(t[:-1], t[1:], gap_iv)
    if ok.any():
        # the typical interval: the median, but with few intervals (a short capture) one missed strike
        # would drag the median up, so the shortest usable interval is the reference then
        ref = float(np.median(d[ok])) if np.count_nonzero(ok) >= FEW_INTERVALS else float(np.min(d[ok]))
        ok &= d <= MAX_INTERVAL_RATIO * ref
    return d, ok


def cadence_spm(
    ic_time_s: np.ndarray,
    steps_per_strike: int = 1,
    bout: np.ndarray | None = None,
    gap_iv: np.ndarray | None = None,
) -> float:
    """Steps per minute from IC times (s); steps_per_strike = 2 for a one-foot (shoe/shank) sensor; NaN if < 2."""
    d, ok = valid_intervals(ic_time_s, bout, gap_iv)
    if not ok.any():
        return float("nan")
    return float(60.0 * steps_per_strike * np.count_nonzero(ok) / d[ok].sum())


def cadence_per_bout_spm(
    ic_time_s: np.ndarray, bout: np.ndarray, n_bouts: int, steps_per_strike: int = 1,
    gap_iv: np.ndarray | None = None,
) -> list[float]:
    """Cadence (steps/min) of every bout index 0..n_bouts-1 (NaN where fewer than 2 usable strikes)."""
    d, ok = valid_intervals(ic_time_s, bout, gap_iv)
    out = []
    for b in range(n_bouts):
        sel = ok & (bout[1:] == b) if d.shape[0] else np.zeros(0, dtype=bool)
        out.append(float(60.0 * steps_per_strike * sel.sum() / d[sel].sum()) if sel.any() else float("nan"))
    return out


def cadence_between_spm(
    ic_time_s: np.ndarray, start_s: float, end_s: float, steps_per_strike: int = 1,
    bout: np.ndarray | None = None, gap_iv: np.ndarray | None = None,
) -> float:
    """Cadence (steps/min) from the strikes between start_s and end_s (s), e.g. one surface segment."""
    t = np.asarray(ic_time_s)
    sel = (t >= start_s) & (t <= end_s)
    return cadence_spm(t[sel], steps_per_strike, None if bout is None else bout[sel], gap_iv)
