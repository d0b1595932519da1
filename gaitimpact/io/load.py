"""One entry point for every recording file: `load_recording(path)` -> `Recording`.

Dispatch by suffix (.parquet -> Parquet reader, anything else -> tolerant CSV reader), then the
sidecar (`run.csv` -> `run.json`) and finally CLI overrides, which win over the sidecar.
"""

from __future__ import annotations

import math
import os
from typing import Any

from gaitimpact.errors import InputError
from gaitimpact.io.fsutil import check_input_file
from gaitimpact.io.sidecar import Sidecar, load_sidecar, sidecar_path, whole_run_segment
from gaitimpact.io.wrongfile import refuse_non_recording
from gaitimpact.names import did_you_mean
from gaitimpact.notice import Notice
from gaitimpact.recording import PLACEMENTS, RUNNING_SPEED_MPS, SURFACES, Metadata, Recording
from gaitimpact.timebase import merge_gaps


def _number(value: Any, key: str, *, positive: bool) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {value!r}", field=key) from None
    if not math.isfinite(x) or (x <= 0 if positive else x < 0):
        raise InputError(f"must be {'> 0' if positive else '>= 0'}, got {value!r}", field=key)
    return x


def apply_overrides(meta: Metadata, overrides: dict | None) -> Metadata:
    """Apply CLI overrides (placement, surface, speed_mps, shoe, shoe_km, range_g, notes) onto `meta`.

    None values and keys not listed above are ignored; `surface` replaces any segments with one
    whole-run segment. Returns `meta`. Raises InputError naming the override on a bad value.
    """
    if not overrides:
        return meta
    if overrides.get("placement") is not None:
        placement = str(overrides["placement"]).strip().lower()
        if placement not in (*PLACEMENTS, "auto"):
            raise InputError(f"must be one of auto, {', '.join(PLACEMENTS)}; got {placement!r}",
                             field="placement")
        meta.placement = placement
    if overrides.get("speed_mps") is not None:
        meta.speed_mps = _number(overrides["speed_mps"], "speed_mps", positive=True)
        if len(meta.segments) == 1 and math.isinf(meta.segments[0].end_s):
            meta.segments = [whole_run_segment(meta.segments[0].surface, meta.speed_mps)]
    if overrides.get("surface") is not None:
        surface = str(overrides["surface"]).strip().lower()
        if not surface:
            raise InputError("must not be empty", field="surface")
        meta.segments = [whole_run_segment(surface, meta.speed_mps)]
    if overrides.get("shoe") is not None:
        meta.shoe = str(overrides["shoe"]).strip()
    if overrides.get("shoe_km") is not None:
        meta.shoe_km = _number(overrides["shoe_km"], "shoe_km", positive=False)
    if overrides.get("range_g") is not None:
        meta.range_g = _number(overrides["range_g"], "range_g", positive=True)
    if overrides.get("notes") is not None:
        meta.notes = str(overrides["notes"])
    return meta



def load_recording(
    path: str | os.PathLike, *, rate_hz: float | None = None, overrides: dict | None = None
) -> Recording:
    """Load any supported recording (CSV dialects, app exports, Parquet) as a Recording (s, g, deg/s).

    Metadata: the sidecar `<name>.json` if present, then `overrides` on top. Raises InputError
    (one line naming file/line/field) for anything it cannot read.
    """
    p = check_input_file(path)  # missing, folder, FIFO, device, symlink loop: one line before opening
    refuse_non_recording(p)  # a sidecar, a truth file, a workbook: say what it is
    if p.suffix.lower() == ".parquet":
        from gaitimpact.io.parquet import read_parquet

        return check_metadata(read_parquet(p, rate_hz=rate_hz, overrides=overrides))

    from gaitimpact.io.csv_reader import read_csv_recording

    side_path = sidecar_path(p)
    side = load_sidecar(side_path) if side_path.is_file() and side_path != p else Sidecar(Metadata())
    rec = read_csv_recording(p, rate_hz=rate_hz, meta=side.meta)
    rec.warnings[:0] = side.warnings
    if side.gaps:
        rec.gaps = merge_gaps(rec.gaps, side.gaps)
    side_fs = side.fs_hz
    if rate_hz is None and side_fs and abs(side_fs - rec.fs_hz) / side_fs > 0.02:
        rec.warnings.append(Notice("rate_mismatch", f"sidecar says {side_fs:g} Hz but the timestamps give "
                                   f"{rec.fs_hz:g} Hz; used the timestamps",
                                   {"sidecar_hz": float(side_fs), "timestamps_hz": rec.fs_hz}))
    apply_overrides(rec.meta, overrides)
    return check_metadata(rec)


def check_metadata(rec: Recording) -> Recording:
    """Warn about surfaces outside the known list (with a "did you mean") and implausible speeds (m/s).

    The whole run's speed must lie in `RUNNING_SPEED_MPS`; a segment's only below its top (walks are slow).
    """
    unknown = sorted({seg.surface for seg in rec.meta.segments} - set(SURFACES))
    for surface in unknown:
        hint = did_you_mean(surface, SURFACES)
        rec.warnings.append(Notice("unknown_surface", f"surface {surface!r} is not one of {', '.join(SURFACES)}"
                                   f"{hint}: kept as given (a typo makes a separate group in compare)"))
    lo, hi = RUNNING_SPEED_MPS
    # a segment may be a walk (1.4 m/s is a brisk one): segments are checked against the top only
    whole = {rec.meta.speed_mps} if rec.meta.speed_mps is not None and not lo <= rec.meta.speed_mps <= hi else set()
    fast = {seg.speed_mps for seg in rec.meta.segments if seg.speed_mps is not None and seg.speed_mps > hi}
    for v in sorted(whole | fast):
        rec.warnings.append(Notice(
            "implausible_speed",
            f"speed {v:g} m/s ({v * 3.6:.1f} km/h) is outside the usual running range {lo:g}-{hi:g} m/s "
            f"({lo * 3.6:.1f}-{hi * 3.6:.0f} km/h): speeds are in m/s (km/h / 3.6); kept as given",
            {"speed_mps": float(v)}))
    return rec
