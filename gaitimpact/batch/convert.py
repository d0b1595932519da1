"""Block-by-block conversion of big recordings (canonical CSV <-> Parquet) in bounded memory.

`gaitimpact convert` uses this for big streamable files (`gaitimpact.analysis.service.wants_chunked`); any
other file is converted in memory through `load_recording`. The output is the same as the in-memory
path: time in s from the first sample, acceleration in g, gyro in deg/s, rows with missing/non-finite
values or non-increasing time dropped, gaps (sidecar ones plus those found in the timestamps) and the
rate kept in the metadata (Parquet key-value metadata, or the sidecar JSON next to a CSV).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from gaitimpact.errors import InputError
from gaitimpact.io.blocks import BLOCK_ROWS, DroppedRows, clean_blocks, iter_recording_blocks, recording_sidecar
from gaitimpact.io.parquet import (
    ACC_COLUMNS,
    FORMAT_KEY,
    FORMAT_VERSION,
    GYRO_COLUMNS,
    ROW_GROUP_ROWS,
    SIDECAR_KEY,
)
from gaitimpact.recording import Gap
from gaitimpact.timebase import estimate_rate_hz, find_gaps, merge_gaps


def stream_convert(src: str | Path, dst: str | Path, *, rate_hz: float | None = None,
                   overrides: dict | None = None, rows: int = BLOCK_ROWS) -> tuple[int, float, float]:
    """Convert canonical CSV <-> Parquet block by block; returns (samples, duration in s, rate in Hz)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gaitimpact.io.csv_writer import format_rows, header_line
    from gaitimpact.io.fsutil import write_error
    from gaitimpact.io.sidecar import metadata_to_dict, write_sidecar

    src, dst = Path(src), Path(dst)
    to_parquet = dst.suffix.lower() == ".parquet"
    side = recording_sidecar(src, overrides)
    meta = side.meta
    dropped = DroppedRows()
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    n = 0
    last_t: float | None = None
    fs = float(rate_hz) if rate_hz else 0.0
    found: list[Gap] = []
    writer = None
    fh = None
    try:
        for t, acc, gyro in clean_blocks(iter_recording_blocks(src, rate_hz=rate_hz, rows=rows), dropped):
            if not fs:
                fs = estimate_rate_hz(t)
            if fs:
                found += find_gaps(t if last_t is None else np.concatenate(([last_t], t)), 1.0 / fs)
            last_t = float(t[-1])
            n += t.size
            if to_parquet:
                cols = {"time_s": t, **{c: np.ascontiguousarray(acc[:, i]) for i, c in enumerate(ACC_COLUMNS)}}
                if gyro is not None:
                    cols.update({c: np.ascontiguousarray(gyro[:, i]) for i, c in enumerate(GYRO_COLUMNS)})
                table = pa.table(cols)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            else:
                if fh is None:
                    fh = open(tmp, "wb")
                    fh.write(header_line(gyro is not None))
                fh.write(format_rows(t, acc, gyro))
        if n < 2 or not fs:
            raise InputError(f"too few valid samples ({n})", path=str(src))
        gaps = merge_gaps(found, side.gaps)
        if writer is not None:
            side = metadata_to_dict(meta, gaps=gaps, fs_hz=fs)
            writer.add_key_value_metadata({SIDECAR_KEY: json.dumps(side, allow_nan=False).encode("utf-8"),
                                           FORMAT_KEY: FORMAT_VERSION})
            writer.close()
            writer = None
        if fh is not None:
            fh.close()
            fh = None
        os.replace(tmp, dst)
    except OSError as exc:
        raise write_error(exc, dst) from None
    finally:
        if writer is not None:
            writer.close()
        if fh is not None:
            fh.close()
        if tmp.exists():
            tmp.unlink()
    if not to_parquet:
        write_sidecar(dst, meta, gaps=gaps, fs_hz=fs)
    return n, float(last_t or 0.0), fs

