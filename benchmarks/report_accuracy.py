"""Reporter accuracy against the simulator's truth, over many seeds: `python benchmarks/report_accuracy.py`.

Surface study: 3 sessions, each running concrete, asphalt and grass for 40 s at different speeds (every
surface at three speeds, the surfaces' mean speeds 0.4 m/s apart), analysed by the signal core; prints
the error of the speed-adjusted ratio against the simulator's surface factors (at equal speed), the share
of 95 % intervals that cover the truth, and the error a speed-blind median ratio would make.
Wear study: 8 sessions of one shoe at 0-700 km, random speed and surface; prints the %/100 km estimate
against the simulator's wear slope over the same km and the 95 % CI coverage.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from gaitimpact.analysis.summary import steps_table
from gaitimpact.core.pipeline import analyze_recording
from gaitimpact.report.compare import compare
from gaitimpact.report.shoes import shoe_trends
from gaitimpact.sim import SimConfig, SimSegment, simulate, surface_factor, wear_factor

SPEED_PLAN = {"concrete": [2.6, 3.0, 3.4], "asphalt": [3.0, 3.4, 3.8], "grass": [3.4, 3.8, 4.2]}


def _strikes(cfg: SimConfig, session: int, shoe_km: float = 0.0) -> pd.DataFrame:
    res = simulate(cfg)
    analysis = analyze_recording(res.recording, cfg.placement)
    table = steps_table(res.recording, analysis)
    table["session"] = session
    table["placement"] = analysis.placement
    table["shoe"] = cfg.shoe
    table["shoe_km"] = shoe_km
    return table


def surface_study(placement: str, seeds: int) -> dict:
    """Relative errors (%) of recovered surface ratios, CI coverage and the speed-blind error, over seeds."""
    fs = 200.0 if placement == "waist" else 500.0
    errors, covered, naive = [], [], []
    for seed in range(seeds):
        frames = []
        for k in range(3):
            segs = [SimSegment(40, "run", SPEED_PLAN[s][(k + seed) % 3], s) for s in SPEED_PLAN]
            cfg = SimConfig(
                placement=placement,
                fs_hz=fs,
                segments=segs,
                seed=seed * 10 + k,
                noise_g=0.02,
                mount_error_deg=5.0,
                shoe="sim",
            )
            frames.append(_strikes(cfg, k))
        df = pd.concat(frames, ignore_index=True)
        doc = compare(df, n_boot=1000, seed=seed)
        ref_median = df.loc[df.surface == "concrete", "peak_g"].median()
        for row in doc["surfaces"]:
            if row["surface"] == "concrete":
                continue
            truth = surface_factor(row["surface"], placement) / surface_factor("concrete", placement)
            errors.append(row["ratio"] / truth - 1)
            covered.append(row["ratio_ci95"][0] <= truth <= row["ratio_ci95"][1])
            naive.append(df.loc[df.surface == row["surface"], "peak_g"].median() / ref_median / truth - 1)
    e = 100 * np.asarray(errors)
    return {
        "placement": placement,
        "intervals": len(e),
        "max_abs_err_pct": float(np.abs(e).max()),
        "mean_err_pct": float(e.mean()),
        "coverage": float(np.mean(covered)),
        "speed_blind_mean_abs_err_pct": float(100 * np.mean(np.abs(naive))),
    }


def wear_study(seeds: int) -> dict:
    """Estimated shoe wear (%/100 km) vs the simulator's slope over 0-700 km, and 95 % CI coverage."""
    kms = np.arange(0.0, 800.0, 100.0)
    truth = float(((wear_factor(kms[-1]) / wear_factor(kms[0])) ** (100.0 / (kms[-1] - kms[0])) - 1) * 100)
    est, covered, width = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        frames = []
        for k, km in enumerate(kms):
            v = float(rng.choice([2.8, 3.2, 3.6, 4.0]))
            surface = str(rng.choice(["asphalt", "concrete"]))
            cfg = SimConfig(
                placement="waist",
                fs_hz=200.0,
                segments=[SimSegment(45, "run", v, surface)],
                shoe_km=float(km),
                shoe="A",
                seed=seed * 100 + k,
                noise_g=0.02,
            )
            frames.append(_strikes(cfg, k, float(km)))
        row = shoe_trends(pd.concat(frames, ignore_index=True))["shoes"][0]
        lo, hi = row["pct_per_100km_ci95"]
        est.append(row["pct_per_100km"])
        covered.append(lo <= truth <= hi)
        width.append(hi - lo)
    return {
        "truth_pct_per_100km": truth,
        "mean_estimate": float(np.mean(est)),
        "sd_estimate": float(np.std(est)),
        "coverage": float(np.mean(covered)),
        "median_ci_width": float(np.median(width)),
        "seeds": seeds,
    }


def main(argv: list[str] | None = None) -> None:
    """Run both studies and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=25)
    args = parser.parse_args(argv)
    for placement in ("waist", "shoe"):
        t0 = time.perf_counter()
        r = surface_study(placement, args.seeds)
        print(
            f"surfaces/{placement}: {r['intervals']} ratios, max |error| {r['max_abs_err_pct']:.2f} %, "
            f"mean error {r['mean_err_pct']:+.2f} %, 95% CI coverage {100 * r['coverage']:.0f} %, "
            f"speed-blind median ratio error {r['speed_blind_mean_abs_err_pct']:.1f} % "
            f"({time.perf_counter() - t0:.0f} s)"
        )
    t0 = time.perf_counter()
    w = wear_study(args.seeds)
    print(
        f"shoe wear: truth {w['truth_pct_per_100km']:.2f} %/100 km, estimate {w['mean_estimate']:.2f} "
        f"+- {w['sd_estimate']:.2f}, 95% CI coverage {100 * w['coverage']:.0f} % over {w['seeds']} seeds, "
        f"median CI width {w['median_ci_width']:.2f} ({time.perf_counter() - t0:.0f} s)"
    )


if __name__ == "__main__":
    main()
