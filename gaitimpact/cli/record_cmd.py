"""`gaitimpact scan` and `gaitimpact record`: find BLE sensors and record a run live to CSV + sidecar."""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gaitimpact.errors import DeviceError, GaitImpactError, InputError
from gaitimpact.recording import PLACEMENTS

if TYPE_CHECKING:  # the parsers are registered without importing rich
    from rich.console import Console

    from gaitimpact.analysis.service import AnalysisResult
    from gaitimpact.ble.recorder import Recorder, RecordResult
    from gaitimpact.cli.record_view import RecordView


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


class _ProfileChoices(Sequence[str]):
    """"auto" and the registered profile names, looked up (the profile modules imported) only when read:
    by `record --help` or a given --profile, never by `gaitimpact --help` or another command."""

    def _names(self) -> list[str]:
        from gaitimpact.ble.profiles import all_profiles

        return ["auto", *all_profiles()]

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - Sequence protocol
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `scan` and `record` sub-commands."""
    p = subparsers.add_parser(
        "scan",
        help="list nearby BLE sensors that speak a supported profile",
        description="List nearby Bluetooth LE sensors that speak a supported profile (exit 1 when none).",
    )
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
        choices=_ProfileChoices(),
        default="auto",
        metavar="PROFILE",  # a metavar: argparse would list (import) the profiles when the parser is built
        help="sensor profile: %(choices)s (default: auto from the advertised/resolved services)",
    )
    r.add_argument("--rate", type=_positive(), metavar="HZ", help="sampling rate in Hz (default: device max)")
    r.add_argument(
        "--range",
        dest="range_g",
        type=_positive(),
        metavar="G",
        help="full-scale range in g (default: the smallest the device offers that suits the placement: "
        "waist 8 g, shank 16 g, shoe or unknown 32 g; the choice is printed)",
    )
    r.add_argument("--duration", type=_positive(), metavar="S", help="stop after S seconds (default: Ctrl-C)")
    r.add_argument("--out", required=True, type=Path, metavar="FILE.csv", help="output CSV (must not exist)")
    r.add_argument(
        "--placement",
        choices=["auto", *PLACEMENTS],
        default="auto",
        help="where the sensor is worn (default auto: a Polar H10 is a chest strap, analysed as waist; "
        "otherwise detected from the signal); also picks the default --range",
    )
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
    r.add_argument(
        "--data-timeout",
        type=_positive(),
        default=10.0,
        metavar="S",
        help="give up when a started sensor sends no samples for S seconds (default 10)",
    )
    r.add_argument(
        "--no-live",
        action="store_true",
        help="no live table: a status line on stderr every 5 s and when the link status changes",
    )
    r.add_argument("--quiet", action="store_true", help="no live view and no status lines")
    r.add_argument("--events", type=Path, metavar="FILE.jsonl", help=argparse.SUPPRESS)
    r.add_argument("--hop", type=_positive(), default=0.1, metavar="S", help=argparse.SUPPRESS)
    r.set_defaults(func=run_record)


def run_session(session: Coroutine[Any, Any, Any]) -> Any:
    """Run a recording session to its end on uvloop where it is installed (Linux), else on asyncio's loop.

    The recorder wakes for every BLE notification (~50/s per sensor, each a D-Bus signal on the bus socket);
    libuv's loop does that wake-up in C where asyncio's runs ~40 lines of Python (`BaseEventLoop._run_once`,
    the selector). benchmarks/record.py, both loops side by side at once: 2.3-2.4 % of a core against 2.4-2.6 %
    at 1000 Hz, the same samples and strikes.
    """
    import asyncio

    try:
        import uvloop
    except ImportError:
        return asyncio.run(session)
    return uvloop.run(session)


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


def _print_summary(out: Path, result: RecordResult, console: Console) -> AnalysisResult | None:
    """The recording's counters and notes, then the `analyze` summary of the file just written."""
    from gaitimpact.analysis.service import analyze_path
    from gaitimpact.cli.analyze_cmd import print_summary

    console.print(
        f"recorded {result.samples} samples to {out} ({result.packets_received} packets, "
        f"{result.packets_lost} lost, {len(result.gaps)} gaps, {result.malformed} malformed, "
        f"{result.reconnects} reconnects, clock drift {result.drift_ppm:+.0f} ppm)",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"  {note}")
    for reason in dict.fromkeys(result.malformed_reasons):
        console.print(f"  malformed packet: {reason}")
    for warning in result.warnings:
        console.print(f"  warning: {warning}")
    if math.isfinite(result.live_cadence_spm) or result.live_strikes:
        console.print(
            f"  live view saw {result.live_strikes} strikes, cadence {result.live_cadence_spm:.1f} steps/min, "
            f"median peak {result.live_median_peak_g:.2f} g",
            highlight=False,
        )
    try:
        analysis = analyze_path(out)
    except GaitImpactError as exc:
        console.print(f"analysis of {out}: {exc}")
        return None
    print_summary(analysis.summary, console=console)
    return analysis


async def _session(recorders: list[Recorder], view: RecordView) -> list[RecordResult | BaseException]:
    """Run the recorders with Ctrl-C/SIGTERM handling, surface keys and the view."""
    import asyncio

    from gaitimpact.ble.recorder import run_recorders
    from gaitimpact.cli.record_view import REFRESH_EVERY_S, key_input

    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for r in recorders:
            r.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_all)

    def keys(ch: str) -> None:
        for r in recorders:
            r.mark_surface(ch)

    with key_input(keys), view:  # --quiet shows nothing: no view wake-ups
        on_tick = None if view.quiet else (lambda states: view.update(states, loop.time()))
        return await run_recorders(recorders, on_tick, every_s=REFRESH_EVERY_S)


def run_record(args: argparse.Namespace) -> int:
    """Record live; 0 when stopped by --duration or Ctrl-C, 1 when the device was lost for good."""
    from dataclasses import replace

    from gaitimpact.ble.recorder import RecordOptions, RecordResult, open_recorders, output_for
    from gaitimpact.cli.record_view import RecordView
    from gaitimpact.usertext import plain_console

    if args.out.suffix.lower() != ".csv":
        raise InputError("output must be a .csv file", path=str(args.out))
    devices = args.device or [None]
    if len(set(devices)) != len(devices):
        raise InputError("the same --device is given twice", field="device")
    opts = RecordOptions(
        out=args.out,
        profile=args.profile,
        rate_hz=args.rate,
        range_g=args.range_g,
        duration_s=args.duration,
        placement=args.placement,
        surface=args.surface,
        shoe=args.shoe,
        scan_timeout_s=args.scan_timeout,
        reconnect_timeout_s=args.reconnect_timeout,
        data_timeout_s=args.data_timeout,
        events_path=args.events,
        hop_s=args.hop,
    )
    many = len(devices) > 1
    opts_list = [
        replace(opts, device=d, out=output_for(args.out, d), events_path=None) if many else replace(opts, device=d)
        for d in devices
    ]
    console = plain_console(stderr=True, quiet=args.quiet)
    recorders = open_recorders(opts_list)
    view = RecordView(console, live=not args.no_live, quiet=args.quiet)
    outcomes = run_session(_session(recorders, view))
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    runs = [(r.opts.out, o) for r, o in zip(recorders, outcomes) if isinstance(o, RecordResult)]
    out_console = plain_console()
    analysed = [(out, _print_summary(out, result, out_console)) for out, result in runs]
    if many:
        from gaitimpact.ble.alignment import describe_alignment

        for line in describe_alignment([(out, a) for out, a in analysed if a is not None]):
            out_console.print(line)
    if failures:
        raise failures[0]
    lost = [result for _out, result in runs if result.ended == "lost"]
    if lost:
        raise DeviceError(
            f"connection to the sensor lost for good (no reconnect within {args.reconnect_timeout:g} s"
            + (f"; last error: {lost[0].last_error}" if lost[0].last_error else "")
            + "); the file is closed and complete up to the loss"
        )
    return 0
