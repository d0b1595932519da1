"""Plain numeric CSV columns straight into numpy arrays with pyarrow's CSV reader (no DataFrame, no pandas).

"Plain": comma-separated, decimal point, every data line with the same number of fields and a number
(or nothing) in each used cell. Anything else (a word in a number column, a short, long or blank line)
makes `read_plain_columns` return None at once, and the caller's general parser reads the file: the
fast path never decides what an odd line means.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

HEAD_BYTES = 1 << 16
"""Bytes read to estimate the line length (and so the number of rows to allocate)."""
BLOCK_BYTES = 1 << 20
"""CSV text parsed per block (pyarrow parses blocks on its threads; measured on a 1 h 1000 Hz file: 4 MiB
blocks held ~230 MiB of read-ahead and buffers, 1 MiB ~130 MiB, at the same CPU time)."""


def read_plain_columns(path: str | Path, *, skip_rows: int, n_fields: int, groups: dict[str, list[int]],
                       float_groups: set[str]) -> dict[str, np.ndarray] | None:
    """Named groups of columns (by field index) of a plain comma-separated file after `skip_rows` lines.

    Each group comes back as one array: (n,) for one column, (n, k) for k. Groups in `float_groups`
    are float64 (empty cell -> NaN); the others keep pyarrow's inferred int64 or float64 type (an
    int64 epoch stays exact). Rows are written block by block into arrays sized from the file size,
    so memory peaks near the arrays themselves. None for a file that is not plain (see module doc).
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    path = Path(path)
    fields = [i for cols in groups.values() for i in cols]
    floats = [i for name in float_groups for i in groups[name]]
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=skip_rows, column_names=[str(i) for i in range(n_fields)],
                                           block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _row: "error", ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=[str(i) for i in fields], column_types={str(i): pa.float64() for i in floats},
                null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False))
        out: dict[str, np.ndarray] = {}
        n = 0
        for batch in reader:
            m = batch.num_rows
            cols = {int(name): col for name, col in zip(batch.schema.names, batch.columns)}
            if any(c.type not in (pa.float64(), pa.int64()) or (c.type == pa.int64() and c.null_count)
                   for c in cols.values()):
                return None
            if not out:
                rows = max(_row_estimate(path), m)
                out = {name: np.empty((rows, len(idx)) if len(idx) > 1 else rows,
                                      dtype=np.int64 if cols[idx[0]].type == pa.int64() else np.float64)
                       for name, idx in groups.items()}
            if n + m > next(iter(out.values())).shape[0]:
                grown = max(n + m, int(next(iter(out.values())).shape[0] * 1.5))
                out = {name: np.concatenate((a[:n], np.empty((grown - n, *a.shape[1:]), dtype=a.dtype)))
                       for name, a in out.items()}
            for name, idx in groups.items():
                for j, i in enumerate(idx):
                    if (out[name].dtype == np.int64) != (cols[i].type == pa.int64()):
                        return None
                    target = out[name][n:n + m] if len(idx) == 1 else out[name][n:n + m, j]
                    target[...] = arrow_values(cols[i])
            n += m
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    if not out:
        return None
    return {name: a[:n] for name, a in out.items()}


def arrow_values(col: pa.Array) -> np.ndarray:
    """A float64/int64 Arrow array as numpy: a view of its buffer, nulls as NaN (float64; copied then).

    Not `Array.to_numpy`: that loads pandas, whose import costs more than reading a short file."""
    n = len(col)
    validity, data = col.buffers()[0], col.buffers()[1]
    dtype = np.int64 if str(col.type) == "int64" else np.float64
    values = np.frombuffer(data, dtype=dtype)[col.offset:col.offset + n]
    if col.null_count == 0:
        return values
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[col.offset:col.offset + n]
    values = values.astype(np.float64)
    values[bits == 0] = np.nan
    return values


def _row_estimate(path: Path) -> int:
    """Rows to allocate: file size over the mean line length of the head, plus 10 % (untouched pages
    of an over-estimate are never resident)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    lines = max(1, head.count(b"\n"))
    return int(math.ceil(size / (len(head) / lines) * 1.1)) + 1024
