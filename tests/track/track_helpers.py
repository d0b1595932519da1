"""Real watch-track files for tests: GPX (gpxpy writer), TCX (TCX v2 XML) and FIT (fit-tool encoder).

The track follows a simulated plan of (activity, duration_s, speed_mps) segments: cumulative distance at
1 s, position moving north along a meridian, running cadence from the simulator's model written as
strides per minute (what watches store: Garmin FIT `cadence` and TCX `RunCadence` count one foot).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from gaitimpact.sim import cadence_model_spm

PLAN = [("stand", 5.0, 0.0), ("run", 120.0, 3.5), ("walk", 20.0, 1.4), ("run", 120.0, 4.0), ("run", 120.0, 3.0)]
"""(activity, duration_s, speed_mps): 1288 m of running and walking."""
SURFACES = ["asphalt", "asphalt", "asphalt", "grass", "track"]
START = datetime(2026, 11, 3, 7, 0, 0, tzinfo=timezone.utc)
"""Wall-clock time of the sensor's first sample."""
WATCH_LEAD_S = 47.0
"""The watch starts this long before the sensor (and stops 30 s after it)."""

M_PER_DEG_LAT = 111_195.0
LAT0, LON0 = 47.3769, 8.5417


def track_points(plan: list[tuple[str, float, float]], start_utc: datetime, before_s: float, after_s: float):
    """(times, distance_m, speed_mps, cadence strides/min) at 1 s: standing before_s, the plan, standing after_s."""
    edges = np.cumsum([0.0] + [d for _, d, _ in plan])
    t = np.arange(-before_s, edges[-1] + after_s + 0.5, 1.0)
    speed = np.zeros_like(t)
    stride = np.zeros_like(t)
    for (act, _, v), a, b in zip(plan, edges[:-1], edges[1:]):
        inside = (t >= a) & (t < b)
        if act != "stand":
            speed[inside] = v
            stride[inside] = cadence_model_spm(v, act) / 2.0
    dist = np.r_[0.0, np.cumsum(speed[:-1] * 1.0)]
    times = [start_utc + timedelta(seconds=float(x)) for x in t]
    return times, dist, speed, stride


def write_gpx(path: Path, times, dist, speed, stride) -> Path:
    """GPX 1.1 with Garmin TrackPointExtension cadence, written by gpxpy."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack()
    seg = gpxpy.gpx.GPXTrackSegment()
    gpx.tracks.append(trk)
    trk.segments.append(seg)
    gpx.nsmap["gpxtpx"] = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
    import xml.etree.ElementTree as ET

    for t, d, c in zip(times, dist, stride):
        p = gpxpy.gpx.GPXTrackPoint(LAT0 + d / M_PER_DEG_LAT, LON0, time=t)
        ext = ET.Element("gpxtpx:TrackPointExtension")
        cad = ET.SubElement(ext, "gpxtpx:cad")
        cad.text = str(int(round(c)))
        p.extensions.append(ext)
        seg.points.append(p)
    path.write_text(gpx.to_xml(version="1.1"), encoding="utf-8")
    return path


def write_tcx(path: Path, times, dist, speed, stride) -> Path:
    """TCX (TrainingCenterDatabase v2) with DistanceMeters and the ActivityExtension v2 RunCadence/Speed."""
    ns = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    ax = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
    pts = []
    for t, d, v, c in zip(times, dist, speed, stride):
        pts.append(
            f"<Trackpoint><Time>{t.strftime('%Y-%m-%dT%H:%M:%SZ')}</Time>"
            f"<Position><LatitudeDegrees>{LAT0 + d / M_PER_DEG_LAT:.7f}</LatitudeDegrees>"
            f"<LongitudeDegrees>{LON0:.7f}</LongitudeDegrees></Position>"
            f"<DistanceMeters>{d:.1f}</DistanceMeters>"
            f"<Extensions><ns3:TPX><ns3:Speed>{v:.3f}</ns3:Speed><ns3:RunCadence>{int(round(c))}</ns3:RunCadence>"
            f"</ns3:TPX></Extensions></Trackpoint>"
        )
    start = times[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase xmlns="{ns}" xmlns:ns3="{ax}">'
        f'<Activities><Activity Sport="Running"><Id>{start}</Id><Lap StartTime="{start}">'
        f"<TotalTimeSeconds>{(times[-1] - times[0]).total_seconds():.0f}</TotalTimeSeconds>"
        f"<DistanceMeters>{dist[-1]:.1f}</DistanceMeters><Intensity>Active</Intensity>"
        f"<TriggerMethod>Manual</TriggerMethod><Track>{''.join(pts)}</Track></Lap></Activity></Activities>"
        "</TrainingCenterDatabase>\n"
    )
    path.write_text(xml, encoding="utf-8")
    return path


def write_fit(path: Path, times, dist, speed, stride) -> Path:
    """FIT activity (file_id, timer start, records, timer stop) encoded by fit-tool."""
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.record_message import RecordMessage
    from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer

    ms = [int(t.timestamp() * 1000) for t in times]
    b = FitFileBuilder(auto_define=True, min_string_size=50)
    m = FileIdMessage()
    m.type = FileType.ACTIVITY
    m.manufacturer = Manufacturer.DEVELOPMENT.value
    m.product = 0
    m.time_created = ms[0]
    m.serial_number = 0x12345678
    b.add(m)
    e = EventMessage()
    e.event, e.event_type, e.timestamp = Event.TIMER, EventType.START, ms[0]
    b.add(e)
    records = []
    for t, d, v, c in zip(ms, dist, speed, stride):
        r = RecordMessage()
        r.timestamp = t
        r.position_lat = LAT0 + d / M_PER_DEG_LAT
        r.position_long = LON0
        r.distance = float(d)
        r.speed = float(v)
        r.cadence = int(round(c))
        records.append(r)
    b.add_all(records)
    e = EventMessage()
    e.event, e.event_type, e.timestamp = Event.TIMER, EventType.STOP, ms[-1]
    b.add(e)
    b.build().to_file(str(path))
    return path


def strip_speeds(csv: Path, start_utc: datetime | None) -> None:
    """Remove segment speeds from a recording's sidecar (the watch supplies them) and set/remove start_utc."""
    side = csv.with_suffix(".json")
    data = json.loads(side.read_text())
    for seg in data.get("segments", []):
        seg.pop("speed_mps", None)
    data.pop("speed_mps", None)
    if start_utc is None:
        data.pop("start_utc", None)
    else:
        data["start_utc"] = start_utc.astimezone(timezone.utc).isoformat()
    side.write_text(json.dumps(data))
