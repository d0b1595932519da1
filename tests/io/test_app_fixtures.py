"""App exports (layouts verified from public sources, see tests/fixtures/apps/README.md) read correctly."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from gaitimpact.errors import InputError
from gaitimpact.io.load import load_recording

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"


def _rest_magnitude_g(rec) -> float:
    still = rec.time_s < 0.9
    return float(np.median(np.linalg.norm(rec.acc_g[still], axis=1)))


def test_polar_sensor_logger_acc_in_mg_with_ns_sensor_clock():
    rec = load_recording(APPS / "Polar_H10_A1B2C3D4_20220425_113936_ACC.txt")
    assert rec.meta.source_format == "Polar Sensor Logger (ACC)"
    assert rec.fs_hz == 52.0
    assert rec.n_samples == 156
    assert rec.time_s[0] == 0.0 and rec.duration_s == pytest.approx(155 / 52, abs=1e-6)
    assert _rest_magnitude_g(rec) == pytest.approx(1.0, abs=0.01)
    # Wall clock from the phone column (local time, no zone) and said so.
    assert rec.meta.start_utc == datetime(2022, 4, 25, 11, 39, 36, 978000)
    assert any("no time zone" in w.message for w in rec.warnings)
    assert rec.gaps == []


def test_phyphox_acceleration_with_g_in_mps2_with_quoted_header_and_java_numbers():
    rec = load_recording(APPS / "phyphox_acceleration_with_g_Raw Data.csv")
    assert rec.meta.source_format == "phyphox (Acceleration with g)"
    assert rec.fs_hz == 200.0 and rec.n_samples == 600
    assert rec.time_s[0] == 0.0  # phyphox starts at 0.0123 s; the Recording starts at 0
    assert _rest_magnitude_g(rec) == pytest.approx(1.0, abs=0.01)
    assert rec.meta.start_utc is None  # the wall clock is in phyphox's meta/time.csv, not here
    assert not any("inferred" in w.message for w in rec.warnings)


def test_sensor_logger_total_acceleration_in_mps2_with_epoch_ns():
    rec = load_recording(APPS / "sensor_logger" / "TotalAcceleration.csv")
    assert rec.meta.source_format == "Sensor Logger (TotalAcceleration)"
    assert rec.fs_hz == 100.0
    assert _rest_magnitude_g(rec) == pytest.approx(1.0, abs=0.01)
    # z,y,x column order mapped back to x,y,z: gravity is on z.
    assert np.median(rec.acc_g[rec.time_s < 0.9, 2]) == pytest.approx(1.0, abs=0.02)
    assert rec.meta.start_utc is not None and rec.meta.start_utc.tzinfo is not None
    assert rec.meta.start_utc.replace(microsecond=0) == datetime(2023, 10, 28, 13, 52, 24, tzinfo=timezone.utc)


def test_sensor_logger_gravity_free_accelerometer_file_is_refused_with_hint():
    with pytest.raises(InputError) as info:
        load_recording(APPS / "sensor_logger" / "Accelerometer.csv")
    assert "gravity removed" in str(info.value) and "TotalAcceleration.csv" in str(info.value)


def test_metabase_accelerometer_in_g_with_epoch_ms():
    rec = load_recording(APPS / "MetaWear_2018-06-12T10.15.30.123_C8CF2D2A3B4C_Accelerometer.csv")
    assert rec.meta.source_format == "MbientLab MetaBase (accelerometer)"
    assert rec.fs_hz == 100.0 and rec.n_samples == 300
    assert _rest_magnitude_g(rec) == pytest.approx(1.0, abs=0.01)
    assert rec.meta.start_utc == datetime(2018, 6, 12, 10, 15, 30, 123000, tzinfo=timezone.utc)


def test_metabase_epoc_header_variant_and_gyro_file(tmp_path):
    acc = tmp_path / "acc.csv"
    lines = ["epoc (ms),timestamp (+0100),elapsed (s),x-axis (g),y-axis (g),z-axis (g)"]
    lines += [f"{1600000000000 + 10 * i},2020-09-13T13.26.40.{i % 1000:03d},{i / 100:.3f},0.000,0.010,1.000"
              for i in range(300)]
    acc.write_text("\n".join(lines) + "\n")
    rec = load_recording(acc)
    assert rec.fs_hz == 100.0 and rec.meta.start_utc.year == 2020
    gyro = tmp_path / "gyro.csv"
    gyro.write_text("epoch (ms),time (+01:00),elapsed (s),x-axis (deg/s),y-axis (deg/s),z-axis (deg/s)\n"
                    "1600000000000,2020-09-13T13:26:40.000,0.000,1.0,2.0,3.0\n")
    with pytest.raises(InputError, match="no acceleration columns.*gyroscope"):
        load_recording(gyro)


def test_polar_magnetometer_in_gauss_is_not_read_as_g(tmp_path):
    mag = tmp_path / "Polar_Sense_MAG.txt"
    mag.write_text("Phone timestamp;sensor timestamp [ns];X [G];Y [G];Z [G]\n"
                   "2022-04-25T11:39:36.978;704201974831254116;0.1;0.2;0.3\n"
                   "2022-04-25T11:39:36.998;704201974851254116;0.1;0.2;0.3\n")
    with pytest.raises(InputError, match="no acceleration columns"):
        load_recording(mag)


def test_phyphox_semicolon_decimal_comma_export_variant(tmp_path):
    src = (APPS / "phyphox_acceleration_with_g_Raw Data.csv").read_text().splitlines()
    lines = [src[0].replace(",", ";")] + [ln.replace(",", ";").replace(".", ",") for ln in src[1:]]
    path = tmp_path / "Raw Data.csv"
    path.write_text("\n".join(lines) + "\n")
    rec = load_recording(path)
    assert rec.meta.source_format == "phyphox (Acceleration with g)"
    assert rec.n_samples == 600 and _rest_magnitude_g(rec) == pytest.approx(1.0, abs=0.01)
