"""Chunked analysis of long recordings: same strikes as the whole-recording analysis, bounded windows."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.analysis.service import analyze_path
from gaitimpact.core.chunked import analyze_blocks
from gaitimpact.core.pipeline import analyze_signal
from gaitimpact.errors import InputError
from gaitimpact.io.blocks import DroppedRows, clean_blocks
from gaitimpact.sim import SimConfig, SimSegment, simulate

SEGMENTS = [SimSegment(15, "stand"), SimSegment(70, "run", 3.2, "asphalt"), SimSegment(20, "walk"),
            SimSegment(60, "run", 4.0, "grass")]


def analyze_file(path, **kw):
    """In-memory analysis of a file: (recording, analysis, summary)."""
    r = analyze_path(path, chunked=False, **kw)
    return r.recording, r.analysis, r.summary


def analyze_file_chunked(path, **kw):
    """Chunked (streamed) analysis of a file: (skeleton recording, analysis, summary)."""
    r = analyze_path(path, chunked=True, **kw)
    return r.recording, r.analysis, r.summary


def _blocks(rec, rows):
    return [(rec.time_s[i:i + rows], rec.acc_g[i:i + rows], None) for i in range(0, rec.n_samples, rows)]


def assert_same_strikes(full, chunked, fs_hz):
    """Same strikes, field by field (peak and loading rate to BLAS rounding: see
    tests/core/test_chunk_identity.py), same bouts, running time, cadences and placement."""
    a, b = full.strikes, chunked.strikes
    assert len(a) == len(b) > 50
    for name in ("time_s", "foot", "clipped", "near_gap", "bout", "contact_ms"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    np.testing.assert_allclose(b.peak_g, a.peak_g, rtol=1e-9, atol=0)
    np.testing.assert_allclose(b.loading_rate_gps, a.loading_rate_gps, rtol=1e-9, atol=0)
    assert [(x.start_s, x.end_s) for x in chunked.bouts] == [(x.start_s, x.end_s) for x in full.bouts]
    assert chunked.params["cadence_per_bout_spm"] == full.params["cadence_per_bout_spm"]
    assert chunked.running_s == full.running_s
    np.testing.assert_array_equal(chunked.cadence_spm, full.cadence_spm)
    assert chunked.placement == full.placement


@pytest.mark.parametrize(("placement", "fs_hz"), [("waist", 200.0), ("shoe", 500.0)])
def test_chunked_analysis_finds_the_same_strikes_as_the_whole_recording(placement, fs_hz):
    res = simulate(SimConfig(placement=placement, fs_hz=fs_hz, segments=SEGMENTS, noise_g=0.02, gaps=2,
                             jitter_s=0.0002, seed=4))
    rec = res.recording
    full = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement=placement, gaps=rec.gaps)
    chunked, stats = analyze_blocks(_blocks(rec, 1777), fs_hz=rec.fs_hz, placement=placement,
                                    declared_gaps=rec.gaps, chunk_s=20.0, overlap_s=8.0)
    # 164 s in 20 s cores, each window reaching pipeline.CONTEXT_S (50 s, more than asked) beyond its core:
    # windows close at 70, 90, ..., 150 s, then the rest
    assert stats.windows == 6 and stats.n_samples == rec.n_samples
    assert_same_strikes(full, chunked, fs_hz)


def test_auto_placement_is_decided_once_and_kept():
    rec = simulate(SimConfig(placement="waist", fs_hz=100.0, segments=SEGMENTS, seed=2)).recording
    full = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz)
    chunked, _ = analyze_blocks(_blocks(rec, 5000), fs_hz=rec.fs_hz, chunk_s=30.0, overlap_s=10.0)
    assert chunked.placement == "waist" and chunked.placement_source == "auto"
    assert_same_strikes(full, chunked, 100.0)


def test_chunk_boundaries_do_not_depend_on_block_size_or_need_the_rate():
    rec = simulate(SimConfig(placement="shank", fs_hz=500.0, segments=SEGMENTS[:2], seed=7)).recording
    one, _ = analyze_blocks(_blocks(rec, 999), placement="shank", chunk_s=15.0, overlap_s=6.0)
    two, _ = analyze_blocks(_blocks(rec, 40_000), placement="shank", chunk_s=15.0, overlap_s=6.0)
    np.testing.assert_array_equal(one.strikes.time_s, two.strikes.time_s)
    assert one.fs_hz == pytest.approx(500.0, rel=1e-3)


def test_rows_that_are_nan_or_go_back_in_time_are_dropped_and_counted():
    rec = simulate(SimConfig(placement="waist", fs_hz=100.0, segments=SEGMENTS[:2], seed=1)).recording
    t, a = rec.time_s.copy(), rec.acc_g.copy()
    a[100] = np.nan
    t[200] = t[150]
    dropped = DroppedRows()
    blocks = clean_blocks([(t[:3000], a[:3000], None), (t[3000:], a[3000:], None)], dropped)
    _, stats = analyze_blocks(blocks, placement="waist", chunk_s=30.0, overlap_s=5.0)
    assert (dropped.nonfinite, dropped.backwards) == (1, 1)
    assert stats.n_samples == rec.n_samples - 2


def test_empty_or_single_sample_streams_are_input_errors():
    with pytest.raises(InputError, match="too few valid samples"):
        analyze_blocks([(np.array([0.0]), np.ones((1, 3)), None)], fs_hz=100.0)
    with pytest.raises(InputError):
        analyze_blocks([], fs_hz=100.0)


def _close(x, y):
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= 2e-3 * max(1.0, abs(x))
    return x == y


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_in_chunks_gives_the_analyze_summary_and_steps_of_the_whole_file(tmp_path, fmt):
    from gaitimpact.analysis.summary import steps_table
    from gaitimpact.io.parquet import write_parquet
    from gaitimpact.sim import write_simulation

    res = simulate(SimConfig(placement="shoe", fs_hz=500.0, segments=SEGMENTS, noise_g=0.02, gaps=2,
                             jitter_s=0.0002, seed=4))
    csv_path, _, _ = write_simulation(res, tmp_path / "run.csv")
    path = csv_path
    if fmt == "parquet":
        path = write_parquet(tmp_path / "run.parquet", analyze_file(csv_path)[0])
    rec1, ana1, sum1 = analyze_file(path)
    rec2, ana2, sum2 = analyze_file_chunked(path, chunk_s=20.0, overlap_s=8.0, rows=2000)
    assert "chunked" not in ana2.params and rec2.n_samples == 2  # skeleton: no samples kept
    assert sum2["n_samples"] == sum1["n_samples"] == rec1.n_samples
    assert sum2["warnings"] == sum1["warnings"]
    flat1, flat2 = _flat(sum1), _flat(sum2)
    differ = sorted(k for k in flat1 if not _close(flat1[k], flat2.get(k)))
    assert differ == [], {k: (flat1[k], flat2.get(k)) for k in differ}
    s1, s2 = steps_table(rec1, ana1), steps_table(rec2, ana2)
    assert list(s1.columns) == list(s2.columns) and len(s1) == len(s2) == sum1["strikes"]
    np.testing.assert_allclose(s2["time_s"], s1["time_s"], atol=1 / 500.0)
    np.testing.assert_allclose(s2["peak_g"], s1["peak_g"], atol=1e-3)
    assert (s2["surface"] == s1["surface"]).all() and (s2["bout"] == s1["bout"]).all()


def _flat(summary):
    from gaitimpact.batch.flatten import flatten_summary

    row = flatten_summary({k: v for k, v in summary.items() if k != "definitions"})
    for key in ("segments", "bouts", "gaps"):
        for i, item in enumerate(summary[key]):
            for k, v in item.items():
                row[f"{key}[{i}].{k}"] = v
        row.pop(key)
    return row


def test_chunked_file_errors_name_the_file(tmp_path):

    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,ax_g,ay_g,az_g\n0,0,0,1\n")
    with pytest.raises(InputError, match="bad.csv") as info:
        analyze_file_chunked(bad)
    assert "sampling rate" in str(info.value)
    with pytest.raises(InputError, match="file not found"):
        analyze_file_chunked(tmp_path / "missing.csv")


def test_an_absurd_timestamp_does_not_stall_the_chunked_reader(tmp_path):
    from gaitimpact.sim import write_simulation

    res = simulate(SimConfig(placement="waist", fs_hz=100.0, segments=SEGMENTS[:2], seed=3))
    csv_path, _, _ = write_simulation(res, tmp_path / "run.csv")
    lines = csv_path.read_text().splitlines()
    lines.insert(6000, "1e9,0.1,0.2,0.98")  # one glitched clock value 30 years ahead, then normal times
    csv_path.write_text("\n".join(lines) + "\n")
    whole = analyze_file(csv_path)[2]
    chunked = analyze_file_chunked(csv_path, chunk_s=20.0, overlap_s=8.0)[2]
    assert chunked["duration_s"] == whole["duration_s"] == 1e9
    assert chunked["steps"] == whole["steps"] > 0


@pytest.mark.parametrize(("placement", "fs_hz"), [("waist", 128.0), ("shoe", 833.0)])
def test_windows_start_on_the_cores_activity_block_grid_at_odd_rates(placement, fs_hz):
    # the chunker aligns windows on the core's activity blocks (`bouts.block_samples`), which round
    # unevenly at these rates (129 samples at 128 Hz, 833 at 833 Hz)
    rec = simulate(SimConfig(placement=placement, fs_hz=fs_hz, segments=SEGMENTS[:2], noise_g=0.02, seed=6)).recording
    full = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement=placement, gaps=rec.gaps)
    chunked, stats = analyze_blocks(_blocks(rec, 4001), fs_hz=rec.fs_hz, placement=placement, chunk_s=10.0,
                                    overlap_s=8.0)
    assert stats.windows >= 4
    assert_same_strikes(full, chunked, fs_hz)
