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


CHECKSUM_KEY = "row_sha256"
"""Journal field holding the sha256 of the rest of its line (an edited line no longer matches)."""


def row_checksum(row: dict[str, Any]) -> str:
    """sha256 (hex) of a journal line's canonical JSON (keys sorted), without its checksum field."""
    body = {k: v for k, v in row.items() if k != CHECKSUM_KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=True, default=str).encode()).hexdigest()


def _checked_line(raw: bytes) -> dict[str, Any] | None:
    """A journal line as a dict (checksum removed), or None when it is damaged, mistyped or edited."""
    try:
        line = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(line, dict) or not isinstance(line.get(CHECKSUM_KEY), str):
        return None
    if any(not isinstance(v, (str, int, float, bool, type(None))) for v in line.values()):
        return None
    if line.pop(CHECKSUM_KEY) != row_checksum(line):
        return None
    return line


def _is_row(line: dict[str, Any]) -> bool:
    """True when a journal line has the fields of a result row with the right types."""
    return (isinstance(line.get("sha256"), str) and bool(line["sha256"]) and isinstance(line.get("file"), str)
            and isinstance(line.get("status"), str))


def journal_path(out: str | Path) -> Path:
    """Where the resume journal of a batch writing `out` lives (`results.csv` -> `results.csv.journal.jsonl`)."""
    out = Path(out)
    return out.with_name(out.name + ".journal.jsonl")


class Journal:
    """Append-only JSON-lines log of finished files (one row each), keyed by content hash.

    Each line goes to the OS at once (a killed batch loses at most the file in flight) and the file is
    fsync'd at least once a second and on close (a power cut loses at most the last second); a torn
    last line is ignored on reading. Each line carries a checksum (`row_sha256`): a damaged line (not
    UTF-8, not JSON, wrong types) or a hand-edited row is not trusted; its file is analysed again and
    `skipped` names the journal lines.
    """

    SYNC_INTERVAL_S = 1.0

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: dict[str, dict[str, Any]] = {}
        self.results: dict[str, Any] = {}  # the last result table written: path, rows fingerprint, size, mtime
        self.skipped: list[int] = []
        """Journal line numbers (1-based) of damaged or edited entries, ignored."""
        if self.path.is_file():
            self._read()
        self._fh = None
        self._last_sync = 0.0

    def _read(self) -> None:
        """Load finished rows and the last results note; damaged or edited lines go to `skipped`, never raise."""
        with open(self.path, "rb") as fh:
            lines = fh.read().split(b"\n")
        lines.pop()  # after the last newline: empty, or a torn last write (ignored silently)
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            line = _checked_line(raw)
            if line is None:
                self.skipped.append(number)
            elif "results_sha256" in line:
                self.results = line
            elif _is_row(line):
                if line["status"] in DONE_STATUSES:
                    self.done[line["sha256"]] = line
            else:
                self.skipped.append(number)

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
        self._fh.write(json.dumps({**line, CHECKSUM_KEY: row_checksum(line)}, allow_nan=True) + "\n")
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
