"""A private `dbus-daemon` for tests and development without a Bluetooth radio.

The daemon uses a session-type configuration that lets any connection own any name, so the fake
BlueZ (`gaitimpact.devtools.fake_bluez`) can own `org.bluez` without root. bleak finds it through
`DBUS_SYSTEM_BUS_ADDRESS` (dbus-fast honours it for the system bus).

    with DBusDaemon() as daemon:
        env = bluez_env(daemon.address)          # for a subprocess running bleak
        subprocess.run(["gaitimpact", "scan"], env=env)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

DEVTOOLS_DIR = Path(__file__).resolve().parent

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="reply_timeout">60000</limit>
</busconfig>
"""

_PR_SET_PDEATHSIG = 1


class DBusDaemonError(RuntimeError):
    """The private dbus-daemon could not be started."""


def find_dbus_daemon() -> str:
    """Path of the `dbus-daemon` executable; raises DBusDaemonError if it is not installed."""
    found = shutil.which("dbus-daemon") or ("/usr/bin/dbus-daemon" if os.path.exists("/usr/bin/dbus-daemon")
                                            else None)
    if found is None:
        raise DBusDaemonError("dbus-daemon not found (install it: apt-get install -y dbus)")
    return found


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (Linux), so no daemon is orphaned."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DBusDaemon:
    """A private dbus-daemon in a temp dir; `address` is its bus address. Use as a context manager."""

    def __init__(self, start_timeout_s: float = 10.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.address: str = ""
        self.tmpdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start the daemon and return its address (waits up to start_timeout_s seconds)."""
        if self.process is not None:
            return self.address
        exe = find_dbus_daemon()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="gi-dbus-"))
        socket_path = self.tmpdir / "bus"
        config = self.tmpdir / "bus.conf"
        config.write_text(_CONFIG.format(socket=socket_path))
        # stderr goes to a file: a pipe nobody reads would fill up and block the daemon
        with open(self.tmpdir / "daemon.log", "wb") as log_file:
            self.process = subprocess.Popen(
                [exe, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=log_file,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        try:
            self.address = self._read_address()
        except BaseException:
            self.stop()
            raise
        return self.address

    def _read_address(self) -> str:
        """Read the address line the daemon prints on stdout, with a timeout."""
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + self.start_timeout_s
        buf = b""
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DBusDaemonError(f"dbus-daemon printed no address within {self.start_timeout_s} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise DBusDaemonError(f"dbus-daemon exited: {self.log_text().strip()}")
                buf += chunk
        return buf.split(b"\n", 1)[0].decode().strip()

    def stop(self) -> None:
        """Kill the daemon (SIGTERM, then SIGKILL after 2 s) and delete its temp dir."""
        proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=2.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5.0)
            if proc.stdout is not None:
                proc.stdout.close()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def log_text(self) -> str:
        """What the daemon wrote on stderr so far (warnings about limits, policy, crashes)."""
        if self.tmpdir is None or not (self.tmpdir / "daemon.log").exists():
            return ""
        return (self.tmpdir / "daemon.log").read_text(errors="replace")

    @property
    def running(self) -> bool:
        """True while the daemon process is alive."""
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> DBusDaemon:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()


def bluetoothctl_dir() -> Path:
    """Directory holding the `bluetoothctl` stand-in (prints 5.66); made executable if it is not."""
    script = DEVTOOLS_DIR / "bluetoothctl"
    if script.exists() and os.access(script, os.X_OK):
        return DEVTOOLS_DIR
    fallback = Path(tempfile.gettempdir()) / f"gi-bluetoothctl-{os.getuid()}"
    fallback.mkdir(exist_ok=True)
    target = fallback / "bluetoothctl"
    if not target.exists():
        target.write_text('#!/bin/sh\necho "bluetoothctl: 5.66"\n')
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return fallback


def bluez_env(address: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a subprocess whose bleak should talk to the fake BlueZ on bus `address`."""
    env = dict(os.environ if base is None else base)
    env["DBUS_SYSTEM_BUS_ADDRESS"] = address
    env["PATH"] = os.pathsep.join([str(bluetoothctl_dir()), env.get("PATH", os.defpath)])
    return env


@contextlib.contextmanager
def bluez_environ(address: str) -> Iterator[None]:
    """Set DBUS_SYSTEM_BUS_ADDRESS and PATH in this process (for in-process bleak), restore after."""
    saved = {key: os.environ.get(key) for key in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH")}
    os.environ.update(bluez_env(address, {k: v for k, v in saved.items() if v is not None}))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
