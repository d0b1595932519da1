"""Parquet as a second recording format (pyarrow), metadata kept inside the file.

Layout: float64 columns `time_s, ax_g, ay_g, az_g` (+ `gx_dps, gy_dps, gz_dps` when there is a gyro), the
same names and units as the canonical CSV; the sidecar JSON object (`gaitimpact.io.sidecar` schema,
including `gaps` and `fs_hz`) is stored in the Parquet key-value metadata under `gaitimpact.sidecar`.
A `run.json` sidecar next to a Parquet file, if present, wins over the embedded one (it is the user's
later edit); overrides (CLI flags) win over both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gaitimpact.errors import InputError
from gaitimpact.io.blocks import DroppedRows
from gaitimpact.recording import Gap, Recording
from gaitimpact.sidecar_schema import Sidecar
from gaitimpact.timebase import estimate_rate_hz, gap_steps, median_step_s, merge_gaps, timing_notes

ACC_COLUMNS = ("ax_g", "ay_g", "az_g")
GYRO_COLUMNS = ("gx_dps", "gy_dps", "gz_dps")
TIME_COLUMN = "time_s"
SIDECAR_KEY = b"gaitimpact.sidecar"
FORMAT_KEY = b"gaitimpact.format"
FORMAT_VERSION = b"1"
ROW_GROUP_ROWS = 1_000_000
"""Rows per Parquet row group: the unit chunked readers fetch at a time."""


def _pq() -> Any:
    """pyarrow.parquet, imported on demand."""
    import pyarrow.parquet as pq

    return pq


def _bad(path: str | Path, message: str, field: str | None = None) -> InputError:
    """An InputError naming the file."""
    return InputError(message, path=str(path), field=field)


def write_parquet(path: str | Path, rec: Recording) -> Path:
    """Write a Recording as Parquet (time in s, acceleration in g, gyro in deg/s; metadata embedded), atomically."""
    import pyarrow as pa

    from gaitimpact.io.fsutil import write_error
    from gaitimpact.io.sidecar import metadata_to_dict

    target = Path(path)
    columns: dict[str, np.ndarray] = {TIME_COLUMN: np.asarray(rec.time_s, dtype=np.float64)}
    for i, name in enumerate(ACC_COLUMNS):
        columns[name] = np.ascontiguousarray(rec.acc_g[:, i], dtype=np.float64)
    if rec.gyro_dps is not None:
        for i, name in enumerate(GYRO_COLUMNS):
            columns[name] = np.ascontiguousarray(rec.gyro_dps[:, i], dtype=np.float64)
    sidecar = metadata_to_dict(rec.meta, gaps=list(rec.gaps), fs_hz=float(rec.fs_hz))
    table = pa.table(columns)
    table = table.replace_schema_metadata({
        SIDECAR_KEY: json.dumps(sidecar, allow_nan=False).encode("utf-8"),
        FORMAT_KEY: FORMAT_VERSION,
    })
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        _pq().write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, compression="zstd")
        os.replace(tmp, target)
    except OSError as exc:
        raise write_error(exc, target) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _open(path: str | Path) -> Any:
    """A pyarrow ParquetFile, or InputError for a missing/unreadable/non-Parquet file."""
    import pyarrow as pa

    p = Path(path)
    if not p.is_file():
        raise _bad(p, "file not found")
    try:
        return _pq().ParquetFile(p, pre_buffer=False)  # pre-buffering holds whole column chunks: RSS grows
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _bad(p, f"not a readable Parquet file ({' '.join(str(exc).split())[:120]})") from None


def embedded_sidecar(path: str | Path) -> dict:
    """The sidecar JSON object stored in a Parquet file's metadata ({} when there is none)."""
    pf = _open(path)
    kv = {**(pf.schema_arrow.metadata or {}), **(pf.metadata.metadata or {})}  # file key-values win
    raw = kv.get(SIDECAR_KEY)
    if raw is None:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(path, "embedded gaitimpact metadata is not valid JSON", field="gaitimpact.sidecar") from None
    if not isinstance(data, dict):
        raise _bad(path, "embedded gaitimpact metadata is not a JSON object", field="gaitimpact.sidecar")
    return data


def _no_constant(name: str) -> Any:
    """JSON has no NaN/Infinity: reject them (they could not be written back)."""
    raise ValueError(f"{name} is not a JSON number")


def parquet_sidecar(path: str | Path, overrides: dict | None = None) -> Sidecar:
    """Metadata, declared gaps and rate of a Parquet recording: embedded sidecar, then a `run.json` next
    to it (its keys win), then overrides."""
    from gaitimpact.io.load import apply_overrides
    from gaitimpact.io.sidecar import load_sidecar, parse_json, sidecar_from_dict, sidecar_path

    data = embedded_sidecar(path)
    side_path = sidecar_path(path)
    if side_path.is_file():
        load_sidecar(side_path)  # validates, with errors naming the sidecar file
        data = {**data, **parse_json(side_path.read_text(encoding="utf-8-sig"), str(side_path))}
    side = sidecar_from_dict(data, str(path))
    apply_overrides(side.meta, overrides)
    return side


def _column_names(pf: Any, path: str | Path, rate_hz: float | None, meta_fs_hz: float | None) -> list[str]:
    """The canonical columns present in the file (InputError when acceleration or time is missing)."""
    names = set(pf.schema_arrow.names)
    missing = [c for c in ACC_COLUMNS if c not in names]
    if missing:
        raise _bad(path, f"no acceleration columns {', '.join(missing)} (found: {', '.join(sorted(names))[:200]})")
    cols = []
    if TIME_COLUMN in names:
        cols.append(TIME_COLUMN)
    elif rate_hz is None and meta_fs_hz is None:
        raise _bad(path, "no time_s column: give the sampling rate with --rate HZ")
    cols += list(ACC_COLUMNS)
    if all(c in names for c in GYRO_COLUMNS):
        cols += list(GYRO_COLUMNS)
    return cols


def _as_float(path: str | Path, batch: Any, name: str) -> np.ndarray:
    """One column as float64 (InputError for non-numeric columns)."""
    import pyarrow as pa

    col = batch.column(batch.schema.get_field_index(name))
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_decimal(col.type)):
        raise _bad(path, f"column is {col.type}, expected numbers", field=name)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def iter_parquet_blocks(
    path: str | Path, *, rows: int = ROW_GROUP_ROWS, rate_hz: float | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Yield (time_s raw, acc_g (n,3), gyro_dps (n,3) or None) blocks of about `rows` samples, in file order.

    Times are the file's own values (not shifted to start at 0); without a time column they are
    index / rate (rate from `rate_hz` or the embedded `fs_hz`).
    """
    import pyarrow as pa

    from gaitimpact.sidecar_schema import sidecar_from_dict

    pf = _open(path)
    fs = sidecar_from_dict(embedded_sidecar(path), str(path)).fs_hz  # validated: a number > 0 or None
    cols = _column_names(pf, path, rate_hz, fs)
    rate = float(rate_hz or fs or 0.0)
    offset = 0
    try:
        for batch in pf.iter_batches(batch_size=max(1, rows), columns=cols):
            acc = np.column_stack([_as_float(path, batch, c) for c in ACC_COLUMNS])
            n = acc.shape[0]
            if TIME_COLUMN in cols:
                t = _as_float(path, batch, TIME_COLUMN)
            else:
                t = (offset + np.arange(n, dtype=np.float64)) / rate
            gyro = np.column_stack([_as_float(path, batch, c) for c in GYRO_COLUMNS]) if GYRO_COLUMNS[0] in cols \
                else None
            offset += n
            yield t, acc, gyro
    except (OSError, pa.ArrowException) as exc:
        raise _bad(path, f"cannot read Parquet data ({' '.join(str(exc).split())[:120]})") from None


def valid_rows(time_s: np.ndarray, acc_g: np.ndarray, last_time_s: float = -np.inf) -> tuple[np.ndarray, int, int]:
    """Indices of rows to keep: finite time and acceleration, time after every earlier one (s).

    Returns (indices, n_dropped_nonfinite, n_dropped_not_increasing); `last_time_s` is the last kept time
    of the previous block (block-wise reading). A gyro with missing values is kept (NaN), as the CSV reader.
    """
    finite = np.isfinite(time_s) & np.isfinite(acc_g).all(axis=1)
    n_nonfinite = int((~finite).sum())
    t = time_s[finite]
    prev_max = np.maximum.accumulate(np.concatenate(([last_time_s], t)))[:-1]
    increasing = t > prev_max
    return np.flatnonzero(finite)[increasing], n_nonfinite, int((~increasing).sum())


def clean_samples(
    time_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray | None, last_time_s: float = -np.inf
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int, int]:
    """Rows of `valid_rows` only: (time_s, acc_g, gyro_dps, n_dropped_nonfinite, n_dropped_not_increasing)."""
    keep, n_nonfinite, n_backwards = valid_rows(time_s, acc_g, last_time_s)
    return (time_s[keep], acc_g[keep], None if gyro_dps is None else gyro_dps[keep], n_nonfinite, n_backwards)


def read_parquet(
    path: str | Path, *, rate_hz: float | None = None, overrides: dict | None = None
) -> Recording:
    """Read a Parquet recording (time s, acceleration g, gyro deg/s, embedded metadata) into a Recording."""
    path = Path(path)
    if rate_hz is not None and (not np.isfinite(rate_hz) or rate_hz <= 0):
        raise InputError(f"sampling rate must be > 0 Hz, got {rate_hz}", field="rate_hz")
    side = parquet_sidecar(path, overrides)
    blocks = list(iter_parquet_blocks(path, rate_hz=rate_hz))
    if not blocks:
        raise _bad(path, "no samples")
    t = np.concatenate([b[0] for b in blocks])
    acc = np.concatenate([b[1] for b in blocks])
    gyro = np.concatenate([b[2] for b in blocks]) if blocks[0][2] is not None else None
    del blocks
    t, acc, gyro, n_nonfinite, n_backwards = clean_samples(t, acc, gyro)
    warnings = DroppedRows(n_nonfinite, n_backwards).notices()
    if t.size < 2:
        raise _bad(path, f"too few valid samples ({t.size})")
    t = t - t[0]
    dt = np.diff(t)
    dt_med = median_step_s(dt)
    fs = float(rate_hz) if rate_hz else estimate_rate_hz(t)
    if not (np.isfinite(fs) and fs > 0):
        raise _bad(path, f"cannot tell the sampling rate: median time step {dt_med:.4g} s", field=TIME_COLUMN)
    long = gap_steps(dt, dt_med)
    detected = [Gap(float(t[i]), float(t[i + 1]), "timestamps") for i in np.flatnonzero(long)]
    regular = dt[~long]
    warnings += timing_notes(len(detected), float(dt[long].max()) if detected else 0.0, float(dt[long].sum()),
                             dt_med, float(regular.std()) if regular.size > 2 else 0.0)
    gaps = merge_gaps(detected, side.gaps)
    return Recording(time_s=t, acc_g=acc, fs_hz=fs, gyro_dps=gyro, gaps=gaps, meta=side.meta,
                     source=str(path), warnings=[*side.warnings, *warnings])
