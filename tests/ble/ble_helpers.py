"""Helpers for the BLE end-to-end tests: run the real `gaitimpact` CLI against the fake BlueZ."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitimpact.devtools.dbus_daemon import bluez_env
from gaitimpact.devtools.fake_bluez import FakeBluezProcess

SIM_FACTORY = "gaitimpact.devtools.sim_sensor:sim_devices"


@dataclass
class SimBench:
    """A running fake BlueZ + simulated sensors; `run`/`start` the real CLI against it."""

    bus_address: str
    fake: FakeBluezProcess
    log_dir: Path
    tmp: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment for a subprocess whose bleak talks to this fake BlueZ."""
        env = bluez_env(self.bus_address)
        env["COLUMNS"] = "200"
        return env

    def cmd(self, *args: str) -> list[str]:
        """The real CLI command line."""
        return [sys.executable, "-m", "gaitimpact", *args]

    def run(self, *args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run the CLI to completion; returns the completed process (text output)."""
        return subprocess.run(
            self.cmd(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start the CLI in the background."""
        return subprocess.Popen(
            self.cmd(*args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def control(self, method: str, *args: object) -> object:
        """Fault control of the fake BlueZ (Disconnect, Vanish, Reappear, DropNext, CorruptNext, Stats)."""
        return self.fake.control(method, *args)

    def sent(self, kind: str) -> list[dict]:
        """The simulated sensor's send log: one dict per packet (seq, i0, n, delivered, host_unix_s)."""
        path = self.log_dir / f"{kind}.sent.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def signal(self, kind: str) -> np.ndarray:
        """The (N, 3) g signal the simulated sensor streams (index = sample number since power-on, looped)."""
        return np.load(self.log_dir / f"{kind}.signal.npy")


def wait_for_rows(csv_path: Path, rows: int, timeout_s: float = 20.0) -> None:
    """Wait until the CSV has at least `rows` data rows (the recorder is streaming)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if csv_path.exists() and csv_path.read_bytes().count(b"\n") > rows:
            return
        time.sleep(0.05)
    raise AssertionError(f"{csv_path} did not reach {rows} rows within {timeout_s} s")


def stop_process(proc: subprocess.Popen[str], timeout_s: float = 20.0) -> tuple[str, str]:
    """Ctrl-C a running CLI and collect its output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout_s)
    return out, err
