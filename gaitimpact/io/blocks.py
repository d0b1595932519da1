"""Long recordings as a stream of sample blocks (bounded memory): canonical CSV and Parquet.

`iter_recording_blocks` yields (time_s, acc_g, gyro_dps | None) blocks as stored in the file;
`clean_blocks` drops rows the readers would drop (non-finite time/acceleration, time not increasing)
and shifts time to start at 0 s; `ReadAhead` produces blocks on a thread, a bounded number of rows
ahead, so the file is parsed while the caller imports the signal core and analyses earlier windows.
The signal core's chunk-stitcher (`gaitimpact.core.chunked`) takes the cleaned blocks;
`gaitimpact.analysis.service` joins the two.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gaitimpact.errors import InputError
from gaitimpact.notice import Notice
from gaitimpact.recording import Metadata
from gaitimpact.sidecar_schema import Sidecar

BLOCK_ROWS = 50_000
"""Rows read from the file at a time (1 h at 1000 Hz streamed: 250 000 rows peaked at 290-297 MiB,
50 000 at 271-272 MiB, at the same CPU time)."""

READ_AHEAD_ROWS = 2_000_000
"""Rows `ReadAhead` may hold parsed ahead of the analysis: the parse goes on while scipy is imported (the
second core is otherwise idle then) and is past the chunk-stitcher's first windows when the import ends.
1 h at 1000 Hz, 2026-11-29 16:39, load 1-2, median of 7 alternating: 1.34 s and peak RSS 270 MiB with
700 000 rows, 1.24 s and 302 MiB with 2 000 000 (the 3x-the-raw-arrays bound is 330 MiB)."""

CANONICAL = ("time_s", "ax_g", "ay_g", "az_g")
CANONICAL_GYRO = ("gx_dps", "gy_dps", "gz_dps")

Block = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]
"""(time_s (n,), acc_g (n, 3), gyro_dps (n, 3) or None)."""


class NotPlain(Exception):
    """A streamed file holds something the in-memory readers would note, drop or refuse (`plain_blocks`)."""


@dataclass
class DroppedRows:
    """Rows `clean_blocks` left out: non-finite time or acceleration, time not after every earlier one."""

    nonfinite: int = 0
    backwards: int = 0

    def notices(self) -> list[Notice]:
        """One "dropped_rows" notice per kind of dropped row."""
        out = []
        if self.nonfinite:
            out.append(Notice("dropped_rows", f"dropped {self.nonfinite} rows with missing or non-finite values",
                              {"rows": self.nonfinite}))
        if self.backwards:
            out.append(Notice("dropped_rows", f"dropped {self.backwards} rows whose time did not increase",
                              {"rows": self.backwards}))
        return out


def _csv_header(path: Path) -> list[str] | None:
    """The first line of a CSV split on commas (BOM and quotes stripped), or None if unreadable."""
    try:
        with open(path, encoding="utf-8-sig", errors="strict") as fh:
            line = fh.readline(64 * 1024)  # bounded: a file that is one huge line is not read whole
    except (OSError, UnicodeDecodeError):
        return None
    return [c.strip().strip('"').strip() for c in line.strip().split(",")]


def is_canonical_csv(path: str | Path) -> bool:
    """True when the file is a CSV whose header starts with the canonical `time_s,ax_g,ay_g,az_g`."""
    header = _csv_header(Path(path))
    return header is not None and tuple(header[:4]) == CANONICAL


def is_streamable(path: str | Path) -> bool:
    """True when the file can be read block by block: Parquet or a canonical CSV."""
    p = Path(path)
    return p.suffix.lower() == ".parquet" or (p.is_file() and is_canonical_csv(p))


AllCores = Callable[[], bool]
"""Asked before each slab the fast CSV reader parses: True to parse it on all cores (pyarrow's threads),
False on the calling thread alone (`ReadAhead.hungry`: leave the consumer a core while it has blocks)."""


def iter_canonical_csv(path: str | Path, *, rows: int = BLOCK_ROWS, strict: bool = False,
                       all_cores: AllCores | None = None) -> Iterator[Block]:
    """Yield (time_s, acc_g, gyro_dps|None) blocks of a canonical CSV; malformed cells become NaN rows.

    strict: raise NotPlain instead (before any block, or at the first line the fast reader does not
    take as it is) unless the header is exactly the canonical one and every line is plain.

    Clean lines are parsed by pyarrow's multi-threaded CSV reader straight into float64 arrays (no
    DataFrame, no pandas import); from the first line it cannot take as it is (a non-number, a wrong
    field count, a blank line) the rest of the file goes through pandas' C parser, which skips or
    NaN-fills such lines. Either way the values are the same. A file with a zero tail or a cut-off last
    line (left out, see `io.textscan`) goes through pandas whole.
    """
    from gaitimpact.io.fsutil import check_input_file
    from gaitimpact.io.textscan import scan_text

    path = Path(path)
    check_input_file(path)
    extent = scan_text(path)  # over-long lines refused (bounded memory); zero tail, cut last line left out
    header = _csv_header(path) or []
    with_gyro = tuple(header[4:7]) == CANONICAL_GYRO
    cols = list(CANONICAL + (CANONICAL_GYRO if with_gyro else ()))
    done = 0  # data rows yielded by the fast reader
    if strict and not (extent.whole and _plain_newlines(path) and _exact_header(path, cols)):
        raise NotPlain
    if extent.whole and _plain_newlines(path):
        fast = _iter_canonical_arrow(path, cols, rows, all_cores or (lambda: True))
        while True:
            try:
                block = next(fast)
            except StopIteration:
                return
            except _SlowPathNeeded:
                if strict:
                    raise NotPlain from None
                break
            done += block[0].shape[0]
            yield block
    yield from _iter_canonical_pandas(path, header, cols, rows, skip_rows=done,
                                      end=None if extent.whole else extent.end)


class _SlowPathNeeded(Exception):
    """The fast reader met a line it does not take as it is."""


def _exact_header(path: Path, cols: list[str]) -> bool:
    """True when the first line is exactly the canonical header `cols` (no BOM, quotes, spaces or extra columns)."""
    with open(path, "rb") as fh:
        line = fh.readline(1024)
    return line.rstrip(b"\r\n") == ",".join(cols).encode("ascii")


def _plain_newlines(path: Path) -> bool:
    """True when lines end in LF or CRLF only (line counts then match between the two parsers)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    return head.count(b"\r") == head.count(b"\r\n")


MAX_HEADER_BYTES = 1 << 20
"""Longest header line `_header_names` reads (as `io.textscan.MAX_LINE_BYTES`)."""
SLAB_BYTES = 8 << 20
"""CSV text handed to pyarrow's multi-threaded `read_csv` at a time by `_iter_canonical_arrow` (whole lines;
its 1 MiB blocks are parsed on Arrow's threads): `open_csv`, the streaming reader, is single-threaded."""


def _iter_canonical_arrow(path: Path, cols: list[str], rows: int, all_cores: AllCores) -> Iterator[Block]:
    """Blocks of at most `rows` rows parsed by pyarrow's CSV reader, a slab of whole lines at a time (on
    all cores while `all_cores()`); _SlowPathNeeded at the first slab with an odd line."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    from gaitimpact.io.fast_csv import BLOCK_BYTES, arrow_values

    def refuse(_row: object) -> str:
        return "error"

    parse = pacsv.ParseOptions(invalid_row_handler=refuse, ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(column_types={c: pa.float64() for c in cols}, include_columns=cols,
                                   null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False)
    names: list[str] | None = None  # the header's fields, as pyarrow read them from the first slab
    try:
        for slab in _line_slabs(path, SLAB_BYTES):
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(slab)),
                # the system allocator: each slab is copied out and freed at once, and glibc returns large
                # freed blocks to the OS where Arrow's default pool (mimalloc) keeps them
                memory_pool=pa.system_memory_pool(),
                read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, column_names=names, use_threads=all_cores()),
                parse_options=parse, convert_options=convert)
            if names is None:
                names = _header_names(slab)
            # contiguous time and (n, 3) arrays, as the chunk-stitcher joins them into windows
            n = table.num_rows
            time_s = np.empty(n)
            groups = [np.empty((n, 3)) for _ in range((len(cols) - 1) // 3)]  # acc, and gyro if present
            for j in range(len(cols)):
                out = time_s if j == 0 else groups[(j - 1) // 3][:, (j - 1) % 3]
                at = 0
                for chunk in table.column(j).chunks:
                    out[at:at + len(chunk)] = arrow_values(chunk)
                    at += len(chunk)
            del table
            for lo in range(0, n, rows):
                sl = slice(lo, lo + rows)
                yield time_s[sl], groups[0][sl], (groups[1][sl] if len(groups) > 1 else None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowKeyError, UnicodeDecodeError):
        # ArrowKeyError: a header with spaces around the names ("time_s, ax_g"): pandas reads it
        raise _SlowPathNeeded from None


def _line_slabs(path: Path, size: int) -> Iterator[memoryview]:
    """The file's bytes in slabs of about `size` bytes, each ending just after a newline (the last at the
    end of the file); a line longer than a slab makes the slab longer."""
    with open(path, "rb", buffering=0) as fh:
        offset, want = 0, size
        while True:
            fh.seek(offset)
            data = fh.read(want)
            if len(data) < want:  # the end of the file
                if data:
                    yield memoryview(data)
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line end in the slab: take more
                want += size
                continue
            yield memoryview(data)[:cut]
            offset, want = offset + cut, size


def _header_names(slab: memoryview) -> list[str]:
    """The column names pyarrow reads from the header line at the start of `slab`."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    head = bytes(slab[:MAX_HEADER_BYTES])
    end = head.find(b"\n")
    return pacsv.read_csv(pa.py_buffer(head[:end + 1] if end >= 0 else head)).column_names


def _iter_canonical_pandas(path: Path, header: list[str], cols: list[str], rows: int, *,
                           skip_rows: int = 0, end: int | None = None) -> Iterator[Block]:
    """Blocks through pandas' C parser, starting `skip_rows` data lines after the header (and stopping at
    byte `end`, if given: only with skip_rows 0)."""
    import pandas as pd

    from gaitimpact.io.textscan import prefix_reader

    try:
        with (open(path, "rb") if end is None else prefix_reader(path, end)) as fh:
            if skip_rows:
                fh.seek(_offset_after_lines(fh, 1 + skip_rows))
                reader = pd.read_csv(fh, header=None, names=list(range(len(header))),
                                     usecols=[header.index(c) for c in cols], chunksize=rows, engine="c",
                                     on_bad_lines="skip", encoding="utf-8", low_memory=True)
                order: list = [header.index(c) for c in cols]  # field numbers here, names below
            else:
                reader = pd.read_csv(fh, usecols=cols, chunksize=rows, engine="c", on_bad_lines="skip",
                                     encoding="utf-8-sig", low_memory=True)
                order = cols
            for frame in reader:
                for col in order:
                    if frame[col].dtype.kind not in "fiu":
                        frame[col] = pd.to_numeric(frame[col], errors="coerce")
                values = frame[order].to_numpy(dtype=np.float64)
                yield values[:, 0], values[:, 1:4], (values[:, 4:7] if len(cols) == 7 else None)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read CSV ({' '.join(str(exc).split())[:120]})", path=str(path)) from None


def _offset_after_lines(fh: BinaryIO, lines: int) -> int:
    """Byte offset just after the first `lines` newlines of a binary file."""
    fh.seek(0)
    offset = 0
    while lines > 0:
        chunk = fh.read(1 << 22)
        if not chunk:
            return offset
        found = chunk.count(b"\n")
        if found < lines:
            lines -= found
            offset += len(chunk)
            continue
        newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n"))
        return offset + int(newlines[lines - 1]) + 1
    return offset


def iter_recording_blocks(path: str | Path, *, rate_hz: float | None = None, rows: int = BLOCK_ROWS,
                          strict: bool = False, all_cores: AllCores | None = None) -> Iterator[Block]:
    """Blocks of samples from a canonical CSV or a Parquet file (times as stored in the file); strict and
    all_cores: see `iter_canonical_csv` (a Parquet file's values are checked by `plain_blocks`)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        from gaitimpact.io.parquet import iter_parquet_blocks

        yield from iter_parquet_blocks(path, rows=rows, rate_hz=rate_hz)
    else:
        yield from iter_canonical_csv(path, rows=rows, strict=strict, all_cores=all_cores)


def plain_blocks(blocks: Iterable[Block]) -> Iterator[Block]:
    """Pass on blocks while every value is finite and every time step is within 0.5 % (and 0.5 Hz) of one
    whole-Hz rate: no row the in-memory readers drop, no gap, no jitter note, the same rate from any
    subset of steps. Raises NotPlain at the first block that is not (times as stored, s)."""
    from gaitimpact.timebase import estimate_rate_hz

    lo = hi = 0.0  # steps (s) allowed: |1/step - fs| < 0.5 Hz and < 0.5 % of 1/step, shrunk by 1e-9
    last: float | None = None
    for t, acc, gyro in blocks:
        if t.size == 0:
            continue
        if not (np.isfinite(t.sum()) and np.isfinite(acc.sum()) and (gyro is None or np.isfinite(gyro.sum()))):
            raise NotPlain
        if not hi:
            fs = estimate_rate_hz(t)
            if not fs or fs != round(fs):
                raise NotPlain
            lo = max(1.0 / (fs + 0.5), 0.995 / fs) * (1 + 1e-9)
            hi = min(1.0 / (fs - 0.5), 1.005 / fs) * (1 - 1e-9)
        steps = np.diff(t) if last is None else np.diff(t, prepend=last)
        if steps.size and not lo < steps.min() <= steps.max() < hi:
            raise NotPlain
        last = float(t[-1])
        yield t, acc, gyro


def plain_shifted(blocks: Iterable[Block]) -> Iterator[Block]:
    """`plain_blocks` with time shifted to start at 0 s (what `clean_blocks` does, with nothing to drop)."""
    t0: float | None = None
    for t, acc, gyro in plain_blocks(blocks):
        t0 = float(t[0]) if t0 is None else t0
        yield t - t0, acc, gyro


class ReadAhead:
    """Blocks produced on a thread, about `max_rows` rows ahead of the consumer (a context manager): the
    queue holds max_rows // rows blocks of at most `rows` rows each (plus the slab being parsed).

    pyarrow parses CSV text without holding the GIL, so the file is read while the caller imports the
    signal core or analyses earlier blocks. Made first and then started on its source (`start`), so that
    the source can ask `hungry` (`AllCores`): a CSV is parsed on every core only while nothing is queued (the
    consumer would wait), else on this thread alone, leaving a core to the consumer's import or analysis.
    Exceptions of the producer (NotPlain, InputError, ...) are raised in the consumer, where it would have
    met them; leaving the `with` stops the thread.
    """

    _END = object()

    def __init__(self, max_rows: int, rows: int = BLOCK_ROWS) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, max_rows // max(1, rows)))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, blocks: Iterable[Block]) -> ReadAhead:
        """Produce `blocks` on a thread from now on; returns self (to use in `with`)."""
        self._thread = threading.Thread(target=self._produce, args=(blocks,), name="gaitimpact-read-ahead",
                                        daemon=True)
        self._thread.start()
        return self

    def hungry(self) -> bool:
        """True when nothing is queued: the consumer's next block waits for the producer."""
        return self._queue.empty()

    def _put(self, item: object) -> bool:
        """Queue one item, waiting while the queue is full; False once the consumer has stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, blocks: Iterable[Block]) -> None:
        it = iter(blocks)
        try:
            for block in it:
                if not self._put(block):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Raised(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[Block]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


@dataclass
class _Raised:
    """An exception of the read-ahead thread, to be raised in the consumer."""

    exc: BaseException


def recording_sidecar(path: str | Path, overrides: dict | None = None) -> Sidecar:
    """Metadata, declared gaps and rate of a streamed file: sidecar (or Parquet-embedded) plus CLI overrides."""
    from gaitimpact.io.load import apply_overrides
    from gaitimpact.io.parquet import parquet_sidecar
    from gaitimpact.io.sidecar import load_sidecar, sidecar_path

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return parquet_sidecar(path, overrides)
    side_path = sidecar_path(path)
    side = load_sidecar(side_path) if side_path.is_file() else Sidecar(Metadata())
    apply_overrides(side.meta, overrides)
    return side


def clean_blocks(blocks: Iterable[Block], dropped: DroppedRows) -> Iterator[Block]:
    """Drop rows with non-finite time/acceleration or non-increasing time, shift time to start at 0 (s).

    Yields (time_s, acc_g, gyro_dps or None) blocks; counts what was dropped in `dropped`.
    """
    from gaitimpact.io.parquet import valid_rows

    t0: float | None = None
    last = -math.inf
    for t_raw, acc, gyro in blocks:
        keep, n_nonfinite, n_back = valid_rows(t_raw, acc, last_time_s=last)
        dropped.nonfinite += n_nonfinite
        dropped.backwards += n_back
        if keep.size == 0:
            continue
        if keep.size == t_raw.size:  # every row kept (the usual case): no copies
            t = t_raw
        else:
            t, acc, gyro = t_raw[keep], acc[keep], (None if gyro is None else gyro[keep])
        if t0 is None:
            t0 = float(t[0])
        last = float(t[-1])
        yield t - t0, acc, gyro
