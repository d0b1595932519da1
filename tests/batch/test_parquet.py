"""Parquet recordings: round trip with metadata, chunked block reading, bad files give InputError."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gaitimpact.errors import InputError
from gaitimpact.io.parquet import iter_parquet_blocks, read_parquet, write_parquet
from gaitimpact.recording import Gap, Metadata, Recording, SurfaceSegment


def _recording(n: int = 5000, fs_hz: float = 500.0, gyro: bool = True) -> Recording:
    rng = np.random.default_rng(3)
    t = np.arange(n) / fs_hz
    t[3000:] += 0.5  # a 0.5 s gap
    acc = rng.normal(0, 0.3, (n, 3)) + [0, 0, 1]
    meta = Metadata(placement="shoe", segments=[SurfaceSegment(0, 4, "asphalt", 3.1),
                                                 SurfaceSegment(4, 20, "grass")],
                    shoe="Pegasus", shoe_km=420.0, range_g=16.0, notes="tempo, 'quoted' ✓",
                    start_utc=datetime(2026, 5, 1, 7, 30, tzinfo=timezone.utc), simulated=True,
                    device={"name": "GI-1", "profile": "gaitimpact"})
    return Recording(time_s=t, acc_g=acc, fs_hz=fs_hz, gyro_dps=rng.normal(0, 50, (n, 3)) if gyro else None,
                     gaps=[Gap(float(t[2999]), float(t[3000]), "ble")], meta=meta, source="x.csv")


def test_parquet_round_trip_keeps_samples_and_metadata(tmp_path):
    rec = _recording()
    out = write_parquet(tmp_path / "run.parquet", rec)
    back = read_parquet(out)
    np.testing.assert_array_equal(back.time_s, rec.time_s)
    np.testing.assert_array_equal(back.acc_g, rec.acc_g)
    np.testing.assert_array_equal(back.gyro_dps, rec.gyro_dps)
    assert back.fs_hz == 500.0
    assert back.gaps == rec.gaps
    m = back.meta
    assert (m.placement, m.shoe, m.shoe_km, m.range_g, m.notes, m.simulated) == (
        "shoe", "Pegasus", 420.0, 16.0, "tempo, 'quoted' ✓", True)
    assert m.segments == rec.meta.segments
    assert m.start_utc == rec.meta.start_utc
    assert m.device["name"] == "GI-1"
    assert pq.ParquetFile(out).schema_arrow.names == ["time_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps",
                                                       "gz_dps"]


def test_sidecar_next_to_parquet_and_overrides_win_over_embedded_metadata(tmp_path):
    out = write_parquet(tmp_path / "run.parquet", _recording(gyro=False))
    (tmp_path / "run.json").write_text('{"placement": "shank", "notes": "edited"}')
    rec = read_parquet(out, overrides={"surface": "track", "shoe_km": 500.0})
    assert rec.gyro_dps is None
    assert rec.meta.placement == "shank" and rec.meta.notes == "edited"
    assert [s.surface for s in rec.meta.segments] == ["track"]
    assert rec.meta.shoe_km == 500.0


def test_parquet_blocks_stream_in_file_order(tmp_path):
    rec = _recording(n=10_000)
    out = write_parquet(tmp_path / "run.parquet", rec)
    blocks = list(iter_parquet_blocks(out, rows=3000))
    assert [b[0].size for b in blocks] == [3000, 3000, 3000, 1000]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in blocks]), rec.time_s)


def test_foreign_parquet_without_metadata_gets_rate_and_gaps_from_time(tmp_path):
    t = np.concatenate([np.arange(1000), np.arange(1100, 2000)]) / 100.0 + 1.7e9  # epoch seconds, 1 s gap
    table = pa.table({"time_s": t, "ax_g": np.zeros(t.size), "ay_g": np.zeros(t.size), "az_g": np.ones(t.size)})
    pq.write_table(table, tmp_path / "f.parquet")
    rec = read_parquet(tmp_path / "f.parquet")
    assert rec.time_s[0] == 0.0 and rec.fs_hz == pytest.approx(100.0)
    assert len(rec.gaps) == 1 and rec.gaps[0].duration_s == pytest.approx(1.01)


def test_nan_and_backward_rows_are_dropped_and_reported(tmp_path):
    t = np.arange(100) / 50.0
    t[10] = t[5]
    acc = np.ones((100, 3))
    acc[20, 1] = np.nan
    pq.write_table(pa.table({"time_s": t, "ax_g": acc[:, 0], "ay_g": acc[:, 1], "az_g": acc[:, 2]}),
                   tmp_path / "f.parquet")
    rec = read_parquet(tmp_path / "f.parquet")
    assert rec.n_samples == 98
    assert [w.code for w in rec.warnings].count("dropped_rows") == 2
    text = " ".join(w.message for w in rec.warnings)
    assert "non-finite" in text and "did not increase" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable Parquet file"),
        (b"PAR1 this is not parquet PAR1", "not a readable Parquet file"),
        (b"time_s,ax_g\n0,1\n", "not a readable Parquet file"),
    ],
)
def test_broken_parquet_files_give_one_line_input_errors(tmp_path, content, message):
    p = tmp_path / "bad.parquet"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_parquet(p)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_parquet_without_acceleration_or_with_text_columns_is_rejected(tmp_path):
    pq.write_table(pa.table({"time_s": [0.0, 0.01], "x": [1.0, 1.0]}), tmp_path / "a.parquet")
    with pytest.raises(InputError, match="no acceleration columns"):
        read_parquet(tmp_path / "a.parquet")
    pq.write_table(pa.table({"time_s": [0.0, 0.01], "ax_g": ["a", "b"], "ay_g": [0.0, 0.0], "az_g": [1.0, 1.0]}),
                   tmp_path / "b.parquet")
    with pytest.raises(InputError, match=r"\[ax_g\]: column is string"):
        read_parquet(tmp_path / "b.parquet")


def test_parquet_without_time_column_needs_a_rate(tmp_path):
    pq.write_table(pa.table({"ax_g": np.zeros(500), "ay_g": np.zeros(500), "az_g": np.ones(500)}),
                   tmp_path / "n.parquet")
    with pytest.raises(InputError, match="--rate"):
        read_parquet(tmp_path / "n.parquet")
    rec = read_parquet(tmp_path / "n.parquet", rate_hz=250.0)
    assert rec.duration_s == pytest.approx(499 / 250.0)


def test_embedded_metadata_with_infinity_is_rejected_not_carried_into_a_sidecar(tmp_path):
    table = pa.table({"time_s": np.arange(100) / 50.0, "ax_g": np.zeros(100), "ay_g": np.zeros(100),
                      "az_g": np.ones(100)})
    meta = {b"gaitimpact.sidecar": b'{"placement": "waist", "device": {"name": "x", "temp": -Infinity}}'}
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "f.parquet")
    with pytest.raises(InputError, match=r"\[gaitimpact.sidecar\]: embedded gaitimpact metadata is not valid JSON"):
        read_parquet(tmp_path / "f.parquet")


def test_a_slow_time_base_keeps_a_nonzero_rate(tmp_path):
    t = np.arange(40) * 1000.0  # one sample every 1000 s
    pq.write_table(pa.table({"time_s": t, "ax_g": np.zeros(40), "ay_g": np.zeros(40), "az_g": np.ones(40)}),
                   tmp_path / "slow.parquet")
    assert read_parquet(tmp_path / "slow.parquet").fs_hz == pytest.approx(0.001)
