"""Writing recordings as the canonical CSV: `time_s,ax_g,ay_g,az_g[,gx_dps,gy_dps,gz_dps]`.

`write_csv` writes a whole `Recording` at once (vectorised, via pyarrow's C++ CSV writer).
`CsvAppender` writes a live recording block by block: every block goes to the OS at once (a killed
process loses nothing already appended), and the file is fsync'ed at least once a second while data
flows, so a power cut loses at most the last second. What is on disk is never rewritten.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from gaitimpact.errors import GaitImpactError, InputError
from gaitimpact.io.fsutil import atomic_write_bytes, write_error
from gaitimpact.recording import Recording

ACC_COLUMNS = ("time_s", "ax_g", "ay_g", "az_g")
GYRO_COLUMNS = ("gx_dps", "gy_dps", "gz_dps")
TIME_DECIMALS = 6
"""time_s written to 1 us."""
ACC_DECIMALS = 5
"""Acceleration written to 10 ug (finer than any 16-bit sensor's resolution)."""
GYRO_DECIMALS = 4
"""Angular rate written to 0.0001 deg/s."""

_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def canonical_columns(with_gyro: bool) -> tuple[str, ...]:
    """Canonical CSV column names, with or without the gyro columns."""
    return ACC_COLUMNS + GYRO_COLUMNS if with_gyro else ACC_COLUMNS


def header_line(with_gyro: bool) -> bytes:
    """The canonical header line (with newline) as bytes."""
    return (",".join(canonical_columns(with_gyro)) + "\n").encode("ascii")


def format_rows(time_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray | None = None) -> bytes:
    """Canonical CSV rows (no header) for samples: time in s, acceleration in g, gyro in deg/s."""
    time_s = np.asarray(time_s, dtype=np.float64).reshape(-1)
    acc_g = np.asarray(acc_g, dtype=np.float64).reshape(-1, 3)
    if acc_g.shape[0] != time_s.shape[0]:
        raise ValueError(f"time_s has {time_s.shape[0]} samples but acc_g has {acc_g.shape[0]}")
    cols = {"time_s": np.round(time_s, TIME_DECIMALS)}
    acc = np.round(acc_g, ACC_DECIMALS)
    for i, name in enumerate(ACC_COLUMNS[1:]):
        cols[name] = acc[:, i]
    if gyro_dps is not None:
        gyro = np.round(np.asarray(gyro_dps, dtype=np.float64).reshape(-1, 3), GYRO_DECIMALS)
        if gyro.shape[0] != time_s.shape[0]:
            raise ValueError(f"time_s has {time_s.shape[0]} samples but gyro_dps has {gyro.shape[0]}")
        for i, name in enumerate(GYRO_COLUMNS):
            cols[name] = gyro[:, i]
    if time_s.shape[0] == 0:
        return b""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(_float64_table(cols), sink, _OPTIONS)
    return sink.getvalue().to_pybytes()


def _float64_table(cols: dict[str, np.ndarray]) -> pa.Table:
    """An Arrow table of float64 columns over the arrays' memory. Not `pa.table(dict)`: that asks whether
    each value is a pandas object and so imports pandas (~0.4 s), which held up the live recorder's event
    loop at its first CSV block."""
    n = len(next(iter(cols.values())))
    arrays = [pa.Array.from_buffers(pa.float64(), n, [None, pa.py_buffer(np.ascontiguousarray(v, dtype=np.float64))])
              for v in cols.values()]
    return pa.Table.from_arrays(arrays, names=list(cols))


def write_csv(path: str | os.PathLike, rec: Recording) -> Path:
    """Write `rec` as canonical CSV (time_s in s from the first sample, acc in g, gyro in deg/s).

    Written to a temp file then renamed, so a failed write never leaves half a file behind.
    Raises InputError (bad folder) or GaitImpactError (disk full). Returns the path.
    """
    target = Path(path)
    body = format_rows(rec.time_s, rec.acc_g, rec.gyro_dps)
    atomic_write_bytes(target, header_line(rec.gyro_dps is not None) + body)
    return target


class CsvAppender:
    """Append canonical CSV rows to a file as a live recording arrives (crash-safe).

    Each `append` hands its bytes to the OS immediately (survives the process being killed);
    `os.fsync` runs at least every `sync_interval_s` while data flows, on `sync()` and on `close()`.
    A new file gets the header; an existing non-empty file is continued only if `resume=True` and its
    header matches. Usable as a context manager.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        with_gyro: bool = False,
        resume: bool = False,
        sync_interval_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.with_gyro = with_gyro
        self.sync_interval_s = float(sync_interval_s)
        self.rows_written = 0
        self._fd: int | None = None
        self._dirty = False
        header = header_line(with_gyro)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise write_error(exc, self.path, "cannot open for recording") from None
        self._fd = fd
        try:
            size = os.fstat(fd).st_size
            if size > 0:
                if not resume:
                    raise InputError("file already exists and is not empty (refusing to overwrite)",
                                     path=str(self.path))
                self._check_existing_header(header, size)
            else:
                self._write(header)
                self.sync()
        except BaseException:
            os.close(fd)
            self._fd = None
            raise
        self._last_sync = time.monotonic()

    def _check_existing_header(self, header: bytes, size: int) -> None:
        with open(self.path, "rb") as fh:
            first = fh.readline()
            fh.seek(max(0, size - 1))
            last_byte = fh.read(1)
        if first.rstrip(b"\r\n") != header.rstrip(b"\n"):
            raise InputError(
                f"cannot resume: header {first.strip().decode(errors='replace')!r} differs from "
                f"{header.strip().decode()!r}",
                path=str(self.path),
                line=1,
            )
        if last_byte != b"\n":
            # A previous run was killed mid-line: end that line so new rows start cleanly.
            self._write(b"\n")

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise GaitImpactError(f"{self.path}: recording file is already closed")
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            raise write_error(exc, self.path, "cannot write recording") from None
        self._dirty = True

    def append(self, time_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray | None = None) -> None:
        """Append a block of samples (time in s, acc (n,3) in g, gyro (n,3) in deg/s); syncs if due."""
        if self.with_gyro and gyro_dps is None:
            raise ValueError("this file has gyro columns: pass gyro_dps")
        data = format_rows(time_s, acc_g, gyro_dps if self.with_gyro else None)
        if data:
            self._write(data)
            self.rows_written += int(np.asarray(time_s).reshape(-1).shape[0])
        self.maybe_sync()

    def maybe_sync(self) -> bool:
        """fsync if data was written and `sync_interval_s` has passed since the last sync; True if synced."""
        if self._dirty and time.monotonic() - self._last_sync >= self.sync_interval_s:
            self.sync()
            return True
        return False

    def sync(self) -> None:
        """Force everything appended so far to stable storage (os.fsync)."""
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # a pipe or device that cannot be synced: nothing to do
                self._dirty = False
                return
            raise write_error(exc, self.path, "cannot sync recording") from None
        self._dirty = False
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close the file (idempotent)."""
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def closed(self) -> bool:
        """True once `close()` ran."""
        return self._fd is None

    def __enter__(self) -> CsvAppender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
