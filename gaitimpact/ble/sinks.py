"""Where a recording's samples go, each testable alone: the CSV + sidecar on disk and the live analysis.

`FileSink` collects samples between ticks; `flush()` hands them to the live analysis at once and appends
them to the canonical CSV every `WRITE_EVERY_S` (one formatted block, written to the OS at once; fsync'ed
at least once a second by `CsvAppender`), so a killed recorder loses at most the last ~0.6 s. The sidecar
is rewritten atomically.
`LiveAnalysis` feeds the streaming core and, for benchmarks, logs each new strike with its host time.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import IO

import numpy as np

from gaitimpact.core.streaming import LiveFigures, StreamingAnalyzer
from gaitimpact.io.csv_writer import CsvAppender
from gaitimpact.io.sidecar import write_sidecar
from gaitimpact.recording import Metadata

WRITE_EVERY_S = 0.5
"""Samples reach the CSV (the OS) at least this often (s): fewer, larger formatted blocks."""


class FileSink:
    """Samples -> canonical CSV (append on flush) and the metadata sidecar next to it."""

    def __init__(self, appender: CsvAppender, out: Path, write_every_s: float = WRITE_EVERY_S) -> None:
        self.appender = appender
        self.out = out
        self.write_every_s = write_every_s
        self.samples_written = 0
        self._t: list[np.ndarray] = []
        self._a: list[np.ndarray] = []
        self._disk_t: list[np.ndarray] = []
        self._disk_a: list[np.ndarray] = []
        self._last_write = time.monotonic()

    def add(self, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        """Queue samples (time in s, (n, 3) g) for the next flush."""
        self._t.append(time_s)
        self._a.append(acc_g)

    def flush(self, force: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """Samples queued since the last flush (None when there were none); writes to the CSV when due or forced."""
        new = None
        if self._t:
            t = np.concatenate(self._t) if len(self._t) > 1 else self._t[0]
            a = np.concatenate(self._a) if len(self._a) > 1 else self._a[0]
            self._t.clear()
            self._a.clear()
            self._disk_t.append(t)
            self._disk_a.append(a)
            new = t, a
        now = time.monotonic()
        if self._disk_t and (force or now - self._last_write >= self.write_every_s):
            t = np.concatenate(self._disk_t) if len(self._disk_t) > 1 else self._disk_t[0]
            a = np.concatenate(self._disk_a) if len(self._disk_a) > 1 else self._disk_a[0]
            self._disk_t.clear()
            self._disk_a.clear()
            self.appender.append(t, a)
            self.samples_written += int(t.shape[0])
            self._last_write = now
        else:
            self.appender.maybe_sync()
        return new

    def write_sidecar(self, meta: Metadata, **fields: object) -> None:
        """Rewrite the sidecar atomically (metadata plus recording counters)."""
        write_sidecar(self.out, meta, **fields)

    def close(self) -> None:
        """Write what is still queued and close the CSV (final fsync)."""
        if not self.appender.closed:
            try:
                self.flush(force=True)
            finally:
                self.appender.close()


class LiveAnalysis:
    """The streaming core on the samples as they are written; optional JSON-lines log of new strikes."""

    def __init__(
        self, fs_hz: float, placement: str, range_g: float, hop_s: float, events_path: Path | None = None
    ) -> None:
        self.analyzer = StreamingAnalyzer(fs_hz, placement=placement, range_g=range_g, hop_s=hop_s)
        self.start_unix_s: float | None = None
        self._events: IO[str] | None = (
            open(events_path, "a", encoding="utf-8") if events_path is not None else None  # noqa: SIM115
        )
        self._last_logged = math.nan

    def add(self, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        """Append samples (s, g) to the rolling window."""
        self.analyzer.append(time_s, acc_g)

    def add_gap(self, start_s: float, end_s: float) -> None:
        """A stretch without samples (s)."""
        self.analyzer.add_gap(start_s, end_s)

    def update(self) -> LiveFigures:
        """Analyse if enough new data arrived; the current live figures (new strikes logged)."""
        self.analyzer.update()
        f = self.analyzer.figures()
        new = math.isfinite(f.last_strike_time_s) and f.last_strike_time_s != self._last_logged
        if self._events is not None and new:
            self._last_logged = f.last_strike_time_s
            record = {
                "host_unix_s": time.time(),
                "strike_time_s": f.last_strike_time_s,
                "peak_g": f.last_peak_g,
                "start_unix_s": self.start_unix_s,
            }
            self._events.write(json.dumps(record) + "\n")
            self._events.flush()
        return f

    def finish(self) -> tuple[int, float, float]:
        """Commit the last window; (strikes, cadence steps/min, median peak g) of the whole run."""
        self.analyzer.finish()
        peaks = np.asarray(self.analyzer.strike_peak_g)
        if self._events is not None:
            self._events.close()
            self._events = None
        return int(peaks.size), self.analyzer.cadence_spm(), float(np.median(peaks)) if peaks.size else math.nan
