"""Reporter accuracy against the simulator's truth, over many seeds: `python benchmarks/report_accuracy.py`.

Surface study: 3 sessions, each running concrete, asphalt and grass for 40 s at different speeds (every
surface at three speeds, the surfaces' mean speeds 0.4 m/s apart), analysed by the signal core; prints
the error of the speed-adjusted ratio against the simulator's surface factors (at equal speed), the share
of 95 % intervals that cover the truth, and the error a speed-blind median ratio would make.
Wear study: 8 sessions of one shoe at 0-700 km, random speed and surface; prints the %/100 km estimate
against the simulator's wear slope over the same km and the 95 % CI coverage.
Designs real runners build (issue 11), simulated with day-to-day variation (each session's peaks scaled
by exp(N(0, --day-sd)), the same factor for every run of the session; the reporter only sees peak_g):
  tangled      worn daily shoe (380-440 km) only on asphalt and grass at 3.0-3.3 m/s, new racer (10-70 km)
               only on track and concrete at 3.7-4.0 m/s, 4 sessions each;
  one-crossing the same plus one racer session on grass;
  one-run-each one 60-s run per surface, all at 3.5 m/s, one shoe;
  speed-tied   each surface always at its own speed (concrete 3.0, asphalt 3.3, grass 3.6 m/s), 3 sessions.
For each it prints how many surfaces were called higher/lower, within the noise or cannot tell, how many
higher/lower calls have an interval missing the truth (must be 0), and the coverage of all intervals.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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


CACHE: Path | None = None
"""Directory for simulated strike tables of the design study (`--cache`): before/after comparisons of
the reporter then run on the very same strikes without simulating them again."""


DESIGNS = ("tangled", "one-crossing", "one-run-each", "speed-tied")


def _plan(design: str, rng: np.random.Generator) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """Sessions as (shoe, shoe_km, [(surface, speed_mps), ...]) for one of `DESIGNS`."""
    if design in ("tangled", "one-crossing"):
        daily = [("daily", 380.0 + 20 * k, [("asphalt", 3.0 + 0.1 * k), ("grass", 3.3 - 0.1 * k)]) for k in range(4)]
        racer = [("racer", 10.0 + 20 * k, [("track", 3.7 + 0.1 * k), ("concrete", 4.0 - 0.1 * k)]) for k in range(4)]
        extra = [("racer", 90.0, [("grass", 3.6)])] if design == "one-crossing" else []
        return daily + racer + extra
    if design == "one-run-each":
        return [("daily", 200.0, [(s, 3.5)]) for s in ("concrete", "asphalt", "track", "grass")]
    tied = {"concrete": 3.0, "asphalt": 3.3, "grass": 3.6}
    return [("daily", 200.0, [(s, v) for s, v in tied.items()]) for _ in range(3)]


def _design_strikes(design: str, seed: int, day_sd: float, placement: str, fs: float) -> pd.DataFrame:
    """Strike table of one simulated library of `design` (cached in `CACHE` when set)."""
    path = CACHE / f"{design}-{placement}-{seed}-{day_sd:g}.pkl" if CACHE else None
    if path is not None and path.exists():
        return pd.read_pickle(path)
    rng = np.random.default_rng(1000 + seed)
    frames = []
    for k, (shoe, km, segs) in enumerate(_plan(design, rng)):
        dur = 60.0 if design == "one-run-each" else 40.0
        cfg = SimConfig(
            placement=placement,
            fs_hz=fs,
            segments=[SimSegment(dur, "run", v, s) for s, v in segs],
            seed=seed * 100 + k,
            noise_g=0.02,
            mount_error_deg=5.0,
            shoe=shoe,
            shoe_km=km,
        )
        t = _strikes(cfg, k, km)
        t["peak_g"] *= float(np.exp(rng.normal(0.0, day_sd)))
        frames.append(t)
    strikes = pd.concat(frames, ignore_index=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        strikes.to_pickle(path)
    return strikes


def design_study(design: str, seeds: int, day_sd: float, placement: str = "waist") -> dict:
    """Status counts, higher/lower calls whose interval misses the truth, and coverage, for one design."""
    fs = 200.0 if placement == "waist" else 500.0
    counts = {"higher": 0, "lower": 0, "within_noise": 0, "cannot_tell": 0}
    wrong_calls, covered, n_ci = 0, 0, 0
    for seed in range(seeds):
        strikes = _design_strikes(design, seed, day_sd, placement, fs)
        cmp = compare(strikes, n_rep=1000, seed=seed)
        for g in cmp.groups:
            if g.status == "reference":
                continue
            counts[g.status] += 1
            if g.ratio_ci95 is None:
                continue
            truth = surface_factor(g.name, placement) / surface_factor(cmp.reference, placement)
            inside = g.ratio_ci95[0] <= truth <= g.ratio_ci95[1]
            n_ci += 1
            covered += inside
            wrong_calls += g.status in ("higher", "lower") and not inside
    return {"design": design, **counts, "wrong_calls": wrong_calls, "intervals": n_ci,
            "coverage": covered / n_ci if n_ci else float("nan")}


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
        cmp = compare(df, n_rep=1000, seed=seed)
        ref_median = df.loc[df.surface == "concrete", "peak_g"].median()
        for row in cmp.groups:
            if row.name == "concrete":
                continue
            truth = surface_factor(row.name, placement) / surface_factor("concrete", placement)
            errors.append(row.ratio / truth - 1)
            covered.append(row.ratio_ci95[0] <= truth <= row.ratio_ci95[1])
            naive.append(df.loc[df.surface == row.name, "peak_g"].median() / ref_median / truth - 1)
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
        row = shoe_trends(pd.concat(frames, ignore_index=True)).shoes[0]
        lo, hi = row.pct_per_100km_ci95
        est.append(row.pct_per_100km)
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
    parser.add_argument("--day-sd", type=float, default=0.06, help="day-to-day SD of ln(peak) (default 0.06)")
    parser.add_argument("--only", choices=("clean", "designs"), help="run only one part")
    parser.add_argument("--cache", type=Path, help="keep simulated design libraries here and reuse them")
    args = parser.parse_args(argv)
    global CACHE
    CACHE = args.cache
    if args.only != "clean":
        for design in DESIGNS:
            t0 = time.perf_counter()
            r = design_study(design, args.seeds, args.day_sd)
            print(
                f"{design}: higher {r['higher']}, lower {r['lower']}, within noise {r['within_noise']}, "
                f"cannot tell {r['cannot_tell']}; higher/lower calls missing the truth {r['wrong_calls']}; "
                f"coverage {100 * r['coverage']:.0f} % of {r['intervals']} intervals "
                f"({time.perf_counter() - t0:.0f} s)"
            )
        if args.only == "designs":
            return
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
