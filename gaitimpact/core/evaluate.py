"""Scoring detected strikes against reference IC times (simulator truth or a labelled recording).

Pure functions on arrays, used by benchmarks/accuracy.py and the core tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MATCH_TOLERANCE_S = {"waist": 0.060, "shoe": 0.040, "shank": 0.040}
"""A detected IC matches a reference IC when they are at most this far apart (s)."""


def match_events(detected_s: np.ndarray, reference_s: np.ndarray, tol_s: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches (closest pairs first) within tol_s: (detected index, reference index) arrays."""
    d = np.asarray(detected_s, dtype=np.float64)
    r = np.asarray(reference_s, dtype=np.float64)
    if d.size == 0 or r.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order_r = np.argsort(r)
    rs = r[order_r]
    # candidate pairs: each detection with its two nearest references
    k = np.searchsorted(rs, d)
    cand_d, cand_r, dist = [], [], []
    for off in (-1, 0):
        j = np.clip(k + off, 0, rs.size - 1)
        cand_d.append(np.arange(d.size))
        cand_r.append(j)
        dist.append(np.abs(d - rs[j]))
    cd, cr, dd = np.concatenate(cand_d), np.concatenate(cand_r), np.concatenate(dist)
    ok = dd <= tol_s
    cd, cr, dd = cd[ok], cr[ok], dd[ok]
    order = np.argsort(dd, kind="stable")
    used_d = np.zeros(d.size, dtype=bool)
    used_r = np.zeros(r.size, dtype=bool)
    md, mr = [], []
    for i in order:  # one pass per candidate pair (a few per strike), not per sample
        a, b = cd[i], cr[i]
        if not used_d[a] and not used_r[b]:
            used_d[a] = used_r[b] = True
            md.append(a)
            mr.append(b)
    return np.asarray(md, dtype=np.int64), order_r[np.asarray(mr, dtype=np.int64)]


@dataclass
class StrikeScore:
    """Detection scores: counts, precision/recall/F1, and timing errors (s) of the matched pairs."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    timing_error_s: np.ndarray
    det_index: np.ndarray
    ref_index: np.ndarray


def score_strikes(
    detected_s: np.ndarray, reference_s: np.ndarray, tol_s: float, ignore_ref: np.ndarray | None = None
) -> StrikeScore:
    """F1 of detected vs reference ICs (s) within tol_s; references flagged in ignore_ref (and the
    detections matched to them) count neither way."""
    md, mr = match_events(detected_s, reference_s, tol_s)
    ign = np.zeros(len(reference_s), dtype=bool) if ignore_ref is None else np.asarray(ignore_ref, dtype=bool)
    keep = ~ign[mr]
    tp = int(np.count_nonzero(keep))
    fp = int(len(detected_s) - len(md))
    fn = int(np.count_nonzero(~ign) - tp)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    err = np.asarray(detected_s)[md[keep]] - np.asarray(reference_s)[mr[keep]]
    return StrikeScore(tp, fp, fn, prec, rec, f1, err, md[keep], mr[keep])
