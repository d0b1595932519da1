"""Header cells in the common naming styles are classified into time / acc / gyro with axis and unit."""

from __future__ import annotations

import pytest

from gaitimpact.io.dialects import APP_DIALECTS, Column, find_app_dialect, parse_column


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ax", Column("acc", 0, None)),
        ("az_g", Column("acc", 2, "g")),
        ("y", Column("acc", 1, None)),
        ("acc_x", Column("acc", 0, None)),
        ("accY", Column("acc", 1, None)),
        ("Acc X (g)", Column("acc", 0, "g")),
        ("X [mg]", Column("acc", 0, "mg")),
        ("Acceleration z (m/s^2)", Column("acc", 2, "m/s^2")),
        ("a_z [m/s²]", Column("acc", 2, "m/s^2")),
        ("x-axis (g)", Column("acc", 0, "g")),
        ("Accel_Y_mg", Column("acc", 1, "mg")),
        ("gx_dps", Column("gyro", 0, "deg/s")),
        ("gyro_z", Column("gyro", 2, None)),
        ("Gyroscope y (rad/s)", Column("gyro", 1, "rad/s")),
        ("X [dps]", Column("gyro", 0, "deg/s")),
        ("x-axis (deg/s)", Column("gyro", 0, "deg/s")),
        ("Drehrate X (°/s)", Column("gyro", 0, "deg/s")),
        ("time_s", Column("time", None, "s")),
        ("Time (s)", Column("time", None, "s")),
        ("epoch (ms)", Column("time", None, "ms")),
        ("sensor timestamp [ns]", Column("time", None, "ns")),
        ("timestamp", Column("time", None, None)),
        ("time (-13:00)", Column("time", None, None)),
    ],
)
def test_parse_column_styles(name, expected):
    assert parse_column(name) == expected


@pytest.mark.parametrize(
    "name",
    ["Linear Acceleration x (m/s^2)", "Absolute acceleration (m/s^2)", "X [G]", "x-axis (T)", "Mag_X",
     "gravity_z", "temperature (C)", "heading (deg)", "note", "HR [bpm]"],
)
def test_non_acceleration_columns_are_other(name):
    assert parse_column(name).kind == "other"


def test_app_dialects_are_found_by_their_headers():
    headers = {
        "Polar Sensor Logger (ACC)": ["Phone timestamp", "sensor timestamp [ns]", "X [mg]", "Y [mg]", "Z [mg]"],
        "phyphox (Acceleration with g)": ['"Time (s)"', '"Acceleration x (m/s^2)"', '"Acceleration y (m/s^2)"',
                                          '"Acceleration z (m/s^2)"', '"Absolute acceleration (m/s^2)"'],
        "Sensor Logger (TotalAcceleration)": ["time", "seconds_elapsed", "z", "y", "x"],
        "MbientLab MetaBase (accelerometer)": ["epoch (ms)", "time (-13:00)", "elapsed (s)", "x-axis (g)",
                                               "y-axis (g)", "z-axis (g)"],
    }
    for name, header in headers.items():
        found = find_app_dialect(header)
        assert found is not None and found.name == name
    assert find_app_dialect(["epoch (ms)", "time (-13:00)", "elapsed (s)", "x-axis (deg/s)", "y-axis (deg/s)",
                             "z-axis (deg/s)"]) is None
    assert all(d.source for d in APP_DIALECTS)
