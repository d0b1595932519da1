"""The private dbus-daemon and the environment helpers that point bleak at it."""

from __future__ import annotations

import os
import subprocess

from gaitimpact.devtools.dbus_daemon import DBusDaemon, bluetoothctl_dir, bluez_env, bluez_environ


def test_daemon_prints_a_unix_address_and_stop_kills_it_and_removes_its_socket_dir() -> None:
    daemon = DBusDaemon()
    address = daemon.start()
    tmpdir = daemon.tmpdir
    assert address.startswith("unix:path=")
    assert daemon.running
    assert tmpdir is not None and (tmpdir / "bus").exists()
    process = daemon.process
    daemon.stop()
    assert not daemon.running
    assert process is not None and process.poll() is not None
    assert not tmpdir.exists()


def test_two_daemons_get_distinct_addresses() -> None:
    with DBusDaemon() as first, DBusDaemon() as second:
        assert first.address != second.address


def test_bluez_env_sets_system_bus_address_and_puts_bluetoothctl_stand_in_first_on_path() -> None:
    env = bluez_env("unix:path=/tmp/nowhere", {"PATH": "/usr/bin:/bin"})
    assert env["DBUS_SYSTEM_BUS_ADDRESS"] == "unix:path=/tmp/nowhere"
    assert env["PATH"].split(os.pathsep)[0] == str(bluetoothctl_dir())
    out = subprocess.run(["bluetoothctl", "--version"], env=env, capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    assert out.stdout.strip() == "bluetoothctl: 5.66"


def test_bluez_environ_sets_then_restores_the_process_environment(monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SYSTEM_BUS_ADDRESS", raising=False)
    path_before = os.environ["PATH"]
    with bluez_environ("unix:path=/tmp/x"):
        assert os.environ["DBUS_SYSTEM_BUS_ADDRESS"] == "unix:path=/tmp/x"
        assert os.environ["PATH"].startswith(str(bluetoothctl_dir()))
    assert "DBUS_SYSTEM_BUS_ADDRESS" not in os.environ
    assert os.environ["PATH"] == path_before
