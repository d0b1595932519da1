"""A plain canonical CSV or Parquet file is streamed by default; what the user sees equals the in-memory
analysis (JSON summary, warnings, steps table, errors with file and line)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from gaitimpact.analysis.service import analyze_path
from gaitimpact.errors import InputError
from gaitimpact.io.csv_writer import write_csv
from gaitimpact.io.load import load_recording
from gaitimpact.io.parquet import write_parquet
from gaitimpact.io.sidecar import write_sidecar
from gaitimpact.recording import Recording
from gaitimpact.sim import SimConfig, SimSegment, simulate

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
REAL = ["adept_shoe_b1.csv", "bach2022_trial01_S1_run.csv"]


def _same_as_in_memory(path: Path, *, streamed: bool) -> None:
    """The default analysis of `path` streams (or not) and equals the in-memory one in all the user sees."""
    memory, default = analyze_path(path, chunked=False), analyze_path(path)
    assert default.chunked is streamed and memory.chunked is False
    assert json.dumps(default.summary, default=str) == json.dumps(memory.summary, default=str)
    assert [(w.code, str(w)) for w in default.warnings] == [(w.code, str(w)) for w in memory.warnings]
    assert default.steps_table().to_csv() == memory.steps_table().to_csv()


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory) -> Recording:
    """70 s of a shoe sensor at 200 Hz, steady clock (no jitter, no gaps), with an unknown surface."""
    cfg = SimConfig(placement="shoe", fs_hz=200.0, seed=7, segments=[
        SimSegment(5, "stand"), SimSegment(60, "run", 3.4, "asphalt"), SimSegment(5, "stand")])
    rec = simulate(cfg).recording
    rec.time_s = np.arange(rec.n_samples) / 200.0
    seg = rec.meta.segments[0]  # a typo: the unknown-surface warning must be there either way
    rec.meta.segments[0] = dataclasses.replace(seg, surface="asphallt")
    return rec


def _write(rec: Recording, folder: Path, fmt: str, fs_hz: float | None = None) -> Path:
    """rec as canonical CSV + sidecar, or as Parquet."""
    if fmt == "parquet":
        return write_parquet(folder / "run.parquet", rec)
    path = write_csv(folder / "run.csv", rec)
    write_sidecar(path, rec.meta, gaps=rec.gaps, fs_hz=fs_hz or rec.fs_hz)
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_plain_file_is_streamed_with_the_in_memory_summary_warnings_and_steps(plain_run, tmp_path, fmt):
    path = _write(plain_run, tmp_path, fmt)
    _same_as_in_memory(path, streamed=True)
    assert "unknown_surface" in analyze_path(path).summary["warning_codes"]


def test_sidecar_rate_that_disagrees_is_read_in_memory_with_its_warning(plain_run, tmp_path):
    path = _write(plain_run, tmp_path, "csv", fs_hz=100.0)
    _same_as_in_memory(path, streamed=False)
    assert "rate_mismatch" in analyze_path(path).summary["warning_codes"]


@pytest.mark.parametrize("name", REAL)
def test_real_recordings_as_canonical_csv_and_parquet_give_the_in_memory_result(name, tmp_path):
    source = REALDATA / name
    if not REALDATA.is_dir():  # as the other real-recording tests: a clone without ../shared beside it
        pytest.skip("../shared/realdata not present")
    if not source.is_file():
        pytest.fail(f"real recording missing: {source}")
    rec = load_recording(source)
    _same_as_in_memory(_write(rec, tmp_path, "csv"), streamed=True)
    _same_as_in_memory(_write(rec, tmp_path, "parquet"), streamed=True)


def _edit_line(path: Path, line: int, text: str | None) -> None:
    """Replace (or with None delete) one 1-based line of a text file."""
    lines = path.read_text().splitlines(keepends=True)
    if text is None:
        del lines[line - 1]
    else:
        lines[line - 1] = text
    path.write_text("".join(lines))


@pytest.mark.parametrize("edit", [
    (500, "0.5,abc,0.1,1.0\n"),      # a word in a number column: the in-memory reader's error or note
    (500, "\n"),                      # a blank line
    (500, "2.4,,0.1,1.0\n"),          # an empty cell: a dropped row, noted with its line
    (500, "1.0,0.1,0.1,1.0\n"),       # time going backwards
    (500, None),                      # one missing sample: a gap
])
def test_odd_canonical_files_give_exactly_the_in_memory_errors_or_notes(plain_run, tmp_path, edit):
    path = _write(plain_run, tmp_path, "csv")
    _edit_line(path, *edit)
    try:
        memory = analyze_path(path, chunked=False)
    except InputError as exc:
        with pytest.raises(InputError) as streamed:
            analyze_path(path)
        assert str(streamed.value) == str(exc) and streamed.value.path == exc.path
        return
    assert memory.warnings  # each edit is noticed by the in-memory reader
    _same_as_in_memory(path, streamed=False)


def test_cut_last_line_is_read_in_memory_with_its_note(plain_run, tmp_path):
    path = _write(plain_run, tmp_path, "csv")
    with open(path, "ab") as fh:
        fh.write(b"70.005,0.1")
    _same_as_in_memory(path, streamed=False)


@pytest.mark.parametrize("edit", [(79_990, "79.989,,0.0,1.0\n"), (79_990, None)])  # an empty cell; a gap
def test_an_odd_line_met_after_windows_were_analysed_gives_the_in_memory_result(tmp_path, monkeypatch, edit):
    """The read-ahead thread meets the odd line after the main thread has analysed windows: same fallback."""
    import gaitimpact.core.chunked as chunked
    import gaitimpact.io.blocks as io_blocks

    n = 80_000  # 80 s at 1000 Hz, ~2.4 MB: with 1 MiB slabs the odd line is in the third
    monkeypatch.setattr(io_blocks, "SLAB_BYTES", 1 << 20)
    rng = np.random.default_rng(3)
    rec = Recording(time_s=np.arange(n) / 1000.0, acc_g=np.column_stack(
        [rng.normal(0, 0.01, n), rng.normal(0, 0.01, n), 1 + rng.normal(0, 0.01, n)]), fs_hz=1000.0)
    path = write_csv(tmp_path / "still.csv", rec)
    _edit_line(path, *edit)
    memory = analyze_path(path, chunked=False)
    windows = []
    real = chunked.pipeline.analyze_signal
    monkeypatch.setattr(chunked.pipeline, "analyze_signal",
                        lambda t, *a, **k: windows.append(t.size) or real(t, *a, **k))
    late = analyze_path(path, chunk_s=10.0)
    assert len(windows) >= 2 and windows[-1] >= n - 1  # streamed window(s) first, then the in-memory run
    assert late.chunked is False and memory.warnings
    assert json.dumps(late.summary, default=str) == json.dumps(memory.summary, default=str)
    assert [(w.code, str(w)) for w in late.warnings] == [(w.code, str(w)) for w in memory.warnings]
