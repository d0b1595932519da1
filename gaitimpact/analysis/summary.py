"""From `Recording` + `Analysis` to the numbers that leave the program: the `analyze` JSON and steps table.

`summarize` defines the stable JSON schema (`SCHEMA`); `steps_table` the per-strike table. Both are
plain transformations (no I/O); `gaitimpact.analysis.service.analyze_path` is the one path
file -> Recording -> Analysis -> summary that every command shares.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gaitimpact.core.result import Analysis
from gaitimpact.notice import fold_gap_notices, unique
from gaitimpact.recording import ONE_FOOT_PLACEMENTS, Recording, SurfaceSegment, steps_per_strike

if TYPE_CHECKING:  # pandas and the signal core load only when used: a bad path fails before them
    import pandas as pd

SCHEMA = "gaitimpact.analysis/1"
"""Version tag of the `analyze --json` document."""

NO_RUNNING_TEXT = "no running found (standing or walking only)"
"""How a summary with `status` "no_running" reads: a recording without running is a result, not an error."""

NO_RUNNING_HIDES = ("no_running", "placement_auto", "placement_mismatch")
"""Notices a person is not shown for a recording without running: the no-running line says it, and a
placement read from walking or standing says nothing about the sensor (they stay in --json)."""


def no_running_line(name: str, consequence: str) -> str:
    """The one line every command prints for a recording without running: 'FILE: no running found (...): what
    happened to it' (analyze, add, batch and compare alike)."""
    return f"{name}: {NO_RUNNING_TEXT}: {consequence}"

MIN_DURATION_S = 2.0
"""Recordings shorter than this (s) are rejected: fewer than about 3 strides."""
SHORT_DURATION_S = 10.0
"""Recordings shorter than this (s) are analysed with a warning (a 3-5 s lab capture is common)."""


def _finite(x: float | None, ndigits: int = 3) -> float | None:
    """Round a float for JSON; NaN/inf become None."""
    if x is None:
        return None
    x = float(x)
    return round(x, ndigits) if math.isfinite(x) else None


def _stats(values: np.ndarray) -> dict:
    """Median, 95th percentile and max of an array (None when empty)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"median": None, "p95": None, "max": None}
    return {
        "median": _finite(np.median(v)),
        "p95": _finite(np.percentile(v, 95)),
        "max": _finite(v.max()),
    }


def resolved_segments(rec: Recording) -> list[SurfaceSegment]:
    """Surface segments of the recording with open or infinite ends clipped to the recording, in s."""
    end = rec.duration_s
    out = []
    for seg in rec.meta.segments:
        start = max(0.0, float(seg.start_s))
        stop = end if seg.end_s is None or not math.isfinite(seg.end_s) else min(end, float(seg.end_s))
        if stop > start:
            out.append(SurfaceSegment(start, stop, seg.surface, seg.speed_mps))
    return out


def _running_time_in(analysis: Analysis, start_s: float, end_s: float) -> float:
    """Running time (s) of the analysis' bouts that falls inside [start_s, end_s)."""
    total = 0.0
    for b in analysis.bouts:
        total += max(0.0, min(b.end_s, end_s) - max(b.start_s, start_s))
    return total


def _gap_intervals(rec: Recording) -> np.ndarray:
    """Gaps of the recording as an (n, 2) array of [start_s, end_s]."""
    return np.array([[g.start_s, g.end_s] for g in rec.gaps], dtype=float).reshape(-1, 2)


LABEL_OFFSET_S = 0.1
"""A strike takes the surface segment of IC + this (s), about mid-stance: a strike detected a few ms
before a segment's start (the first step of a run) belongs to that segment."""


def strike_labels(rec: Recording, analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
    """Surface name and speed (m/s, NaN unknown) for every strike, from the segment under mid-stance."""
    t = analysis.strikes.time_s + LABEL_OFFSET_S
    surface = np.full(t.shape, "", dtype=object)
    speed = np.full(t.shape, np.nan)
    if rec.meta.speed_mps is not None:
        speed[:] = rec.meta.speed_mps
    for seg in resolved_segments(rec):
        inside = (t >= seg.start_s) & (t < seg.end_s)
        surface[inside] = seg.surface
        if seg.speed_mps is not None:
            speed[inside] = seg.speed_mps
    return surface, speed


def strike_feet(rec: Recording, analysis: Analysis) -> np.ndarray:
    """L/R/? per strike; a one-foot (shoe/shank) sensor's strikes take the side named in its metadata."""
    feet = analysis.strikes.foot.astype(str)
    side = str(rec.meta.side or rec.meta.device.get("side") or "").upper()
    if analysis.placement in ONE_FOOT_PLACEMENTS and side in ("L", "R"):
        feet = np.where(feet == "?", side, feet)
    return feet


def steps_table(rec: Recording, analysis: Analysis) -> pd.DataFrame:
    """One row per detected strike: time_s, foot, peak_g, loading_rate_gps, clipped, near_gap, surface, ..."""
    import pandas as pd

    s = analysis.strikes
    surface, speed = strike_labels(rec, analysis)
    return pd.DataFrame(
        {
            "time_s": np.round(s.time_s, 4),
            "foot": strike_feet(rec, analysis),
            "peak_g": np.round(s.peak_g, 3),
            "loading_rate_gps": np.round(s.loading_rate_gps, 1),
            "clipped": s.clipped.astype(bool),
            "near_gap": s.near_gap.astype(bool),
            "surface": surface.astype(str),
            "speed_mps": speed,
            "bout": s.bout.astype(int),
            "contact_ms": np.round(s.contact_ms, 1),
        }
    )


def drift_summary(rec: Recording, analysis: Analysis, speed_mps: np.ndarray | None = None) -> dict:
    """Impact drift within the run (% per 10 min of speed-adjusted impact, 95 % CI; `core.drift`).

    speed_mps: per-strike speed (m/s) from a watch track; else the segments' speeds."""
    from gaitimpact.core.drift import impact_drift

    s = analysis.strikes
    surface, seg_speed = strike_labels(rec, analysis)
    speed = seg_speed if speed_mps is None else np.where(np.isfinite(speed_mps), speed_mps, seg_speed)
    return impact_drift(s.time_s, s.peak_g, ~s.clipped.astype(bool) & ~s.near_gap.astype(bool), surface, speed)


def flight_duty(analysis: Analysis, gap_iv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per strike: flight time after its contact (ms) and duty factor (`gaitimpact.core.contact`)."""
    from gaitimpact.core.cadence import valid_intervals
    from gaitimpact.core.contact import flight_and_duty

    s = analysis.strikes
    _d, ok = valid_intervals(s.time_s, s.bout, gap_iv)
    return flight_and_duty(s.time_s, s.contact_ms, ok, steps_per_strike(analysis.placement))


ASYMMETRY_BOOTSTRAP = 400
"""Bootstrap resamples for the 95 % interval of a left/right asymmetry."""


def asymmetry(left: np.ndarray, right: np.ndarray) -> dict | None:
    """Left/right asymmetry 100 (L - R) / mean(L, R) of the per-side medians (%) with a bootstrap 95 %
    interval (strikes resampled within each side); None with fewer than 5 valid strikes a side."""
    left, right = left[np.isfinite(left)], right[np.isfinite(right)]
    if left.size < 5 or right.size < 5:
        return None
    rng = np.random.default_rng(0)  # deterministic: the same file gives the same interval

    def pct(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 100.0 * (a - b) / (0.5 * (a + b))

    bl = np.median(left[rng.integers(0, left.size, (ASYMMETRY_BOOTSTRAP, left.size))], axis=1)
    br = np.median(right[rng.integers(0, right.size, (ASYMMETRY_BOOTSTRAP, right.size))], axis=1)
    lo, hi = np.percentile(pct(bl, br), [2.5, 97.5])
    return {"pct": _finite(float(pct(np.median(left), np.median(right))), 1),
            "ci95_pct": [_finite(float(lo), 1), _finite(float(hi), 1)]}


def _block(analysis: Analysis, inside: np.ndarray, start_s: float, end_s: float, per_strike: int,
           gap_iv: np.ndarray, flight_ms: np.ndarray, duty: np.ndarray) -> dict:
    """Strike statistics of the strikes selected by `inside`, within the time span [start_s, end_s)."""
    from gaitimpact.core.cadence import cadence_spm

    s = analysis.strikes
    running_s = _running_time_in(analysis, start_s, end_s)
    peaks = _stats(s.peak_g[inside])
    cadence = cadence_spm(s.time_s[inside], per_strike, s.bout[inside], gap_iv)
    return {
        "start_s": _finite(start_s),
        "end_s": _finite(end_s),
        "running_s": _finite(running_s, 1),
        "strikes": int(inside.sum()),
        "steps": int(inside.sum()) * per_strike,
        "cadence_spm": _finite(cadence, 1),
        "peak_g_median": peaks["median"],
        "peak_g_p95": peaks["p95"],
        "loading_rate_gps_median": _stats(s.loading_rate_gps[inside])["median"],
        "clipped": int(s.clipped[inside].sum()),
        "contact_ms_median": _finite(_median(s.contact_ms[inside]), 1),
        "flight_ms_median": _finite(_median(flight_ms[inside]), 1),
        "duty_factor": _finite(_median(duty[inside]), 3),
    }


def _median(x: np.ndarray) -> float:
    """Median of the finite values (NaN when none)."""
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def summarize(rec: Recording, analysis: Analysis) -> dict:
    """The `analyze --json` document (schema `SCHEMA`): totals, peak_g, loading rate, segments, bouts."""
    s = analysis.strikes
    per = steps_per_strike(analysis.placement)
    strike_side = strike_feet(rec, analysis)
    feet = {}
    for side in ("L", "R"):
        sel = strike_side == side
        if sel.any():
            feet[side] = {"strikes": int(sel.sum()), "peak_g_median": _stats(s.peak_g[sel])["median"],
                          "contact_ms_median": _finite(_median(s.contact_ms[sel]), 1)}
    left, right = strike_side == "L", strike_side == "R"
    asym = {"peak_g": asymmetry(s.peak_g[left], s.peak_g[right]),
            "contact_ms": asymmetry(s.contact_ms[left], s.contact_ms[right])}
    gap_iv = _gap_intervals(rec)
    flight_ms, duty = flight_duty(analysis, gap_iv)
    segments = []
    label_t = s.time_s + LABEL_OFFSET_S
    for seg in resolved_segments(rec):
        inside = (label_t >= seg.start_s) & (label_t < seg.end_s)
        block = _block(analysis, inside, seg.start_s, seg.end_s, per, gap_iv, flight_ms, duty)
        segments.append({"surface": seg.surface, "speed_mps": _finite(seg.speed_mps), **block})
    bouts = [
        {"bout": i, "activity": b.activity,
         **_block(analysis, s.bout == i, b.start_s, b.end_s, per, gap_iv, flight_ms, duty)}
        for i, b in enumerate(analysis.bouts)
    ]
    meta = rec.meta
    notices = unique(fold_gap_notices([*rec.warnings, *analysis.warnings]))
    return {
        "schema": SCHEMA,
        "file": rec.source,
        "status": "ok" if analysis.bouts else "no_running",
        "placement": analysis.placement,
        "placement_source": analysis.placement_source,
        "fs_hz": _finite(analysis.fs_hz, 2),
        "n_samples": rec.n_samples,
        "duration_s": _finite(analysis.duration_s, 2),
        "running_s": _finite(analysis.running_s, 2),
        "strikes": len(s),
        "steps": len(s) * per,
        "cadence_spm": _finite(analysis.cadence_spm, 1),
        "peak_g": {**_stats(s.peak_g), "clipped": int(s.clipped.sum())},
        "loading_rate_gps": _stats(s.loading_rate_gps),
        "contact_ms_median": _finite(_median(s.contact_ms), 1),
        "flight_ms_median": _finite(_median(flight_ms), 1),
        "duty_factor": _finite(_median(duty), 3),
        "feet": feet,
        "asymmetry": {k: v for k, v in asym.items() if v is not None},
        "segments": segments,
        "bouts": bouts,
        "gaps": [{"start_s": _finite(g.start_s), "end_s": _finite(g.end_s)} for g in rec.gaps],
        "speed_mps": _finite(meta.speed_mps),
        "shoe": {"name": meta.shoe, "km": _finite(meta.shoe_km, 1)} if meta.shoe or meta.shoe_km else None,
        "start_utc": meta.start_utc.isoformat() if meta.start_utc else None,
        "simulated": bool(meta.simulated),
        "warnings": [n.message for n in notices],
        "warning_codes": [n.code for n in notices],
        "definitions": analysis.params,
    }
