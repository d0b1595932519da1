"""Impact drift within a run: % change of speed-adjusted impact per 10 minutes, with a 95 % interval.

Strikes are grouped into `BLOCK_S` blocks of one surface; the block means of ln(peak_g) are regressed on
running time (per 10 min), one level per surface and, when speed varies inside the run (a watch track
gives it per strike), on speed. Block means rather than strikes carry the interval: neighbouring strikes
are not independent. Student-t interval with blocks - parameters degrees of freedom. Fatigue shows up
as a rising (or, with a stiffer landing lost, falling) impact at the same speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import t as student_t

BLOCK_S = 60.0
"""Block length (s) of running time per point of the drift fit."""

MIN_BLOCKS = 5
"""Blocks needed for a drift estimate (at least 3 degrees of freedom left)."""

MIN_SPEED_SPREAD_MPS = 0.1
"""Speed is adjusted for only when its block means vary by at least this SD (m/s)."""


def impact_drift(time_s: np.ndarray, peak_g: np.ndarray, usable: np.ndarray, surface: np.ndarray,
                 speed_mps: np.ndarray) -> dict:
    """{pct_per_10min, pct_per_10min_ci95, blocks, minutes, adjusted_for, speed_known, reason} (None figures
    when it cannot be estimated; reason says why). Without a known speed a change of pace shows as drift.
    time_s in s, peak_g in g, speed_mps in m/s (NaN unknown)."""
    out: dict[str, Any] = {"pct_per_10min": None, "pct_per_10min_ci95": None, "blocks": 0, "minutes": None,
                           "adjusted_for": [], "speed_known": bool(np.isfinite(speed_mps).all()), "reason": None}
    ok = np.asarray(usable, bool) & np.isfinite(peak_g) & (np.asarray(peak_g, float) > 0)
    t, y = np.asarray(time_s, float)[ok], np.log(np.asarray(peak_g, float)[ok])
    # surfaces as integer codes: a fixed-width string copy of a long user-given name costs 4 bytes per
    # character per strike (a 10 MB name: gigabytes)
    _, surf = np.unique(np.asarray(surface, dtype=object), return_inverse=True)
    surf = surf.reshape(-1)[ok]
    v = np.asarray(speed_mps, float)[ok]
    if t.size == 0:
        out["reason"] = "no usable strikes"
        return out
    block = np.floor((t - t[0]) / BLOCK_S).astype(np.int64)
    key = surf.astype(np.int64) * (int(block.max()) + 1) + block
    _, idx, counts = np.unique(key, return_inverse=True, return_counts=True)
    keep = counts[idx] >= 10
    if not keep.any():
        out["reason"] = "fewer than 10 strikes in every minute"
        return out
    _, idx = np.unique(key[keep], return_inverse=True)
    t, y, v, surf = t[keep], y[keep], v[keep], surf[keep]
    m = idx.max() + 1
    n = np.bincount(idx, minlength=m).astype(float)
    bt, by = np.bincount(idx, t, m) / n, np.bincount(idx, y, m) / n
    bsurf = np.empty(m, dtype=object)
    bsurf[idx] = surf
    out["blocks"] = int(m)
    out["minutes"] = round(float((bt.max() - bt.min()) / 60.0), 1)
    cols = [(bsurf == s).astype(float) for s in sorted(set(bsurf))]
    cols.append((bt - bt.mean()) / 600.0)
    if np.isfinite(v).all():
        bv = np.bincount(idx, v, m) / n
        if bv.std() >= MIN_SPEED_SPREAD_MPS:
            cols.append(bv - bv.mean())
            out["adjusted_for"].append("speed")
    x = np.column_stack(cols)
    df = m - np.linalg.matrix_rank(x)
    if m < MIN_BLOCKS or df < 3:
        out["reason"] = f"{m} minute(s) of running; need at least {MIN_BLOCKS}"
        return out
    coef, *_ = np.linalg.lstsq(x, by, rcond=None)
    resid = by - x @ coef
    cov = np.linalg.pinv(x.T @ x) * float(resid @ resid) / df
    j = len(cols) - 1 - (1 if "speed" in out["adjusted_for"] else 0)
    half = float(student_t.ppf(0.975, df)) * float(np.sqrt(cov[j, j]))
    b = float(coef[j])
    out["pct_per_10min"] = round((np.exp(b) - 1) * 100, 2)
    out["pct_per_10min_ci95"] = [round((np.exp(b - half) - 1) * 100, 2), round((np.exp(b + half) - 1) * 100, 2)]
    return out
