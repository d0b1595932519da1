"""Long recordings as a stream of sample blocks (bounded memory): canonical CSV and Parquet.

`iter_recording_blocks` yields (time_s, acc_g, gyro_dps | None) blocks as stored in the file;
`clean_blocks` drops rows the readers would drop (non-finite time/acceleration, time not increasing)
and shifts time to start at 0 s. The signal core's chunk-stitcher (`gaitimpact.core.chunked`)
takes the cleaned blocks; `gaitimpact.analysis.service` joins the two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitimpact.errors import InputError
from gaitimpact.notice import Notice
from gaitimpact.recording import Metadata

BLOCK_ROWS = 250_000
"""Rows read from the file at a time."""

CANONICAL = ("time_s", "ax_g", "ay_g", "az_g")
CANONICAL_GYRO = ("gx_dps", "gy_dps", "gz_dps")

Block = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]
"""(time_s (n,), acc_g (n, 3), gyro_dps (n, 3) or None)."""


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
            line = fh.readline()
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


def iter_canonical_csv(path: str | Path, *, rows: int = BLOCK_ROWS) -> Iterator[Block]:
    """Yield (time_s, acc_g, gyro_dps|None) blocks of a canonical CSV; malformed cells become NaN rows."""
    import pandas as pd

    path = Path(path)
    header = _csv_header(path) or []
    with_gyro = tuple(header[4:7]) == CANONICAL_GYRO
    cols = list(CANONICAL + (CANONICAL_GYRO if with_gyro else ()))
    try:
        reader = pd.read_csv(path, usecols=cols, chunksize=rows, engine="c", on_bad_lines="skip",
                             encoding="utf-8-sig", low_memory=True)
        for frame in reader:
            for col in cols:
                if frame[col].dtype.kind not in "fiu":
                    frame[col] = pd.to_numeric(frame[col], errors="coerce")
            values = frame[cols].to_numpy(dtype=np.float64)
            yield values[:, 0], values[:, 1:4], (values[:, 4:7] if with_gyro else None)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read CSV ({' '.join(str(exc).split())[:120]})", path=str(path)) from None


def iter_recording_blocks(path: str | Path, *, rate_hz: float | None = None,
                          rows: int = BLOCK_ROWS) -> Iterator[Block]:
    """Blocks of samples from a canonical CSV or a Parquet file (times as stored in the file)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        from gaitimpact.io.parquet import iter_parquet_blocks

        yield from iter_parquet_blocks(path, rows=rows, rate_hz=rate_hz)
    else:
        yield from iter_canonical_csv(path, rows=rows)


def recording_metadata(path: str | Path, overrides: dict | None = None) -> Metadata:
    """Metadata of a streamed file: sidecar (or Parquet-embedded) plus CLI overrides."""
    from gaitimpact.io.load import apply_overrides
    from gaitimpact.io.parquet import parquet_metadata
    from gaitimpact.io.sidecar import read_sidecar, sidecar_path

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return parquet_metadata(path, overrides)
    side = sidecar_path(path)
    meta = read_sidecar(side) if side.is_file() else Metadata()
    return apply_overrides(meta, overrides)


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
        t = t_raw[keep]
        if t0 is None:
            t0 = float(t[0])
        last = float(t[-1])
        yield t - t0, acc[keep], (None if gyro is None else gyro[keep])
