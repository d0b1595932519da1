"""One unit of batch work: analyse one recording into a flat row (and its per-strike table).

Runs in a worker process (process pool) or on a Dask worker, so everything here is picklable and
imports the analysis lazily.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gaitimpact.analysis.service import CHUNKED_MIN_BYTES
from gaitimpact.batch.flatten import flatten_summary
from gaitimpact.errors import GaitImpactError

DEFAULT_ANALYZER = "gaitimpact.batch.worker:analyze_for_batch"


@dataclass(frozen=True)
class Task:
    """What a worker needs to analyse one file: path, content hash, settings, where to put its strikes."""

    index: int
    path: str
    key: str
    rate_hz: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    steps_path: str | None = None
    analyzer: str = DEFAULT_ANALYZER
    chunked_min_bytes: int = CHUNKED_MIN_BYTES


def analyze_for_batch(
    path: str, rate_hz: float | None, overrides: dict[str, Any], want_steps: bool, chunked_min_bytes: int
) -> tuple[dict[str, Any], Any]:
    """Analyse one recording: (analyze-JSON summary dict, per-strike DataFrame or None); big files in chunks."""
    from gaitimpact.analysis.service import analyze_path

    result = analyze_path(path, rate_hz=rate_hz, overrides=overrides or None, chunked_min_bytes=chunked_min_bytes)
    return result.summary, (result.steps_table() if want_steps else None)


def _resolve(spec: str) -> Any:
    """Import "module:function"."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _one_line(text: str) -> str:
    """Squash a message onto one line."""
    return " ".join(str(text).split())


def _write_steps(steps: Any, target: str) -> None:
    """Write a per-strike table atomically (CSV, or Parquet by suffix)."""
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    if out.suffix.lower() == ".parquet":
        steps.to_parquet(tmp, index=False)
    else:
        steps.to_csv(tmp, index=False)
    os.replace(tmp, out)


def run_task(task: Task) -> dict[str, Any]:
    """Analyse one file into its result row; never raises (status "ok" or "no_running"; a failure becomes
    status "failed" + reason)."""
    row: dict[str, Any] = {"file": task.path, "status": "ok", "error": "", "sha256": task.key}
    try:
        analyzer = _resolve(task.analyzer)
        summary, steps = analyzer(
            task.path, task.rate_hz, dict(task.overrides), task.steps_path is not None, task.chunked_min_bytes
        )
        flat = flatten_summary(summary)
        if task.steps_path is not None and steps is not None:
            _write_steps(steps, task.steps_path)
    except GaitImpactError as exc:
        row.update(status="failed", error=_one_line(str(exc)))
        return row
    except MemoryError:
        row.update(status="failed", error="out of memory")
        return row
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch; reported as a bug
        row.update(status="failed", error=_one_line(f"internal error ({type(exc).__name__}): {exc}"))
        return row
    flat.pop("file", None)
    row["status"] = flat.get("status") or "ok"  # "no_running" is a result, not a failure
    for key in ("status", "error", "sha256"):
        flat.pop(key, None)
    row.update(flat)
    return row
