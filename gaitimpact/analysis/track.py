"""A watch track applied to an analysed recording: alignment, segment speeds, distance, date, km splits.

`apply_track` aligns the track by wall-clock time (the recording's `start_utc` from its sidecar, epoch or
zoned time column) or by a given `--track-offset`, checks and refines the offset with the watch's
cadence where it has one, fills the speed of every segment that has none (and the recording's speed when
it has no segments), and returns what the summary reports (`TrackResult.summary()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np

from gaitimpact.core import track as core_track
from gaitimpact.core.result import Analysis
from gaitimpact.errors import InputError
from gaitimpact.io.track import Track
from gaitimpact.recording import Recording, steps_per_strike

MIN_STRIKES_FOR_CADENCE = 60
"""Strikes needed before the watch's cadence is used to check the alignment."""


@dataclass
class TrackResult:
    """How a track was applied: offset (s) and where it came from, distances, splits, per-strike speed."""

    track: Track
    offset_s: float
    offset_source: str
    cadence_offset_s: float | None
    cadence_mismatch_spm: float | None
    distance_km: float
    recorded_distance_km: float
    start_utc: datetime
    filled_segments: int
    splits: list[dict] = field(default_factory=list)
    strike_speed_mps: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The `track` block of the analyze JSON."""
        return {
            "file": self.track.source,
            "format": self.track.format,
            "start_utc": self.track.start_utc.isoformat(),
            "offset_s": round(self.offset_s, 1),
            "offset_source": self.offset_source,
            "cadence_offset_s": None if self.cadence_offset_s is None else round(self.cadence_offset_s, 1),
            "cadence_mismatch_spm": None if self.cadence_mismatch_spm is None else round(self.cadence_mismatch_spm, 1),
            "distance_km": round(self.distance_km, 3),
            "recorded_distance_km": round(self.recorded_distance_km, 3),
            "segments_speed_filled": self.filled_segments,
            "notes": list(self.notes),
        }


def initial_offset(rec: Recording, track: Track, offset_s: float | None) -> tuple[float, str]:
    """(offset s, source): given, else wall clock; InputError when neither is available."""
    if offset_s is not None:
        return float(offset_s), "given (--track-offset)"
    if rec.meta.start_utc is None:
        raise InputError(
            "the recording has no wall-clock start (no start_utc in its sidecar, no epoch or zoned time "
            "column), so the watch track cannot be aligned: give --track-offset S, the seconds from the "
            "watch's start to the sensor's first sample",
            path=rec.source or None,
            field="--track-offset",
        )
    start = rec.meta.start_utc
    if start.tzinfo is None:
        from datetime import timezone

        start = start.replace(tzinfo=timezone.utc)
    return (start - track.start_utc).total_seconds(), "wall clock"


def apply_track(rec: Recording, analysis: Analysis, track: Track, offset_s: float | None = None) -> TrackResult:
    """Align `track` with the recording and fill speeds in `rec.meta` (segments without a speed)."""
    offset, source = initial_offset(rec, track, offset_s)
    notes: list[str] = []
    per = steps_per_strike(analysis.placement)
    strikes = analysis.strikes
    duration = float(rec.duration_s)
    if offset + duration < track.time_s[0] or offset > track.time_s[-1]:
        raise InputError(
            f"the watch track ({track.start_utc:%Y-%m-%d %H:%M:%S} UTC, {track.duration_s / 60:.1f} min) does not "
            f"overlap the recording at offset {offset:.0f} s",
            path=track.source,
            field="--track",
        )
    cad_off = cad_mis = None
    if track.has_cadence and len(strikes) >= MIN_STRIKES_FOR_CADENCE:
        best, mis, mis0 = core_track.refine_offset(strikes.time_s, per, duration, track.time_s, track.cadence_spm,
                                                   offset)
        if np.isfinite(mis):
            cad_off, cad_mis = best, mis
            if abs(best - offset) > 1.0 and mis < core_track.MIN_IMPROVEMENT * mis0:
                notes.append(f"watch cadence matches the sensor {best - offset:+.1f} s from the {source} "
                             f"alignment: used the cadence alignment")
                offset, source, cad_mis = best, source + ", refined by cadence", mis
            elif np.isfinite(mis0):
                cad_mis = mis0
    if offset < track.time_s[0] or offset + duration > track.time_s[-1]:
        notes.append("the watch track does not cover the whole recording: speeds and splits only where it does")
    filled = 0
    segments = []
    given = rec.meta.speed_mps is not None  # --speed (or the sidecar's) for the whole file is kept
    for seg in rec.meta.segments:
        if seg.speed_mps is None and not given:
            end = duration if seg.end_s is None or not np.isfinite(seg.end_s) else float(seg.end_s)
            v = core_track.mean_speed_mps(track.time_s, track.distance_m, seg.start_s + offset, end + offset)
            if np.isfinite(v):
                seg = replace(seg, speed_mps=round(v, 3))
                filled += 1
        segments.append(seg)
    rec.meta.segments = segments
    if not segments and rec.meta.speed_mps is None:
        bouts = np.array([[b.start_s, b.end_s] for b in analysis.bouts], float).reshape(-1, 2)
        d = [core_track.distance_at(track.time_s, track.distance_m, bouts[:, i] + offset) for i in (0, 1)]
        span = bouts[:, 1] - bouts[:, 0]
        good = np.isfinite(d[0]) & np.isfinite(d[1])
        if good.any() and span[good].sum() > 0:
            rec.meta.speed_mps = round(float((d[1] - d[0])[good].sum() / span[good].sum()), 3)
            filled += 1
    rec_d = core_track.distance_at(track.time_s, track.distance_m, np.array([0.0, duration]) + offset)
    rec_d = np.where(np.isfinite(rec_d), rec_d, [track.distance_m[0], track.distance_m[-1]])
    usable = ~strikes.clipped.astype(bool) & ~strikes.near_gap.astype(bool)
    bouts = np.array([[b.start_s, b.end_s] for b in analysis.bouts], float).reshape(-1, 2)
    splits = core_track.km_splits(strikes.time_s, strikes.peak_g, usable, per, bouts, duration, track.time_s,
                                  track.distance_m, offset, getattr(strikes, "contact_ms", None))
    speed = core_track.speed_at(track.time_s, track.distance_m, strikes.time_s + offset)
    start = rec.meta.start_utc or (track.start_utc + timedelta(seconds=offset))
    return TrackResult(track, offset, source, cad_off, cad_mis, float(track.distance_m[-1]) / 1000.0,
                       float(rec_d[1] - rec_d[0]) / 1000.0, start, filled, splits, speed, notes)
