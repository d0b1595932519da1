"""Long recording benchmark: a simulated 10 h recording at 1000 Hz analysed in chunks; wall time and peak RSS.

    python benchmarks/long_recording.py                 # 10 h @ 1000 Hz shoe, canonical CSV
    python benchmarks/long_recording.py --hours 1 --format parquet

The file is generated piece by piece (10 min simulations appended to one CSV, never all in memory) in a
temp folder, then analysed by `gaitimpact.analysis.service.analyze_path(chunked=True)` in a fresh child process
whose peak resident memory (ru_maxrss) is reported. Prints the figures; asserts nothing.
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

PIECE_S = 600.0

CHILD = r"""
import json, sys, time
from gaitimpact.analysis.service import analyze_path
t0 = time.perf_counter()
result = analyze_path(sys.argv[1], chunked=True, chunk_s=float(sys.argv[2]))
analysis, summary = result.analysis, result.summary
print(json.dumps({"elapsed_s": time.perf_counter() - t0, "n_samples": summary["n_samples"],
                  "duration_s": summary["duration_s"], "strikes": summary["strikes"], "steps": summary["steps"],
                  "running_s": summary["running_s"], "cadence_spm": summary["cadence_spm"],
                  "peak_g_median": summary["peak_g"]["median"], "windows": analysis.params["chunked"]["windows"]}))
"""


def generate(path: Path, hours: float, fs_hz: float, placement: str, fmt: str) -> tuple[int, float]:
    """Write a simulated recording of `hours` h in 10 min pieces; returns (samples, seconds spent)."""
    import numpy as np

    from gaitimpact.io.csv_writer import format_rows, header_line
    from gaitimpact.io.sidecar import write_sidecar
    from gaitimpact.recording import Metadata
    from gaitimpact.sim import SimConfig, SimSegment, simulate

    started = time.perf_counter()
    pieces = max(1, int(round(hours * 3600.0 / PIECE_S)))
    total = 0
    writer = None
    fh = open(path, "wb") if fmt == "csv" else None
    try:
        if fh is not None:
            fh.write(header_line(False))
        for i in range(pieces):
            speed = 2.8 + 0.15 * (i % 8)
            segs = [SimSegment(PIECE_S - 60.0, "run", speed, "asphalt" if i % 2 else "trail"),
                    SimSegment(60.0, "walk")]
            rec = simulate(SimConfig(placement=placement, fs_hz=fs_hz, segments=segs, noise_g=0.02, seed=i)).recording
            keep = rec.time_s < PIECE_S - 0.5 / fs_hz
            t = rec.time_s[keep] + i * PIECE_S
            acc = rec.acc_g[keep]
            total += t.size
            if fh is not None:
                fh.write(format_rows(t, acc))
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.table({"time_s": t, "ax_g": np.ascontiguousarray(acc[:, 0]),
                                  "ay_g": np.ascontiguousarray(acc[:, 1]), "az_g": np.ascontiguousarray(acc[:, 2])})
                if writer is None:
                    meta = json.dumps({"schema_version": 1, "placement": placement, "fs_hz": fs_hz,
                                       "simulated": True}).encode()
                    table = table.replace_schema_metadata({b"gaitimpact.sidecar": meta, b"gaitimpact.format": b"1"})
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table.replace_schema_metadata(writer.schema.metadata))
            del rec, t, acc
            if (i + 1) % 6 == 0:
                print(f"  generated {(i + 1) * PIECE_S / 3600:.1f} h", flush=True)
    finally:
        if fh is not None:
            fh.close()
        if writer is not None:
            writer.close()
    if fmt == "csv":
        write_sidecar(path, Metadata(placement=placement, simulated=True), fs_hz=fs_hz)
    return total, time.perf_counter() - started


def child(argv: list[str]) -> tuple[str, float, float]:
    """Run a child process: (its stdout, wall time s, peak RSS MiB); exits on failure."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[1:3]} failed: {err.strip()[-2000:]}")
    return out, wall, usage.ru_maxrss / 1024.0


def analyse(path: Path, chunk_s: float) -> tuple[dict, float, float]:
    """Analyse in a child process: (its JSON result, wall time s, peak RSS MiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(chunk_s)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"analysis failed ({proc.returncode}): {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024.0


def main() -> None:
    """Generate, analyse, print wall time and peak RSS."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=10.0)
    ap.add_argument("--fs", type=float, default=1000.0, help="sampling rate, Hz")
    ap.add_argument("--placement", default="shoe", choices=("waist", "shoe", "shank"))
    ap.add_argument("--format", default="csv", choices=("csv", "parquet"))
    ap.add_argument("--chunk-s", type=float, default=600.0)
    ap.add_argument("--dir", help="keep the generated file here instead of a temp folder")
    ap.add_argument("--no-convert", dest="convert", action="store_false",
                    help="skip timing `gaitimpact convert` of the file to the other format")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gaitimpact-long-") as tmp:
        folder = Path(args.dir) if args.dir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"long_{args.hours:g}h_{args.fs:g}hz.{args.format}"
        print(f"generating {args.hours:g} h at {args.fs:g} Hz ({args.placement}) -> {path}", flush=True)
        n, gen_s = generate(path, args.hours, args.fs, args.placement, args.format)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {n:,} samples, {size_mb:,.0f} MB in {gen_s:.0f} s", flush=True)
        result, wall, rss_mib = analyse(path, args.chunk_s)
        print(f"\nlong recording: {args.hours:g} h @ {args.fs:g} Hz, {args.format}, {n:,} samples, {size_mb:,.0f} MB")
        print(f"  chunked analysis wall time: {wall:.1f} s ({n / wall / 1e6:.2f} M samples/s, "
              f"{args.chunk_s:g} s chunks, {result['windows']} windows)")
        print(f"  peak RSS of the analysing process: {rss_mib:.0f} MiB (target < 1024 MiB)")
        if args.convert:
            target = path.with_suffix(".parquet" if args.format == "csv" else ".csv")
            _, conv_wall, conv_rss = child([sys.executable, "-m", "gaitimpact", "convert", str(path), str(target),
                                            "--stream"])
            print(f"  gaitimpact convert -> {target.suffix} (streamed): {conv_wall:.1f} s, peak RSS {conv_rss:.0f} MiB")
        print(f"  strikes {result['strikes']:,}, steps {result['steps']:,}, "
              f"running {result['running_s'] / 3600:.2f} h, "
              f"cadence {result['cadence_spm']} spm, median peak {result['peak_g_median']} g")


if __name__ == "__main__":
    main()
