"""`python -m gaitimpact.devtools.fake_bluez`: serve simulated devices, or run a self-test."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import struct
import sys
import time
from collections.abc import Sequence
from typing import Any

from gaitimpact.devtools.fake_bluez.control import _CONTROL_SIGNATURES
from gaitimpact.devtools.fake_bluez.demo import DEMO_COUNTER_UUID
from gaitimpact.devtools.fake_bluez.hosting import FakeBluezProcess, apply_factory
from gaitimpact.devtools.fake_bluez.model import CONTROL_BUS_NAME
from gaitimpact.devtools.fake_bluez.server import FakeBluez


async def _selftest_client(address: str, seconds: float) -> dict[str, Any]:
    import resource

    from bleak import BleakClient, BleakScanner

    t0 = time.perf_counter()
    device = await BleakScanner.find_device_by_address(address, timeout=10.0)
    if device is None:
        raise RuntimeError(f"self-test: demo device {address} not found by scan")
    t_found = time.perf_counter()
    seqs: list[int] = []
    async with BleakClient(device, timeout=10.0) as client:
        t_connected = time.perf_counter()
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t_stream = time.perf_counter()
        await client.start_notify(DEMO_COUNTER_UUID,
                                  lambda _c, data: seqs.append(struct.unpack_from("<I", data)[0]))
        await asyncio.sleep(seconds)
        await client.stop_notify(DEMO_COUNTER_UUID)
        t_stopped = time.perf_counter()
        await asyncio.sleep(0.3)  # let in-flight notifications arrive
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime
    return {"scan_s": t_found - t0, "connect_s": t_connected - t_found, "stream_s": t_stopped - t_stream,
            "received": len(seqs), "in_order": seqs == list(range(len(seqs))),
            "client_cpu_pct": 100.0 * cpu_s / (time.perf_counter() - t_stream)}


def selftest(seconds: float = 2.0, rate_hz: float = 1000.0, payload_bytes: int = 20,
             bus_address: str | None = None) -> dict[str, Any]:
    """Scan, connect and stream `seconds` s from a demo device at rate_hz with real bleak; figures in a dict.

    The fake runs in a subprocess (so client_cpu_pct is bleak's own share of one core); a private
    dbus-daemon is started unless bus_address is given. Keys: scan_s, connect_s, stream_s, received,
    sent, in_order, notifications_per_s, client_cpu_pct.
    """
    from gaitimpact.devtools.dbus_daemon import DBusDaemon, bluez_environ

    with contextlib.ExitStack() as stack:
        if bus_address is None:
            bus_address = stack.enter_context(DBusDaemon()).address
        stack.enter_context(bluez_environ(bus_address))
        host = stack.enter_context(FakeBluezProcess(
            bus_address, options={"rate_hz": str(rate_hz), "payload_bytes": str(payload_bytes)}))
        figures = asyncio.run(_selftest_client("C0:FF:EE:00:00:01", seconds))
        figures["sent"] = int(host.control("Command", "C0:FF:EE:00:00:01", "sent", ""))
    figures["notifications_per_s"] = figures["received"] / figures["stream_s"]
    return figures


# ---------------------------------------------------------------------------------------------
# python -m gaitimpact.devtools.fake_bluez
# ---------------------------------------------------------------------------------------------


def _parse_opts(pairs: Sequence[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"fake_bluez: --opt wants key=value, got {pair!r}")
        options[key] = value
    return options


async def _serve(args: argparse.Namespace) -> int:
    from gaitimpact.devtools.dbus_daemon import DBusDaemon, bluetoothctl_dir

    daemon = None
    address = args.bus
    if not address:
        daemon = DBusDaemon()
        address = daemon.start()
    fake = FakeBluez(advertising_interval_s=args.advertising_interval)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await fake.start(address)
        await apply_factory(fake, args.factory, _parse_opts(args.opt))
        names = ", ".join(f"{d.name or '?'} {d.address}" for d in fake.devices)
        if daemon is not None:
            print(f"export DBUS_SYSTEM_BUS_ADDRESS='{address}' PATH='{bluetoothctl_dir()}':\"$PATH\"",
                  flush=True)
        print(f"READY bus={address} devices=[{names}]", flush=True)
        await stop.wait()
    finally:
        await fake.stop()
        if daemon is not None:
            daemon.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: serve a fake BlueZ with devices from a factory until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m gaitimpact.devtools.fake_bluez",
        description="Serve a fake BlueZ (org.bluez) on a D-Bus bus so real bleak works without a radio. "
                    "Prints 'READY bus=ADDRESS ...' when devices are up; control it via "
                    f"{CONTROL_BUS_NAME} ({', '.join(_CONTROL_SIGNATURES)}).")
    parser.add_argument("--bus", help="bus address to serve on (default: start a private dbus-daemon and "
                                      "print the environment to use)")
    parser.add_argument("--factory", default="gaitimpact.devtools.fake_bluez:demo_devices",
                        help="module:function(fake, options) returning the FakeDevice list "
                             "(default: %(default)s)")
    parser.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                        help="option passed to the factory (repeatable)")
    parser.add_argument("--advertising-interval", type=float, default=0.1, metavar="S",
                        help="seconds between advertisements while scanning (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    parser.add_argument("--selftest", type=float, metavar="S",
                        help="instead of serving: run real bleak against a demo device for S seconds "
                             "(rate from --opt rate_hz, default 1000) and print the figures")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    if args.selftest is not None:
        opts = _parse_opts(args.opt)
        rate_hz = float(opts.get("rate_hz", "1000"))
        fig = selftest(args.selftest, rate_hz, int(opts.get("payload_bytes", "20")), args.bus or None)
        print(f"fake BlueZ self-test ({rate_hz:g} Hz): scan {fig['scan_s']:.2f} s, "
              f"connect {fig['connect_s']:.3f} s, received {fig['received']} of {fig['sent']} notifications "
              f"in order={fig['in_order']} ({fig['notifications_per_s']:.0f}/s), "
              f"bleak client CPU {fig['client_cpu_pct']:.1f}% of one core")
        return 0 if fig["in_order"] and fig["received"] == fig["sent"] else 1
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
