"""`gaitimpact scan` and `gaitimpact record`: find BLE sensors and record a run live to CSV + sidecar."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from gaitimpact.errors import DeviceError, GaitImpactError, InputError
from gaitimpact.recording import PLACEMENTS

if TYPE_CHECKING:  # the parsers are registered without importing rich
    from rich.console import Console


def _positive(kind: type = float):  # noqa: ANN202
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `scan` and `record` sub-commands."""
    from gaitimpact.ble.profiles import all_profiles

    p = subparsers.add_parser(
        "scan", help="list nearby BLE sensors that speak a supported profile",
        description="Listen for Bluetooth LE sensors for a few seconds and list those gaitimpact can record "
        "from (name, address, profile, signal strength); use a name or address with `record --device`.")
    p.add_argument("--timeout", type=_positive(), default=5.0, metavar="S", help="scan time in s (default 5)")
    p.set_defaults(func=run_scan)

    r = subparsers.add_parser(
        "record",
        help="record a run live from a BLE sensor to CSV + sidecar, then print its analysis",
        description="Record live over Bluetooth LE. Keys while recording (terminal only): "
        "1 asphalt, 2 concrete, 3 track, 4 grass, 5 trail, 6 treadmill mark a surface change.",
    )
    r.add_argument(
        "--device",
        action="append",
        metavar="NAME|ADDRESS",
        help="sensor name or address (default: first found); repeat to record several sensors at once "
        "into FILE_<device>.csv each, aligned through the host clock",
    )
    r.add_argument(
        "--profile",
        choices=["auto", *all_profiles()],
        default="auto",
        help="sensor profile (default: auto from the advertised/resolved services)",
    )
    r.add_argument("--rate", type=_positive(), metavar="HZ", help="sampling rate in Hz (default: device max)")
    r.add_argument(
        "--range",
        dest="range_g",
        type=_positive(),
        metavar="G",
        help="full-scale range in g (default: the device's widest)",
    )
    r.add_argument("--duration", type=_positive(), metavar="S", help="stop after S seconds (default: Ctrl-C)")
    r.add_argument("--out", required=True, type=Path, metavar="FILE.csv", help="output CSV (must not exist)")
    r.add_argument("--placement", choices=["auto", *PLACEMENTS], default="auto",
                   help="where the sensor is worn (default: auto-detected from the signal)")
    r.add_argument(
        "--surface", help="surface at the start (asphalt, concrete, track, grass, trail, treadmill)"
    )
    r.add_argument("--shoe", help="shoe name")
    r.add_argument(
        "--scan-timeout",
        type=_positive(),
        default=10.0,
        metavar="S",
        help="give up finding the device after S seconds (default 10)",
    )
    r.add_argument(
        "--reconnect-timeout",
        type=_positive(),
        default=30.0,
        metavar="S",
        help="give up reconnecting after S seconds without the device (default 30)",
    )
    r.add_argument("--no-live", action="store_true", help="no live view (status lines only)")
    r.add_argument("--quiet", action="store_true", help="no live view and no status lines")
    r.add_argument("--events", type=Path, metavar="FILE.jsonl", help=argparse.SUPPRESS)
    r.add_argument("--hop", type=_positive(), default=0.1, metavar="S", help=argparse.SUPPRESS)
    r.set_defaults(func=run_record)


def run_scan(args: argparse.Namespace) -> int:
    """List supported sensors in range; exit 1 when none."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from gaitimpact.ble.scan import describe_ble_error, scan

    try:
        found = asyncio.run(scan(args.timeout))
    except Exception as exc:  # noqa: BLE001 - no adapter / no BlueZ: one line, exit 1
        raise DeviceError(f"cannot scan: {describe_ble_error(exc)}") from None
    console = Console()
    if not found:
        console.print(f"no sensor speaking a supported profile found ({args.timeout:g} s scan)")
        return 1
    table = Table(title="BLE sensors")
    for col in ("name", "address", "rssi_dbm", "profile"):
        table.add_column(col)
    for f in found:
        table.add_row(
            f.name or "-", f.address, "-" if f.rssi_dbm is None else str(f.rssi_dbm), f.profile or "-"
        )
    console.print(table)
    return 0


def _print_summary(console: Console, out: Path, result) -> None:  # noqa: ANN001
    """Print the recording counters and the offline analysis of the written file."""
    from rich.table import Table

    console.print(
        f"recorded {result.samples} samples to {out} ({result.packets_received} packets, "
        f"{result.packets_lost} lost, {len(result.gaps)} gaps, {result.malformed} malformed, "
        f"{result.reconnects} reconnects, clock drift {result.drift_ppm:+.0f} ppm)"
    )
    for reason in dict.fromkeys(result.malformed_reasons):
        console.print(f"  malformed packet: {reason}")
    for warning in result.warnings:
        console.print(f"  warning: {warning}")
    try:
        from gaitimpact.analysis.service import analyze_path

        summary = analyze_path(out).summary
    except GaitImpactError as exc:
        console.print(f"analysis: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - the recording is safe; the summary is best effort
        console.print(f"analysis failed: {type(exc).__name__}: {exc}")
        return
    peak = summary.get("peak_g") or {}
    table = Table(title=f"analysis of {out.name}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    if summary.get("status") == "no_running":
        from gaitimpact.analysis.summary import NO_RUNNING_TEXT

        table.add_row("result", NO_RUNNING_TEXT)
    table.add_row("placement", str(summary.get("placement")))
    table.add_row("duration_s", str(summary.get("duration_s")))
    table.add_row("running_s", str(summary.get("running_s")))
    table.add_row("strikes", str(summary.get("strikes")))
    table.add_row("cadence_spm (offline)", str(summary.get("cadence_spm")))
    table.add_row(
        "cadence_spm (live)",
        "-" if not math.isfinite(result.live_cadence_spm) else f"{result.live_cadence_spm:.1f}",
    )
    table.add_row("peak_g median (offline)", str(peak.get("median")))
    table.add_row(
        "peak_g median (live)",
        "-" if not math.isfinite(result.live_median_peak_g) else f"{result.live_median_peak_g:.3f}",
    )
    table.add_row("peak_g p95", str(peak.get("p95")))
    console.print(table)


def run_record(args: argparse.Namespace) -> int:
    """Record live; 0 when stopped by --duration or Ctrl-C, 1 when the device was lost for good."""
    from dataclasses import replace

    from rich.console import Console

    from gaitimpact.ble.recorder import RecordOptions, output_for, record, record_many

    if args.out.suffix.lower() != ".csv":
        raise InputError("output must be a .csv file", path=str(args.out))
    devices = args.device or [None]
    opts = RecordOptions(
        out=args.out,
        device=devices[0],
        profile=args.profile,
        rate_hz=args.rate,
        range_g=args.range_g,
        duration_s=args.duration,
        placement=args.placement,
        surface=args.surface,
        shoe=args.shoe,
        scan_timeout_s=args.scan_timeout,
        reconnect_timeout_s=args.reconnect_timeout,
        live=not (args.no_live or args.quiet),
        events_path=args.events,
        hop_s=args.hop,
    )
    console = Console(stderr=True, quiet=args.quiet)
    if len(devices) == 1:
        runs = [(args.out, record(opts, console))]
    else:
        if len(set(devices)) != len(devices):
            raise InputError("the same --device is given twice", field="device")
        many = [replace(opts, device=d, out=output_for(args.out, d), events_path=None) for d in devices]
        runs = list(zip([o.out for o in many], record_many(many, console)))
    out_console = Console()
    for out, result in runs:
        _print_summary(out_console, out, result)
    if any(result.ended == "lost" for _out, result in runs):
        raise DeviceError(
            f"connection to the sensor lost for good (no reconnect within "
            f"{args.reconnect_timeout:g} s); the file is closed and complete up to the loss"
        )
    return 0
