"""One entry point for every recording file: `load_recording(path)` -> `Recording`.

Dispatch by suffix (.parquet -> Parquet reader, anything else -> tolerant CSV reader), then the
sidecar (`run.csv` -> `run.json`) and finally CLI overrides, which win over the sidecar.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from gaitimpact.errors import InputError
from gaitimpact.io.sidecar import read_sidecar, sidecar_gaps, sidecar_path, whole_run_segment
from gaitimpact.recording import PLACEMENTS, SURFACES, Metadata, Recording
from gaitimpact.timebase import merge_gaps

READING_DOC = """\
### Recordings gaitimpact reads

- **Any accelerometer CSV/TSV/TXT**: separator `,` `;` tab `|` or spaces, decimal point or comma,
  with or without a header (quoted or not), UTF-8 (with or without BOM) or Latin-1, LF or CRLF,
  `#` preamble lines skipped. Columns are found by name in the common styles (`ax`, `x`, `acc_x`,
  `Acc X (g)`, `X [mg]`, `Acceleration x (m/s^2)`, `x-axis (g)`, ...; gyro `gx`, `gyro_x`,
  `Gyroscope x (rad/s)`, `X [dps]`); without a header, 3 columns are x,y,z, 4 are time,x,y,z,
  6 are acc+gyro, 7 are time+acc+gyro.
- **Units**: from the header (g, mg, m/s^2; deg/s, rad/s), else inferred from the gravity
  magnitude (~1 g, ~1000 mg, ~9.81 m/s^2: |a| while still, else the long-term mean vector of an
  all-running file) and reported as a warning.
- **Time**: s, ms, us or ns (from the header, else from the step size), relative or Unix epoch,
  ISO 8601 date-times, or none (then `--rate HZ` is required). Epoch and zoned ISO times give the
  start time in UTC.
- **App exports**: Polar Sensor Logger `*_ACC.txt`, phyphox "Acceleration with g" (`Raw Data.csv`),
  Sensor Logger `TotalAcceleration.csv` (its gravity-free `Accelerometer.csv` is refused with a hint),
  MbientLab MetaBase accelerometer CSV; gaitimpact's own `time_s,ax_g,ay_g,az_g[,gx_dps,gy_dps,gz_dps]`
  and Parquet.
- **Repairs, always reported**: rows with missing/non-numeric values and a cut-off last line are
  dropped; duplicated or backwards timestamps are dropped; gaps (an interval > 2.5x the median) are
  listed, never filled; irregular sampling is noted. Anything unreadable is one line naming the
  file, line and column (exit 2).
"""



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
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        from gaitimpact.io.parquet import read_parquet

        return read_parquet(p, rate_hz=rate_hz, overrides=overrides)
    if not p.exists():
        raise InputError("file not found", path=str(p))

    from gaitimpact.io.csv_reader import read_csv_recording

    side = sidecar_path(p)
    meta = read_sidecar(side) if side.is_file() and side != p else Metadata()
    rec = read_csv_recording(p, rate_hz=rate_hz, meta=meta)
    known = sidecar_gaps(meta)
    if known:
        rec.gaps = merge_gaps(rec.gaps, known)
    side_fs = meta.extra.get("fs_hz")
    if rate_hz is None and side_fs and abs(side_fs - rec.fs_hz) / side_fs > 0.02:
        rec.warnings.append(f"sidecar says {side_fs:g} Hz but the timestamps give {rec.fs_hz:g} Hz; "
                            "used the timestamps")
    apply_overrides(rec.meta, overrides)
    unknown = sorted({seg.surface for seg in rec.meta.segments} - set(SURFACES))
    if unknown:
        rec.warnings.append(f"surface {', '.join(map(repr, unknown))} is not one of {', '.join(SURFACES)}: "
                            "kept as given (a typo makes a separate group in compare)")
    return rec
