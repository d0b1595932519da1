"""`load_recording`: suffix dispatch, sidecar metadata, CLI overrides winning, known gaps merged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gaitimpact.errors import InputError
from gaitimpact.io.csv_writer import write_csv
from gaitimpact.io.load import apply_overrides, load_recording
from gaitimpact.io.sidecar import write_sidecar
from gaitimpact.recording import Gap, Metadata, Recording, SurfaceSegment


def _rec(n=1000, fs=100.0, drop=None):
    t = np.arange(n) / fs
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    acc[:, 0] = 0.1 * np.sin(t)
    if drop is not None:
        keep = np.ones(n, bool)
        keep[drop] = False
        t, acc = t[keep], acc[keep]
    return Recording(t, acc, fs)


def test_csv_with_sidecar_gets_its_metadata(tmp_path):
    csv = write_csv(tmp_path / "run.csv", _rec())
    write_sidecar(csv, Metadata(placement="waist", segments=[SurfaceSegment(0, 5, "asphalt", 3.0),
                                                             SurfaceSegment(5, 10, "grass")],
                                shoe="Pegasus", shoe_km=300.0, range_g=16.0))
    rec = load_recording(csv)
    assert rec.placement == "waist" and rec.meta.shoe == "Pegasus" and rec.meta.range_g == 16.0
    assert [s.surface for s in rec.meta.segments] == ["asphalt", "grass"]
    assert rec.source == str(csv)


def test_overrides_win_over_sidecar(tmp_path):
    csv = write_csv(tmp_path / "run.csv", _rec())
    write_sidecar(csv, Metadata(placement="waist", segments=[SurfaceSegment(0, 5, "asphalt")], shoe_km=300.0))
    rec = load_recording(csv, overrides={"placement": "shoe", "surface": "Track", "speed_mps": 4.2,
                                         "shoe": "Clifton", "shoe_km": 12, "unrelated_flag": None})
    assert rec.placement == "shoe"
    assert rec.meta.segments == [SurfaceSegment(0.0, math.inf, "track", 4.2)]
    assert (rec.meta.speed_mps, rec.meta.shoe, rec.meta.shoe_km) == (4.2, "Clifton", 12.0)


def test_none_overrides_leave_sidecar_values(tmp_path):
    csv = write_csv(tmp_path / "run.csv", _rec())
    write_sidecar(csv, Metadata(placement="shank"))
    rec = load_recording(csv, overrides={"placement": None, "surface": None})
    assert rec.placement == "shank"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"placement": "hip"}, "placement"), ({"speed_mps": "fast"}, "speed_mps"), ({"speed_mps": 0}, "speed_mps"),
     ({"shoe_km": -1}, "shoe_km"), ({"surface": " "}, "surface")],
)
def test_bad_override_is_input_error_naming_it(overrides, field):
    with pytest.raises(InputError) as info:
        apply_overrides(Metadata(), overrides)
    assert info.value.field == field


def test_sidecar_gaps_with_reasons_replace_overlapping_detected_gaps(tmp_path):
    csv = write_csv(tmp_path / "live.csv", _rec(drop=slice(300, 340)))
    write_sidecar(csv, Metadata(), gaps=[Gap(2.99, 3.40, "ble_disconnect")], fs_hz=100.0)
    rec = load_recording(csv)
    assert rec.gaps == [Gap(2.99, 3.40, "ble_disconnect")]


def test_detected_gap_not_in_sidecar_is_added(tmp_path):
    csv = write_csv(tmp_path / "live.csv", _rec(drop=slice(300, 340)))
    write_sidecar(csv, Metadata(), gaps=[Gap(8.0, 8.0, "packet_lost")])
    rec = load_recording(csv)
    assert len(rec.gaps) == 2 and rec.gaps[0].reason == "timestamps" and rec.gaps[1].reason == "packet_lost"


def test_invalid_sidecar_is_input_error_naming_sidecar(tmp_path):
    csv = write_csv(tmp_path / "run.csv", _rec())
    (tmp_path / "run.json").write_text(json.dumps({"placement": "elbow"}))
    with pytest.raises(InputError) as info:
        load_recording(csv)
    assert "run.json" in str(info.value) and info.value.field == "placement"


def test_txt_and_unknown_suffix_are_read_as_csv(tmp_path):
    rec = _rec()
    csv = write_csv(tmp_path / "run.csv", rec)
    for name in ("run_copy.txt", "run_copy.log"):
        p = tmp_path / name
        p.write_bytes(csv.read_bytes())
        assert load_recording(p).n_samples == rec.n_samples


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_recording(tmp_path / "missing.csv")


def test_parquet_dispatches_to_parquet_reader(tmp_path):
    parquet = pytest.importorskip("gaitimpact.io.parquet")
    rec = _rec()
    rec.meta.placement = "waist"
    path = parquet.write_parquet(tmp_path / "run.parquet", rec)
    back = load_recording(path, overrides={"placement": "shoe"})
    assert back.n_samples == rec.n_samples and back.placement == "shoe"
    np.testing.assert_allclose(back.acc_g, rec.acc_g)


def test_unknown_surface_is_kept_but_warned(tmp_path):
    csv = write_csv(tmp_path / "run.csv", _rec())
    rec = load_recording(csv, overrides={"surface": "gras"})
    assert [s.surface for s in rec.meta.segments] == ["gras"]
    assert any("surface 'gras' is not one of asphalt" in w.message for w in rec.warnings)
