"""Accuracy of the signal core against the simulator's exact truth.

Per placement x rate (waist 100/200/500 Hz; shoe 200/500/1000 Hz; shank 100/200/500/1000 Hz), over several seeds,
each recording: stand 5 s, walk 10 s, two running segments at random speeds (2.5-5 m/s) on two
surfaces, walk 10 s; mounting error 20 deg about a random axis, white noise, timestamp jitter and
BLE-style gaps. The core runs with placement "auto" (the decision is scored too).

Prints: strike F1 (match tolerance 60 ms waist, 40 ms shoe/shank; truth strikes next to a gap are
neither required nor counted), median |IC timing error| (ms) and bias, worst cadence error (steps/min),
median |peak error| (%) on unclipped strikes, median |loading-rate error| (%), left/right accuracy at
the waist, auto placement right (x/N), median |contact time error| (ms) and its bias against the
simulator's contact time, and the share of strikes with a contact time (%). A clipping check (shoe at +-8 g) follows.

Usage: python benchmarks/accuracy.py [--seeds 3] [--any-orientation] [--noise 0.02] [--jitter 0.001]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gaitimpact.core.evaluate import MATCH_TOLERANCE_S, score_strikes
from gaitimpact.core.pipeline import analyze_recording
from gaitimpact.sim import SimConfig, SimSegment, simulate

RATES = {"waist": (100, 200, 500), "shoe": (200, 500, 1000), "shank": (100, 200, 500, 1000)}
SURFACES = ("asphalt", "concrete", "track", "grass", "trail", "treadmill")


def make_config(placement: str, fs_hz: float, seed: int, *, noise_g: float, jitter_s: float,
                any_orientation: bool, range_g: float | None = None, gaps: int = 3) -> SimConfig:
    """The benchmark's recording plan for one placement, rate and seed."""
    rng = np.random.default_rng(1000 + seed)
    v1, v2 = rng.uniform(2.5, 5.0, size=2)
    s1, s2 = rng.choice(SURFACES, size=2, replace=False)
    segments = [
        SimSegment(5.0, "stand"),
        SimSegment(10.0, "walk", 1.4),
        SimSegment(45.0, "run", float(v1), str(s1)),
        SimSegment(45.0, "run", float(v2), str(s2)),
        SimSegment(10.0, "walk", 1.3),
    ]
    return SimConfig(placement=placement, fs_hz=float(fs_hz), segments=segments, shoe_km=float(rng.uniform(0, 800)),
                     mount_error_deg=20.0, random_orientation=any_orientation, noise_g=noise_g,
                     jitter_s=jitter_s, gaps=gaps, range_g=range_g, side=str(rng.choice(["L", "R"])), seed=seed)


def evaluate(cfg: SimConfig) -> dict:
    """Simulate one config, analyse it with placement "auto", and score it against the truth."""
    res = simulate(cfg)
    tr = res.truth
    ana = analyze_recording(res.recording, placement="auto")
    tol = MATCH_TOLERANCE_S[cfg.placement]
    sc = score_strikes(ana.strikes.time_s, tr.ic_time_s, tol, ignore_ref=tr.near_gap)
    det, ref = sc.det_index, sc.ref_index
    unclipped = ~ana.strikes.clipped[det] & ~tr.clipped[ref]
    pk_err = (ana.strikes.peak_g[det] - tr.peak_g[ref]) / tr.peak_g[ref]
    lr_err = (ana.strikes.loading_rate_gps[det] - tr.loading_rate_gps[ref]) / tr.loading_rate_gps[ref]
    foot = ana.strikes.foot[det]
    known = foot != "?"
    return {
        "tp": sc.tp, "fp": sc.fp, "fn": sc.fn,
        "err_s": sc.timing_error_s,
        "cad_err": abs(ana.cadence_spm - tr.cadence_spm),
        "pk_err": pk_err[unclipped],
        "lr_err": lr_err[unclipped & np.isfinite(lr_err)],
        "lr_known": int(known.sum()),
        "lr_right": int(np.count_nonzero(foot[known] == tr.foot[ref][known])),
        "lr_total": int(det.size),
        "placement_ok": ana.placement == cfg.placement,
        "placement": ana.placement,
        "clip_truth": tr.clipped[ref],
        "clip_det": ana.strikes.clipped[det],
        "near_gap_det": int(np.count_nonzero(ana.strikes.near_gap)),
        "ct_err_ms": _finite(ana.strikes.contact_ms[det] - tr.contact_time_s[ref] * 1e3),
        "ct_timed": float(np.mean(np.isfinite(ana.strikes.contact_ms))) if len(ana.strikes) else 0.0,
    }


def _finite(x: np.ndarray) -> np.ndarray:
    return x[np.isfinite(x)]


def _row(placement: str, fs: int, results: list[dict]) -> str:
    tp = sum(r["tp"] for r in results)
    fp = sum(r["fp"] for r in results)
    fn = sum(r["fn"] for r in results)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    err = np.concatenate([r["err_s"] for r in results]) * 1e3
    pk = np.concatenate([r["pk_err"] for r in results]) * 100
    lr = np.concatenate([r["lr_err"] for r in results]) * 100
    cad = max(r["cad_err"] for r in results)
    auto_ok = sum(r["placement_ok"] for r in results)
    ct = np.concatenate([r["ct_err_ms"] for r in results])
    ct_txt = f"{np.median(np.abs(ct)):6.1f} {np.median(ct):+6.1f}" if ct.size else f"{'-':>6s} {'-':>6s}"
    timed = 100 * np.mean([r["ct_timed"] for r in results])
    if placement == "waist":
        known = sum(r["lr_known"] for r in results)
        right = sum(r["lr_right"] for r in results)
        total = sum(r["lr_total"] for r in results)
        lr_acc = f"{100 * right / max(known, 1):5.1f}% ({100 * known / max(total, 1):3.0f}% decided)"
    else:
        lr_acc = "n/a (one foot)"
    return (f"{placement:6s}{fs:6d} {f1:6.3f} {tp:5d}/{fp:3d}/{fn:3d} {np.median(np.abs(err)):7.1f} "
            f"{np.median(err):+7.1f} {cad:7.2f} {np.median(np.abs(pk)):7.1f} {np.median(pk):+6.1f} "
            f"{np.median(np.abs(lr)):7.1f} {lr_acc:>24s} {auto_ok:3d}/{len(results)} {ct_txt} {timed:5.1f}")


def main() -> None:
    """Run the accuracy table and print it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--noise", type=float, default=0.02, help="white noise std per axis, g")
    ap.add_argument("--jitter", type=float, default=0.001, help="timestamp jitter std, s (sim caps at 0.45/fs)")
    ap.add_argument("--any-orientation", action="store_true", help="also rotate the sensor randomly (any way up)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"gaitimpact core accuracy vs simulator truth: {args.seeds} seeds per row, mounting error 20 deg"
          f"{' + random orientation' if args.any_orientation else ''}, noise {args.noise} g, jitter "
          f"{args.jitter * 1e3:g} ms, 3 gaps per recording; placement auto")
    print("Targets: F1 >= 0.99; timing <= 20 ms waist, <= 10 ms shoe/shank; cadence within 1 spm; peak within 5 %")
    head = (f"{'place':6s}{'Hz':>6s} {'F1':>6s} {'TP/FP/FN':>13s} {'|dt|ms':>7s} {'bias':>7s} {'cad spm':>7s} "
            f"{'|pk|%':>7s} {'pk %':>6s} {'|LR|%':>7s} {'left/right':>24s} {'auto':>7s} {'|CT|ms':>6s} "
            f"{'CTbias':>6s} {'CT %':>5s}")
    print(head)
    print("-" * len(head))
    for placement, rates in RATES.items():
        for fs in rates:
            results = [evaluate(make_config(placement, fs, seed, noise_g=args.noise, jitter_s=args.jitter,
                                            any_orientation=args.any_orientation))
                       for seed in range(args.seeds)]
            print(_row(placement, fs, results), flush=True)
    # clipping: a +-8 g shoe sensor clips most impacts; the flag must agree with the truth
    clip = [evaluate(make_config("shoe", 500, seed, noise_g=args.noise, jitter_s=args.jitter,
                                 any_orientation=args.any_orientation, range_g=8.0)) for seed in range(args.seeds)]
    ct = np.concatenate([r["clip_truth"] for r in clip])
    cd = np.concatenate([r["clip_det"] for r in clip])
    print(f"clipping (shoe 500 Hz, +-8 g): truth clipped {int(ct.sum())}/{ct.size} strikes, flagged "
          f"{int(cd.sum())}, agreement {100 * np.mean(ct == cd):.1f}%")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
