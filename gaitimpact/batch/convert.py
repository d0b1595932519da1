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
from typing import BinaryIO

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
from gaitimpact.recording import Gap, Metadata
from gaitimpact.timebase import estimate_rate_hz, find_gaps, merge_gaps


def stream_convert(src: str | Path, dst: str | Path, *, rate_hz: float | None = None,
                   overrides: dict | None = None, rows: int = BLOCK_ROWS) -> tuple[int, float, float]:
    """Convert canonical CSV <-> Parquet block by block; returns (samples, duration in s, rate in Hz)."""
    from gaitimpact.io.fsutil import write_error
    from gaitimpact.io.sidecar import write_sidecar

    src, dst = Path(src), Path(dst)
    side = recording_sidecar(src, overrides)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    sink: _ParquetSink | _CsvSink = _ParquetSink(tmp) if dst.suffix.lower() == ".parquet" else _CsvSink(tmp)
    n = 0
    last_t: float | None = None
    fs = float(rate_hz) if rate_hz else 0.0
    found: list[Gap] = []
    try:
        for t, acc, gyro in clean_blocks(iter_recording_blocks(src, rate_hz=rate_hz, rows=rows), DroppedRows()):
            fs = fs or estimate_rate_hz(t)
            if fs:
                found += find_gaps(t if last_t is None else np.concatenate(([last_t], t)), 1.0 / fs)
            last_t = float(t[-1])
            n += t.size
            sink.write(t, acc, gyro)
        if n < 2 or not fs:
            raise InputError(f"too few valid samples ({n})", path=str(src))
        gaps = merge_gaps(found, side.gaps)
        sink.finish(side.meta, gaps, fs)
        os.replace(tmp, dst)
    except OSError as exc:
        raise write_error(exc, dst) from None
    finally:
        sink.close()
        if tmp.exists():
            tmp.unlink()
    if isinstance(sink, _CsvSink):
        write_sidecar(dst, side.meta, gaps=gaps, fs_hz=fs)
    return n, float(last_t or 0.0), fs


class _ParquetSink:
    """Blocks appended as Parquet row groups; the sidecar goes into the key-value metadata at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.writer = None

    def write(self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> None:
        """Append one block (time s, acc g, gyro deg/s or None)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {"time_s": t, **{c: np.ascontiguousarray(acc[:, i]) for i, c in enumerate(ACC_COLUMNS)}}
        if gyro is not None:
            cols.update({c: np.ascontiguousarray(gyro[:, i]) for i, c in enumerate(GYRO_COLUMNS)})
        table = pa.table(cols)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def finish(self, meta: Metadata, gaps: list[Gap], fs_hz: float) -> None:
        """Embed the sidecar (metadata, gaps, rate in Hz) and close the file."""
        from gaitimpact.io.sidecar import metadata_to_dict

        if self.writer is not None:
            doc = metadata_to_dict(meta, gaps=gaps, fs_hz=fs_hz)
            self.writer.add_key_value_metadata({SIDECAR_KEY: json.dumps(doc, allow_nan=False).encode("utf-8"),
                                                FORMAT_KEY: FORMAT_VERSION})
        self.close()

    def close(self) -> None:
        """Close the file if open."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _CsvSink:
    """Blocks appended as canonical CSV rows (the sidecar is written next to the file afterwards)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.fh: BinaryIO | None = None

    def write(self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> None:
        """Append one block (time s, acc g, gyro deg/s or None)."""
        from gaitimpact.io.csv_writer import format_rows, header_line

        if self.fh is None:
            self.fh = open(self.tmp, "wb")  # noqa: SIM115 - closed by close()
            self.fh.write(header_line(gyro is not None))
        self.fh.write(format_rows(t, acc, gyro))

    def finish(self, meta: Metadata, gaps: list[Gap], fs_hz: float) -> None:
        """Close the file (metadata goes to the sidecar)."""
        self.close()

    def close(self) -> None:
        """Close the file if open."""
        if self.fh is not None:
            self.fh.close()
            self.fh = None
