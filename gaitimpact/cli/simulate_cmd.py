"""`gaitimpact simulate`: write a simulated recording (CSV + sidecar) and its exact truth."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gaitimpact.errors import InputError
from gaitimpact.recording import PLACEMENTS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `simulate` sub-command."""
    p = subparsers.add_parser(
        "simulate", help="write a simulated IMU recording with exact truth",
        description="Simulate a running IMU recording (waist, shoe or shank) and write FILE.csv, its "
                    "sidecar FILE.json and the truth FILE.truth.json (IC times, true peaks, cadence).")
    p.add_argument("--placement", choices=PLACEMENTS, default="waist", help="where the sensor is worn")
    p.add_argument("--rate", type=float, default=None, metavar="HZ",
                   help="sampling rate in Hz (default 200 waist, 500 shoe/shank)")
    p.add_argument("--duration", type=float, default=60.0, metavar="S",
                   help="one running segment of S seconds (ignored with --segments)")
    p.add_argument("--speed", type=float, default=3.5, metavar="MPS", help="running speed for --duration")
    p.add_argument("--surface", default="asphalt", help="surface for --duration")
    p.add_argument("--segments", default=None, metavar="SPEC",
                   help="activity:duration_s[:speed_mps[:surface]],... e.g. "
                        "run:120:3.5:asphalt,walk:30,stand:10,run:120:3.5:grass")
    p.add_argument("--side", choices=("L", "R"), default="L", help="foot wearing a shoe/shank sensor")
    p.add_argument("--shoe", default="sim-shoe", help="shoe name for the sidecar")
    p.add_argument("--shoe-km", type=float, default=0.0, metavar="KM", help="km on the shoe (wear)")
    p.add_argument("--mount-error", type=float, default=0.0, metavar="DEG",
                   help="mounting error: rotation angle in deg about a random axis")
    p.add_argument("--random-orientation", action="store_true", help="sensor worn any way up")
    p.add_argument("--noise", type=float, default=0.01, metavar="G", help="white noise std per axis, g")
    p.add_argument("--bias", type=float, default=0.0, metavar="G", help="std of a constant bias per axis, g")
    p.add_argument("--range", type=float, default=None, metavar="G", dest="range_g",
                   help="sensor full scale +-G (per-axis clipping)")
    p.add_argument("--bits", type=int, default=None, help="ADC bits over +-range (quantisation)")
    p.add_argument("--jitter", type=float, default=0.0, metavar="S", help="timestamp jitter std, s")
    p.add_argument("--gaps", default="0", metavar="N|START:DUR,...",
                   help="BLE-style gaps: a count of random ones, or start_s:duration_s pairs")
    p.add_argument("--gyro", action="store_true", help="also write gyroscope columns (deg/s)")
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed, same files")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV path")
    p.add_argument("--force", action="store_true",
                   help="replace existing FILE.csv, FILE.json and FILE.truth.json")
    p.set_defaults(func=run)


def _parse_gaps(text: str) -> int | list[tuple[float, float]]:
    """`3` -> 3 random gaps; `10:0.5,30:1` -> gaps at 10 s (0.5 s long) and 30 s (1 s long)."""
    text = text.strip()
    try:
        if ":" not in text:
            n = int(text)
            if n < 0:
                raise ValueError
            return n
        out = []
        for part in text.split(","):
            start, dur = part.split(":")
            out.append((float(start), float(dur)))
            if out[-1][0] < 0 or out[-1][1] <= 0:
                raise ValueError
        return out
    except ValueError:
        raise InputError(f"expected a count or start_s:duration_s,... got {text!r}", field="--gaps") from None


def run(args: argparse.Namespace) -> int:
    """Simulate and write the files; returns the exit code."""
    from rich.console import Console

    from gaitimpact.io.fsutil import check_output
    from gaitimpact.io.sidecar import sidecar_path
    from gaitimpact.sim import SimConfig, SimSegment, parse_segments, simulate, write_simulation
    from gaitimpact.sim.writer import truth_path

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise InputError("output must be a .csv file", path=str(out), field="--out")
    if not out.parent.exists():
        raise InputError("folder does not exist", path=str(out.parent), field="--out")
    for target in (out, sidecar_path(out), truth_path(out)):
        # an existing recording, its sidecar or truth is replaced only with --force
        if os.path.lexists(target) and not args.force:
            raise InputError("already exists: use --force to replace it", path=str(target), field="--out")
        check_output(target, force=args.force, field="--out")
    if args.segments is not None:
        segments = parse_segments(args.segments)
    else:
        segments = [SimSegment(args.duration, "run", args.speed, args.surface.lower())]
    gaps = _parse_gaps(args.gaps)
    rate = args.rate if args.rate is not None else (200.0 if args.placement == "waist" else 500.0)
    cfg = SimConfig(placement=args.placement, fs_hz=rate, segments=segments, shoe=args.shoe,
                    shoe_km=args.shoe_km, mount_error_deg=args.mount_error,
                    random_orientation=args.random_orientation, noise_g=args.noise, bias_g=args.bias,
                    range_g=args.range_g, quant_bits=args.bits, jitter_s=args.jitter, gaps=gaps,
                    side=args.side, seed=args.seed, gyro=args.gyro)
    res = simulate(cfg)
    csv, side, truth = write_simulation(res, out)
    t = res.truth
    console = Console(stderr=False)
    console.print(
        f"simulated {res.recording.duration_s:.1f} s {cfg.placement} at {rate:g} Hz: "
        f"{len(t.ic_time_s)} running strikes, cadence {t.cadence_spm:.1f} spm, "
        f"{len(t.gaps)} gaps", highlight=False, markup=False)
    for path in (csv, side, truth):
        console.print(f"wrote {path}", highlight=False, markup=False)
    return 0
