"""Resume state of a batch: content hashes and an append-only journal of finished files."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from gaitimpact import __version__
from gaitimpact.batch.flatten import DONE_STATUSES

HASH_BLOCK_BYTES = 1 << 20


def sidecar_for(path: Path) -> Path:
    """The metadata sidecar next to a recording (`run.csv` -> `run.json`)."""
    try:
        from gaitimpact.io.sidecar import sidecar_path
    except ImportError:
        return path.with_suffix(".json")
    return Path(sidecar_path(path))


def content_hash(path: str | Path, *, settings: dict[str, Any] | None = None) -> str:
    """sha256 (hex) of the recording bytes, its sidecar's bytes, the analysis settings and the package version."""
    path = Path(path)
    digest = hashlib.sha256()
    digest.update(f"gaitimpact {__version__}\n".encode())
    digest.update(json.dumps(settings or {}, sort_keys=True, default=str).encode())
    for part in (path, sidecar_for(path)):
        digest.update(b"\0file\0")
        if part.is_file():
            with open(part, "rb") as fh:
                while block := fh.read(HASH_BLOCK_BYTES):
                    digest.update(block)
    return digest.hexdigest()


def journal_path(out: str | Path) -> Path:
    """Where the resume journal of a batch writing `out` lives (`results.csv` -> `results.csv.journal.jsonl`)."""
    out = Path(out)
    return out.with_name(out.name + ".journal.jsonl")


class Journal:
    """Append-only JSON-lines log of finished files (one row each), keyed by content hash.

    Each line goes to the OS at once (a killed batch loses at most the file in flight) and the file is
    fsync'd at least once a second and on close (a power cut loses at most the last second); a torn
    last line is ignored on reading.
    """

    SYNC_INTERVAL_S = 1.0

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: dict[str, dict[str, Any]] = {}
        self.results: dict[str, Any] = {}  # the last result table written: path, rows fingerprint, size, mtime
        if self.path.is_file():
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(row, dict) and row.get("status") in DONE_STATUSES and "sha256" in row:
                        self.done[row["sha256"]] = row
                    elif isinstance(row, dict) and "results_sha256" in row:
                        self.results = row
        self._fh = None
        self._last_sync = 0.0

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The finished row of a file with this content hash, or None."""
        return self.done.get(key)

    def record(self, row: dict[str, Any]) -> None:
        """Append one finished row durably (only analysed rows, not failed ones, make a file count as done)."""
        self._append(row)
        if row.get("status") in DONE_STATUSES:
            self.done[row["sha256"]] = row

    def _append(self, line: dict[str, Any]) -> None:
        """Append one JSON line: to the OS at once, fsync'd at least once per SYNC_INTERVAL_S."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps(line, allow_nan=True) + "\n")
        self._fh.flush()
        now = time.monotonic()
        if now - self._last_sync >= self.SYNC_INTERVAL_S:
            os.fsync(self._fh.fileno())
            self._last_sync = now

    def record_results(self, out: str | Path, fingerprint: str) -> None:
        """Note the result table just written (its rows' fingerprint, size and mtime)."""
        stat = Path(out).stat()
        self.results = {"results": str(out), "results_sha256": fingerprint, "size": stat.st_size,
                        "mtime_ns": stat.st_mtime_ns}
        self._append(self.results)

    def results_unchanged(self, out: str | Path, fingerprint: str) -> bool:
        """True when `out` is the table last written for rows with this fingerprint, untouched since."""
        try:
            stat = Path(out).stat()
        except OSError:
            return False
        r = self.results
        return (r.get("results") == str(out) and r.get("results_sha256") == fingerprint
                and r.get("size") == stat.st_size and r.get("mtime_ns") == stat.st_mtime_ns)

    def close(self) -> None:
        """Close the journal file."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
