"""The metadata sidecar: `run.csv` -> `run.json`. The schema is defined here and only here.

Read with `read_sidecar(path) -> Metadata`, write with `write_sidecar(path, meta, **extra)`.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gaitimpact.errors import InputError
from gaitimpact.io.fsutil import atomic_write_bytes
from gaitimpact.recording import PLACEMENTS, Gap, Metadata, SurfaceSegment

SCHEMA_VERSION = 1
"""Version written to `schema_version`; readers accept older and unknown-newer files field by field."""

SIDECAR_SCHEMA_DOC = """\
### Metadata sidecar (`run.csv` -> `run.json`)

A JSON object next to the recording, same name with `.json`. Every field is optional; unknown
fields are kept (`Metadata.extra`) and written back. CLI flags (`--placement`, `--surface`,
`--speed`, `--shoe`, `--shoe-km`) override the sidecar.

| field | type | meaning |
|---|---|---|
| `schema_version` | int | sidecar schema version (currently 1) |
| `placement` | `"auto"`, `"waist"`, `"shoe"`, `"shank"` | where the sensor was worn |
| `surface` | string | whole-run surface: asphalt, concrete, track, grass, trail, treadmill, ... |
| `segments` | list of `{"start_s", "end_s", "surface", "speed_mps"}` | stretches, s from 1st sample |
| `speed_mps` | number > 0 | running speed for the whole run, m/s |
| `shoe` | `{"name": str, "km": number}` or a name string | shoe and its distance before this run, km |
| `shoe_km` | number >= 0 | shoe distance, km (alternative to `shoe.km`) |
| `distance_km` | number >= 0 | distance of this run, km |
| `device` | `{"name", "address", "profile", "firmware"}` | sensor that recorded the file (strings) |
| `fs_hz` | number > 0 | nominal sampling rate, Hz |
| `range_g` | number > 0 | sensor full-scale range, +-g (peaks at the range are flagged clipped) |
| `start_utc` | ISO 8601 string | wall-clock time of the first sample (UTC if no offset given) |
| `gaps` | list of `{"start_s", "end_s", "reason"}` | known stretches without samples (e.g. BLE drop-outs) |
| `packets_lost`, `samples_received` | int >= 0 | live-recording counters |
| `simulated` | bool | true for recordings made by `gaitimpact simulate` |
| `notes` | string | free text |

Example:
```json
{"schema_version": 1, "placement": "waist",
 "segments": [{"start_s": 0, "end_s": 600, "surface": "asphalt", "speed_mps": 3.2},
              {"start_s": 600, "end_s": 1200, "surface": "grass"}],
 "shoe": {"name": "Pegasus 40", "km": 420}, "notes": "easy run"}
```
"""

_TOP_LEVEL_KNOWN = (
    "schema_version",
    "placement",
    "surface",
    "segments",
    "speed_mps",
    "shoe",
    "shoe_km",
    "distance_km",
    "device",
    "fs_hz",
    "range_g",
    "start_utc",
    "gaps",
    "packets_lost",
    "samples_received",
    "simulated",
    "notes",
)

EXTRA_KEYS = ("schema_version", "fs_hz", "gaps", "packets_lost", "samples_received")
"""Known sidecar fields that `Metadata` has no attribute for: parsed and kept in `Metadata.extra`
(`gaps` as a list of `Gap`). Readers also put `source_format` (what the file was read as) in
`Metadata.extra`; it describes the source file and is not written to a new sidecar."""


def sidecar_path(csv_path: str | os.PathLike) -> Path:
    """The sidecar JSON path of a recording: `run.csv` -> `run.json` (any suffix replaced)."""
    p = Path(csv_path)
    return p.with_suffix(".json")


def whole_run_segment(surface: str, speed_mps: float | None = None) -> SurfaceSegment:
    """A segment covering the whole recording (0 s to infinity) for a single `surface` label."""
    return SurfaceSegment(0.0, math.inf, surface, speed_mps)


def sidecar_gaps(meta: Metadata) -> list[Gap]:
    """The gaps stored in a sidecar that was read into `meta` (empty list if none)."""
    return list(meta.extra.get("gaps", []))


# --------------------------------------------------------------------------------------- validation


class _Checker:
    """Type/value checks that raise InputError naming the file and the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, field: str, msg: str) -> InputError:
        return InputError(msg, path=self.path, field=field)

    def number(self, value: Any, field: str, *, minimum: float | None = None, strict: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"must be a number, got {json.dumps(value)}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(field, f"must be a finite number, got {value}")
        if minimum is not None and (x < minimum or (strict and x == minimum)):
            op = ">" if strict else ">="
            raise self.fail(field, f"must be {op} {minimum:g}, got {value}")
        return x

    def integer(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(field, f"must be a whole number >= 0, got {json.dumps(value)}")
        return int(value)

    def string(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise self.fail(field, f"must be a string, got {json.dumps(value)}")
        return value

    def surface(self, value: Any, field: str) -> str:
        s = self.string(value, field).strip().lower()
        if not s:
            raise self.fail(field, "must not be empty")
        return s

    def span(self, item: Any, field: str) -> tuple[dict, float, float]:
        if not isinstance(item, dict):
            raise self.fail(field, f"must be an object with start_s and end_s, got {json.dumps(item)}")
        for key in ("start_s", "end_s"):
            if key not in item:
                raise self.fail(f"{field}.{key}", "is missing")
        start = self.number(item["start_s"], f"{field}.start_s", minimum=0.0)
        end = self.number(item["end_s"], f"{field}.end_s")
        if end < start:
            raise self.fail(f"{field}.end_s", f"must be >= start_s ({start:g}), got {end:g}")
        return item, start, end


def _parse_start_utc(check: _Checker, value: Any) -> datetime:
    text = check.string(value, "start_utc").strip()
    try:
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise check.fail("start_utc", f"must be an ISO 8601 date-time, got {json.dumps(value)}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise check.fail("start_utc", f"is out of range: {json.dumps(value)}") from None


def metadata_from_dict(data: Any, path: str = "<sidecar>") -> Metadata:
    """Validate a sidecar JSON object and build `Metadata`; raises InputError naming `path` and field."""
    check = _Checker(path)
    if not isinstance(data, dict):
        raise InputError(f"sidecar must be a JSON object, got {type(data).__name__}", path=path)
    meta = Metadata()
    extra: dict = {}

    if "schema_version" in data:
        extra["schema_version"] = check.integer(data["schema_version"], "schema_version")
    if data.get("placement") is not None:
        placement = check.string(data["placement"], "placement").strip().lower()
        if placement not in (*PLACEMENTS, "auto"):
            raise check.fail("placement", f"must be one of auto, {', '.join(PLACEMENTS)}; got {placement!r}")
        meta.placement = placement
    if data.get("speed_mps") is not None:
        meta.speed_mps = check.number(data["speed_mps"], "speed_mps", minimum=0.0, strict=True)

    segments: list[SurfaceSegment] = []
    if data.get("segments") is not None:
        raw = data["segments"]
        if not isinstance(raw, list):
            raise check.fail("segments", "must be a list of {start_s, end_s, surface, speed_mps}")
        for i, item in enumerate(raw):
            name = f"segments[{i}]"
            item, start, end = check.span(item, name)
            if "surface" not in item:
                raise check.fail(f"{name}.surface", "is missing")
            surface = check.surface(item["surface"], f"{name}.surface")
            speed = item.get("speed_mps")
            if speed is not None:
                speed = check.number(speed, f"{name}.speed_mps", minimum=0.0, strict=True)
            segments.append(SurfaceSegment(start, end, surface, speed))
        segments.sort(key=lambda s: s.start_s)
        for a, b in zip(segments, segments[1:]):
            if b.start_s < a.end_s:
                raise check.fail("segments", f"segments overlap: {a.start_s:g}-{a.end_s:g} s and "
                                 f"{b.start_s:g}-{b.end_s:g} s")
    if data.get("surface") is not None:
        surface = check.surface(data["surface"], "surface")
        if segments:
            # Segments win; a top-level surface fills in segments that lack one is not possible
            # (surface is required per segment), so keep it for reference only.
            extra["surface"] = surface
        else:
            segments = [whole_run_segment(surface, meta.speed_mps)]
    meta.segments = segments

    shoe = data.get("shoe")
    if isinstance(shoe, dict):
        if shoe.get("name") is not None:
            meta.shoe = check.string(shoe["name"], "shoe.name").strip()
        if shoe.get("km") is not None:
            meta.shoe_km = check.number(shoe["km"], "shoe.km", minimum=0.0)
    elif shoe is not None:
        meta.shoe = check.string(shoe, "shoe").strip()
    if data.get("shoe_km") is not None:
        km = check.number(data["shoe_km"], "shoe_km", minimum=0.0)
        if meta.shoe_km is not None and km != meta.shoe_km:
            raise check.fail("shoe_km", f"disagrees with shoe.km ({meta.shoe_km:g} vs {km:g})")
        meta.shoe_km = km
    if data.get("distance_km") is not None:
        meta.distance_km = check.number(data["distance_km"], "distance_km", minimum=0.0)

    device = data.get("device")
    if device is not None:
        if not isinstance(device, dict):
            raise check.fail("device", "must be an object {name, address, profile, firmware}")
        for key in ("name", "address", "profile", "firmware"):
            if device.get(key) is not None:
                check.string(device[key], f"device.{key}")
        meta.device = dict(device)

    if data.get("fs_hz") is not None:
        extra["fs_hz"] = check.number(data["fs_hz"], "fs_hz", minimum=0.0, strict=True)
    if data.get("range_g") is not None:
        meta.range_g = check.number(data["range_g"], "range_g", minimum=0.0, strict=True)
    if data.get("start_utc") is not None:
        meta.start_utc = _parse_start_utc(check, data["start_utc"])

    if data.get("gaps") is not None:
        raw = data["gaps"]
        if not isinstance(raw, list):
            raise check.fail("gaps", "must be a list of {start_s, end_s, reason}")
        gaps = []
        for i, item in enumerate(raw):
            item, start, end = check.span(item, f"gaps[{i}]")
            reason = check.string(item.get("reason", "gap"), f"gaps[{i}].reason")
            gaps.append(Gap(start, end, reason))
        extra["gaps"] = sorted(gaps, key=lambda g: g.start_s)
    for key in ("packets_lost", "samples_received"):
        if data.get(key) is not None:
            extra[key] = check.integer(data[key], key)
    if data.get("simulated") is not None:
        if not isinstance(data["simulated"], bool):
            raise check.fail("simulated", f"must be true or false, got {json.dumps(data['simulated'])}")
        meta.simulated = data["simulated"]
    if data.get("notes") is not None:
        meta.notes = check.string(data["notes"], "notes")

    for key, value in data.items():
        if key not in _TOP_LEVEL_KNOWN:
            extra[key] = value
    meta.extra = extra
    return meta


class _NonFiniteConstant(ValueError):
    """NaN/Infinity in a JSON file (Python accepts them; JSON does not)."""


def _reject_constant(name: str) -> None:
    raise _NonFiniteConstant(name)


def read_sidecar(path: str | os.PathLike) -> Metadata:
    """Read and validate a sidecar JSON file into `Metadata` (times in s, speeds m/s, distances km).

    Known fields without a `Metadata` attribute (`schema_version`, `fs_hz`, `gaps` as `Gap` list,
    `packets_lost`, `samples_received`) and unknown fields go to `Metadata.extra`.
    Raises InputError naming the file (and line or field) when it is missing, not JSON or invalid.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("sidecar file not found", path=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("sidecar is not UTF-8 text", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read sidecar: {exc.strerror or exc}", path=str(p)) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} (column {exc.colno})"
        raise InputError(msg, path=str(p), line=exc.lineno) from None
    except RecursionError:
        raise InputError("not valid sidecar JSON: nested too deeply", path=str(p)) from None
    except _NonFiniteConstant as exc:
        raise InputError(f"not valid JSON: {exc} is not a JSON number", path=str(p)) from None
    return metadata_from_dict(data, str(p))


# ------------------------------------------------------------------------------------------ writing


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


def _iso_utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _segment_dict(seg: SurfaceSegment) -> dict:
    out: dict = {"start_s": seg.start_s, "end_s": seg.end_s, "surface": seg.surface}
    if seg.speed_mps is not None:
        out["speed_mps"] = seg.speed_mps
    return out


def _gap_from(value: Any) -> Gap:
    if isinstance(value, Gap):
        return value
    if isinstance(value, dict):
        return Gap(float(value["start_s"]), float(value["end_s"]), str(value.get("reason", "gap")))
    start, end, *rest = value
    return Gap(float(start), float(end), str(rest[0]) if rest else "gap")


def metadata_to_dict(meta: Metadata, **extra: Any) -> dict:
    """The sidecar JSON object for `meta`; keyword `extra` (gaps, fs_hz, packets_lost, ...) added on top."""
    out: dict = {"schema_version": SCHEMA_VERSION, "placement": meta.placement}
    segs = list(meta.segments)
    if len(segs) == 1 and segs[0].start_s == 0 and math.isinf(segs[0].end_s):
        out["surface"] = segs[0].surface
        if meta.speed_mps is None and segs[0].speed_mps is not None:
            out["speed_mps"] = segs[0].speed_mps
    elif segs:
        out["segments"] = [_segment_dict(s) for s in segs]
    if meta.speed_mps is not None:
        out["speed_mps"] = meta.speed_mps
    if meta.shoe is not None or meta.shoe_km is not None:
        out["shoe"] = {"name": meta.shoe, "km": meta.shoe_km}
    if meta.distance_km is not None:
        out["distance_km"] = meta.distance_km
    if meta.device:
        out["device"] = _jsonable(dict(meta.device))
    if meta.range_g is not None:
        out["range_g"] = meta.range_g
    if meta.start_utc is not None:
        out["start_utc"] = _iso_utc(meta.start_utc)
    if meta.simulated:
        out["simulated"] = True
    if meta.notes:
        out["notes"] = meta.notes
    merged = {k: v for k, v in meta.extra.items() if k not in ("schema_version", "source_format")}
    merged.update(extra)
    if "gaps" in merged:
        merged["gaps"] = [_gap_from(g) for g in (merged["gaps"] or [])]
    for key, value in merged.items():
        if value is None:
            continue
        out[key] = _jsonable(value)
    for seg in out.get("segments", []):
        if math.isinf(seg["end_s"]):
            raise InputError("segment end_s must be finite when there are several segments", field="segments")
    return out


def write_sidecar(path: str | os.PathLike, meta: Metadata, **extra: Any) -> Path:
    """Write `meta` (plus e.g. gaps=[Gap...], fs_hz=..., packets_lost=...) as the sidecar JSON, atomically.

    `path` may be the sidecar itself (`run.json`) or its recording (`run.csv`). Returns the JSON path.
    Raises InputError (bad folder) or GaitImpactError (disk full); the old sidecar is then untouched.
    """
    p = Path(path)
    target = p if p.suffix.lower() == ".json" else sidecar_path(p)
    data = metadata_to_dict(meta, **extra)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(target, text.encode("utf-8"))
    return target
