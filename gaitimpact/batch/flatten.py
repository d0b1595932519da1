"""The one rule that turns an `analyze --json` summary into one flat table row.

Rule (documented in README):
- top-level scalars keep their name (`file`, `placement`, `steps`, `cadence_spm`, ...);
- nested objects are flattened with "." between keys: `{"peak_g": {"median": 7.1}}` -> `peak_g.median`;
- lists (`segments`, `bouts`, `warnings`, ...) are kept whole as one JSON text column;
- numpy scalars become Python numbers; NaN stays NaN (missing in CSV/Parquet).
Batch adds `status` ("ok", "no_running" or "failed"), `error` (the one-line reason of a failure) and
`sha256` (content hash).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

DONE_STATUSES = ("ok", "no_running")
"""Row statuses of an analysed file (a recording without running is a result); anything else failed."""

SEPARATOR = "."
"""Joins nested keys into one column name."""


def _json_default(value: Any) -> Any:
    """Make numpy values and other odd objects JSON-serialisable."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _scalar(value: Any) -> Any:
    """A plain Python scalar for a table cell."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def flatten_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten an analyze summary dict into column -> scalar (rule in the module docstring; units kept in names)."""
    row: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            if not value and prefix:
                row[prefix] = "{}"
            for key, sub in value.items():
                walk(f"{prefix}{SEPARATOR}{key}" if prefix else str(key), sub)
        elif isinstance(value, (list, tuple, np.ndarray)):
            row[prefix] = json.dumps(value, default=_json_default, allow_nan=True)
        else:
            row[prefix] = _scalar(value)

    walk("", summary)
    return row


def rows_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two rows hold the same keys and values (NaN equals NaN)."""
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True
