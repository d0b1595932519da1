"""Generation speed of the simulator: `python benchmarks/simulate.py [--seconds 3600] [--rate 1000]`.

Prints, per placement, wall time, samples/s and peak traced memory for one long running recording
with every sensor effect on (noise, bias, mount error, clipping, quantisation, jitter, gaps).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from gaitimpact.sim import SimConfig, SimSegment, simulate


def bench(seconds: float, rate_hz: float, placement: str) -> tuple[float, float, int, float]:
    """Return (wall time s, CPU time s, samples, peak traced memory MB) of one simulation."""
    cfg = SimConfig(placement=placement, fs_hz=rate_hz, segments=[SimSegment(seconds, "run", 3.5, "asphalt")],
                    noise_g=0.01, bias_g=0.01, mount_error_deg=10, range_g=16, quant_bits=16,
                    jitter_s=0.0005, gaps=20, seed=1)
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate(cfg)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return dt, cpu, res.recording.n_samples, peak


def main() -> None:
    """Print the generation speed table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--rate", type=float, default=1000.0)
    args = ap.parse_args()
    print(f"simulate {args.seconds:g} s at {args.rate:g} Hz")
    print(f"{'placement':<10}{'wall_s':>8}{'cpu_s':>8}{'samples':>10}{'M samples/cpu s':>17}{'peak MB':>9}")
    for placement in ("waist", "shoe", "shank"):
        dt, cpu, n, mb = bench(args.seconds, args.rate, placement)
        print(f"{placement:<10}{dt:>8.2f}{cpu:>8.2f}{n:>10d}{n / cpu / 1e6:>17.2f}{mb:>9.0f}")


if __name__ == "__main__":
    main()
