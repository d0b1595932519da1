"""Speed and memory of gaitimpact against the cost of loading the file: every row of README "Speed", one run.

Command-line figures are whole processes (median of --repeats, the compared commands alternating);
the signal core is timed in this process. Prints one line per figure: the two measurements, their ratio
and the target.

    python benchmarks/speed.py                   # files generated into a temp folder
    python benchmarks/speed.py --keep /tmp/gi-speed --repeats 5

Rows: analyze 1 h at 1000 Hz / a process that only parses the CSV with pandas (pyarrow engine); peak RSS
of that analyze / the raw float64 arrays; `gaitimpact --help` / `python -c "import numpy"`; analyze of a
1-minute 100 Hz recording / `python -c "import numpy, scipy.signal"`; the signal core in samples/s at
every rate (100-1000 Hz, waist and shoe, 1 h); a resumed `batch` with every file done / the first run
(24 files of 4 min, each beyond interpreter start). The live recorder's CPU is measured by
benchmarks/record.py.

The measured processes may cache bytecode (in the work folder, PYTHONPYCACHEPREFIX), as Python does on any
installation: pandas and numpy were compiled when pip installed them, and a machine that sets
PYTHONDONTWRITEBYTECODE (this one does) would otherwise charge gaitimpact alone for compiling its source on
every run. --no-bytecode-cache measures with the environment as it is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the signal core is timed as the CLI runs it (one OpenBLAS thread, freed memory kept: `gaitimpact.cli.main`);
# set before numpy loads, and not handed to the measured processes, which decide for themselves
CHILD_ENV = dict(os.environ)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

from gaitimpact.analysis.heap import keep_freed_memory  # noqa: E402

keep_freed_memory()

PY = sys.executable
CORE_CASES = [("waist", 100.0), ("shoe", 100.0), ("waist", 200.0), ("shoe", 500.0), ("waist", 1000.0),
              ("shoe", 1000.0)]


def child(cmd: list[str]) -> tuple[float, float, float]:
    """Run a process to the end; its wall time (s), peak RSS (MiB) and CPU time (user + system, s)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


Run = tuple[float, float, float]
"""(wall s, peak RSS MiB, CPU s) of one process."""


def alternate(a: list[str], b: list[str], repeats: int) -> tuple[list[Run], list[Run]]:
    """Run two commands alternately `repeats` times each (after one warm-up of each)."""
    child(a)
    child(b)
    ra, rb = [], []
    for _ in range(repeats):
        ra.append(child(a))
        rb.append(child(b))
    return ra, rb


def med(runs: list[Run]) -> float:
    """Median wall time (s)."""
    return statistics.median(r[0] for r in runs)


def cpu(runs: list[Run]) -> float:
    """Median CPU time (user + system, s): what a busy machine cannot stretch, unlike wall time."""
    return statistics.median(r[2] for r in runs)


def row(name: str, a: float, b: float, unit: str, target: str, fmt: str = ".2f") -> None:
    """Print one figure: a / b = ratio (target)."""
    print(f"{name:<58} {a:{fmt}} {unit} / {b:{fmt}} {unit} = {a / b:5.2f}x   target {target}", flush=True)


def simulate(path: Path, placement: str, rate: float, seconds: float, seed: int = 1) -> Path:
    """Write a simulated recording (CSV + sidecar) unless it exists."""
    if not path.exists():
        subprocess.run([PY, "-m", "gaitimpact", "simulate", "--placement", placement, "--rate", str(rate),
                        "--duration", str(seconds), "--speed", "3.5", "--seed", str(seed), "--out", str(path)],
                       check=True, stdout=subprocess.DEVNULL, env=CHILD_ENV)
    return path


def core_rate(path: Path, placement: str, repeats: int) -> float:
    """Signal core alone on a loaded recording, declared placement: best of `repeats`, M samples/s."""
    from gaitimpact.core.pipeline import analyze_signal
    from gaitimpact.io.load import load_recording

    rec = load_recording(path)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement=placement, range_g=rec.meta.range_g,
                       gaps=rec.gaps)
        best = min(best, time.perf_counter() - t0)
    return rec.n_samples / best / 1e6


def batch_library(root: Path) -> Path:
    """24 simulated recordings of 4 min (mixed placements and rates, as benchmarks/batch.py)."""
    if not root.exists():
        sys.path.insert(0, str(Path(__file__).parent))
        from batch import make_library

        make_library(root, 24, 240.0)
    return root


def main() -> None:
    """Generate the files, then measure every row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="folder to keep the generated files in (reused next time)")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="keep PYTHONDONTWRITEBYTECODE as the environment sets it (every run then compiles "
                         "gaitimpact's source again; pandas and numpy were compiled when pip installed them)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="gaitimpact-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_bytecode_cache:
        # as on any machine where Python may cache bytecode: the warm-up run of each command writes it
        CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    print(f"gaitimpact speed, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; median of {args.repeats}, whole processes unless noted; "
          f"bytecode {'not cached' if 'PYTHONDONTWRITEBYTECODE' in CHILD_ENV else 'cached'}", flush=True)

    big = simulate(work / "shoe_1000hz_60min.csv", "shoe", 1000.0, 3600.0)
    ana, parse = alternate([PY, "-m", "gaitimpact", "analyze", str(big)],
                           [PY, "-c", f"import pandas as pd; pd.read_csv({str(big)!r}, engine='pyarrow')"],
                           args.repeats)
    row("analyze 1 h @ 1000 Hz / pandas (pyarrow engine) parse only", med(ana), med(parse), "s", "<= 1.25x")
    print(f"{'  (CPU time, user + system':<58} {cpu(ana):.2f} s / {cpu(parse):.2f} s)")
    n = sum(1 for _ in open(big, "rb")) - 1
    raw_mib = n * 4 * 8 / 2**20
    row("peak RSS of that analyze / raw float64 arrays", max(r[1] for r in ana), raw_mib, "MiB", "<= 3x", ".0f")
    print(f"{'  (pandas parse alone peaks at':<58} {max(r[1] for r in parse):.0f} MiB)")

    helps, numpy_only = alternate([PY, "-m", "gaitimpact", "--help"], [PY, "-c", "import numpy"], args.repeats)
    row("gaitimpact --help / python -c 'import numpy'", med(helps), med(numpy_only), "s", "<= 2x")

    short = simulate(work / "waist_100hz_1min.csv", "waist", 100.0, 60.0)
    one_min, scipy_only = alternate([PY, "-m", "gaitimpact", "analyze", str(short)],
                                    [PY, "-c", "import numpy, scipy.signal"], args.repeats)
    row("analyze 1 min @ 100 Hz / python -c 'import numpy, scipy.signal'", med(one_min), med(scipy_only), "s",
        "<= 1.3x")
    print(f"{'  (CPU time, user + system':<58} {cpu(one_min):.2f} s / {cpu(scipy_only):.2f} s)")

    print("live recorder CPU at 1000 Hz: see benchmarks/record.py")

    rates = []
    for placement, rate in CORE_CASES:
        path = simulate(work / f"{placement}_{int(rate)}hz_60min.csv", placement, rate, 3600.0)
        rates.append((core_rate(path, placement, max(3, args.repeats)), placement, rate))
        print(f"{'  signal core (in process), 1 h ' + placement + f' @ {rate:g} Hz':<58} "
              f"{rates[-1][0]:.1f} M samples/s", flush=True)
    low = min(rates)
    print(f"{'signal core, slowest of these rates (in process)':<58} {low[0]:.1f} M samples/s "
          f"({low[1]} @ {low[2]:g} Hz)   target >= 5 M samples/s", flush=True)

    lib = batch_library(work / "batch24")
    out = work / "batch24.csv"
    start, _ = alternate([PY, "-c", "pass"], [PY, "-c", "pass"], args.repeats)
    t_py = med(start)
    firsts, resumed = [], []
    for _ in range(args.repeats):
        for f in (out, out.with_name(out.name + ".journal.jsonl")):
            f.unlink(missing_ok=True)
        cmd = [PY, "-m", "gaitimpact", "batch", str(lib), "--out", str(out), "--no-progress"]
        firsts.append(child(cmd)[0] - t_py)
        resumed.append(child(cmd)[0] - t_py)
    row("resumed batch, every file done / first run (24 x 4 min)", statistics.median(resumed),
        statistics.median(firsts), "s", "<= 0.5x")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
