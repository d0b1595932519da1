"""Read a watch's track (GPX, TCX or FIT) into time, distance, speed and cadence arrays.

Parsers: `gpxpy` for GPX, `fitdecode` for FIT (both maintained, MIT/Apache), the standard library's XML
parser for TCX (Garmin Training Center Database v2). Cadence is returned in steps/min counting both feet:
FIT `cadence` and TCX/GPX running cadence (`RunCadence`, `gpxtpx:cad`) are strides per minute
(one foot), so they are doubled (Garmin FIT profile, record message field 4 `cadence` in rpm;
Garmin Running Dynamics: "FIT cadence is strides/min"). Distance is the file's own cumulative distance
where it has one, else the sum of great-circle steps between positions.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from gaitimpact.errors import InputError

EARTH_RADIUS_M = 6371008.8
"""Mean Earth radius (IUGG), m."""

FORMATS = (".gpx", ".tcx", ".fit")


@dataclass
class Track:
    """A watch track: per point time (s since `start_utc`), cumulative distance (m), speed (m/s, NaN
    unknown) and cadence (steps/min both feet, NaN unknown); `start_utc` is the first point's time."""

    source: str
    format: str
    start_utc: datetime
    time_s: np.ndarray
    distance_m: np.ndarray
    speed_mps: np.ndarray
    cadence_spm: np.ndarray

    @property
    def has_cadence(self) -> bool:
        """True when the watch recorded cadence at some points."""
        return bool(np.isfinite(self.cadence_spm).any())

    @property
    def duration_s(self) -> float:
        """Time from first to last point, s."""
        return float(self.time_s[-1] - self.time_s[0]) if self.time_s.size else 0.0


def haversine_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) between consecutive positions (degrees); length n - 1."""
    la, lo = np.radians(lat), np.radians(lon)
    dla, dlo = np.diff(la), np.diff(lo)
    a = np.sin(dla / 2) ** 2 + np.cos(la[:-1]) * np.cos(la[1:]) * np.sin(dlo / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _finish(path: Path, fmt: str, times: list[datetime], dist: list[float], lat: list[float], lon: list[float],
            speed: list[float], cad_strides: list[float]) -> Track:
    """Sort, de-duplicate and fill a track's arrays; InputError when it has no usable points."""
    if len(times) < 2:
        raise InputError(f"{fmt} track has {len(times)} timed point(s); need at least 2", path=str(path))
    t_abs = np.array([_utc(t).timestamp() for t in times])
    d = np.array(dist, float)
    la, lo = np.array(lat, float), np.array(lon, float)
    v = np.array(speed, float)
    c = np.array(cad_strides, float) * 2.0  # strides/min -> steps/min (both feet)
    order = np.argsort(t_abs, kind="stable")
    t_abs, d, la, lo, v, c = (a[order] for a in (t_abs, d, la, lo, v, c))
    keep = np.r_[True, np.diff(t_abs) > 0]
    t_abs, d, la, lo, v, c = (a[keep] for a in (t_abs, d, la, lo, v, c))
    if np.isfinite(d).sum() >= 2:
        ok = np.isfinite(d)
        d = np.interp(t_abs, t_abs[ok], d[ok])
    elif (np.isfinite(la) & np.isfinite(lo)).sum() >= 2:
        ok = np.isfinite(la) & np.isfinite(lo)
        steps = np.r_[0.0, np.cumsum(haversine_m(la[ok], lo[ok]))]
        d = np.interp(t_abs, t_abs[ok], steps)
    else:
        raise InputError(f"{fmt} track has neither distance nor positions", path=str(path))
    d = np.maximum.accumulate(d - d[0])
    start = datetime.fromtimestamp(float(t_abs[0]), tz=timezone.utc)
    return Track(str(path), fmt, start, t_abs - t_abs[0], d, v, c)


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def _num(text: str | None) -> float:
    try:
        return float(text) if text is not None else math.nan
    except ValueError:
        return math.nan


def read_gpx(path: Path) -> Track:
    """GPX 1.0/1.1 via gpxpy: times and positions; Garmin TrackPointExtension `cad` (strides/min)."""
    import gpxpy
    import gpxpy.gpx

    try:
        with open(path, encoding="utf-8") as f:
            gpx = gpxpy.parse(f)
    except (gpxpy.gpx.GPXException, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable GPX file ({exc})", path=str(path)) from None
    times, lat, lon, cad = [], [], [], []
    for trk in gpx.tracks:
        for seg in trk.segments:
            for p in seg.points:
                if p.time is None:
                    continue
                times.append(p.time)
                lat.append(p.latitude)
                lon.append(p.longitude)
                cad.append(_extension_number(p.extensions, "cad"))
    n = len(times)
    return _finish(path, "GPX", times, [math.nan] * n, lat, lon, [math.nan] * n, cad)


def _extension_number(elements: list, name: str) -> float:
    """First numeric <...:name> found in a list of extension elements (any namespace)."""
    for el in elements:
        for sub in el.iter():
            if sub.tag.split("}")[-1] == name:
                return _num(sub.text)
    return math.nan


def read_tcx(path: Path) -> Track:
    """TCX (Training Center Database v2) via xml.etree: Time, DistanceMeters, position, RunCadence/Speed."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable TCX file ({exc})", path=str(path)) from None
    times, dist, lat, lon, speed, cad = [], [], [], [], [], []
    for tp in root.iter():
        if tp.tag.split("}")[-1] != "Trackpoint":
            continue
        vals: dict[str, str | None] = {}
        for el in tp.iter():
            vals.setdefault(el.tag.split("}")[-1], el.text)
        when = vals.get("Time")
        if not when:
            continue
        try:
            times.append(datetime.fromisoformat(when.strip().replace("Z", "+00:00")))
        except ValueError:
            raise InputError(f"TCX Trackpoint time {when!r} is not an ISO time", path=str(path),
                             field="Time") from None
        dist.append(_num(vals.get("DistanceMeters")))
        lat.append(_num(vals.get("LatitudeDegrees")))
        lon.append(_num(vals.get("LongitudeDegrees")))
        speed.append(_num(vals.get("Speed")))
        cad.append(_num(vals.get("RunCadence", vals.get("Cadence"))))
    return _finish(path, "TCX", times, dist, lat, lon, speed, cad)


def read_fit(path: Path) -> Track:
    """FIT activity via fitdecode: record messages' timestamp, distance, (enhanced_)speed, cadence."""
    import fitdecode

    times, dist, lat, lon, speed, cad = [], [], [], [], [], []
    semicircle = 180.0 / 2**31
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as fit:
            for frame in fit:
                if not isinstance(frame, fitdecode.FitDataMessage) or frame.name != "record":
                    continue
                values = {f.name: f.value for f in frame.fields}
                t = values.get("timestamp")
                if not isinstance(t, datetime):
                    continue
                times.append(t)
                dist.append(_fnum(values.get("distance")))
                sp = values.get("enhanced_speed", values.get("speed"))
                speed.append(_fnum(sp))
                c = _fnum(values.get("cadence"))
                frac = _fnum(values.get("fractional_cadence"))
                cad.append(c + (frac if np.isfinite(frac) else 0.0))
                la, lo = values.get("position_lat"), values.get("position_long")
                lat.append(la * semicircle if isinstance(la, int) else _fnum(la))
                lon.append(lo * semicircle if isinstance(lo, int) else _fnum(lo))
    except fitdecode.FitError as exc:
        raise InputError(f"not a readable FIT file ({exc})", path=str(path)) from None
    return _finish(path, "FIT", times, dist, lat, lon, speed, cad)


def _fnum(v: object) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def read_track(path: str | os.PathLike) -> Track:
    """Read a GPX, TCX or FIT track (by extension); InputError naming the file for anything unreadable."""
    path = Path(path)
    if not path.is_file():
        raise InputError("track file not found", path=str(path), field="--track")
    ext = path.suffix.lower()
    if ext == ".gpx":
        return read_gpx(path)
    if ext == ".tcx":
        return read_tcx(path)
    if ext == ".fit":
        return read_fit(path)
    raise InputError(f"track must be .gpx, .tcx or .fit, got {path.suffix or 'no extension'!r}", path=str(path),
                     field="--track")
