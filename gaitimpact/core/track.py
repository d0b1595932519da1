"""A watch track against the sensor's strikes: alignment offset, speed over a span, km splits (pure numpy).

Convention: a sensor time t (s since the recording's first sample) is track time t + offset_s (s since
the track's first point). With both wall clocks, offset_s = sensor start_utc - track start_utc (the watch
usually starts first, so offset_s > 0).
"""

from __future__ import annotations

import numpy as np

CADENCE_WINDOW_S = 10.0
"""Window (s) over which the sensor's strikes are counted into a cadence series for alignment."""

SEARCH_S = 120.0
"""Offsets within +-this (s) of the starting offset are tried when refining by cadence."""

MIN_IMPROVEMENT = 0.8
"""A cadence-refined offset replaces the starting one only if its mismatch is below this share of the
starting offset's mismatch (a steady cadence gives no timing information)."""


def strike_cadence_series(strike_t: np.ndarray, per_strike: int, grid_t: np.ndarray,
                          window_s: float = CADENCE_WINDOW_S) -> np.ndarray:
    """Cadence (steps/min, both feet) at each grid time: strikes within +-window/2, scaled to a minute."""
    t = np.sort(np.asarray(strike_t, float))
    lo = np.searchsorted(t, grid_t - window_s / 2)
    hi = np.searchsorted(t, grid_t + window_s / 2)
    return (hi - lo) * per_strike * 60.0 / window_s


def refine_offset(strike_t: np.ndarray, per_strike: int, duration_s: float, track_t: np.ndarray,
                  track_cad: np.ndarray, offset0: float, search_s: float = SEARCH_S) -> tuple[float, float, float]:
    """(best offset s, its mean |cadence difference| spm, the starting offset's) by cadence matching.

    The sensor's cadence series (1 Hz) is compared with the watch's cadence interpolated at t + offset
    for every offset in offset0 +- search_s (0.5 s steps); missing watch cadence is left out.
    """
    grid = np.arange(0.0, max(duration_s, 1.0), 1.0)
    imu = strike_cadence_series(strike_t, per_strike, grid)
    ok = np.isfinite(track_cad)
    tt, tc = np.asarray(track_t, float)[ok], np.asarray(track_cad, float)[ok]
    offsets = offset0 + np.arange(-search_s, search_s + 0.25, 0.5)
    q = grid[None, :] + offsets[:, None]
    watch = np.interp(q, tt, tc, left=np.nan, right=np.nan)
    diff = np.abs(watch - imu[None, :])
    n = np.isfinite(diff).sum(axis=1)
    score = np.where(n >= max(30, grid.size // 4), np.nansum(diff, axis=1) / np.maximum(n, 1), np.inf)
    i0 = int(np.argmin(np.abs(offsets - offset0)))
    best = int(np.argmin(score))
    return float(offsets[best]), float(score[best]), float(score[i0])


def distance_at(track_t: np.ndarray, track_d: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Track distance (m) at track times t (NaN outside the track)."""
    return np.interp(np.asarray(t, float), track_t, track_d, left=np.nan, right=np.nan)


def mean_speed_mps(track_t: np.ndarray, track_d: np.ndarray, t0: float, t1: float) -> float:
    """Mean speed (m/s) between track times t0 and t1 (NaN when the span is outside the track or empty)."""
    d0, d1 = distance_at(track_t, track_d, np.array([t0, t1]))
    return float((d1 - d0) / (t1 - t0)) if t1 > t0 and np.isfinite(d0) and np.isfinite(d1) else float("nan")


def speed_at(track_t: np.ndarray, track_d: np.ndarray, t: np.ndarray, half_window_s: float = 15.0) -> np.ndarray:
    """Speed (m/s) at track times t: distance change over t +- half_window_s (NaN outside the track)."""
    t = np.asarray(t, float)
    a = np.clip(t - half_window_s, track_t[0], track_t[-1])
    b = np.clip(t + half_window_s, track_t[0], track_t[-1])
    d = distance_at(track_t, track_d, b) - distance_at(track_t, track_d, a)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(b > a, d / (b - a), np.nan)
    inside = (t >= track_t[0]) & (t <= track_t[-1])
    return np.where(inside, v, np.nan)


def km_splits(
    strike_t: np.ndarray,
    peak_g: np.ndarray,
    usable: np.ndarray,
    per_strike: int,
    bouts: np.ndarray,
    duration_s: float,
    track_t: np.ndarray,
    track_d: np.ndarray,
    offset_s: float,
    contact_ms: np.ndarray | None = None,
) -> list[dict]:
    """One entry per watch kilometre the recording overlaps (partial at the ends).

    km (1-based index of the watch's km), start_s/end_s (sensor time, s), distance_km, speed_mps,
    pace_s_per_km, cadence_spm (strikes x steps-per-strike over running time in the split), peak_g_median
    (usable strikes), contact_ms_median (None until the core measures contact time). bouts: (n, 2)
    running intervals in sensor time (s).
    """
    t0, t1 = 0.0, float(duration_s)
    lo_t, hi_t = max(t0, track_t[0] - offset_s), min(t1, track_t[-1] - offset_s)
    if hi_t <= lo_t:
        return []
    d0, d1 = distance_at(track_t, track_d, np.array([lo_t, hi_t]) + offset_s)
    ks = np.arange(np.floor(d0 / 1000.0), np.ceil(d1 / 1000.0))
    edges_d = np.clip(np.r_[ks, ks[-1] + 1] * 1000.0, d0, d1) if ks.size else np.array([d0, d1])
    # time (sensor) at which the watch distance reaches each edge (distance is non-decreasing)
    dd = distance_at(track_t, track_d, track_t)
    edges_t = np.interp(edges_d, dd, track_t) - offset_s
    edges_t[0], edges_t[-1] = lo_t, hi_t
    out = []
    st = np.asarray(strike_t, float)
    for k, a, b, da, db in zip(ks, edges_t[:-1], edges_t[1:], edges_d[:-1], edges_d[1:]):
        if b - a <= 0 or db - da <= 0:
            continue
        sel = (st >= a) & (st < b)
        run_s = float(np.clip(np.minimum(bouts[:, 1], b) - np.maximum(bouts[:, 0], a), 0, None).sum()) \
            if len(bouts) else 0.0
        good = sel & usable
        dist_km = (db - da) / 1000.0
        out.append({
            "km": int(k) + 1,
            "start_s": round(float(a), 2),
            "end_s": round(float(b), 2),
            "distance_km": round(float(dist_km), 3),
            "speed_mps": round(float((db - da) / (b - a)), 3),
            "pace_s_per_km": round(float((b - a) / dist_km), 1),
            "cadence_spm": round(float(sel.sum() * per_strike * 60.0 / run_s), 1) if run_s > 0 else None,
            "peak_g_median": round(float(np.median(peak_g[good])), 3) if good.any() else None,
            "contact_ms_median": round(float(np.nanmedian(contact_ms[sel])), 1)
            if contact_ms is not None and np.isfinite(contact_ms[sel]).any() else None,
        })
    return out
