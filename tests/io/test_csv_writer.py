"""Canonical CSV writing: whole recordings and the crash-safe live appender, on real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from gaitimpact.errors import GaitImpactError, InputError
from gaitimpact.io.csv_writer import CsvAppender, write_csv
from gaitimpact.recording import Recording


def _rec(n=500, gyro=False, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 200.0
    acc = rng.normal(0, 2, (n, 3))
    return Recording(t, acc, 200.0, gyro_dps=rng.normal(0, 100, (n, 3)) if gyro else None)


def test_write_csv_has_canonical_header_and_round_trips_values(tmp_path):
    rec = _rec()
    path = write_csv(tmp_path / "r.csv", rec)
    assert path.read_text().splitlines()[0] == "time_s,ax_g,ay_g,az_g"
    df = pd.read_csv(path)
    np.testing.assert_allclose(df["time_s"], rec.time_s, atol=1e-6)
    np.testing.assert_allclose(df[["ax_g", "ay_g", "az_g"]].to_numpy(), rec.acc_g, atol=1e-5)


def test_write_csv_with_gyro_adds_gyro_columns(tmp_path):
    rec = _rec(gyro=True)
    path = write_csv(tmp_path / "g.csv", rec)
    df = pd.read_csv(path)
    assert list(df.columns) == ["time_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps"]
    np.testing.assert_allclose(df[["gx_dps", "gy_dps", "gz_dps"]].to_numpy(), rec.gyro_dps, atol=1e-4)


def test_write_csv_into_missing_folder_is_input_error(tmp_path):
    with pytest.raises(InputError) as info:
        write_csv(tmp_path / "missing" / "r.csv", _rec(10))
    assert "missing" in str(info.value) and info.value.exit_code == 2


def test_appender_writes_header_and_blocks_and_counts_rows(tmp_path):
    path = tmp_path / "live.csv"
    rec = _rec(300)
    with CsvAppender(path) as app:
        for i in range(0, 300, 25):
            app.append(rec.time_s[i : i + 25], rec.acc_g[i : i + 25])
        assert app.rows_written == 300
    df = pd.read_csv(path)
    assert len(df) == 300
    np.testing.assert_allclose(df[["ax_g", "ay_g", "az_g"]].to_numpy(), rec.acc_g, atol=1e-5)


def test_appender_data_is_on_disk_before_close(tmp_path):
    path = tmp_path / "live.csv"
    app = CsvAppender(path, sync_interval_s=0.0)
    app.append(np.array([0.0, 0.005]), np.ones((2, 3)))
    # Another reader sees the rows while the appender is still open.
    assert len(pd.read_csv(path)) == 2
    app.close()
    assert app.closed


def test_appender_syncs_at_least_once_per_interval(tmp_path):
    app = CsvAppender(tmp_path / "live.csv", sync_interval_s=0.05)
    app.append(np.array([0.0]), np.ones((1, 3)))
    time.sleep(0.06)
    assert app.maybe_sync() is True
    assert app.maybe_sync() is False  # nothing new since
    app.close()


def test_appender_refuses_to_overwrite_existing_recording(tmp_path):
    path = tmp_path / "live.csv"
    path.write_text("time_s,ax_g,ay_g,az_g\n0,0,0,1\n")
    with pytest.raises(InputError, match="refusing to overwrite"):
        CsvAppender(path)
    assert path.read_text() == "time_s,ax_g,ay_g,az_g\n0,0,0,1\n"


def test_appender_resume_continues_after_a_cut_line(tmp_path):
    path = tmp_path / "live.csv"
    path.write_text("time_s,ax_g,ay_g,az_g\n0,0,0,1\n0.01,0,0")
    with CsvAppender(path, resume=True) as app:
        app.append(np.array([0.02]), np.array([[0.0, 0.0, 1.0]]))
    lines = path.read_text().splitlines()
    assert lines[:3] == ["time_s,ax_g,ay_g,az_g", "0,0,0,1", "0.01,0,0"] and lines[3] == "0.02,0,0,1"


def test_appender_resume_with_other_header_is_refused(tmp_path):
    path = tmp_path / "live.csv"
    path.write_text("t,x,y,z\n")
    with pytest.raises(InputError, match="header"):
        CsvAppender(path, resume=True)


def test_appender_in_missing_folder_is_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        CsvAppender(tmp_path / "nope" / "live.csv")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_appender_on_full_disk_raises_one_line_runtime_error():
    with pytest.raises(GaitImpactError) as info:
        CsvAppender("/dev/full", resume=True)
    assert "disk full" in str(info.value) and info.value.exit_code == 1
    assert not isinstance(info.value, InputError)


def test_killed_writer_leaves_readable_file_up_to_last_append(tmp_path):
    path = tmp_path / "killed.csv"
    marker = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import numpy as np, pathlib, time
        from gaitimpact.io.csv_writer import CsvAppender
        app = CsvAppender({str(path)!r})
        for i in range(50):
            t = np.arange(i * 20, i * 20 + 20) / 100.0
            app.append(t, np.tile([0.0, 0.0, 1.0], (20, 1)))
        pathlib.Path({str(marker)!r}).write_text("1")
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, "writer died before appending"
            assert time.monotonic() < deadline, "writer never got ready"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    df = pd.read_csv(path)
    assert len(df) == 1000
    np.testing.assert_allclose(df["time_s"].to_numpy(), np.arange(1000) / 100.0)


def test_appender_with_gyro_writes_gyro_columns_and_requires_them(tmp_path):
    path = tmp_path / "g.csv"
    with CsvAppender(path, with_gyro=True) as app:
        app.append(np.array([0.0, 0.01]), np.ones((2, 3)), np.full((2, 3), 90.0))
        with pytest.raises(ValueError, match="gyro"):
            app.append(np.array([0.02]), np.ones((1, 3)))
    df = pd.read_csv(path)
    assert list(df.columns)[4:] == ["gx_dps", "gy_dps", "gz_dps"] and df["gz_dps"].tolist() == [90.0, 90.0]


def test_mismatched_block_lengths_are_refused(tmp_path):
    with CsvAppender(tmp_path / "m.csv") as app, pytest.raises(ValueError, match="samples"):
        app.append(np.array([0.0, 0.01]), np.ones((3, 3)))


def test_atomic_write_gives_umask_permissions_not_private_0600(tmp_path):
    # Regression: mkstemp's 0o600 leaked into every CSV, sidecar, JSON, PNG and HTML report we wrote.
    import stat

    from gaitimpact.io.fsutil import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "report.html", b"<html></html>")
        assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644
        existing = tmp_path / "shared.json"
        existing.write_bytes(b"{}")
        existing.chmod(0o640)
        atomic_write_bytes(existing, b"[]")
        assert stat.S_IMODE(existing.stat().st_mode) == 0o640 and existing.read_bytes() == b"[]"
    finally:
        os.umask(old)


def test_formatting_rows_does_not_import_pandas_and_keeps_the_canonical_text() -> None:
    import subprocess
    import sys

    code = ("import sys, numpy as np; from gaitimpact.io.csv_writer import format_rows; "
            "out = format_rows(np.array([0.0, 0.001]), np.array([[0.1, -0.25, 1.0], [2.0, 0.0, -16.0]]), "
            "np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 0.0]])); print('pandas' in sys.modules); print(out.decode())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    first, *rows = out.split("\n")
    assert first == "False"  # pyarrow's pa.table(dict) imports pandas, ~0.4 s on the recorder's event loop
    assert rows[:2] == ["0,0.1,-0.25,1,1.5,0,-2", "0.001,2,0,-16,0,0,0"]
