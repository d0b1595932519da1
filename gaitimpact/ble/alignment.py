"""Several sensors, one time base: the offset between two recordings implied by the contacts both saw.

Each sensor's file starts at its own `start_utc` (host clock at its first sample). A waist and a shoe
sensor see the same ground contacts, so after placing both on the host clock, every shoe strike has a
waist strike close by; the median difference is the offset the data imply (host-clock alignment error
plus the physiological delay between the foot and the trunk), and a change of it over the run is drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitimpact.analysis.service import AnalysisResult

DRIFT_WARN_MS = 20.0
"""Warn when the offset changes by more than this between the first and the last third of the run."""
MIN_PAIRS = 6


@dataclass
class Offset:
    """Offset of `other` against `ref` in ms (other's contacts come this much later), its change over the
    run (drift_ms, last third minus first third) and the number of contact pairs used."""

    offset_ms: float
    drift_ms: float
    pairs: int


def contact_offset(ref_s: np.ndarray, other_s: np.ndarray) -> Offset | None:
    """Offset of `other` against `ref` (contact times in s on one clock) from nearest pairs; None if too few.

    Each contact of the sparser series (a foot sensor sees every other step) is paired with the nearest
    of the denser one, within half of the denser series' step.
    """
    ref = np.sort(np.asarray(ref_s, dtype=float))
    other = np.sort(np.asarray(other_s, dtype=float))
    sign = 1.0
    if other.size > ref.size:  # pair from the sparser series
        ref, other, sign = other, ref, -1.0
    if ref.size < 2 or other.size < MIN_PAIRS:
        return None
    half_step = 0.5 * float(np.median(np.diff(ref)))
    idx = np.clip(np.searchsorted(ref, other), 1, ref.size - 1)
    near = np.where(np.abs(ref[idx - 1] - other) <= np.abs(ref[idx] - other), ref[idx - 1], ref[idx])
    d = sign * (other - near)
    ok = np.abs(d) < half_step
    if ok.sum() < MIN_PAIRS:
        return None
    t, d = other[ok], d[ok]
    thirds = np.array_split(np.argsort(t), 3)
    drift = float(np.median(d[thirds[-1]]) - np.median(d[thirds[0]]))
    return Offset(offset_ms=float(np.median(d)) * 1e3, drift_ms=drift * 1e3, pairs=int(d.size))


def describe_alignment(results: list[tuple[Path, AnalysisResult]]) -> list[str]:
    """Lines comparing every recording with the first (analysis results with start_utc and strikes)."""
    timed = []
    for path, res in results:
        start = res.recording.meta.start_utc
        strikes = np.asarray(res.analysis.strikes.time_s, dtype=float)
        if start is not None and strikes.size:
            timed.append((path, start.timestamp() + strikes))
    if len(timed) < 2:
        return ["time base: not enough strikes with a start time to compare the sensors"]
    (ref_path, ref), lines = timed[0], []
    for path, other in timed[1:]:
        off = contact_offset(ref, other)
        if off is None:
            lines.append(f"time base: {path.name} vs {ref_path.name}: too few shared contacts to compare")
            continue
        lines.append(
            f"time base: {path.name} contacts come {off.offset_ms:+.0f} ms after {ref_path.name}'s "
            f"(median of {off.pairs} contact pairs, host clock), change over the run {off.drift_ms:+.0f} ms"
        )
        if abs(off.drift_ms) > DRIFT_WARN_MS:
            lines.append(
                f"  warning: the offset drifts by {off.drift_ms:+.0f} ms over the run (> {DRIFT_WARN_MS:g} ms): "
                "do not compare strike times across these files without re-aligning them"
            )
    return lines
