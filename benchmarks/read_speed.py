"""Benchmark (not a test): canonical-CSV read time of `load_recording` vs plain `pandas.read_csv`.

Run: python benchmarks/read_speed.py [N_ROWS] [DIR]. The two readers run interleaved
(the machine is shared); prints min and median of the repeats and their ratios.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gaitimpact.io.csv_writer import write_csv
from gaitimpact.io.load import load_recording
from gaitimpact.recording import Recording


def main() -> None:
    """Write an N-row 1000 Hz canonical CSV, then time both readers on it, interleaved."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3_600_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    path = folder / f"bench_{n}.csv"
    if not path.exists():
        rng = np.random.default_rng(0)
        t = np.arange(n) / 1000.0
        acc = rng.normal(0, 0.3, (n, 3))
        acc[:, 2] += 1.0
        t0 = time.perf_counter()
        write_csv(path, Recording(t, acc, 1000.0))
        print(f"write_csv: {n} rows in {time.perf_counter() - t0:.2f} s ({path.stat().st_size / 1e6:.0f} MB)")
    times: dict[str, list[float]] = {"pandas.read_csv": [], "load_recording": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        pd.read_csv(path)
        times["pandas.read_csv"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        load_recording(path)
        times["load_recording"].append(time.perf_counter() - t0)
    for name, v in times.items():
        print(f"{name:16} min {min(v):.3f} s  median {statistics.median(v):.3f} s")
    a, b = times["load_recording"], times["pandas.read_csv"]
    print(f"ratio  min {min(a) / min(b):.2f}  median {statistics.median(a) / statistics.median(b):.2f}")


if __name__ == "__main__":
    main()
