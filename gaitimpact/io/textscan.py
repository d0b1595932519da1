"""Cheap whole-file checks before a text recording is parsed: line length, zero tail, cut-off last line.

`scan_text` reads a few bytes per `max_line_bytes / 2` window (`os.pread`; the mapping only where a line
is measured or at the end of the file): a file of any size costs a few small reads unless something is
wrong. It refuses a line longer than
`MAX_LINE_BYTES` (what makes a parser hold the whole file in memory, many times over) in one line
naming the file and the line; it finds a tail of zero bytes (what a crash or a full SD card leaves) and
a last line cut off mid-number, so the reader can leave them out (`TextExtent.end`) and say so.
`prefix_reader` hands a parser only the first `end` bytes.
"""

from __future__ import annotations

import io
import mmap
import os
from dataclasses import dataclass
from pathlib import Path

from gaitimpact.errors import InputError

MAX_LINE_BYTES = 1 << 20
"""Longest line accepted in a text recording, bytes (a sample row is ~20-200 bytes; app headers < 4 KiB)."""

_TAIL_BLOCK = 1 << 20
_CUT_CONTEXT = 20
"""Complete lines before the last one that judge whether a last line without newline was cut off."""


@dataclass(frozen=True)
class TextExtent:
    """What to parse of a text file: its size, the bytes worth parsing, and what was left out (bytes)."""

    size: int
    end: int
    zero_tail: int = 0
    cut_line: str | None = None
    """The cut-off last line left out (shortened for messages), or None."""

    @property
    def whole(self) -> bool:
        """True when the whole file is parsed (nothing left out)."""
        return self.end == self.size


def scan_text(path: str | os.PathLike, *, max_line_bytes: int | None = None) -> TextExtent:
    """Check a text recording before parsing (see module doc); InputError for a line over the bound."""
    p = Path(path)
    limit = int(max_line_bytes or MAX_LINE_BYTES)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return TextExtent(0, 0)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                end = _end_without_zero_tail(mm, size)
                _check_line_lengths(mm, fh.fileno(), end, limit, p)
                cut_end, cut = _cut_last_line(mm, end)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(p)) from None
    return TextExtent(size, cut_end, size - end, cut)


def _end_without_zero_tail(mm: mmap.mmap, size: int) -> int:
    """Offset just after the last non-zero byte (0 when the file holds only zero bytes)."""
    pos = size
    while pos > 0:
        lo = max(0, pos - _TAIL_BLOCK)
        kept = mm[lo:pos].rstrip(b"\x00")
        if kept:
            return lo + len(kept)
        pos = lo
    return 0


def _check_line_lengths(mm: mmap.mmap, fd: int, end: int, limit: int, path: Path) -> None:
    """InputError naming the line when any line of mm[:end] is longer than `limit` bytes.

    Windows of limit/2 bytes tile the file; any longer line fully covers one, so only a window without a
    newline needs its line measured (a few bytes are read per window otherwise). The usual case reads
    with `os.pread` into a small buffer: touching the mapping would keep its pages resident (a 1.2 GB
    file added ~700 MiB to the reader's peak RSS).
    """
    window = max(1, limit // 2)
    pos = 0
    while pos + window <= end:
        stop = pos + window
        if _has_newline(fd, pos, stop):
            pos = stop
            continue
        start = mm.rfind(b"\n", 0, pos) + 1
        horizon = min(end, start + limit + 1)  # never look further than the bound: memory stays bounded
        nxt = mm.find(b"\n", stop, horizon)
        line_end = horizon if nxt == -1 else nxt
        if line_end - start > limit:
            raise _long_line_error(mm, fd, start, limit, path)
        pos = max(line_end + 1, stop)


def _has_newline(fd: int, start: int, stop: int, step: int = 1 << 16) -> bool:
    """True when bytes [start, stop) of the file hold a newline (read `step` bytes at a time)."""
    while start < stop:
        chunk = os.pread(fd, min(step, stop - start), start)
        if not chunk:
            return False
        if b"\n" in chunk:
            return True
        start += len(chunk)
    return False


def _long_line_error(mm: mmap.mmap, fd: int, start: int, limit: int, path: Path) -> InputError:
    """One-line error for an over-long line starting at byte `start`: its number and what it looks like."""
    line, pos = 1, 0
    while pos < start:  # count lines with small reads (no mapped pages left resident)
        chunk = os.pread(fd, min(1 << 20, start - pos), pos)
        if not chunk:
            break
        line += chunk.count(b"\n")
        pos += len(chunk)
    sample = mm[start:start + 65536]
    if b"\x00" in sample:
        what = "binary data, not a text recording"
    else:
        fields = max(sample.count(sep) for sep in (b",", b";", b"\t", b"|")) + 1
        what = (f"{fields:,}+ fields in its first 64 KiB: not an accelerometer table"
                if fields > 64 else "not a recording row")
    return InputError(f"line is longer than the {limit:,} bytes allowed ({what})", path=str(path), line=line)


def _cut_last_line(mm: mmap.mmap, end: int) -> tuple[int, str | None]:
    """(end of the data to parse, the cut line or None): a last line without newline that is shorter than
    every one of the complete lines before it (at least 5) was cut off mid-write and is left out."""
    if end == 0 or mm[end - 1:end] in (b"\n", b"\r"):
        return end, None
    last_nl = mm.rfind(b"\n", 0, end)
    if last_nl < 0:
        return end, None
    last = mm[last_nl + 1:end].rstrip(b"\r")
    before = mm[max(0, last_nl - 64 * 1024):last_nl].split(b"\n")[1:][-_CUT_CONTEXT:]
    lengths = [len(b.rstrip(b"\r")) for b in before if b.strip()]
    if len(lengths) < 5 or len(last) >= min(lengths):
        return end, None
    return last_nl + 1, last[:40].decode("utf-8", errors="replace")


class _Prefix(io.RawIOBase):
    """The first `end` bytes of a file as a raw binary stream."""

    def __init__(self, path: str | os.PathLike, end: int) -> None:
        super().__init__()
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._left = end

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # noqa: ANN001 - a writable buffer (bytearray, memoryview)
        n = min(len(buf), self._left)
        if n <= 0:
            return 0
        got = self._fh.readinto(memoryview(buf)[:n]) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._fh.close()
        super().close()


def prefix_reader(path: str | os.PathLike, end: int) -> io.BufferedReader:
    """A binary file object that reads only the first `end` bytes of `path` (for a parser)."""
    return io.BufferedReader(_Prefix(path, end), buffer_size=1 << 20)


def extent_notes(extent: TextExtent) -> list[tuple[str, str, dict]]:
    """(notice code, message, numbers) for what `scan_text` left out: zero tail, cut-off last line."""
    notes = []
    if extent.zero_tail:
        notes.append(("dropped_rows", f"dropped {extent.zero_tail:,} zero bytes at the end of the file (cut off by a "
                      "crash or a full card?); analysed what came before", {"bytes": extent.zero_tail}))
    if extent.cut_line is not None:
        notes.append(("dropped_rows", f"dropped the incomplete last line {extent.cut_line!r} (file cut off?)",
                      {"rows": 1}))
    return notes
