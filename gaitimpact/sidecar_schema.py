"""The metadata sidecar schema (`run.csv` -> `run.json`), declared once: the `FIELDS` table.

The table drives validation (`sidecar_from_dict`), writing (`sidecar_to_dict`), the README table
(`schema_doc`) and the tests. Unknown keys are kept (written back) with a "did you mean" warning;
keys the recorder and the simulator write are listed like any other. Pure: dict in, dataclass out
(file reading and writing is `gaitimpact.io.sidecar`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gaitimpact.errors import InputError
from gaitimpact.names import close_match
from gaitimpact.notice import Notice
from gaitimpact.recording import PLACEMENTS, Gap, Metadata, SurfaceSegment

SCHEMA_VERSION = 1
"""Version written to `schema_version`; a newer file is read field by field with a warning."""


@dataclass
class Sidecar:
    """A validated sidecar: the metadata, the recording facts it declares (gaps, nominal rate in Hz),
    its schema version and what the reader noticed (unknown keys, newer schema)."""

    meta: Metadata
    gaps: list[Gap] = field(default_factory=list)
    fs_hz: float | None = None
    schema_version: int | None = None
    warnings: list[Notice] = field(default_factory=list)


class _Checker:
    """Type/value checks that raise InputError naming the file and the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, name: str, msg: str) -> InputError:
        """An InputError naming the sidecar file and the field."""
        return InputError(msg, path=self.path, field=name)

    def number(self, value: Any, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
        """A finite JSON number (not a bool), optionally >= or > minimum."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(name, f"must be a number, got {_show(value)}")
        try:
            x = float(value)
        except OverflowError:  # a 400-digit integer
            raise self.fail(name, f"must be a finite number, got an integer of {len(str(value))} digits") from None
        if not math.isfinite(x):
            raise self.fail(name, f"must be a finite number, got {value}")
        if minimum is not None and (x < minimum or (strict and x == minimum)):
            raise self.fail(name, f"must be {'>' if strict else '>='} {minimum:g}, got {_show(value)}")
        return x

    def integer(self, value: Any, name: str) -> int:
        """A whole JSON number >= 0."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(name, f"must be a whole number >= 0, got {_show(value)}")
        return int(value)

    def string(self, value: Any, name: str) -> str:
        """A JSON string."""
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {_show(value)}")
        return value

    def surface(self, value: Any, name: str) -> str:
        """A non-empty surface name, lower case."""
        s = self.string(value, name).strip().lower()
        if not s:
            raise self.fail(name, "must not be empty")
        return s

    def span(self, item: Any, name: str) -> tuple[dict, float, float]:
        """An object with start_s >= 0 and end_s >= start_s (s)."""
        if not isinstance(item, dict):
            raise self.fail(name, f"must be an object with start_s and end_s, got {_show(item)}")
        for key in ("start_s", "end_s"):
            if key not in item:
                raise self.fail(f"{name}.{key}", "is missing")
        start = self.number(item["start_s"], f"{name}.start_s", minimum=0.0)
        end = self.number(item["end_s"], f"{name}.end_s")
        if end < start:
            raise self.fail(f"{name}.end_s", f"must be >= start_s ({start:g}), got {end:g}")
        return item, start, end


def _show(value: Any) -> str:
    """A value as JSON for a message, cut to 60 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------------------ one per field
# Each reader takes (checker, value, sidecar being built) and stores the checked value; each writer
# takes (sidecar) and returns the JSON value to write (None: leave the key out).

Reader = Callable[[_Checker, Any, Sidecar], None]
Writer = Callable[[Sidecar], Any]


def _read_schema_version(c: _Checker, v: Any, s: Sidecar) -> None:
    s.schema_version = c.integer(v, "schema_version")
    if s.schema_version > SCHEMA_VERSION:
        s.warnings.append(Notice("sidecar", f"{c.path}: sidecar schema_version {s.schema_version} is newer than this "
                                 f"gaitimpact knows ({SCHEMA_VERSION}): read field by field as version "
                                 f"{SCHEMA_VERSION}; update gaitimpact", {"schema_version": s.schema_version}))


def _read_placement(c: _Checker, v: Any, s: Sidecar) -> None:
    placement = c.string(v, "placement").strip().lower()
    if placement not in (*PLACEMENTS, "auto"):
        raise c.fail("placement", f"must be one of auto, {', '.join(PLACEMENTS)}; got {placement!r}")
    s.meta.placement = placement


def _read_segments(c: _Checker, v: Any, s: Sidecar) -> None:
    if not isinstance(v, list):
        raise c.fail("segments", "must be a list of {start_s, end_s, surface, speed_mps}")
    segments = []
    for i, item in enumerate(v):
        name = f"segments[{i}]"
        item, start, end = c.span(item, name)
        if "surface" not in item:
            raise c.fail(f"{name}.surface", "is missing")
        surface = c.surface(item["surface"], f"{name}.surface")
        speed = item.get("speed_mps")
        if speed is not None:
            speed = c.number(speed, f"{name}.speed_mps", minimum=0.0, strict=True)
        segments.append(SurfaceSegment(start, end, surface, speed))
    segments.sort(key=lambda seg: seg.start_s)
    for a, b in zip(segments, segments[1:]):
        if b.start_s < a.end_s:
            raise c.fail("segments", f"segments overlap: {a.start_s:g}-{a.end_s:g} s and {b.start_s:g}-{b.end_s:g} s")
    s.meta.segments = segments


def _read_surface(c: _Checker, v: Any, s: Sidecar) -> None:
    surface = c.surface(v, "surface")
    if s.meta.segments:
        s.meta.extra["surface"] = surface  # segments win (each names its surface); kept for reference
    else:
        s.meta.segments = [whole_run_segment(surface, s.meta.speed_mps)]


def _read_speed(c: _Checker, v: Any, s: Sidecar) -> None:
    s.meta.speed_mps = c.number(v, "speed_mps", minimum=0.0, strict=True)


def _read_shoe(c: _Checker, v: Any, s: Sidecar) -> None:
    if isinstance(v, dict):
        if v.get("name") is not None:
            s.meta.shoe = c.string(v["name"], "shoe.name").strip()
        if v.get("km") is not None:
            s.meta.shoe_km = c.number(v["km"], "shoe.km", minimum=0.0)
    else:
        s.meta.shoe = c.string(v, "shoe").strip()


def _read_shoe_km(c: _Checker, v: Any, s: Sidecar) -> None:
    km = c.number(v, "shoe_km", minimum=0.0)
    if s.meta.shoe_km is not None and km != s.meta.shoe_km:
        raise c.fail("shoe_km", f"disagrees with shoe.km ({s.meta.shoe_km:g} vs {km:g})")
    s.meta.shoe_km = km


def _read_distance(c: _Checker, v: Any, s: Sidecar) -> None:
    s.meta.distance_km = c.number(v, "distance_km", minimum=0.0)


def _read_device(c: _Checker, v: Any, s: Sidecar) -> None:
    if not isinstance(v, dict):
        raise c.fail("device", "must be an object {name, address, profile, firmware}")
    for key in ("name", "address", "profile", "firmware"):
        if v.get(key) is not None:
            c.string(v[key], f"device.{key}")
    s.meta.device = dict(v)


def _read_side(c: _Checker, v: Any, s: Sidecar) -> None:
    side = c.string(v, "side").strip().upper()
    if side not in ("L", "R"):
        raise c.fail("side", f"must be \"L\" or \"R\", got {_show(v)}")
    s.meta.side = side


def _read_fs(c: _Checker, v: Any, s: Sidecar) -> None:
    s.fs_hz = c.number(v, "fs_hz", minimum=0.0, strict=True)


def _read_range(c: _Checker, v: Any, s: Sidecar) -> None:
    s.meta.range_g = c.number(v, "range_g", minimum=0.0, strict=True)


def _read_start(c: _Checker, v: Any, s: Sidecar) -> None:
    text = c.string(v, "start_utc").strip()
    try:
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise c.fail("start_utc", f"must be an ISO 8601 date-time, got {_show(v)}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        s.meta.start_utc = dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise c.fail("start_utc", f"is out of range: {_show(v)}") from None


def _read_gaps(c: _Checker, v: Any, s: Sidecar) -> None:
    if not isinstance(v, list):
        raise c.fail("gaps", "must be a list of {start_s, end_s, reason}")
    gaps = []
    for i, item in enumerate(v):
        item, start, end = c.span(item, f"gaps[{i}]")
        gaps.append(Gap(start, end, c.string(item.get("reason", "gap"), f"gaps[{i}].reason")))
    s.gaps = sorted(gaps, key=lambda g: g.start_s)


def _read_simulated(c: _Checker, v: Any, s: Sidecar) -> None:
    if not isinstance(v, bool):
        raise c.fail("simulated", f"must be true or false, got {_show(v)}")
    s.meta.simulated = v


def _read_notes(c: _Checker, v: Any, s: Sidecar) -> None:
    s.meta.notes = c.string(v, "notes")


def _counter(name: str) -> Reader:
    """A recorder counter (whole number >= 0), kept in `Metadata.extra`."""
    def read(c: _Checker, v: Any, s: Sidecar) -> None:
        s.meta.extra[name] = c.integer(v, name)
    return read


def _number_extra(name: str) -> Reader:
    """A recorder figure (finite number), kept in `Metadata.extra`."""
    def read(c: _Checker, v: Any, s: Sidecar) -> None:
        s.meta.extra[name] = c.number(v, name)
    return read


def _string_extra(name: str) -> Reader:
    """A recorder word (string), kept in `Metadata.extra`."""
    def read(c: _Checker, v: Any, s: Sidecar) -> None:
        s.meta.extra[name] = c.string(v, name)
    return read


def _object_extra(name: str) -> Reader:
    """An object written by the program (kept as is in `Metadata.extra`)."""
    def read(c: _Checker, v: Any, s: Sidecar) -> None:
        if not isinstance(v, dict):
            raise c.fail(name, f"must be an object, got {_show(v)}")
        s.meta.extra[name] = v
    return read


def _segments_out(s: Sidecar) -> Any:
    segs = s.meta.segments
    if not segs or _is_whole_run(segs):
        return None
    for seg in segs:
        if math.isinf(seg.end_s):
            raise InputError("segment end_s must be finite when there are several segments", field="segments")
    return [_segment_dict(seg) for seg in segs]


def _surface_out(s: Sidecar) -> Any:
    if _is_whole_run(s.meta.segments):
        return s.meta.segments[0].surface
    return s.meta.extra.get("surface")  # given next to segments: kept for reference


def _speed_out(s: Sidecar) -> Any:
    segs = s.meta.segments
    if s.meta.speed_mps is None and _is_whole_run(segs):
        return segs[0].speed_mps
    return s.meta.speed_mps


def _shoe_out(s: Sidecar) -> Any:
    m = s.meta
    return {"name": m.shoe, "km": m.shoe_km} if m.shoe is not None or m.shoe_km is not None else None


def _extra_out(name: str) -> Writer:
    return lambda s: s.meta.extra.get(name)


@dataclass(frozen=True)
class Field:
    """One sidecar key: JSON type, meaning (units), who writes it, how it is read and written."""

    name: str
    type_doc: str
    meaning: str
    read: Reader
    write: Writer | None
    written_by: str = "you, record, simulate"


FIELDS: tuple[Field, ...] = (
    Field("schema_version", "int", f"sidecar schema version (currently {SCHEMA_VERSION}; a newer one is read with a "
          "warning)", _read_schema_version, lambda s: SCHEMA_VERSION, "all writers"),
    Field("placement", '`"auto"`, `"waist"`, `"shoe"`, `"shank"`', "where the sensor was worn", _read_placement,
          lambda s: s.meta.placement),
    Field("speed_mps", "number > 0", "running speed for the whole run, m/s", _read_speed, _speed_out),
    Field("segments", 'list of `{"start_s", "end_s", "surface", "speed_mps"}`', "stretches, s from 1st sample",
          _read_segments, _segments_out),
    Field("surface", "string", "whole-run surface: asphalt, concrete, track, grass, trail, treadmill, ...",
          _read_surface, _surface_out),
    Field("shoe", '`{"name": str, "km": number}` or a name string', "shoe and its distance before this run, km",
          _read_shoe, _shoe_out),
    Field("shoe_km", "number >= 0", "shoe distance, km (alternative to `shoe.km`)", _read_shoe_km, None),
    Field("distance_km", "number >= 0", "distance of this run, km", _read_distance, lambda s: s.meta.distance_km),
    Field("device", '`{"name", "address", "profile", "firmware", "side"}`', "sensor that recorded the file "
          "(strings)", _read_device, lambda s: dict(s.meta.device) or None, "record, simulate"),
    Field("side", '`"L"` or `"R"`', "foot a one-foot (shoe/shank) sensor is on (also `device.side`)", _read_side,
          lambda s: s.meta.side),
    Field("fs_hz", "number > 0", "nominal sampling rate, Hz", _read_fs, lambda s: s.fs_hz,
          "record, convert, simulate"),
    Field("range_g", "number > 0", "sensor full-scale range, +-g (peaks at the range are flagged clipped)",
          _read_range, lambda s: s.meta.range_g),
    Field("start_utc", "ISO 8601 string", "wall-clock time of the first sample (UTC if no offset given)",
          _read_start, lambda s: _iso_utc(s.meta.start_utc) if s.meta.start_utc else None),
    Field("gaps", 'list of `{"start_s", "end_s", "reason"}`', "known stretches without samples (e.g. BLE "
          "drop-outs), s", _read_gaps, lambda s: s.gaps or None, "record, convert, simulate"),
    Field("simulated", "bool", "true for recordings made by `gaitimpact simulate`", _read_simulated,
          lambda s: True if s.meta.simulated else None, "simulate"),
    Field("notes", "string", "free text", _read_notes, lambda s: s.meta.notes or None),
    Field("packets_lost", "int >= 0", "BLE packets lost while recording", _counter("packets_lost"),
          _extra_out("packets_lost"), "record"),
    Field("packets_received", "int >= 0", "BLE packets received", _counter("packets_received"),
          _extra_out("packets_received"), "record"),
    Field("samples_received", "int >= 0", "samples received", _counter("samples_received"),
          _extra_out("samples_received"), "record"),
    Field("malformed_packets", "int >= 0", "packets that could not be decoded (dropped)",
          _counter("malformed_packets"), _extra_out("malformed_packets"), "record"),
    Field("reconnects", "int >= 0", "times the sensor was reconnected", _counter("reconnects"),
          _extra_out("reconnects"), "record"),
    Field("clock_drift_ppm", "number", "sensor clock drift against the phone/PC clock, ppm",
          _number_extra("clock_drift_ppm"), _extra_out("clock_drift_ppm"), "record"),
    Field("recording", "string", "recording state: starting, in progress, or how it ended",
          _string_extra("recording"), _extra_out("recording"), "record"),
    Field("live", "object", "the live analysis figures at the end of the recording", _object_extra("live"),
          _extra_out("live"), "record"),
    Field("simulation", "object", "the simulator settings (segments, seed, ...)", _object_extra("simulation"),
          _extra_out("simulation"), "simulate"),
)
"""Every sidecar key, in the order it is written."""

KNOWN = {f.name: f for f in FIELDS}



def whole_run_segment(surface: str, speed_mps: float | None = None) -> SurfaceSegment:
    """A segment covering the whole recording (0 s to infinity) for a single `surface` label."""
    return SurfaceSegment(0.0, math.inf, surface, speed_mps)


def _is_whole_run(segs: list[SurfaceSegment]) -> bool:
    return len(segs) == 1 and segs[0].start_s == 0 and math.isinf(segs[0].end_s)


def _segment_dict(seg: SurfaceSegment) -> dict:
    out: dict = {"start_s": seg.start_s, "end_s": seg.end_s, "surface": seg.surface}
    if seg.speed_mps is not None:
        out["speed_mps"] = seg.speed_mps
    return out


def _iso_utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def sidecar_from_dict(data: Any, path: str = "<sidecar>") -> Sidecar:
    """Validate a sidecar JSON object (field by field, `FIELDS` order) into a Sidecar; raises InputError
    naming `path` and the field. Unknown keys are kept in `Metadata.extra` with a "did you mean" warning."""
    if not isinstance(data, dict):
        raise InputError(f"sidecar must be a JSON object, got {type(data).__name__}", path=path)
    check = _Checker(path)
    side = Sidecar(Metadata())
    for f in FIELDS:
        if data.get(f.name) is not None:
            f.read(check, data[f.name], side)
    for key, value in data.items():
        if key in KNOWN:
            continue
        side.meta.extra[key] = value
        close = close_match(str(key), KNOWN, cutoff=0.75)
        hint = f" (did you mean {close!r}?)" if close else ""
        side.warnings.append(Notice("sidecar", f"{path}: unknown sidecar key {str(key)!r}{hint}: kept, not used",
                                    {}))
    return side


def sidecar_to_dict(side: Sidecar, **extra: Any) -> dict:
    """The sidecar JSON object (`FIELDS` order, then other `Metadata.extra` keys); `extra` keywords
    (gaps, fs_hz, packets_lost, ...) are written over the sidecar's own values."""
    extra = {k: v for k, v in extra.items() if v is not None}
    if "gaps" in extra:  # given: written even when empty
        extra["gaps"] = [_gap_from(g) for g in extra["gaps"] or []]
    out: dict = {}
    for f in FIELDS:
        value = extra.pop(f.name) if f.name in extra else (f.write(side) if f.write is not None else None)
        if value is not None:
            out[f.name] = _jsonable(value)
    for key, value in {**side.meta.extra, **extra}.items():
        if key not in out and key not in KNOWN and value is not None:
            out[key] = _jsonable(value)
    return out


def _gap_from(value: Any) -> Gap:
    if isinstance(value, Gap):
        return value
    if isinstance(value, dict):
        return Gap(float(value["start_s"]), float(value["end_s"]), str(value.get("reason", "gap")))
    start, end, *rest = value
    return Gap(float(start), float(end), str(rest[0]) if rest else "gap")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Gap):
        return {"start_s": value.start_s, "end_s": value.end_s, "reason": value.reason}
    if isinstance(value, SurfaceSegment):
        return _segment_dict(value)
    if isinstance(value, datetime):
        return _iso_utc(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/Infinity
    return value


def schema_doc() -> str:
    """The README section on the sidecar, generated from `FIELDS`."""
    rows = "\n".join(f"| `{f.name}` | {f.type_doc} | {f.meaning} | {f.written_by} |" for f in FIELDS)
    return f"""\
### Metadata sidecar (`run.csv` -> `run.json`)

A JSON object next to the recording, same name with `.json`. Every field is optional; unknown
fields are kept and written back, with a warning naming the closest known field ("did you mean").
CLI flags (`--placement`, `--surface`, `--speed`, `--shoe`, `--shoe-km`) override the sidecar.
The table is generated from `gaitimpact/sidecar_schema.py` (`FIELDS`), which also validates and writes.

| field | type | meaning | written by |
|---|---|---|---|
{rows}

Example:
```json
{{"schema_version": 1, "placement": "waist",
 "segments": [{{"start_s": 0, "end_s": 600, "surface": "asphalt", "speed_mps": 3.2}},
              {{"start_s": 600, "end_s": 1200, "surface": "grass"}}],
 "shoe": {{"name": "Pegasus 40", "km": 420}}, "notes": "easy run"}}
```
"""
