"""Speed of offline analysis: 1 h at 1000 Hz (3.6 M samples).

Prints: time for pandas alone to parse the CSV, time of the whole `gaitimpact analyze` process
(parse + analysis + summary), their ratio (target <= 1.5), the signal core alone in samples/s
(target >= 20 M samples/s on one core), and peak memory of the analyze process.

Usage: python benchmarks/speed.py [--minutes 60] [--rate 1000] [--repeats 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _child_run(cmd: list[str]) -> tuple[float, float]:
    """Run a process; return wall time (s) and its peak RSS (MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_maxrss / 1024


def main() -> None:
    """Generate the file, then time the parse, the whole analyze and the core alone."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--placement", default="shoe")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="directory to keep the generated file in")
    args = ap.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="gaitimpact-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv = workdir / f"speed_{args.placement}_{int(args.rate)}hz_{int(args.minutes)}min.csv"
    if not csv.exists():
        # Generated in a child process: this process stays small, so the children's peak RSS
        # (which on Linux starts from the parent's at fork) measures only themselves.
        subprocess.run([sys.executable, "-m", "gaitimpact", "simulate", "--placement", args.placement,
                        "--rate", str(args.rate), "--duration", str(args.minutes * 60), "--speed", "3.5",
                        "--seed", "1", "--out", str(csv)], check=True, stdout=subprocess.DEVNULL)
    print(f"file: {csv.name}: {csv.stat().st_size / 1e6:.0f} MB")

    parse_cmd = [sys.executable, "-c", f"import pandas as pd; pd.read_csv({str(csv)!r})"]
    analyze_cmd = [sys.executable, "-m", "gaitimpact", "analyze", str(csv)]
    parse, analyze = [], []
    for _ in range(args.repeats):
        parse.append(_child_run(parse_cmd))
        analyze.append(_child_run(analyze_cmd))
    p_wall = float(np.median([w for w, _ in parse]))
    a_wall = float(np.median([w for w, _ in analyze]))
    ratios = [a / p for (a, _), (p, _) in zip(analyze, parse)]
    print(f"pandas.read_csv alone (process): median {p_wall:.2f} s, peak RSS {max(m for _, m in parse):.0f} MiB")
    print(f"gaitimpact analyze (process):    median {a_wall:.2f} s, peak RSS {max(m for _, m in analyze):.0f} MiB")
    print(f"ratio analyze / parse: median {np.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
          f"target <= 1.5")

    from gaitimpact.core.pipeline import analyze_signal
    from gaitimpact.io.load import load_recording

    rec = load_recording(csv)
    times = []
    for _ in range(max(3, args.repeats)):
        t0 = time.perf_counter()
        analysis = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement=args.placement,
                                  range_g=rec.meta.range_g, gaps=rec.gaps)
        times.append(time.perf_counter() - t0)
    core = float(np.median(times))
    print(f"signal core alone ({args.placement}, declared placement): median {core:.3f} s = "
          f"{rec.n_samples / core / 1e6:.1f} M samples/s; {len(analysis.strikes)} strikes; target >= 20 M/s")
    t0 = time.perf_counter()
    auto = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement="auto", range_g=rec.meta.range_g,
                          gaps=rec.gaps)
    t_auto = time.perf_counter() - t0
    print(f"signal core alone (auto placement -> {auto.placement}): {t_auto:.3f} s = "
          f"{rec.n_samples / t_auto / 1e6:.1f} M samples/s")
    print(f"{rec.n_samples:,} samples; this process (file loaded + core) peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
