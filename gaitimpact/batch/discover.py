"""Find the recordings under the paths a user gives to `gaitimpact batch`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from gaitimpact.errors import InputError

RECORDING_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")
"""File suffixes treated as recordings when a directory is searched."""

SKIPPED_NAME_ENDINGS = (".steps.csv", ".steps.parquet", ".journal.jsonl")
"""Files the tools themselves write next to recordings (per-strike tables, batch journals)."""


RESULT_HEADER = b"file,status,error,sha256"
"""First columns of a batch result table (a CSV starting with them is output, not a recording)."""


def _is_recording(path: Path) -> bool:
    """A file under a searched directory that looks like a recording (not a sidecar, table or hidden)."""
    name = path.name.lower()
    if name.startswith(".") or any(name.endswith(end) for end in SKIPPED_NAME_ENDINGS):
        return False
    if path.suffix.lower() not in RECORDING_SUFFIXES:
        return False
    if path.suffix.lower() == ".csv":
        try:
            with open(path, "rb") as fh:
                if fh.read(len(RESULT_HEADER)) == RESULT_HEADER:
                    return False
        except OSError:
            return True
    return True


def find_recordings(paths: Sequence[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Every recording file under `paths` (files as given, directories searched recursively), sorted, unique."""
    excluded = {Path(p).resolve() for p in exclude}
    excluded_dirs = [p for p in excluded if p.is_dir()]
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError("no such file or directory", path=str(path))
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.is_file() and _is_recording(p))
        else:
            candidates = [path]
        for cand in candidates:
            resolved = cand.resolve()
            if resolved in excluded or resolved in seen:
                continue
            if any(d in resolved.parents for d in excluded_dirs):
                continue
            seen.add(resolved)
            found.append(cand)
    return found
