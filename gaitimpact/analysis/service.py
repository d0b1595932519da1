"""One way from a recording file to its results: `analyze_path(path)` -> `AnalysisResult`.

It decides whether a file is analysed in memory or streamed in chunks (big canonical CSV or Parquet
files; same strikes either way), applies the recording-level rules once (too short to analyse is an
error; no running found is a normal result with status "no_running"), and summarises. analyze,
batch, add, compare FILE and record's closing summary all call it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from gaitimpact.analysis.summary import MIN_DURATION_S, SHORT_DURATION_S, drift_summary, steps_table, summarize
from gaitimpact.core.result import Analysis
from gaitimpact.errors import InputError
from gaitimpact.notice import Notice, fold_gap_notices, unique
from gaitimpact.recording import Recording

if TYPE_CHECKING:
    import pandas as pd

    from gaitimpact.analysis.track import TrackResult

CHUNKED_MIN_BYTES = 256 * 1024 * 1024
"""Files at least this big are analysed in chunks when streamable (about 2 h at 1000 Hz as canonical CSV)."""

Chunked = Literal["auto"] | bool


@dataclass
class AnalysisResult:
    """One analysed recording: the recording (samples omitted when chunked), the core's analysis, the
    `analyze --json` summary; `chunked` says whether it was streamed in bounded memory."""

    recording: Recording
    analysis: Analysis
    summary: dict
    chunked: bool = False
    warnings: list[Notice] = field(default_factory=list)
    track: TrackResult | None = None

    @property
    def running_found(self) -> bool:
        """True when the recording holds at least one running bout."""
        return bool(self.analysis.bouts)

    @property
    def status(self) -> str:
        """"ok", or "no_running" when no running bout was found (a normal result, not an error)."""
        return str(self.summary["status"])

    def steps_table(self) -> pd.DataFrame:
        """One row per detected strike (`gaitimpact.analysis.summary.steps_table`)."""
        return steps_table(self.recording, self.analysis)


def wants_chunked(path: str | os.PathLike, min_bytes: int = CHUNKED_MIN_BYTES) -> bool:
    """True when a file is big (>= min_bytes) and streamable (Parquet or canonical CSV): analyse it in chunks."""
    from gaitimpact.io.blocks import is_streamable

    p = Path(path)
    try:
        big = p.stat().st_size >= min_bytes
    except OSError:
        return False
    return big and is_streamable(p)


def analyze_path(
    path: str | os.PathLike,
    *,
    chunked: Chunked = "auto",
    rate_hz: float | None = None,
    overrides: dict | None = None,
    chunked_min_bytes: int | None = None,
    chunk_s: float | None = None,
    overlap_s: float | None = None,
    rows: int | None = None,
    track: str | os.PathLike | None = None,
    track_offset_s: float | None = None,
) -> AnalysisResult:
    """Analyse one recording file (any CSV dialect, Parquet; sidecar + overrides) into an AnalysisResult.

    chunked: "auto" streams big streamable files (>= chunked_min_bytes, default CHUNKED_MIN_BYTES), True
    always streams (another CSV dialect is then read whole, with a warning), False loads it into memory.
    A recording without running is a normal result (`status` "no_running", running_s 0, no strikes).
    track: a watch's GPX/TCX/FIT file of the run (`analysis.track.apply_track`): fills segment speeds,
    adds the `track` block and km `splits`; track_offset_s aligns it when the recording has no wall clock.
    Raises InputError (one line naming the file) for unreadable or too short recordings.
    """
    from gaitimpact.io.fsutil import check_input_file

    path = check_input_file(path)  # a FIFO would hang the reader: refused (one line) before opening
    watch = None
    if track is not None:
        from gaitimpact.io.track import read_track

        watch = read_track(track)  # a bad track fails before the (longer) analysis
    min_bytes = CHUNKED_MIN_BYTES if chunked_min_bytes is None else chunked_min_bytes
    stream = wants_chunked(path, min_bytes) if chunked == "auto" else bool(chunked)
    chunking = {k: v for k, v in (("chunk_s", chunk_s), ("overlap_s", overlap_s), ("rows", rows)) if v}
    # a plain canonical CSV / Parquet file of any size is streamed: same result, errors and notes as in memory
    plain = _analyze_plain(path, overrides, **chunking) if chunked == "auto" and rate_hz is None and \
        watch is None else None
    try:
        if plain is not None:
            rec, analysis, n_samples = plain
            stream = True
        elif stream:
            rec, analysis, n_samples = _analyze_streamed(path, rate_hz=rate_hz, overrides=overrides, **chunking)
        else:
            from gaitimpact.io.load import load_recording

            rec = load_recording(path, rate_hz=rate_hz, overrides=overrides)
            _check_duration(rec.duration_s, path)
            from gaitimpact.core.pipeline import analyze_recording  # scipy: only once the file has been read

            analysis = analyze_recording(rec)
            n_samples = rec.n_samples
    except InputError as exc:
        if exc.path is None:  # raised where the file is unknown (core, sidecar field): name it here
            raise exc.at(path) from None
        raise
    if rec.duration_s < SHORT_DURATION_S:
        analysis.warnings.append(Notice(
            "short_recording", f"short recording ({rec.duration_s:.3g} s, {len(analysis.strikes)} strikes): placement, "
            "cadence and contact time rest on few strides, and the first/last strike may be cut by the file's ends",
            {"duration_s": rec.duration_s, "strikes": len(analysis.strikes)}))
    fitted = None
    if watch is not None:
        from gaitimpact.analysis.track import apply_track

        fitted = apply_track(rec, analysis, watch, track_offset_s)
    summary = summarize(rec, analysis)
    summary["n_samples"] = n_samples
    summary["drift"] = drift_summary(rec, analysis, None if fitted is None else fitted.strike_speed_mps)
    summary["track"] = None if fitted is None else fitted.summary()
    summary["splits"] = [] if fitted is None else fitted.splits
    notices = unique(fold_gap_notices([*rec.warnings, *analysis.warnings]))  # each gap said once
    return AnalysisResult(rec, analysis, summary, chunked=stream, warnings=notices, track=fitted)


def _check_duration(duration_s: float, path: Path) -> None:
    """InputError when the recording is shorter than MIN_DURATION_S (s)."""
    if duration_s < MIN_DURATION_S:
        raise InputError(f"too short: {duration_s:.3g} s of samples, need at least {MIN_DURATION_S:g} s",
                         path=str(path))


def _analyze_plain(path: Path, overrides: dict | None, **chunking: float
                   ) -> tuple[Recording, Analysis, int] | None:
    """Stream a plain file (exact canonical CSV header or Parquet; `io.blocks.plain_blocks`: finite values,
    steady whole-Hz rate) through the chunk-stitcher in bounded memory; None for any other file or on any
    error, which the in-memory reader then reads (or refuses) with its own notes and messages."""
    from gaitimpact.io import blocks as io_blocks
    from gaitimpact.io.load import check_metadata, refuse_non_recording
    from gaitimpact.timebase import merge_gaps

    if not io_blocks.is_streamable(path):
        return None
    try:
        refuse_non_recording(path)
        side = io_blocks.recording_sidecar(path, overrides)
        rows = int(chunking.pop("rows", io_blocks.BLOCK_ROWS))
        # the file is parsed on a thread (pyarrow, without the GIL) while scipy is imported and earlier windows
        # are analysed, on every core only when the analysis would wait for it; at most READ_AHEAD_ROWS rows
        # wait in between (bounded memory)
        ahead = io_blocks.ReadAhead(io_blocks.READ_AHEAD_ROWS, rows)
        blocks = io_blocks.plain_shifted(io_blocks.iter_recording_blocks(
            path, rows=rows, strict=True, all_cores=ahead.hungry))
        with ahead.start(blocks) as queued:
            from gaitimpact.core.chunked import MIN_WINDOW_SAMPLES, analyze_blocks

            analysis, stats = analyze_blocks(queued, placement=side.meta.placement or "auto",
                                             range_g=side.meta.range_g, declared_gaps=side.gaps, **chunking)
    except (io_blocks.NotPlain, InputError):
        return None
    side_fs = side.fs_hz
    rate_differs = bool(side_fs) and abs(side_fs - stats.fs_hz) / side_fs > 0.02
    if stats.duration_s < MIN_DURATION_S or stats.n_samples < MIN_WINDOW_SAMPLES or rate_differs:
        return None  # the in-memory reader says so in its words
    meta = side.meta
    if path.suffix.lower() != ".parquet":
        from gaitimpact.io.dialects import GAITIMPACT_CANONICAL

        meta.source_format = GAITIMPACT_CANONICAL.name
    rec = Recording(time_s=np.array([0.0, stats.duration_s]), acc_g=np.zeros((2, 3)), fs_hz=stats.fs_hz,
                    gaps=merge_gaps([], side.gaps), meta=meta, source=str(path), warnings=list(side.warnings))
    return check_metadata(rec), analysis, stats.n_samples


def _analyze_streamed(path: Path, *, rate_hz: float | None, overrides: dict | None,
                      **chunking: float) -> tuple[Recording, Analysis, int]:
    """Stream a file through the core's chunk-stitcher; the Recording is a skeleton without the samples
    (time_s = [0, duration_s], acc_g zeros) carrying metadata, gaps, rate and warnings."""
    from gaitimpact.io import blocks as io_blocks
    from gaitimpact.timebase import merge_gaps

    if not path.is_file():
        raise InputError("file not found", path=str(path))
    rows = int(chunking.pop("rows", io_blocks.BLOCK_ROWS))
    dropped = io_blocks.DroppedRows()
    if not io_blocks.is_streamable(path):
        from gaitimpact.io.load import load_recording

        whole = load_recording(path, rate_hz=rate_hz, overrides=overrides)
        blocks: Iterable[io_blocks.Block] = [(whole.time_s, whole.acc_g, None)]
        meta, fs_hint, stored_gaps = whole.meta, whole.fs_hz, list(whole.gaps)
        warnings = [*whole.warnings, Notice(
            "not_streamed", "not a canonical CSV: read whole, not streamed (convert it to Parquet to bound memory)")]
        del whole
        ahead: AbstractContextManager[Iterable[io_blocks.Block]] = nullcontext(blocks)
    else:
        side = io_blocks.recording_sidecar(path, overrides)
        meta, fs_hint, stored_gaps = side.meta, rate_hz, side.gaps
        reader = io_blocks.ReadAhead(io_blocks.READ_AHEAD_ROWS, rows)  # parsed while scipy is imported
        blocks = io_blocks.clean_blocks(io_blocks.iter_recording_blocks(
            path, rate_hz=rate_hz, rows=rows, all_cores=reader.hungry), dropped)
        warnings: list[Notice] = list(side.warnings)
        if path.suffix.lower() != ".parquet":  # a zero tail or a cut-off last line is left out: say so
            from gaitimpact.io.textscan import extent_notes, scan_text

            warnings += [Notice(code, text, numbers) for code, text, numbers in extent_notes(scan_text(path))]
        ahead = reader.start(blocks)
    try:
        with ahead as queued:
            from gaitimpact.core.chunked import analyze_blocks

            analysis, stats = analyze_blocks(queued, fs_hz=fs_hint, placement=meta.placement or "auto",
                                             range_g=meta.range_g, declared_gaps=stored_gaps, **chunking)
    except InputError as exc:
        if exc.path is None:
            raise InputError(str(exc), path=str(path)) from None
        raise
    warnings += stats.timing_warnings() + dropped.notices()
    rec = Recording(time_s=np.array([0.0, stats.duration_s]), acc_g=np.zeros((2, 3)), fs_hz=stats.fs_hz,
                    gaps=merge_gaps(stats.gaps, stored_gaps), meta=meta, source=str(path), warnings=warnings)
    _check_duration(stats.duration_s, path)
    return rec, analysis, stats.n_samples
