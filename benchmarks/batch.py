"""Batch benchmark: 200 short simulated recordings (mixed placements and rates) through `run_batch`.

    python benchmarks/batch.py                # 200 files
    python benchmarks/batch.py --files 50 --duration 20

Prints files/s with 1 and 2 local worker processes, via a Dask LocalCluster (2 worker processes), and
the resumed re-run (everything skipped by content hash); checks that all back-ends give the same rows.
Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

MIX = [("waist", 100.0), ("waist", 200.0), ("shoe", 500.0), ("shoe", 1000.0), ("shank", 500.0),
       ("shank", 1000.0), ("waist", 500.0), ("shoe", 200.0)]
SURFACES = ["asphalt", "concrete", "track", "grass", "trail", "treadmill"]


def make_library(root: Path, n_files: int, duration_s: float) -> float:
    """Write n_files simulated recordings (CSV + sidecar + truth) under root; returns seconds spent."""
    from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

    started = time.perf_counter()
    for i in range(n_files):
        placement, fs = MIX[i % len(MIX)]
        segs = [SimSegment(3.0, "stand"), SimSegment(duration_s - 3.0, "run", 2.6 + 0.1 * (i % 20),
                                                       SURFACES[i % len(SURFACES)])]
        res = simulate(SimConfig(placement=placement, fs_hz=fs, segments=segs, noise_g=0.02, seed=i,
                                 mount_error_deg=10.0 * (i % 3), shoe_km=37.0 * (i % 15)))
        folder = root / f"runner{i % 10:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        write_simulation(res, folder / f"session{i:03d}.csv")
    return time.perf_counter() - started


def warm(path: str) -> None:
    """Analyse one file so that imports and caches are warm."""
    from gaitimpact.analysis.service import analyze_path

    analyze_path(path, chunked=False)


def timed(label: str, **kwargs) -> tuple[float, list[dict]]:
    """Run one batch, print its files/s, return (files/s, rows)."""
    from gaitimpact.batch.runner import run_batch

    started = time.perf_counter()
    report = run_batch(progress=False, **kwargs)
    wall = time.perf_counter() - started
    ok = sum(r["status"] == "ok" for r in report.rows)
    rate = report.analysed / wall if report.analysed else len(report.rows) / wall
    print(f"  {label:<34} {len(report.rows):4d} files  {wall:7.2f} s  {rate:7.2f} files/s  "
          f"(analysed {report.analysed}, skipped {report.reused}, ok {ok}, failed {len(report.failures)})",
          flush=True)
    return rate, report.rows


def main() -> None:
    """Generate the library, run the back-ends, print figures."""
    from gaitimpact.batch.flatten import rows_equal

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per recording")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gaitimpact-batch-") as tmp:
        root = Path(tmp) / "library"
        gen_s = make_library(root, args.files, args.duration)
        size_mb = sum(p.stat().st_size for p in root.rglob("*.csv")) / 1e6
        print(f"batch benchmark: {args.files} simulated recordings of {args.duration:g} s "
              f"({', '.join(f'{p}@{f:g}Hz' for p, f in MIX)}), {size_mb:.0f} MB CSV, generated in {gen_s:.0f} s")
        first = sorted(root.rglob("*.csv"))[0]
        warm(str(first))  # imports and first-call costs out of the timings (forked workers inherit them)
        r1, rows1 = timed("1 worker (in-process)", paths=[root], jobs=1)
        r2, rows2 = timed("2 worker processes", paths=[root], jobs=2)
        out = Path(tmp) / "results.parquet"
        timed("2 workers, writing results.parquet", paths=[root], jobs=2, out=out)
        timed("re-run, resumed (all skipped)", paths=[root], jobs=2, out=out)
        same = all(rows_equal(a, b) for a, b in zip(rows1, rows2))
        line = f"  rows identical 1 vs 2 workers: {same}"
        if not args.no_dask:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                with Client(cluster) as client:
                    client.run(warm, str(first))
                rd, rowsd = timed("Dask LocalCluster, 2 worker processes", paths=[root],
                                  dask_address=cluster.scheduler_address)
            line += f"; local vs Dask: {all(rows_equal(a, b) for a, b in zip(rows1, rowsd))}"
        print(line)
        print(f"  speed-up 2 workers vs 1: {r2 / r1:.2f}x (machine: {__import__('os').cpu_count()} cores)")


if __name__ == "__main__":
    main()
