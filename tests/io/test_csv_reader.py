"""Tolerant CSV reading on real files: dialects, column styles, units, time styles, repairs, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from gaitimpact.errors import InputError
from gaitimpact.io.csv_reader import infer_acc_unit, read_csv_recording
from gaitimpact.io.csv_writer import write_csv
from gaitimpact.recording import Recording

G = 9.80665


def _signal(n: int = 400, fs: float = 100.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and acc (g): still for the first half, then bouncing; gravity on z."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    acc[n // 2 :, 2] += 0.7 * np.sin(2 * np.pi * 2.8 * t[n // 2 :])
    acc += rng.normal(0, 0.003, acc.shape)
    return t, acc


def _write(tmp_path, name: str, header: str | None, rows: list[str], *, newline: str = "\n",
           bom: bool = False, final_newline: bool = True, encoding: str = "utf-8") -> str:
    text = newline.join(([header] if header is not None else []) + rows) + (newline if final_newline else "")
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _rows(t, acc, fmt="{:.6f}", sep=",", scale=1.0, decimal="."):
    out = []
    for i in range(t.size):
        cells = [fmt.format(t[i])] + [fmt.format(v * scale) for v in acc[i]]
        line = sep.join(cells)
        if decimal == ",":
            line = sep.join(c.replace(".", ",") for c in cells)
        out.append(line)
    return out


def _close(rec: Recording, t, acc, atol=1e-4):
    np.testing.assert_allclose(rec.time_s, t - t[0], atol=1e-6)
    np.testing.assert_allclose(rec.acc_g, acc, atol=atol)


# ------------------------------------------------------------------------------ canonical + dialects


def test_canonical_file_from_writer_reads_back_exactly(tmp_path):
    t, acc = _signal()
    gyro = np.random.default_rng(1).normal(0, 50, acc.shape)
    path = write_csv(tmp_path / "run.csv", Recording(t, acc, 100.0, gyro_dps=gyro))
    rec = read_csv_recording(path)
    _close(rec, t, acc, atol=1e-5)
    np.testing.assert_allclose(rec.gyro_dps, gyro, atol=1e-4)
    assert rec.fs_hz == 100.0 and rec.warnings == [] and rec.gaps == []
    assert rec.meta.source_format == "gaitimpact canonical CSV"


def test_returned_arrays_are_writeable_float64(tmp_path):
    t, acc = _signal()
    rec = read_csv_recording(write_csv(tmp_path / "w.csv", Recording(t, acc, 100.0)))
    assert rec.time_s.dtype == np.float64 and rec.acc_g.dtype == np.float64
    assert rec.time_s.flags.writeable and rec.acc_g.flags.writeable


@pytest.mark.parametrize(
    ("sep", "decimal", "name"),
    [(",", ".", "comma.csv"), (";", ".", "semi.csv"), ("\t", ".", "tab.tsv"), (";", ",", "decimal_comma.csv"),
     ("\t", ",", "tab_decimal_comma.txt"), ("|", ".", "pipe.csv")],
)
def test_separators_and_decimal_comma(tmp_path, sep, decimal, name):
    t, acc = _signal()
    header = sep.join(["time_s", "ax_g", "ay_g", "az_g"])
    path = _write(tmp_path, name, header, _rows(t, acc, sep=sep, decimal=decimal))
    rec = read_csv_recording(path)
    _close(rec, t, acc)


def test_trailing_separator_on_every_line(tmp_path, recwarn):
    t, acc = _signal()
    rows = [r + ";" for r in _rows(t, acc, sep=";")]
    rec = read_csv_recording(_write(tmp_path, "trail.csv", "time_s;ax_g;ay_g;az_g", rows))
    _close(rec, t, acc)
    assert not [w for w in recwarn if "Length of header" in str(w.message)]


def test_whitespace_separated_columns(tmp_path):
    t, acc = _signal()
    rows = [f"{t[i]:10.4f} {acc[i, 0]:9.5f}  {acc[i, 1]:9.5f} {acc[i, 2]:9.5f}" for i in range(t.size)]
    rec = read_csv_recording(_write(tmp_path, "ws.dat", "t ax ay az", rows))
    _close(rec, t, acc)


def test_quoted_header_bom_and_crlf(tmp_path):
    t, acc = _signal()
    header = '"Time (s)","Acc X (g)","Acc Y (g)","Acc Z (g)"'
    rec = read_csv_recording(_write(tmp_path, "q.csv", header, _rows(t, acc), newline="\r\n", bom=True))
    _close(rec, t, acc)


def test_bom_without_header(tmp_path):
    t, acc = _signal()
    rec = read_csv_recording(_write(tmp_path, "bomnh.csv", None, _rows(t, acc), bom=True))
    _close(rec, t, acc)


def test_preamble_comment_lines_are_skipped(tmp_path):
    t, acc = _signal()
    text = "# PLab PicoQuake Data\n# Config: data_rate = 100 Hz\ntime_s,ax_g,ay_g,az_g\n" + "\n".join(_rows(t, acc))
    p = tmp_path / "pre.csv"
    p.write_text(text + "\n")
    rec = read_csv_recording(p)
    _close(rec, t, acc)
    assert any("preamble" in w.message for w in rec.warnings)


@pytest.mark.parametrize("n_cols", [3, 4, 7])
def test_file_without_header(tmp_path, n_cols):
    t, acc = _signal()
    gyro = np.full_like(acc, 10.0)
    rows = []
    for i in range(t.size):
        cells = ([f"{t[i]:.4f}"] if n_cols in (4, 7) else []) + [f"{v:.5f}" for v in acc[i]]
        if n_cols == 7:
            cells += [f"{v:.3f}" for v in gyro[i]]
        rows.append(",".join(cells))
    path = _write(tmp_path, "nohdr.csv", None, rows)
    rec = read_csv_recording(path, rate_hz=100.0 if n_cols == 3 else None)
    _close(rec, t, acc)
    assert any("no header" in w.message for w in rec.warnings)
    assert (rec.gyro_dps is not None) == (n_cols == 7)


def test_no_header_with_unexplained_columns_is_input_error(tmp_path):
    rows = [",".join(["1", "2", "3", "4", "5"])] * 20
    with pytest.raises(InputError, match="no header and 5 columns"):
        read_csv_recording(_write(tmp_path, "five.csv", None, rows))


# ------------------------------------------------------------------------------------ column styles


@pytest.mark.parametrize(
    ("names", "scale"),
    [
        (("t", "ax", "ay", "az"), 1.0),
        (("time", "x", "y", "z"), 1.0),
        (("timestamp_s", "acc_x", "acc_y", "acc_z"), 1.0),
        (("Time (s)", "Acc X (g)", "Acc Y (g)", "Acc Z (g)"), 1.0),
        (("time [s]", "X [mg]", "Y [mg]", "Z [mg]"), 1000.0),
        (("Time (s)", "Acceleration x (m/s^2)", "Acceleration y (m/s^2)", "Acceleration z (m/s^2)"), G),
        (("elapsed (s)", "x-axis (g)", "y-axis (g)", "z-axis (g)"), 1.0),
        (("time_s", "accX", "accY", "accZ"), 1.0),
        (("sec", "Accel_X_mg", "Accel_Y_mg", "Accel_Z_mg"), 1000.0),
        (("time", "a_x [m/s²]", "a_y [m/s²]", "a_z [m/s²]"), G),
    ],
)
def test_column_name_styles_and_header_units(tmp_path, names, scale):
    t, acc = _signal()
    rec = read_csv_recording(_write(tmp_path, "styles.csv", ",".join(names), _rows(t, acc, scale=scale)))
    _close(rec, t, acc, atol=1e-4 * max(1.0, scale) / scale + 1e-6)


def test_columns_in_any_order_with_extra_columns(tmp_path):
    t, acc = _signal()
    header = "index,z,note,time_s,y,temperature (C),x"
    rows = [f"{i},{acc[i, 2]:.5f},ok,{t[i]:.4f},{acc[i, 1]:.5f},21.5,{acc[i, 0]:.5f}" for i in range(t.size)]
    rec = read_csv_recording(_write(tmp_path, "order.csv", header, rows))
    _close(rec, t, acc)


def test_linear_acceleration_columns_are_not_taken_as_acceleration_with_gravity(tmp_path):
    header = "Time (s),Linear Acceleration x (m/s^2),Linear Acceleration y (m/s^2),Linear Acceleration z (m/s^2)"
    rows = [f"{i / 100},0.1,0.2,0.3" for i in range(200)]
    with pytest.raises(InputError, match="no acceleration columns"):
        read_csv_recording(_write(tmp_path, "linear.csv", header, rows))


def test_gyro_columns_in_rad_per_s_are_converted_to_deg_per_s(tmp_path):
    t, acc = _signal()
    header = "time_s,ax_g,ay_g,az_g,Gyroscope x (rad/s),Gyroscope y (rad/s),Gyroscope z (rad/s)"
    rows = [r + ",1.0,-0.5,0.0" for r in _rows(t, acc)]
    rec = read_csv_recording(_write(tmp_path, "gyro.csv", header, rows))
    np.testing.assert_allclose(rec.gyro_dps[0], [57.29577951, -28.64788976, 0.0], atol=1e-6)


def test_gyro_without_unit_is_assumed_deg_per_s_and_said(tmp_path):
    t, acc = _signal()
    rows = [r + ",10,20,30" for r in _rows(t, acc)]
    rec = read_csv_recording(_write(tmp_path, "g2.csv", "time_s,ax_g,ay_g,az_g,gx,gy,gz", rows))
    np.testing.assert_allclose(rec.gyro_dps[0], [10, 20, 30])
    assert any("gyro units not stated" in w.message for w in rec.warnings)


# ------------------------------------------------------------------------------------ unit inference


@pytest.mark.parametrize(("scale", "unit"), [(1.0, "g"), (1000.0, "mg"), (G, "m/s^2")])
def test_units_inferred_from_at_rest_magnitude_and_reported(tmp_path, scale, unit):
    t, acc = _signal(n=1000)
    rec = read_csv_recording(_write(tmp_path, "u.csv", "time,x,y,z", _rows(t, acc, scale=scale)))
    _close(rec, t, acc, atol=2e-6 * scale / scale + 1e-4)
    assert any(f"inferred {unit}" in w.message for w in rec.warnings)


def test_infer_acc_unit_uses_quiet_stretches_not_running_peaks():
    t, acc = _signal(n=4000)
    acc[2000:, 2] += 3.0 * np.abs(np.sin(2 * np.pi * 1.4 * t[2000:])) ** 8  # impacts while running
    for scale, unit in ((1.0, "g"), (1000.0, "mg"), (G, "m/s^2")):
        got, rest = infer_acc_unit(acc * scale)
        assert got == unit and rest == pytest.approx(scale, rel=0.05)


def test_unreadable_units_is_input_error(tmp_path):
    t, acc = _signal()
    path = _write(tmp_path, "raw.csv", "time,x,y,z", _rows(t, acc, scale=16384.0 * 4, fmt="{:.1f}"))
    with pytest.raises(InputError, match="cannot tell acceleration units"):
        read_csv_recording(path)


def test_gravity_free_signal_without_units_is_refused(tmp_path):
    t, acc = _signal()
    acc[:, 2] -= 1.0
    with pytest.raises(InputError, match="gravity removed"):
        read_csv_recording(_write(tmp_path, "user.csv", "time,x,y,z", _rows(t, acc)))


def test_huge_values_in_stated_unit_are_read_without_numpy_noise(tmp_path, recwarn):
    t, acc = _signal()
    rec = read_csv_recording(_write(tmp_path, "huge.csv", "time_s,ax_g,ay_g,az_g",
                                    _rows(t, acc, scale=1e300, fmt="{:.6g}")))
    assert rec.acc_g[0, 2] == pytest.approx(acc[0, 2] * 1e300, rel=1e-5)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_stated_unit_is_taken_as_stated_not_second_guessed(tmp_path):
    # issue 16: a 1000 Hz shoe file with header ax_g was told "gravity magnitude 3.215 g is implausible"
    from gaitimpact.sim import SimConfig, SimSegment, simulate

    rec = simulate(SimConfig(placement="shoe", fs_hz=1000.0, seed=3,
                             segments=[SimSegment(10.0, "run", 5.0, "asphalt")])).recording
    got = read_csv_recording(_write(tmp_path, "shoe.csv", "time_s,ax_g,ay_g,az_g", _rows(rec.time_s, rec.acc_g)))
    assert not [w for w in got.warnings if w.code == "units_inferred"]
    _close(got, rec.time_s, rec.acc_g, atol=2e-6)


def test_unlabelled_foot_units_come_from_gravity_in_mid_stance():
    # a running shoe never stands still, but its flat foot in mid-stance reads 1 g every stride
    from gaitimpact.sim import SimConfig, SimSegment, simulate

    for fs in (100.0, 1000.0):
        rec = simulate(SimConfig(placement="shoe", fs_hz=fs, seed=5,
                                 segments=[SimSegment(20.0, "run", 4.5, "asphalt")])).recording
        for scale, unit in ((1.0, "g"), (1000.0, "mg"), (G, "m/s^2")):
            got, rest = infer_acc_unit(rec.acc_g * scale)
            assert got == unit and rest == pytest.approx(scale, rel=0.25), (fs, scale, rest)


# --------------------------------------------------------------------------------------- time styles


@pytest.mark.parametrize(("unit", "factor"), [("s", 1.0), ("ms", 1e3), ("us", 1e6), ("ns", 1e9)])
def test_relative_time_in_stated_units(tmp_path, unit, factor):
    t, acc = _signal()
    rows = [f"{t[i] * factor:.0f}," + ",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    if unit == "s":
        rows = _rows(t, acc)
    rec = read_csv_recording(_write(tmp_path, "rel.csv", f"time ({unit}),ax (g),ay (g),az (g)", rows))
    _close(rec, t, acc)
    assert rec.fs_hz == 100.0 and rec.meta.start_utc is None


@pytest.mark.parametrize(("factor", "unit"), [(1e3, "ms"), (1e6, "us")])
def test_relative_time_without_unit_is_inferred_from_step_and_reported(tmp_path, factor, unit):
    t, acc = _signal()
    rows = [f"{t[i] * factor:.0f}," + ",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    rec = read_csv_recording(_write(tmp_path, "rel2.csv", "timestamp,ax_g,ay_g,az_g", rows))
    _close(rec, t, acc)
    assert any(f"read as {unit}" in w.message for w in rec.warnings)


@pytest.mark.parametrize(("factor", "fmt"), [(1.0, "{:.3f}"), (1e3, "{:.0f}"), (1e6, "{:.0f}"), (1e9, "{:.0f}")])
def test_unix_epoch_time_gives_utc_start(tmp_path, factor, fmt):
    t, acc = _signal()
    t0 = 1_700_000_000.25
    rows = [fmt.format((t0 + t[i]) * factor) + "," + ",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    rec = read_csv_recording(_write(tmp_path, "epoch.csv", "unix_time,ax_g,ay_g,az_g", rows))
    _close(rec, t, acc)
    expected = datetime.fromtimestamp(t0, tz=timezone.utc)
    assert abs((rec.meta.start_utc - expected).total_seconds()) < 2e-3


def test_iso_datetimes_with_zone_and_without(tmp_path):
    t, acc = _signal()
    start = datetime(2026, 5, 1, 7, 30, 0, tzinfo=timezone.utc)
    rows = [(start + timedelta(seconds=float(t[i]))).isoformat().replace("+00:00", "Z") + ","
            + ",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    rec = read_csv_recording(_write(tmp_path, "iso.csv", "datetime,ax_g,ay_g,az_g", rows))
    _close(rec, t, acc)
    assert rec.meta.start_utc == start
    naive = [r.replace("Z", "") for r in rows]
    rec = read_csv_recording(_write(tmp_path, "iso2.csv", "date,ax_g,ay_g,az_g", naive))
    assert rec.meta.start_utc == start.replace(tzinfo=None)
    assert any("no time zone" in w.message for w in rec.warnings)


def test_no_time_column_uses_rate(tmp_path):
    t, acc = _signal()
    rows = [",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    rec = read_csv_recording(_write(tmp_path, "norate.csv", "ax_g,ay_g,az_g", rows), rate_hz=100.0)
    _close(rec, t, acc)
    assert rec.fs_hz == 100.0


def test_sample_index_column_is_not_taken_as_time(tmp_path):
    t, acc = _signal()
    rows = [f"{i}," + ",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    path = _write(tmp_path, "idx.csv", "index,ax_g,ay_g,az_g", rows)
    with pytest.raises(InputError, match="--rate"):
        read_csv_recording(path)
    assert read_csv_recording(path, rate_hz=100.0).fs_hz == 100.0


def test_no_time_column_and_no_rate_is_input_error(tmp_path):
    t, acc = _signal()
    rows = [",".join(f"{v:.5f}" for v in acc[i]) for i in range(t.size)]
    with pytest.raises(InputError, match="--rate"):
        read_csv_recording(_write(tmp_path, "norate.csv", "ax_g,ay_g,az_g", rows))


def test_rate_different_from_timestamps_is_warned(tmp_path):
    t, acc = _signal()
    rec = read_csv_recording(_write(tmp_path, "r.csv", "time_s,ax_g,ay_g,az_g", _rows(t, acc)), rate_hz=50.0)
    assert rec.fs_hz == 50.0 and any("differs from the timestamps" in w.message for w in rec.warnings)
    _close(rec, t, acc)


# ---------------------------------------------------------------------------------- repairs, reports


def test_gaps_are_detected_kept_and_not_filled(tmp_path):
    t, acc = _signal(n=600)
    keep = np.ones(t.size, bool)
    keep[200:230] = False  # 0.3 s BLE drop-out
    rec = read_csv_recording(_write(tmp_path, "gap.csv", "time_s,ax_g,ay_g,az_g", _rows(t[keep], acc[keep])))
    assert rec.n_samples == keep.sum()
    assert len(rec.gaps) == 1
    assert rec.gaps[0].start_s == pytest.approx(1.99) and rec.gaps[0].end_s == pytest.approx(2.30)
    assert rec.fs_hz == 100.0
    assert any("gap" in w.message for w in rec.warnings)


def test_duplicated_and_backwards_timestamps_are_dropped_and_reported(tmp_path):
    t, acc = _signal()
    rows = _rows(t, acc)
    rows.insert(101, rows[100])  # duplicate
    rows.insert(250, rows[240])  # one stale sample arriving late
    rec = read_csv_recording(_write(tmp_path, "dup.csv", "time_s,ax_g,ay_g,az_g", rows))
    _close(rec, t, acc)
    msg = " ".join(w.message for w in rec.warnings)
    assert "1 duplicated timestamp" in msg and "1 sample(s) whose time went backwards" in msg
    assert np.all(np.diff(rec.time_s) > 0)


def test_jittery_timestamps_are_reported_but_kept(tmp_path):
    t, acc = _signal(n=800)
    tj = t + np.random.default_rng(4).uniform(-0.003, 0.003, t.size)
    tj.sort()
    rec = read_csv_recording(_write(tmp_path, "jit.csv", "time_s,ax_g,ay_g,az_g", _rows(tj, acc)))
    assert rec.n_samples == 800 and rec.fs_hz == pytest.approx(100.0, rel=0.02)
    assert any("irregular sampling" in w.message for w in rec.warnings)


def test_nan_rows_and_truncated_last_line_are_dropped_and_reported(tmp_path):
    t, acc = _signal()
    rows = _rows(t, acc)
    rows[50] = f"{t[50]:.6f},,NaN,"
    rows[51] = ""  # blank line
    rows[-1] = rows[-1][:12]  # cut off mid-line, no final newline
    rec = read_csv_recording(_write(tmp_path, "nan.csv", "time_s,ax_g,ay_g,az_g", rows, final_newline=False))
    assert rec.n_samples == t.size - 3
    msg = " ".join(w.message for w in rec.warnings)
    # the cut-off last line is left out before parsing (io/textscan) and named on its own
    assert "2 row(s) with missing" in msg and "first at line 52" in msg and "incomplete last line" in msg


def test_only_truncated_last_line_is_named_as_such(tmp_path):
    t, acc = _signal()
    rows = _rows(t, acc)
    rows[-1] = rows[-1][:15]
    rec = read_csv_recording(_write(tmp_path, "cut.csv", "time_s,ax_g,ay_g,az_g", rows, final_newline=False))
    assert rec.n_samples == t.size - 1
    assert any("incomplete last line" in w.message for w in rec.warnings)


def test_latin1_header_is_read(tmp_path):
    t, acc = _signal()
    header = "Zeit (s);Beschl. X (g);Beschl. Y (g);Beschl. Z (g);Drehrate X (°/s)"
    rows = [r + ";1,5" for r in _rows(t, acc, sep=";", decimal=",")]
    path = _write(tmp_path, "latin.csv", header, rows, encoding="latin-1")
    rec = read_csv_recording(path)
    _close(rec, t, acc)


# ------------------------------------------------------------------------------------------ bad input


def _one_line(exc: InputError) -> str:
    msg = str(exc)
    assert "\n" not in msg and exc.exit_code == 2
    return msg


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_csv_recording(tmp_path / "nope.csv")
    assert "file not found" in _one_line(info.value) and "nope.csv" in str(info.value)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_csv_recording(p)
    p.write_text("\n\n  \n")
    with pytest.raises(InputError, match="empty"):
        read_csv_recording(p)


def test_header_only(tmp_path):
    p = tmp_path / "hdr.csv"
    p.write_text("time_s,ax_g,ay_g,az_g\n")
    with pytest.raises(InputError, match="no data rows"):
        read_csv_recording(p)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(InputError, match="folder"):
        read_csv_recording(tmp_path)


def test_binary_file(tmp_path):
    p = tmp_path / "img.csv"
    p.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(InputError):
        read_csv_recording(p)


def test_no_acceleration_columns_names_the_columns_found(tmp_path):
    rows = [f"{i / 100},{60 + i % 5},{i}" for i in range(200)]
    with pytest.raises(InputError) as info:
        read_csv_recording(_write(tmp_path, "hr.csv", "time_s,heart_rate,steps", rows))
    msg = _one_line(info.value)
    assert "no acceleration columns" in msg and "heart_rate" in msg


def test_non_numeric_cell_names_file_line_and_column(tmp_path):
    t, acc = _signal(n=3000)
    rows = _rows(t, acc)
    rows[2500] = rows[2500].rsplit(",", 2)[0] + ",oops," + rows[2500].rsplit(",", 1)[1]
    path = _write(tmp_path, "bad.csv", "time_s,ax_g,ay_g,az_g", rows)
    with pytest.raises(InputError) as info:
        read_csv_recording(path)
    msg = _one_line(info.value)
    assert info.value.line == 2502 and info.value.field == "ay_g"
    assert msg.startswith(f"{path}:2502 [ay_g]") and "'oops'" in msg


def test_non_numeric_time_cell_names_line(tmp_path):
    t, acc = _signal(n=1000)
    rows = _rows(t, acc)
    rows[700] = "12:00," + rows[700].split(",", 1)[1]
    with pytest.raises(InputError) as info:
        read_csv_recording(_write(tmp_path, "badt.csv", "time_s,ax_g,ay_g,az_g", rows))
    assert info.value.line == 702 and info.value.field == "time_s"


def test_line_with_extra_fields_names_the_line(tmp_path):
    t, acc = _signal()
    rows = _rows(t, acc)
    rows[300] += ",7,8"
    with pytest.raises(InputError) as info:
        read_csv_recording(_write(tmp_path, "extra.csv", "time_s,ax_g,ay_g,az_g", rows))
    assert info.value.line == 302 and "expected 4 fields, found 6" in _one_line(info.value)


def test_too_short_recording(tmp_path):
    t, acc = _signal(n=5)
    with pytest.raises(InputError, match="too short"):
        read_csv_recording(_write(tmp_path, "short.csv", "time_s,ax_g,ay_g,az_g", _rows(t, acc)))
    t, acc = _signal(n=50, fs=100.0)  # 0.49 s
    with pytest.raises(InputError, match="too short: 0.49 s"):
        read_csv_recording(_write(tmp_path, "short2.csv", "time_s,ax_g,ay_g,az_g", _rows(t, acc)))


def test_bad_rate_is_input_error(tmp_path):
    t, acc = _signal()
    path = _write(tmp_path, "r.csv", "time_s,ax_g,ay_g,az_g", _rows(t, acc))
    with pytest.raises(InputError, match="rate"):
        read_csv_recording(path, rate_hz=-5)


@pytest.mark.parametrize(("placement", "speed_mps"), [("waist", 6.0), ("shoe", 3.5), ("shoe", 6.0), ("shank", 3.5)])
def test_units_of_an_all_running_file_without_a_still_stretch_are_inferred_right(tmp_path, placement, speed_mps):
    # Regression: the quietest windows of a file with no standing are flight phases (~0.3 g at the waist) or
    # foot swing (3-10 g on the shoe): headerless files were refused, or a fast shoe run read as m/s^2 (10x low).
    from gaitimpact.sim import SimConfig, SimSegment, simulate

    rec = simulate(SimConfig(placement=placement, fs_hz=500.0, seed=8,
                             segments=[SimSegment(30.0, "run", speed_mps, "asphalt")])).recording
    for scale, unit in ((1.0, "g"), (1000.0, "mg"), (G, "m/s^2")):
        assert infer_acc_unit(rec.acc_g * scale)[0] == unit, (scale, unit)
    path = _write(tmp_path, "run.csv", None, _rows(rec.time_s, rec.acc_g))
    got = read_csv_recording(path)
    _close(got, rec.time_s, rec.acc_g, atol=2e-6)
    assert any("inferred g" in w.message for w in got.warnings)
