"""Benchmark the live recorder against the simulated 1000 Hz sensor (real bleak, real D-Bus, fake BlueZ).

Prints: samples received / sent, recorder CPU share of one core while streaming, and the latency from a
strike in the sent signal (the notification carrying its initial-contact sample) to its first appearance
in the live view.

    python benchmarks/record.py --seconds 300      # the issue's 5 minutes (default 60)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitimpact.devtools.dbus_daemon import DBusDaemon, bluez_env
from gaitimpact.devtools.fake_bluez import FakeBluezProcess

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="recording length in s (default 60)")
    ap.add_argument("--rate", type=int, default=1000, help="sensor rate in Hz (default 1000)")
    ap.add_argument("--hop", type=float, default=0.1, help="streaming analysis hop in s (default 0.1)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gi-bench-record-"))
    log_dir = tmp / "sensor"
    csv = tmp / "run.csv"
    events = tmp / "events.jsonl"
    opts = {
        "devices": "gaitimpact",
        "fs_hz": str(args.rate),
        "placement": "shoe",
        "duration_s": str(min(max(args.seconds + 20.0, 60.0), 320.0)),
        "log_dir": str(log_dir),
    }
    with (
        DBusDaemon() as daemon,
        FakeBluezProcess(
            daemon.address,
            factory="gaitimpact.devtools.sim_sensor:sim_devices",
            options=opts,
            log_path=str(tmp / "fake.log"),
        ),
    ):
        env = bluez_env(daemon.address)
        cmd = [
            sys.executable,
            "-m",
            "gaitimpact",
            "record",
            "--device",
            "GI-Sensor",
            "--out",
            str(csv),
            "--duration",
            str(args.seconds),
            "--range",
            "16",
            "--placement",
            "shoe",
            "--quiet",
            "--events",
            str(events),
            "--hop",
            str(args.hop),
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not (csv.exists() and csv.stat().st_size > 10_000) and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(2.0)  # steady state (first analyses done)
        c0, w0 = cpu_s(proc.pid), time.monotonic()
        while proc.poll() is None and time.monotonic() - w0 < args.seconds - 4.0:
            time.sleep(0.25)
        c1, w1 = cpu_s(proc.pid), time.monotonic()
        out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        print(err, file=sys.stderr)
        return 1
    side = json.loads(csv.with_suffix(".json").read_text())
    sent = [json.loads(line) for line in (log_dir / "gaitimpact.sent.jsonl").read_text().splitlines()]
    truth = json.loads((log_dir / "gaitimpact.truth.json").read_text())
    total = np.load(log_dir / "gaitimpact.signal.npy", mmap_mode="r").shape[0]
    fs = float(truth["fs_hz"])
    n_sent = sum(p["n"] for p in sent)
    n_deliv = sum(p["n"] for p in sent if p["delivered"])
    received = side["samples_received"]

    # latency: stream sample index of every true IC -> the host time its packet was sent
    i0 = np.array([p["i0"] for p in sent])
    send_t = np.array([p["host_unix_s"] for p in sent])
    first_i = sent[0]["i0"]
    ic_idx = np.round(np.asarray(truth["ic_time_s"]) * fs).astype(np.int64)
    loops = np.arange(first_i // total, (i0[-1] // total) + 2)
    stream_ic = (loops[:, None] * total + ic_idx[None, :]).ravel()
    stream_ic = stream_ic[(stream_ic >= first_i) & (stream_ic < i0[-1])]
    ic_sent = send_t[np.searchsorted(i0, stream_ic, side="right") - 1]
    ev = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
    lat = []
    for e in ev:
        idx = first_i + e["strike_time_s"] * fs / (1.0 + side.get("clock_drift_ppm", 0.0) * 1e-6)
        k = int(np.argmin(np.abs(stream_ic - idx))) if stream_ic.size else -1
        if k >= 0 and abs(stream_ic[k] - idx) <= 0.03 * fs:
            lat.append(e["host_unix_s"] - ic_sent[k])
            stream_ic[k] = -(10**12)  # count each strike once (its first appearance)
    lat_ms = np.array(lat) * 1000.0
    cpu_share = (c1 - c0) / (w1 - w0)
    print(
        f"record benchmark: {args.seconds:.0f} s at {args.rate} Hz from the simulated sensor "
        f"(hop {args.hop} s)"
    )
    print(f"  samples sent        {n_sent}")
    print(f"  samples delivered   {n_deliv}  (fake BlueZ dropped {n_sent - n_deliv})")
    print(
        f"  samples received    {received}  ({100.0 * received / max(n_deliv, 1):.2f} % of delivered; "
        f"packets lost {side['packets_lost']}, gaps {len(side['gaps'])})"
    )
    print(f"  recorder CPU        {100.0 * cpu_share:.1f} % of one core (steady state, {w1 - w0:.0f} s)")
    if lat_ms.size:
        print(
            f"  strike -> live view latency  median {np.median(lat_ms):.0f} ms, p95 "
            f"{np.percentile(lat_ms, 95):.0f} ms, max {lat_ms.max():.0f} ms over {lat_ms.size} strikes"
        )
    else:
        print("  strike -> live view latency  no strikes matched")
    live = side.get("live", {})
    print(
        f"  live cadence {live.get('cadence_spm')} spm, live median peak {live.get('peak_g_median')} g, "
        f"truth cadence {truth.get('cadence_spm'):.1f} spm"
    )
    from gaitimpact.analysis.service import analyze_path

    offline = analyze_path(csv).summary
    if live.get("cadence_spm") is not None and offline.get("cadence_spm") is not None:
        print(
            f"  live vs offline analyze: cadence {live['cadence_spm'] - offline['cadence_spm']:+.2f} spm, "
            f"median peak {100.0 * (live['peak_g_median'] / offline['peak_g']['median'] - 1.0):+.2f} %, "
            f"strikes {live.get('strikes')} vs {offline.get('strikes')}"
        )
    print(f"  clock drift estimate {side.get('clock_drift_ppm')} ppm (simulated +40 ppm)")
    print(f"  files in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
