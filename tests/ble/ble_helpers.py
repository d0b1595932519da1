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
import pandas as pd

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


def read_run(csv: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """time_s, acc (n, 3) and the sidecar dict of a recording."""
    df = pd.read_csv(csv)
    side = json.loads(csv.with_suffix(".json").read_text())
    return df["time_s"].to_numpy(), df[["ax_g", "ay_g", "az_g"]].to_numpy(), side


def delivered_samples(bench: SimBench, kind: str) -> tuple[np.ndarray, list[dict]]:
    """Samples of every delivered packet, in order, and the send log."""
    sent = bench.sent(kind)
    sig = bench.signal(kind)
    parts = [sig[np.arange(p["i0"], p["i0"] + p["n"]) % sig.shape[0]] for p in sent if p["delivered"]]
    return (np.concatenate(parts) if parts else np.zeros((0, 3))), sent


def assert_file_matches_sent(
    bench: SimBench, csv: Path, kind: str, range_g: float, lsb_g: float | None = None, duration_s: float | None = None
) -> dict:
    """Every sample on disk is a delivered sample, in order, and every delivered one is on disk (up to the
    --duration, which the file never exceeds)."""
    t, acc, side = read_run(csv)
    expected, sent = delivered_samples(bench, kind)
    n_pkt = sent[0]["n"]
    assert acc.shape[0] == side["samples_received"]
    assert acc.shape[0] <= expected.shape[0]
    if duration_s is not None:
        assert side["recording"] == "duration" and duration_s - 4 * n_pkt / side["fs_hz"] <= t[-1] <= duration_s
    else:  # the last packets may be in flight when the recorder stops; nothing before them may be missing
        assert acc.shape[0] >= expected.shape[0] - 4 * n_pkt
    tol = (lsb_g if lsb_g is not None else range_g / 32768.0) + 2e-5
    np.testing.assert_allclose(acc, np.clip(expected[: acc.shape[0]], -range_g, range_g), atol=tol)
    assert np.all(np.diff(t) > 0)
    return side


def lost_runs(sent: list[dict], upto_samples: int) -> list[int]:
    """Lengths (packets) of runs of undelivered packets between delivered ones, within the recorded part."""
    runs, current, taken = [], 0, 0
    for p in sent:
        if taken >= upto_samples:
            break
        if p["delivered"]:
            if current and taken:
                runs.append(current)
            current = 0
            taken += p["n"]
        else:
            current += 1
    return runs
