"""Plain numeric CSV columns straight into numpy arrays with pyarrow's CSV reader (no DataFrame, no pandas).

"Plain": comma-separated, decimal point, every data line with the same number of fields and a number
(or nothing) in each used cell. Anything else (a word in a number column, a short, long or blank line)
makes `read_plain_columns` return None at once, and the caller's general parser reads the file: the
fast path never decides what an odd line means.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

HEAD_BYTES = 1 << 16
"""Bytes read to estimate the line length (and so the number of rows to allocate)."""
BLOCK_BYTES = 4 << 20
"""CSV text parsed per block (pyarrow splits each block over its threads)."""


def read_plain_columns(path: str | Path, *, skip_rows: int, n_fields: int, columns: list[int],
                       float_columns: list[int]) -> dict[int, np.ndarray] | None:
    """Columns (by field index) of a plain comma-separated file after `skip_rows` lines, or None.

    `float_columns` are read as float64 (empty cell -> NaN); the other `columns` keep pyarrow's
    inferred integer or float type (an int64 epoch stays exact). Rows are written block by block into
    arrays sized from the file size, so memory peaks near the arrays themselves.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    path = Path(path)
    names = [str(i) for i in range(n_fields)]
    wanted = [str(i) for i in columns]
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=skip_rows, column_names=names, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _row: "error", ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted, column_types={str(i): pa.float64() for i in float_columns},
                null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False))
        out: dict[int, np.ndarray] = {}
        n = 0
        capacity = _row_estimate(path)
        for batch in reader:
            m = batch.num_rows
            if not out:
                for i, col in zip(columns, batch.columns):
                    if col.type not in (pa.float64(), pa.int64()) or (col.type == pa.int64() and col.null_count):
                        return None
                    out[i] = np.empty(max(capacity, m), dtype=np.float64 if col.type == pa.float64() else np.int64)
            if n + m > out[columns[0]].shape[0]:
                grown = max(n + m, int(out[columns[0]].shape[0] * 1.5))
                out = {i: np.concatenate((a[:n], np.empty(grown - n, dtype=a.dtype))) for i, a in out.items()}
            for i, col in zip(columns, batch.columns):
                if out[i].dtype == np.int64 and col.null_count:
                    return None
                out[i][n:n + m] = col.to_numpy(zero_copy_only=False)
            n += m
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    if not out:
        return None
    return {i: a[:n] for i, a in out.items()}


def _row_estimate(path: Path) -> int:
    """Rows to allocate: file size over the mean line length of the head, plus 10 % (untouched pages
    of an over-estimate are never resident)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    lines = max(1, head.count(b"\n"))
    return int(math.ceil(size / (len(head) / lines) * 1.1)) + 1024
