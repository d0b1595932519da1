"""Read any common accelerometer CSV into a `Recording`: sniff a small head, then one C-engine parse.

The head (first 256 KiB) decides the separator, decimal mark, preamble, header, app dialect, which
columns hold time / acceleration / gyro and their units. Then pandas' C parser reads the table once
(multi-threaded, types inferred), and numpy does the rest (NaN rows, ordering, gaps, units) without
a Python loop per sample. Everything decided or repaired is reported in `Recording.warnings`; anything that cannot
be read is an `InputError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings as pywarnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitimpact.errors import InputError
from gaitimpact.io.dialects import (
    ACC_UNITS,
    EPOCH_1970,
    GYRO_UNITS,
    TIME_UNITS,
    AppDialect,
    Column,
    clean_header_cell,
    find_app_dialect,
    parse_column,
)
from gaitimpact.io.fsutil import check_input_file
from gaitimpact.io.textscan import extent_notes, prefix_reader, scan_text
from gaitimpact.notice import Notice
from gaitimpact.recording import Gap, Metadata, Recording
from gaitimpact.timebase import gap_steps, median_step_s, nice_rate_hz, timing_notes

if TYPE_CHECKING:  # pandas loads only for files the plain reader (io.fast_csv) does not take
    import pandas as pd

HEAD_BYTES = 256 * 1024
MIN_SAMPLES = 10
MIN_DURATION_S = 1.0

_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13)) + b"\x7f"
"""Bytes that (beyond a few) mark binary content, not text."""
_NUM_RE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_NUM_COMMA_RE = re.compile(r"^\s*[+-]?\d+,\d+([eE][+-]?\d+)?\s*$")
_NAN_WORDS = {"", "nan", "na", "n/a", "null", "none", "-nan", "inf", "-inf", "+inf", "infinity", "-infinity"}
_DATE_RE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}[:.]\d{2}([:.]\d{2}([.,]\d+)?)?)?")
_EPOCH_RANGES_S = (9.4e8, 4.2e9)  # 2000-01-01 .. 2103: a plausible Unix time in s


@dataclass
class Layout:
    """What the sniffer found: how to parse the file and what each used column means."""

    sep: str
    decimal: str
    encoding: str
    skiprows: int
    header: list[str] | None
    n_fields: int
    end_byte: int | None = None
    """Parse only the first end_byte bytes (a zero tail or a cut-off last line left out); None: all."""
    time_idx: int | None = None
    time_unit: str | None = None
    time_epoch: datetime | None = None
    time_is_text: bool = False
    acc_idx: tuple[int, int, int] = (0, 1, 2)
    acc_unit: str | None = None
    gyro_idx: tuple[int, int, int] | None = None
    gyro_unit: str | None = None
    start_idx: int | None = None
    dialect: AppDialect | None = None
    notes: list[Notice] = field(default_factory=list)

    def name(self, idx: int) -> str:
        """Column name for messages (header cell or "column N")."""
        if self.header is not None and idx < len(self.header):
            return self.header[idx].strip().strip('"')
        return f"column {idx + 1}"


# ------------------------------------------------------------------------------------------ sniffing


def _read_head(path: Path, end: int | None = None) -> tuple[bytes, bool, int]:
    """The first HEAD_BYTES (at most `end` bytes), whether there is more, and the size to read."""
    check_input_file(path)  # a FIFO or device would block or never end: refused before opening
    try:
        size = path.stat().st_size if end is None else end
        with open(path, "rb") as fh:
            head = fh.read(min(HEAD_BYTES, size))
    except FileNotFoundError:
        raise InputError("file not found", path=str(path)) from None
    except PermissionError:
        raise InputError("permission denied", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    return head, len(head) < size, size


def _decode(head: bytes) -> tuple[str, str]:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace").lstrip("\ufeff"), "utf-16"
    enc = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # cut inside a multi-byte character at the end of the head
            text = head[: exc.start].decode("utf-8")
        else:
            text, enc = head.decode("latin-1"), "latin-1"
    sample = head[:4096]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in sample or controls > 0.05 * len(sample):
        raise InputError("not a text CSV file (binary content)")
    return text.lstrip("\ufeff"), enc


def _split(line: str, sep: str) -> list[str]:
    if sep == " ":
        return line.split()
    if '"' not in line:
        return line.split(sep)
    return next(csv.reader([line], delimiter=sep, quotechar='"'))


def _is_num(cell: str, decimal: str) -> bool:
    c = cell.strip().strip('"')
    if c.lower() in _NAN_WORDS:
        return True
    if decimal == ",":
        return bool(_NUM_COMMA_RE.match(c) or _NUM_RE.match(c))
    return bool(_NUM_RE.match(c))


def _is_date(cell: str) -> bool:
    return bool(_DATE_RE.match(cell.strip().strip('"')))


def _choose_separator(lines: list[str]) -> tuple[str, int]:
    """First of tab, ';', ',', '|', spaces that splits (almost) every line into the same >= 2 fields.

    Tab and ';' come before ',' so that decimal-comma files ("0,5;1,25") are not split at the commas.
    """
    body = lines[-min(len(lines), 200) :]
    for sep in ("\t", ";", ",", "|", " "):
        counts = [len(_split(ln, sep)) for ln in body]
        mode = max(set(counts), key=counts.count)
        if mode >= 2 and counts.count(mode) / len(counts) >= 0.8:
            return sep, mode
    raise InputError("cannot find a column separator (tried tab ; , | and spaces)")


def sniff(path: Path, end: int | None = None) -> tuple[Layout, bool, int]:
    """Look at the head of the file (its first `end` bytes if given) and decide how to parse it;
    returns (layout, truncated_head, size)."""
    head, more, size = _read_head(path, end)
    if size == 0 or not head.strip():
        raise InputError("file is empty" if size == 0 else "file holds only blank lines", path=str(path))
    try:
        text, enc = _decode(head)
    except InputError as exc:
        raise InputError(str(exc), path=str(path)) from None
    lines = text.splitlines()
    if more and lines:
        lines = lines[:-1]  # the head may end inside a line
        if not lines:
            fields = max(text.count(c) for c in ",;\t|") + 1
            raise InputError(f"first line is longer than {HEAD_BYTES // 1024} KiB ({fields:,}+ fields): not an "
                             "accelerometer table header", path=str(path), line=1)
    lines_all = lines
    # Drop trailing blank lines from the sniffing sample.
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError("file is empty", path=str(path))
    nonblank = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(("#", "//"))]
    if not nonblank:
        raise InputError("file has no data lines (only comments)", path=str(path))
    try:
        sep, n_fields = _choose_separator(nonblank)
    except InputError:
        if len(nonblank) <= 2:
            raise InputError("no data rows", path=str(path)) from None
        raise InputError("cannot find a column separator (tried tab ; , | and spaces)",
                         path=str(path)) from None

    # A separator at the end of every data line ("1;2;3;") adds an empty last field that the header
    # usually lacks; pandas drops it with index_col=False.
    body = nonblank[-min(len(nonblank), 200):]
    trailing = sep != " " and n_fields > 2 and sum(
        1 for ln in body if len(_split(ln, sep)) == n_fields and not _split(ln, sep)[-1].strip()
    ) >= 0.95 * len(body)
    ok_counts = {n_fields, n_fields - 1} if trailing else {n_fields}

    # Table start: first line with the table's field count, followed by another such line (or EOF).
    start = None
    for i, ln in enumerate(lines_all):
        if not ln.strip() or ln.lstrip().startswith(("#", "//")):
            continue
        if len(_split(ln, sep)) in ok_counts:
            nxt = next((m for m in lines_all[i + 1 :] if m.strip()), None)
            if nxt is None or len(_split(nxt, sep)) <= n_fields:
                start = i
                break
    if start is None:
        raise InputError("cannot find the table of samples", path=str(path))

    first = _split(lines_all[start], sep)
    if trailing:
        n_fields -= 1
        first = first[:n_fields]
    data_lines = lines_all[start + 1 : start + 400]  # blank lines kept: row k is file line start + 2 + k
    # Decimal comma: only when the separator is not a comma and numbers look like "0,123".
    decimal = "."
    if sep != ",":
        sample_cells = [c for ln in data_lines[:50] if ln.strip() for c in _split(ln, sep)]
        if any(_NUM_COMMA_RE.match(c.strip().strip('"')) for c in sample_cells):
            decimal = ","
    header_cells: list[str] | None
    if all(_is_num(c, decimal) or _is_date(c) for c in first):
        header_cells = None
        data_lines = lines_all[start : start + 400]
        skiprows = start
    else:
        header_cells = [c.strip().strip('"').strip() for c in first]
        skiprows = start + 1
    if not any(ln.strip() for ln in data_lines):
        raise InputError("no data rows (only a header)", path=str(path))
    rows = [_split(ln, sep) for ln in data_lines[:200]]
    layout = Layout(sep=sep if sep != " " else r"\s+", decimal=decimal, encoding=enc, skiprows=skiprows,
                    header=header_cells, n_fields=n_fields)
    if start > 0:
        layout.notes.append(Notice("layout", f"skipped {start} preamble line(s) before the table", {"lines": start}))
    _assign_columns(layout, rows, path)
    return layout, more, size


def _column_is_numeric(rows: list[list[str]], idx: int, decimal: str) -> bool:
    cells = [r[idx] for r in rows if idx < len(r) and r[idx].strip().strip('"').lower() not in _NAN_WORDS]
    return bool(cells) and all(_is_num(c, decimal) for c in cells)


def _column_is_date(rows: list[list[str]], idx: int) -> bool:
    cells = [r[idx] for r in rows if idx < len(r) and r[idx].strip()]
    return bool(cells) and all(_is_date(c) for c in cells)


def _assign_columns(layout: Layout, rows: list[list[str]], path: Path) -> None:
    header = layout.header
    if header is None:
        _assign_positional(layout, rows, path)
        return
    lower = [clean_header_cell(h).lower() for h in header]
    dialect = find_app_dialect(header)
    if dialect is not None:
        for stem, reason in dialect.rejects:
            if path.stem.lower().endswith(stem):
                raise InputError(reason, path=str(path))
        layout.dialect = dialect
        layout.acc_idx = tuple(lower.index(c) for c in dialect.acc_cols)  # type: ignore[assignment]
        layout.acc_unit = dialect.acc_unit
        layout.time_idx = lower.index(dialect.time_col)
        layout.time_unit = dialect.time_unit
        layout.time_epoch = dialect.time_epoch
        if dialect.gyro_cols and all(c in lower for c in dialect.gyro_cols):
            layout.gyro_idx = tuple(lower.index(c) for c in dialect.gyro_cols)  # type: ignore[assignment]
            layout.gyro_unit = dialect.gyro_unit
        if dialect.start_col and dialect.start_col in lower:
            layout.start_idx = lower.index(dialect.start_col)
        if not _column_is_numeric(rows, layout.time_idx, layout.decimal):
            raise InputError(f"time column '{header[layout.time_idx]}' is not numeric",
                             path=str(path), field=header[layout.time_idx])
        if layout.gyro_idx is None:
            _assign_gyro(layout, [parse_column(h) for h in header], rows)
        return

    cols = [parse_column(h) for h in header]
    acc: dict[int, int] = {}
    gyro: dict[int, int] = {}
    for i, col in enumerate(cols):
        if col.kind == "acc" and col.axis is not None and col.axis not in acc:
            acc[col.axis] = i
        elif col.kind == "gyro" and col.axis is not None and col.axis not in gyro:
            gyro[col.axis] = i
    if len(acc) < 3:
        found = ", ".join(h for h in header if h)[:160]
        hint = " (this looks like a gyroscope file)" if len(gyro) == 3 else ""
        raise InputError(f"no acceleration columns (x, y, z) found{hint}; columns are: {found}",
                         path=str(path), line=layout.skiprows)
    layout.acc_idx = (acc[0], acc[1], acc[2])
    units = {cols[i].unit for i in layout.acc_idx}
    if len(units) > 1:
        raise InputError(f"acceleration columns disagree on units: {sorted(u or '?' for u in units)}",
                         path=str(path), line=layout.skiprows, field=header[acc[0]])
    layout.acc_unit = units.pop()
    for i in layout.acc_idx:
        bad_rows = [k for k, r in enumerate(rows) if i < len(r) and not _is_num(r[i], layout.decimal)]
        if bad_rows:
            k = bad_rows[0]
            raise InputError(f"non-numeric value {rows[k][i].strip()!r} in an acceleration column",
                             path=str(path), line=layout.skiprows + 1 + k, field=header[i])
    _assign_gyro(layout, cols, rows)

    time_cols = [i for i, c in enumerate(cols) if c.kind == "time"]
    numeric_time = [i for i in time_cols if _column_is_numeric(rows, i, layout.decimal)]
    text_time = [i for i in time_cols if i not in numeric_time and _column_is_date(rows, i)]
    # Text date-times give the wall-clock start even when a numeric clock is used for timing.
    if text_time:
        layout.start_idx = text_time[0]
    if numeric_time:
        # Prefer a column whose unit is stated; otherwise the first.
        with_unit = [i for i in numeric_time if cols[i].unit]
        layout.time_idx = (with_unit or numeric_time)[0]
        unit = cols[layout.time_idx].unit
        name_tokens = header[layout.time_idx].lower()
        if unit is None and re.search(r"\bsec(ond)?s?\b|seconds", name_tokens):
            unit = "s"
        layout.time_unit = unit
    elif text_time:
        layout.time_idx = text_time[0]
        layout.time_is_text = True
    # No time column (a sample index is not a clock): the caller must give the rate.


def _assign_gyro(layout: Layout, cols: list[Column], rows: list[list[str]]) -> None:
    """Use the first complete, numeric x/y/z gyro column set, if any."""
    gyro: dict[int, int] = {}
    for i, col in enumerate(cols):
        if col.kind == "gyro" and col.axis is not None and col.axis not in gyro:
            gyro[col.axis] = i
    if len(gyro) == 3:
        gidx = (gyro[0], gyro[1], gyro[2])
        if all(_column_is_numeric(rows, i, layout.decimal) for i in gidx):
            layout.gyro_idx = gidx
            gunits = {cols[i].unit for i in gidx}
            layout.gyro_unit = gunits.pop() if len(gunits) == 1 else None


def _increasing(rows: list[list[str]], idx: int) -> bool:
    try:
        vals = np.array([float(r[idx].replace(",", ".")) for r in rows if idx < len(r) and r[idx].strip()])
    except ValueError:
        return False
    return vals.size >= 3 and bool(np.all(np.diff(vals) > 0))


def _assign_positional(layout: Layout, rows: list[list[str]], path: Path) -> None:
    n = layout.n_fields
    numeric = [_column_is_numeric(rows, i, layout.decimal) for i in range(n)]
    first_is_time = n in (4, 7) and (
        (numeric[0] and _increasing(rows, 0)) or _column_is_date(rows, 0)
    )
    if n == 3 and all(numeric):
        layout.acc_idx = (0, 1, 2)
        layout.notes.append(Notice("layout", "no header: read the 3 columns as x, y, z acceleration"))
    elif n == 6 and all(numeric):
        layout.acc_idx, layout.gyro_idx = (0, 1, 2), (3, 4, 5)
        layout.notes.append(Notice("layout", "no header: read 6 columns as x, y, z acceleration then x, y, z gyro"))
    elif first_is_time and all(numeric[1:]):
        layout.time_idx = 0
        layout.time_is_text = not numeric[0]
        layout.acc_idx = (1, 2, 3)
        if n == 7:
            layout.gyro_idx = (4, 5, 6)
        what = "time, x, y, z acceleration" + (", x, y, z gyro" if n == 7 else "")
        layout.notes.append(Notice("layout", f"no header: read the {n} columns as {what}"))
    else:
        raise InputError(
            f"no header and {n} columns: cannot tell which are acceleration "
            "(add a header such as time_s,ax_g,ay_g,az_g)",
            path=str(path),
            line=layout.skiprows + 1,
        )
    if layout.time_idx is not None and not layout.time_is_text and not numeric[layout.time_idx]:
        raise InputError("time column is not numeric", path=str(path), line=layout.skiprows + 1)


# ------------------------------------------------------------------------------------------- parsing


def _used_columns(layout: Layout) -> list[int]:
    use = list(layout.acc_idx) + list(layout.gyro_idx or ())
    if layout.time_idx is not None:
        use.append(layout.time_idx)
    return sorted(set(use))


def _parse(path: Path, layout: Layout) -> pd.DataFrame:
    """One pandas C-engine parse of the whole table (column labels are field indices).

    All columns are read and types inferred: pandas (>= 3) splits the file over threads only
    without `usecols`, and forcing dtypes is no faster, so either would cost up to 2.5x.
    """
    try:
        return _read_table(path, layout)
    except UnicodeDecodeError:
        if layout.encoding not in ("utf-8", "utf-8-sig"):
            raise InputError("file is not UTF-8 or Latin-1 text", path=str(path)) from None
        layout.encoding = "latin-1"  # valid UTF-8 head, invalid bytes later on: read as Latin-1
        return _parse(path, layout)


def _read_table(path: Path, layout: Layout) -> pd.DataFrame:
    """pd.read_csv with the sniffed layout; parser failures become one-line InputErrors."""
    import pandas as pd

    try:
        # With a header, pandas reads it (header=0 parses measurably faster than header=None plus
        # one more skipped row); columns are then addressed by position.
        has_header = layout.header is not None
        with pywarnings.catch_warnings():
            # A trailing separator on every data line: the empty last field is dropped on purpose.
            pywarnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = _read_csv_call(path, layout, has_header)
        df.columns = range(df.shape[1])
        return df
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            raise InputError(f"expected {m.group(1)} fields, found {m.group(3)}", path=str(path),
                             line=int(m.group(2))) from None
        last = msg.strip().splitlines()[-1] if msg.strip() else type(exc).__name__
        raise InputError(f"cannot parse CSV: {last}", path=str(path)) from None
    except pd.errors.EmptyDataError:
        raise InputError("no data rows", path=str(path)) from None
    except UnicodeDecodeError:
        raise
    except (ValueError, TypeError) as exc:
        _raise_first_bad_cell(path, layout, _used_columns(layout))
        raise InputError(f"cannot parse CSV: {exc}", path=str(path)) from None


def _source(path: Path, layout: Layout) -> Path | io.BufferedReader:
    """What pandas reads: the path, or a reader of its first `layout.end_byte` bytes."""
    return path if layout.end_byte is None else prefix_reader(path, layout.end_byte)


def _read_csv_call(path: Path, layout: Layout, has_header: bool) -> pd.DataFrame:
    """The one pandas C-engine call (eligible for pandas' multi-threaded read: no usecols/dtype)."""
    import pandas as pd

    return pd.read_csv(
        _source(path, layout),
        sep=layout.sep,
        decimal=layout.decimal,
        header=0 if has_header else None,
        skiprows=layout.skiprows - 1 if has_header else layout.skiprows,
        engine="c",
        encoding=layout.encoding,
        skip_blank_lines=False,
        index_col=False,
        quotechar='"',
    )


def _numeric(df: pd.DataFrame, idx: int, path: Path, layout: Layout, line0: int) -> np.ndarray:
    """Column `idx` as float64; InputError naming line and column at the first non-numeric cell."""
    import pandas as pd

    col = df[idx]
    if col.dtype.kind in "iufb":
        return col.to_numpy(dtype=np.float64)
    text = col.astype(str).str.strip()
    if layout.decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    num = pd.to_numeric(text, errors="coerce")
    bad = num.isna().to_numpy() & col.notna().to_numpy() & ~text.str.lower().isin(_NAN_WORDS).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"non-numeric value {str(col.iloc[row]).strip()!r}", path=str(path),
                         line=line0 + row, field=layout.name(idx))
    return num.to_numpy(dtype=np.float64)


def _raise_first_bad_cell(path: Path, layout: Layout, use: list[int]) -> None:
    """Slow path, only after a failed parse: find the first non-numeric cell and name its line/column."""
    import pandas as pd

    raw = pd.read_csv(_source(path, layout), sep=layout.sep, header=None, skiprows=layout.skiprows,
                      usecols=sorted(set(use)), dtype=str, engine="c", encoding=layout.encoding, skip_blank_lines=False,
                      index_col=False, keep_default_na=False)
    for idx in sorted(set(use)):
        if idx == layout.time_idx and layout.time_is_text:
            continue
        col = raw[idx].str.strip()
        text = col.str.replace(",", ".", regex=False) if layout.decimal == "," else col
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & ~col.str.lower().isin(_NAN_WORDS)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"non-numeric value {col.iloc[row]!r}", path=str(path),
                             line=layout.skiprows + row + 1, field=layout.name(idx))


# ---------------------------------------------------------------------------------------- conversion


STILL_SD_RATIO = 0.05
"""Quiet windows count as the sensor at rest when their |a| std is at most this fraction of their mean."""
STILL_WINDOWS = (32, 8, 4)
"""Window lengths (samples) searched for still stretches: long ones (standing) and short ones (a
foot's mid-stance lasts 50-100 ms: 8 samples at 100 Hz is 80 ms)."""
GRAVITY_BAND = (0.8, 1.25)
"""A still window votes for a unit when its |a| is within this factor range of gravity in that unit."""

MOVING_MEAN_RANGES = {"g": (0.4, 5.0), "m/s^2": (5.0, 50.0), "mg": (400.0, 5000.0)}
"""Plausible long-term |mean vector| of a recording with no still stretch, per unit (file units): ~1 g at
the waist; a shoe/shank sensor adds the centripetal acceleration of the swinging leg along its axis
(simulated shoe/shank running: 1.9-3.6 g)."""


def infer_acc_unit(acc: np.ndarray) -> tuple[str | None, float]:
    """Guess g / mg / m/s^2 from the gravity magnitude in file units, read where the sensor is still.

    Still windows (STILL_WINDOWS samples whose |a| std, or vector std, is at most STILL_SD_RATIO of their
    mean |a|): standing, and for a foot sensor the flat foot in mid-stance of every stride (50-100 ms),
    which reads gravity alone. Flight (near 0 g) never qualifies (its relative std is large), nor do
    flat-topped (clipped) samples. Each unit gets the votes of the still windows whose level is gravity
    in that unit (within GRAVITY_BAND); of the units with >= 3 votes the one whose gravity is the lowest
    steady level wins (a steady swing maximum of a shoe, 8-10 g, sits above mid-stance's 1 g), and the
    median level of its windows is returned. Without such windows: the magnitude of the long-term mean
    acceleration vector against `MOVING_MEAN_RANGES`. Returns (unit or None, that magnitude in file units).
    """
    expected = {"g": 1.0, "mg": 1000.0, "m/s^2": 9.80665}
    n = acc.shape[0]
    step = max(1, n // 400_000)
    sub = acc[::step]
    with np.errstate(all="ignore"):
        fin = np.isfinite(sub).all(axis=1)
        vec = sub[fin]
        mag = np.sqrt(np.einsum("ij,ij->i", vec, vec))
        top = float(np.abs(vec).max()) if vec.size else 0.0
        levels = []
        for win in STILL_WINDOWS:
            nw = mag.size // win
            if nw < 4:
                continue
            w = mag[: nw * win].reshape(nw, win)
            mean = w.mean(axis=1)
            v3 = vec[: nw * win].reshape(nw, win, 3)
            sd = np.minimum(w.std(axis=1), np.sqrt(v3.var(axis=1).sum(axis=1)))
            clipped = (np.abs(v3) >= top * (1 - 1e-9)).any(axis=(1, 2))
            levels.append(mean[(mean > 0) & (sd <= STILL_SD_RATIO * mean) & ~clipped])
        level = np.concatenate(levels) if levels else np.zeros(0)
        votes = {u: level[(level >= GRAVITY_BAND[0] * e) & (level <= GRAVITY_BAND[1] * e)] for u, e in expected.items()}
        found = [u for u in votes if votes[u].size >= 3]
        if found:  # gravity is the lowest steady reading: a steady swing maximum sits above it
            best = min(found, key=lambda u: expected[u])
            return best, float(np.median(votes[best]))
        if mag.size and mag.size < 4 * STILL_WINDOWS[-1]:  # a handful of samples: take them as they are
            rest = float(np.median(mag))
            unit, err = min(((u, abs(math.log(rest / e))) for u, e in expected.items()), key=lambda x: x[1])
            return (unit if err <= math.log(2.5) else None), rest
        mean = vec.mean(axis=0) if vec.size else np.zeros(3)
        scale = float(np.max(np.abs(mean)))
        rest = scale * float(np.sqrt(np.sum((mean / scale) ** 2))) if scale > 0 else 0.0
    if not np.isfinite(rest) or rest <= 0:
        return None, rest
    for unit, (lo, hi) in MOVING_MEAN_RANGES.items():
        if lo <= rest < hi:
            return unit, rest
    return None, rest


def _epoch_unit(first: float) -> str | None:
    for unit, scale in TIME_UNITS.items():
        secs = first * scale
        if _EPOCH_RANGES_S[0] <= secs <= _EPOCH_RANGES_S[1]:
            return unit
    return None


def _relative_unit(dt_median: float) -> str:
    """Unit of a relative time column with no stated unit, from its median step (5 Hz .. 100 kHz)."""
    if dt_median < 0.2:
        return "s"
    if dt_median < 200:
        return "ms"
    if dt_median < 2e5:
        return "us"
    return "ns"


def _parse_text_times(values: pd.Series, path: Path, layout: Layout, rows_line0: int) -> pd.Series:
    """ISO 8601 date-time strings -> datetime Series; InputError naming the first unreadable cell."""
    import pandas as pd

    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy() & values.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"unreadable date-time {values.iloc[row]!r}", path=str(path),
                         line=rows_line0 + row, field=layout.name(layout.time_idx or 0))
    return parsed


def read_csv_recording(path: str | os.PathLike, *, rate_hz: float | None = None,
                       meta: Metadata | None = None) -> Recording:
    """Read a CSV/TSV/TXT accelerometer recording into a Recording (time s, acc g, gyro deg/s).

    `rate_hz` is required when the file has no time column; with a time column it sets the nominal
    rate. `meta` (e.g. from the sidecar) is attached; start time, gaps and format are filled in.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # absurd values: checked, not warned
        return _read_csv_recording(path, rate_hz=rate_hz, meta=meta)


def _read_csv_recording(path: str | os.PathLike, *, rate_hz: float | None,
                        meta: Metadata | None) -> Recording:
    """The reader's steps: sniff, parse, drop bad rows, time in s, order, rate and gaps, units, start time."""
    p = Path(path)
    if rate_hz is not None and (not math.isfinite(rate_hz) or rate_hz <= 0):
        raise InputError(f"sampling rate must be > 0 Hz, got {rate_hz}", field="rate_hz")
    check_input_file(p)
    extent = scan_text(p)  # an over-long line is refused; a zero tail or a cut-off last line left out
    if extent.size and not extent.end:
        raise InputError("file holds only zero bytes (nothing was recorded)", path=str(p))
    layout, _, _ = sniff(p, extent.end)
    layout.end_byte = None if extent.whole else extent.end
    warnings: list[Notice] = list(layout.notes)
    warnings += [Notice(code, text, numbers) for code, text, numbers in extent_notes(extent)]
    meta = meta if meta is not None else Metadata()
    line0 = layout.skiprows + 1  # file line (1-based) of data row 0
    plain = _read_plain(p, layout)
    if plain is not None:
        acc, gyro, tcol, t_missing = plain
        text_start = None
    else:
        df = _parse(p, layout)
        acc, gyro = _sensor_columns(df, p, layout, line0)
        tcol, t_missing, text_start = _time_column(df, p, layout, line0, warnings)
        del df
    acc, gyro, tcol = _drop_missing_rows(p, line0, acc, gyro, tcol, t_missing, warnings)
    if gyro is not None and not np.isfinite(gyro).all():
        warnings.append(Notice("gyro_missing", "gyro has missing values (kept as NaN)"))
    n = acc.shape[0]
    if n < MIN_SAMPLES:
        raise InputError(f"too short: {n} valid sample(s); need at least {MIN_SAMPLES}", path=str(p))

    # Time in s from the first sample.
    start: datetime | None = None
    if tcol is None:
        if rate_hz is None:
            raise InputError("no time column: give the sampling rate (--rate HZ)", path=str(p))
        t = np.arange(n, dtype=np.float64) / float(rate_hz)
        warnings.append(Notice("no_time_column", f"no time column: assumed evenly spaced samples at {rate_hz:g} Hz",
                               {"rate_hz": float(rate_hz)}))
    elif layout.time_is_text:
        t = (tcol - tcol[0]).astype(np.float64) * 1e-9
        start = text_start
    else:
        t, start = _numeric_time(tcol, layout, warnings)
    t, acc, gyro, dt = _keep_increasing(p, t, acc, gyro, warnings)
    if t[0] != 0.0:
        t = t - t[0]
    duration = float(t[-1])
    if duration < MIN_DURATION_S:
        raise InputError(f"too short: {duration:.3g} s of data; need at least {MIN_DURATION_S:g} s",
                         path=str(p))
    fs, gaps = _rate_and_gaps(t, dt, rate_hz if tcol is not None else None, warnings)
    if tcol is None:
        fs = float(rate_hz)  # type: ignore[arg-type]  # checked above: no time column needs a rate
    acc, gyro, unit = _to_units(p, layout, acc, gyro, warnings)

    # A separate text date-time column gives the wall clock when the timing clock has no epoch
    # (e.g. Polar's phone timestamp next to the sensor's own ns counter).
    if layout.start_idx is not None and layout.start_idx != layout.time_idx and start is None:
        start = _wall_clock_start(p, layout)
        if start is not None and start.tzinfo is None:
            warnings.append(Notice("time_zone", f"start time from '{layout.name(layout.start_idx)}' has no time "
                                   "zone: kept as local wall-clock time"))
    if start is not None and meta.start_utc is None:
        meta.start_utc = start
    meta.source_format = layout.dialect.name if layout.dialect else f"CSV ({unit})"
    return Recording(time_s=_writeable(t), acc_g=_writeable(acc), fs_hz=fs,
                     gyro_dps=None if gyro is None else _writeable(gyro), gaps=gaps, meta=meta, source=str(p),
                     warnings=list(warnings))


def _read_plain(p: Path, layout: Layout
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray] | None:
    """Acceleration, gyro, raw time and its missing rows of a plain numeric comma-separated file, read
    straight into arrays (`gaitimpact.io.fast_csv`); None for any other file or at the first odd line."""
    if (layout.sep != "," or layout.decimal != "." or layout.time_is_text or layout.end_byte is not None
            or layout.encoding not in ("utf-8", "utf-8-sig", "ascii")):
        return None
    from gaitimpact.io.fast_csv import read_plain_columns

    groups = {"acc": list(layout.acc_idx)}
    if layout.gyro_idx:
        groups["gyro"] = list(layout.gyro_idx)
    if layout.time_idx is not None:
        groups["time"] = [layout.time_idx]
    fields = [i for idx in groups.values() for i in idx]
    if len(set(fields)) != len(fields):
        return None
    cols = read_plain_columns(p, skip_rows=layout.skiprows, n_fields=layout.n_fields, groups=groups,
                              float_groups={"acc", "gyro"} & groups.keys())
    if cols is None:
        return None
    acc, gyro, tcol = cols["acc"], cols.get("gyro"), cols.get("time")
    t_missing = (~np.isfinite(tcol) if tcol is not None and tcol.dtype.kind == "f" and not np.isfinite(tcol.sum())
                 else np.zeros(acc.shape[0], dtype=bool))
    return acc, gyro, tcol, t_missing


def _sensor_columns(df: pd.DataFrame, p: Path, layout: Layout, line0: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Acceleration (n, 3) and gyro (n, 3) or None as float64 in the file's units; InputError without rows."""
    if all(df[i].dtype.kind in "iuf" for i in layout.acc_idx):
        acc = df[list(layout.acc_idx)].to_numpy(dtype=np.float64)
    else:
        acc = np.column_stack([_numeric(df, i, p, layout, line0) for i in layout.acc_idx])
    gyro = (np.column_stack([_numeric(df, i, p, layout, line0) for i in layout.gyro_idx])
            if layout.gyro_idx else None)
    if acc.shape[0] == 0:
        raise InputError("no data rows", path=str(p))
    return acc, gyro


def _time_column(df: pd.DataFrame, p: Path, layout: Layout, line0: int, warnings: list[Notice]
                 ) -> tuple[np.ndarray | None, np.ndarray, datetime | None]:
    """Raw time values (int64 kept exact until made relative; text date-times as int64 ns), which rows
    have no time, and the start of text date-times (their zone, if any, gives UTC)."""
    t_missing = np.zeros(len(df), dtype=bool)
    if layout.time_idx is None:
        return None, t_missing, None
    series = df[layout.time_idx]
    if not layout.time_is_text:
        tcol = series.to_numpy() if series.dtype.kind in "iuf" else _numeric(df, layout.time_idx, p, layout, line0)
        if tcol.dtype.kind == "f" and not np.isfinite(tcol.sum()):
            t_missing = ~np.isfinite(tcol)
        return tcol, t_missing, None
    parsed = _parse_text_times(series, p, layout, line0)
    t_missing = parsed.isna().to_numpy()
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_convert("UTC")
    else:
        warnings.append(Notice("time_zone", "date-times have no time zone: start time kept as local wall-clock time"))
    ok = np.flatnonzero(~t_missing)
    text_start = parsed.iloc[int(ok[0])].to_pydatetime() if ok.size else None
    return parsed.to_numpy(dtype="datetime64[ns]").view(np.int64), t_missing, text_start


def _drop_missing_rows(p: Path, line0: int, acc: np.ndarray, gyro: np.ndarray | None, tcol: np.ndarray | None,
                       t_missing: np.ndarray, warnings: list[Notice]
                       ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Rows with missing/non-finite time or acceleration left out (noted with the first file line)."""
    # One summing pass proves all values finite in the usual case; the row mask only when needed.
    bad_rows = t_missing if np.isfinite(acc.sum()) else (~np.isfinite(acc).all(axis=1) | t_missing)
    n_bad = int(bad_rows.sum())
    if not n_bad:
        return acc, gyro, tcol
    first_bad = int(np.flatnonzero(bad_rows)[0])
    last_cut = bool(bad_rows[-1]) and _ends_without_newline(p)
    if last_cut and n_bad == 1:
        what = "the incomplete last line (file cut off?)"
    else:
        what = (f"{n_bad} row(s) with missing or non-numeric values (first at line {line0 + first_bad})"
                + ("; the last line is incomplete" if last_cut else ""))
    warnings.append(Notice("dropped_rows", f"dropped {what}", {"rows": n_bad, "first_line": line0 + first_bad}))
    keep = ~bad_rows
    return acc[keep], (gyro[keep] if gyro is not None else None), (tcol[keep] if tcol is not None else None)


def _keep_increasing(p: Path, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None, warnings: list[Notice]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Samples whose time is strictly after every earlier one (checked cheaply first), and the time steps (s)."""
    dt = np.diff(t)
    if dt.min() > 0:
        return t, acc, gyro, dt
    n = t.shape[0]
    run_max = np.maximum.accumulate(t)
    later = np.empty(n, dtype=bool)
    later[0] = True
    later[1:] = t[1:] > run_max[:-1]
    dup = int(np.count_nonzero(t[1:] == run_max[:-1]))
    back = int(n - 1 - np.count_nonzero(later[1:]) - dup)
    first_drop = int(np.flatnonzero(~later)[0])
    parts = []
    if dup:
        parts.append(f"{dup} duplicated timestamp(s)")
    if back:
        parts.append(f"{back} sample(s) whose time went backwards")
    warnings.append(Notice("dropped_rows", f"dropped {' and '.join(parts)} (first near sample {first_drop})",
                           {"duplicated": dup, "backwards": back, "first_sample": first_drop}))
    t, acc = t[later], acc[later]
    gyro = gyro[later] if gyro is not None else None
    if t.shape[0] < MIN_SAMPLES:
        raise InputError(f"too short: {t.shape[0]} samples with increasing time", path=str(p))
    return t, acc, gyro, np.diff(t)


def _rate_and_gaps(t: np.ndarray, dt: np.ndarray, rate_hz: float | None, warnings: list[Notice]
                   ) -> tuple[float, list[Gap]]:
    """Nominal rate (Hz; a given rate wins over the timestamps, noted when they differ by > 2 %) and the
    gaps in the timestamps (`gaitimpact.timebase`), with the notes on gaps and jitter."""
    dt_med = median_step_s(dt)
    fs_measured = 1.0 / dt_med
    fs = nice_rate_hz(fs_measured)
    if rate_hz is not None:
        if abs(rate_hz - fs_measured) / fs_measured > 0.02:
            warnings.append(Notice("rate_mismatch", f"--rate {rate_hz:g} Hz differs from the timestamps' "
                                   f"{fs_measured:.4g} Hz; times come from the file",
                                   {"rate_hz": float(rate_hz), "timestamps_hz": fs_measured}))
        fs = float(rate_hz)
    long = gap_steps(dt, dt_med)
    gap_idx = np.flatnonzero(long)
    gaps = [Gap(float(t[i]), float(t[i + 1]), "timestamps") for i in gap_idx]
    sub = dt[:: max(1, dt.size // 200_000)]
    regular = sub[~gap_steps(sub, dt_med)]
    jitter_s = float(regular.std()) if regular.size > 2 else 0.0
    warnings += timing_notes(len(gaps), float(dt[gap_idx].max()) if gaps else 0.0, float(dt[gap_idx].sum()),
                             dt_med, jitter_s)
    return fs, gaps


def _to_units(p: Path, layout: Layout, acc: np.ndarray, gyro: np.ndarray | None, warnings: list[Notice]
              ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Acceleration in g and gyro in deg/s: stated units, else inferred from the gravity magnitude (noted)."""
    unit = layout.acc_unit
    if unit is None:  # a unit stated in the header is taken as stated, never second-guessed
        inferred, rest = infer_acc_unit(acc)
        if inferred is None:
            hint = " (acceleration with gravity removed?)" if rest < 0.4 else ""
            raise InputError(
                f"cannot tell acceleration units: gravity magnitude {rest:.4g} matches none of g (~1), "
                f"mg (~1000), m/s^2 (~9.81){hint}; put the unit in the header, e.g. 'ax (g)'",
                path=str(p), field=layout.name(layout.acc_idx[0]))
        unit = inferred
        warnings.append(Notice("units_inferred", f"acceleration units not stated: inferred {unit} from the gravity "
                               f"magnitude {rest:.4g}", {"gravity": rest}))
    if unit != "g":
        acc = acc * ACC_UNITS[unit]
    if gyro is not None:
        gunit = layout.gyro_unit
        if gunit is None:
            gunit = "deg/s"
            warnings.append(Notice("units_inferred", "gyro units not stated: assumed deg/s"))
        if gunit != "deg/s":
            gyro = gyro * GYRO_UNITS[gunit]
    return acc, gyro, unit


def _writeable(arr: np.ndarray) -> np.ndarray:
    """An ordinary writeable array: arrays viewing pandas' buffers come back read-only (copy-on-write)."""
    if arr.flags.writeable:
        return arr
    try:
        arr.setflags(write=True)
        return arr
    except ValueError:
        return arr.copy()


def _numeric_time(
    tcol: np.ndarray, layout: Layout, warnings: list[Notice]
) -> tuple[np.ndarray, datetime | None]:
    """Numeric time column -> (s from first sample, start datetime if it is an epoch time)."""
    first = float(tcol[0])
    unit = layout.time_unit
    epoch = layout.time_epoch
    name = layout.name(layout.time_idx or 0)
    if unit is None:
        eu = _epoch_unit(first)
        if eu is not None:
            unit, epoch = eu, EPOCH_1970
            warnings.append(Notice("time_unit", f"time column '{name}' read as Unix time in {unit}"))
        else:
            step = np.diff(tcol[: min(tcol.shape[0], 20001)].astype(np.float64))
            step = step[step > 0]
            med = float(np.median(step)) if step.size else 1.0
            unit = _relative_unit(med)
            warnings.append(Notice("time_unit", f"time column '{name}' has no unit: read as {unit} (median step "
                                   f"{med:.4g})", {"median_step": med}))
    elif epoch is None and layout.dialect is None and _epoch_unit(first) == unit:
        epoch = EPOCH_1970  # an app dialect says itself whether its clock is an epoch
    scale = TIME_UNITS[unit]
    if tcol.dtype.kind in "iu":
        rel = (tcol - tcol[0]).astype(np.float64)
    else:
        rel = tcol.astype(np.float64, copy=False)
        if first != 0.0:
            rel = rel - first
    if scale != 1.0:
        rel = rel * scale
    start = None
    if epoch is not None:
        try:
            if tcol.dtype.kind in "iu" and unit in ("ns", "us"):
                whole = int(tcol[0])
                start = epoch + timedelta(microseconds=whole // 1000 if unit == "ns" else whole)
            else:
                start = epoch + timedelta(seconds=first * scale)
            start = start.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            start = None
            warnings.append(Notice("time_unit", f"time column '{name}' is not a plausible date: start time unknown"))
    return rel, start


def _wall_clock_start(path: Path, layout: Layout) -> datetime | None:
    """Wall-clock start from a text date-time column (first data row), e.g. Polar's phone timestamp."""
    import pandas as pd

    try:
        with open(path, encoding=layout.encoding, errors="replace") as fh:
            for _ in range(layout.skiprows):
                fh.readline()
            row = fh.readline()
    except OSError:
        return None
    cells = _split(row.rstrip("\r\n").lstrip("\ufeff"), layout.sep if layout.sep != r"\s+" else " ")
    if layout.start_idx is None or layout.start_idx >= len(cells):
        return None
    text = cells[layout.start_idx].strip().strip('"')
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    dt = ts.to_pydatetime()
    return dt.astimezone(timezone.utc) if dt.tzinfo is not None else dt


def _ends_without_newline(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) not in (b"\n", b"\r")
    except OSError:
        return False


__all__ = ["Column", "Layout", "infer_acc_unit", "read_csv_recording", "sniff"]
