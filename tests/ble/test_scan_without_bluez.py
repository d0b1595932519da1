"""Without a D-Bus system bus or BlueZ, scan and record say so in one line and exit 1."""

from __future__ import annotations

import os
import subprocess
import sys


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path / 'no-such-bus'}")
    return subprocess.run([sys.executable, "-m", "gaitimpact", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_scan_without_bluez_is_one_line_exit_1(tmp_path):
    proc = _run(tmp_path, "scan", "--timeout", "1")
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Bluetooth is not available" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_record_without_bluez_is_one_line_exit_1_and_writes_nothing(tmp_path):
    out = tmp_path / "run.csv"
    proc = _run(tmp_path, "record", "--out", str(out), "--quiet", "--scan-timeout", "1")
    assert proc.returncode == 1 and "Bluetooth is not available" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
