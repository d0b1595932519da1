"""Live recording over BLE: find, connect, configure, stream to a crash-safe CSV, reconnect, summarise.

Data path per notification: profile decoder -> `Assembler` (clock mapping, lost packets, gaps) ->
pending rows; a 0.1 s tick appends pending rows to the CSV (`CsvAppender`: written to the OS at once,
fsync'ed at least once a second) and feeds the streaming core. The sidecar is rewritten atomically every
few seconds, so a killed recorder leaves a readable CSV plus metadata up to the last tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import shutil
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from rich.console import Console, Group
from rich.live import Live

from gaitimpact.ble.live_view import SURFACE_KEYS, LiveState, key_input, render, status_line
from gaitimpact.ble.profiles import get_profile, profile_for_services
from gaitimpact.ble.profiles.base import PacketError, StreamSetup, normalise_uuid
from gaitimpact.ble.scan import Found, describe_ble_error, find
from gaitimpact.ble.timeline import Assembler
from gaitimpact.core.streaming import StreamingAnalyzer
from gaitimpact.errors import DeviceError, GaitImpactError, InputError
from gaitimpact.io.csv_writer import CsvAppender
from gaitimpact.io.sidecar import sidecar_path, write_sidecar
from gaitimpact.recording import Metadata, SurfaceSegment

BATTERY_LEVEL_UUID = normalise_uuid("2a19")
MIN_FREE_BYTES = 8 * 1024 * 1024
"""Refuse to start with less free space than this (a 1000 Hz hour is ~150 MB)."""
TICK_S = 0.1
SIDECAR_EVERY_S = 2.0


@dataclass
class RecordOptions:
    """What `gaitimpact record` was asked to do (rates in Hz, ranges in g, durations in s)."""

    out: Path
    device: str | None = None
    profile: str = "auto"
    rate_hz: float | None = None
    range_g: float | None = None
    duration_s: float | None = None
    placement: str = "auto"
    surface: str | None = None
    shoe: str | None = None
    scan_timeout_s: float = 10.0
    reconnect_timeout_s: float = 30.0
    live: bool = True
    events_path: Path | None = None
    hop_s: float = 0.1
    status_lines: bool = True


@dataclass
class RecordResult:
    """Outcome of a recording: counters, gaps and how it ended ("duration", "interrupted", "lost")."""

    ended: str = ""
    samples: int = 0
    packets_received: int = 0
    packets_lost: int = 0
    malformed: int = 0
    malformed_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    gaps: list = field(default_factory=list)
    reconnects: int = 0
    live_cadence_spm: float = math.nan
    live_median_peak_g: float = math.nan
    live_strikes: int = 0
    drift_ppm: float = 0.0


def preflight(out: Path) -> CsvAppender:
    """Open the output CSV (header written and fsync'ed) and check space, BEFORE any BLE activity.

    Unwritable folder, existing file, full disk: InputError (exit 2).
    """
    try:
        appender = CsvAppender(out)
    except GaitImpactError as exc:
        raise InputError(str(exc)) from None
    try:
        free = shutil.disk_usage(out.parent if str(out.parent) else ".").free
    except OSError:
        free = MIN_FREE_BYTES
    if free < MIN_FREE_BYTES:
        appender.close()
        raise InputError(
            f"only {free // 1024} KiB free on the disk (need {MIN_FREE_BYTES // 2**20} MiB)", path=str(out)
        )
    try:
        write_sidecar(out, Metadata(placement="auto"), recording="starting")
    except GaitImpactError as exc:
        appender.close()
        raise InputError(str(exc)) from None
    return appender


class Recorder:
    """One live recording session (see module docstring)."""

    def __init__(self, opts: RecordOptions, appender: CsvAppender, console: Console | None = None) -> None:
        self.opts = opts
        self.appender = appender
        self.console = console or Console(stderr=True)
        self.assembler = Assembler()
        self.result = RecordResult()
        self.state = LiveState(surface=opts.surface)
        self.analyzer: StreamingAnalyzer | None = None
        self.setup: StreamSetup | None = None
        self.profile: Any = None
        self.found: Found | None = None
        self.client: BleakClient | None = None
        self._pending_t: list[np.ndarray] = []
        self._pending_a: list[np.ndarray] = []
        self._disconnected = asyncio.Event()
        self._stop = asyncio.Event()
        self._t_start_host: float | None = None
        self._t_connected: float | None = None
        self._start_utc: datetime | None = None
        self._segments: list[tuple[float, str]] = [(0.0, opts.surface)] if opts.surface else []
        self._events = None
        self._last_event_strike = math.nan
        self._rate_window: list[tuple[float, int]] = []

    # ---------------------------------------------------------------- notification path
    def _on_data(self, _char: Any, data: bytearray) -> None:
        host_s = time.monotonic()
        assert self.setup is not None
        try:
            block = self.setup.decoder.decode(data)
        except PacketError as exc:
            self.result.malformed += 1
            if len(self.result.malformed_reasons) < 20:
                self.result.malformed_reasons.append(str(exc))
            return
        chunk = self.assembler.push(block, host_s)
        if chunk is None or chunk.time_s.size == 0:
            return
        if self._t_start_host is None:
            self._t_start_host = host_s - (block.n - 1) * block.period_s
            self._start_utc = datetime.now(timezone.utc) - timedelta(
                seconds=time.monotonic() - self._t_start_host
            )
        if chunk.gap is not None:
            self._flush()
            if self.analyzer is not None:
                self.analyzer.add_gap(chunk.gap.start_s, chunk.gap.end_s)
        self._pending_t.append(chunk.time_s)
        self._pending_a.append(chunk.acc_g)

    def _on_battery(self, _char: Any, data: bytearray) -> None:
        if data:
            self.state.battery_pct = int(data[0])

    def _on_disconnect(self, _client: Any) -> None:
        self._disconnected.set()

    def _flush(self) -> None:
        """Append pending samples to the CSV and the streaming core."""
        if not self._pending_t:
            self.appender.maybe_sync()
            return
        t = np.concatenate(self._pending_t)
        a = np.concatenate(self._pending_a)
        self._pending_t.clear()
        self._pending_a.clear()
        self.appender.append(t, a)
        if self.analyzer is not None:
            self.analyzer.append(t, a)

    # ---------------------------------------------------------------- connection
    async def _find(self) -> Found:
        o = self.opts
        found = await find(o.device, o.profile, o.scan_timeout_s)
        if found is None:
            what = f"device {o.device!r}" if o.device else "no sensor speaking a supported profile"
            raise DeviceError(
                f"{what} not found within {o.scan_timeout_s:g} s of scanning"
                if o.device
                else f"{what} found within {o.scan_timeout_s:g} s of scanning"
            )
        return found

    def _choose_profile(self, client: BleakClient) -> Any:
        uuids = [s.uuid for s in client.services]
        assert self.found is not None
        if self.opts.profile != "auto":
            prof = get_profile(self.opts.profile)
            if not prof.matches(uuids):
                raise DeviceError(
                    f"device {self.found.name or self.found.address} does not offer the "
                    f"{prof.NAME} profile (service {prof.SERVICE_UUID} missing)"
                )
            return prof
        prof = profile_for_services(uuids)
        if prof is None:
            raise DeviceError(
                f"device {self.found.name or self.found.address} speaks no supported profile "
                f"(services: {', '.join(sorted(uuids)) or 'none'})"
            )
        return prof

    async def _connect(self, first: bool) -> None:
        assert self.found is not None
        client = BleakClient(
            self.found.device if first else self.found.address,
            disconnected_callback=self._on_disconnect,
            timeout=10.0,
        )
        await client.connect()
        self.client = client
        self._disconnected.clear()
        try:
            if first:
                self.profile = self._choose_profile(client)
            setup = await self.profile.configure(client, rate_hz=self.opts.rate_hz, range_g=self.opts.range_g)
            if first:
                self.setup = setup
                self.analyzer = StreamingAnalyzer(
                    setup.fs_hz, placement=self.opts.placement, range_g=setup.range_g, hop_s=self.opts.hop_s
                )
            else:
                assert self.setup is not None
                setup.decoder = self.setup.decoder  # keep the decoder state (clock unwrap, period)
                self.setup.extra = setup.extra
            await client.start_notify(self.setup.data_char_uuid, self._on_data)
            await self.profile.start(client, self.setup)
            await self._battery(client)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 3.0)
            if isinstance(exc, ValueError):  # the device refused our settings / lacks the stream
                raise DeviceError(f"{self.found.name or self.found.address}: {exc}") from None
            raise

    async def _battery(self, client: BleakClient) -> None:
        char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
        if char is None:
            return
        with contextlib.suppress(Exception):
            self._on_battery(None, await client.read_gatt_char(char))
            if "notify" in char.properties:
                await client.start_notify(char, self._on_battery)

    async def _reconnect(self) -> bool:
        """Try to get the device back with exponential backoff; False when `reconnect_timeout_s` ran out."""
        assert self.found is not None
        self.assembler.mark_reconnect()
        self.result.reconnects += 1
        deadline = time.monotonic() + self.opts.reconnect_timeout_s
        delay = 0.25
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if self._duration_reached():
                return True
            if remaining <= 0:
                return False
            self.state.status = "reconnecting"
            try:
                dev = await BleakScanner.find_device_by_address(
                    self.found.address, timeout=min(max(delay, 1.0), remaining)
                )
                if dev is not None:
                    self.found.device = dev
                    await asyncio.wait_for(self._connect(first=False), timeout=max(1.0, remaining))
                    self.state.status = "recording"
                    return True
            except DeviceError:
                raise
            except Exception:  # noqa: BLE001 - any BLE failure: back off and retry until the deadline
                pass
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 4.0)
        return True

    def _duration_reached(self) -> bool:
        t_begin = self._t_start_host if self._t_start_host is not None else self._t_connected
        return (
            self.opts.duration_s is not None
            and t_begin is not None
            and time.monotonic() - t_begin >= self.opts.duration_s
        )

    # ---------------------------------------------------------------- main loop
    def _key(self, ch: str) -> None:
        surface = SURFACE_KEYS.get(ch)
        if surface is None:
            return
        now = self.assembler.last_time_s or 0.0
        self._segments.append((now, surface))
        self.state.surface = surface

    def _segments_meta(self) -> list[SurfaceSegment]:
        segs = [s for s in self._segments if s[1]]
        if not segs:
            return []
        end = self.assembler.last_time_s or 0.0
        if len(segs) == 1 and segs[0][0] == 0.0:
            return [SurfaceSegment(0.0, math.inf, segs[0][1])]
        out = []
        for i, (start, surface) in enumerate(segs):
            stop = segs[i + 1][0] if i + 1 < len(segs) else max(end, start)
            if stop > start or i + 1 == len(segs):
                out.append(SurfaceSegment(start, stop, surface))
        return out

    def metadata(self) -> Metadata:
        """The sidecar metadata as known now."""
        o = self.opts
        setup = self.setup
        device = {
            "name": self.found.name if self.found else None,
            "address": self.found.address if self.found else None,
            "profile": self.profile.NAME if self.profile else None,
            "firmware": setup.firmware if setup else None,
            "model": setup.model if setup else None,
        }
        return Metadata(
            placement=o.placement,
            segments=self._segments_meta(),
            shoe=o.shoe,
            device=device,
            range_g=setup.range_g if setup else None,
            start_utc=self._start_utc,
        )

    def write_sidecar(self, recording: str) -> None:
        """Rewrite the sidecar atomically with the counters so far."""
        a = self.assembler
        write_sidecar(
            self.opts.out,
            self.metadata(),
            fs_hz=self.setup.fs_hz if self.setup else None,
            gaps=list(a.gaps),
            packets_lost=a.packets_lost,
            packets_received=a.packets_received,
            samples_received=a.samples,
            malformed_packets=self.result.malformed,
            reconnects=self.result.reconnects,
            clock_drift_ppm=round(a.clock.drift_ppm, 2),
            recording=recording,
            **self._live_extra(),
        )

    def _live_extra(self) -> dict:
        r = self.result
        if not r.ended or self.analyzer is None:
            return {}
        return {
            "live": {
                "strikes": r.live_strikes,
                "cadence_spm": round(r.live_cadence_spm, 2) if math.isfinite(r.live_cadence_spm) else None,
                "peak_g_median": round(r.live_median_peak_g, 4)
                if math.isfinite(r.live_median_peak_g)
                else None,
            }
        }

    def _update_state(self) -> None:
        st = self.state
        now = time.monotonic()
        a = self.assembler
        st.samples, st.packets_lost, st.gaps = a.samples, a.packets_lost, len(a.gaps)
        st.malformed = self.result.malformed
        t_begin = self._t_start_host if self._t_start_host is not None else self._t_connected
        st.elapsed_s = now - t_begin if t_begin is not None else 0.0
        self._rate_window.append((now, a.samples))
        while len(self._rate_window) > 2 and now - self._rate_window[0][0] > 2.0:
            self._rate_window.pop(0)
        (t0, n0), (t1, n1) = self._rate_window[0], self._rate_window[-1]
        st.samples_per_s = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
        if self.analyzer is not None:
            f = self.analyzer.figures()
            st.cadence_spm, st.last_peak_g, st.rolling_peak_g = f.cadence_spm, f.last_peak_g, f.rolling_peak_g
            st.strikes = f.n_strikes
            if (
                self._events is not None
                and math.isfinite(f.last_strike_time_s)
                and f.last_strike_time_s != self._last_event_strike
            ):
                self._last_event_strike = f.last_strike_time_s
                self._events.write(
                    json.dumps(
                        {
                            "host_unix_s": time.time(),
                            "strike_time_s": f.last_strike_time_s,
                            "peak_g": f.last_peak_g,
                            "start_unix_s": self._start_utc.timestamp() if self._start_utc else None,
                        }
                    )
                    + "\n"
                )
                self._events.flush()

    async def _stream(self, live: Any) -> None:
        """Tick until duration, stop request or a disconnect that cannot be healed."""
        last_sidecar = time.monotonic()
        last_status = time.monotonic()
        while not self._stop.is_set():
            await asyncio.sleep(TICK_S)
            self._flush()
            if self.analyzer is not None:
                self.analyzer.update()
            self._update_state()
            now = time.monotonic()
            if now - last_sidecar >= SIDECAR_EVERY_S:
                self.write_sidecar("in progress")
                last_sidecar = now
            if live is not None:
                live.update(render(self.state))
            elif self.opts.live and self.opts.status_lines and now - last_status >= 5.0:
                self.console.print(status_line(self.state))
                last_status = now
            if self.opts.duration_s is not None and self.state.elapsed_s >= self.opts.duration_s:
                self.result.ended = "duration"
                return
            if self._disconnected.is_set():
                self._flush()
                ok = await self._reconnect()
                if not ok:
                    self.result.ended = "lost"
                    return
        if not self.result.ended:
            self.result.ended = "interrupted"

    async def run(self, *, standalone: bool = True, find_lock: asyncio.Lock | None = None) -> RecordResult:
        """Record until done; the CSV is closed and the sidecar final whatever happens.

        standalone: own the Ctrl-C handling, key input and live view (False when `record_many` does).
        """
        if standalone:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self._stop.set)
        if self.opts.events_path is not None:
            self._events = open(self.opts.events_path, "a", encoding="utf-8")  # noqa: SIM115
        try:
            try:
                async with find_lock or contextlib.nullcontext():  # one scan at a time per adapter
                    self.found = await self._find()
            except (GaitImpactError, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - no adapter, no BlueZ, D-Bus down: one line
                raise DeviceError(f"cannot scan for sensors: {describe_ble_error(exc)}") from None
            self.state.device = self.found.name or self.found.address
            try:
                await self._connect(first=True)
            except (GaitImpactError, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - BleakError, timeout, D-Bus error
                raise DeviceError(
                    f"cannot connect to {self.state.device}: {type(exc).__name__}: {exc}"
                ) from None
            self._t_connected = time.monotonic()
            self.state.status = "recording"
            use_live = standalone and self.opts.live and self.console.is_terminal
            with key_input(self._key) if standalone else contextlib.nullcontext():
                if use_live:
                    with Live(render(self.state), console=self.console, refresh_per_second=4) as live:
                        await self._stream(live)
                else:
                    await self._stream(None)
        finally:
            await self._close()
        return self.result

    def stop(self) -> None:
        """Ask the recording to end (as Ctrl-C does)."""
        self._stop.set()

    async def _close(self) -> None:
        client = self.client
        if client is not None and client.is_connected and self.profile is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.profile.stop(client), 2.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 3.0)
        try:
            self._flush()
        except GaitImpactError as exc:  # e.g. the disk filled up: keep what is on disk, say why
            self.result.warnings.append(f"last samples not written: {exc}")
        finally:
            with contextlib.suppress(GaitImpactError):
                self.appender.close()
        if self.analyzer is not None:
            self.analyzer.finish()
            self.result.live_cadence_spm = self.analyzer.cadence_spm()
            peaks = np.asarray(self.analyzer.strike_peak_g)
            self.result.live_median_peak_g = float(np.median(peaks)) if peaks.size else math.nan
            self.result.live_strikes = int(peaks.size)
        a = self.assembler
        self.result.samples, self.result.packets_received = a.samples, a.packets_received
        self.result.packets_lost, self.result.gaps = a.packets_lost, list(a.gaps)
        self.result.drift_ppm = a.clock.drift_ppm
        if self.found is not None:
            self.write_sidecar(self.result.ended or "aborted")
        if self._events is not None:
            self._events.close()


def record(opts: RecordOptions, console: Console | None = None) -> RecordResult:
    """Run a recording to the end (pre-flight first: path/disk errors before any BLE activity)."""
    appender = preflight(opts.out)
    recorder = Recorder(opts, appender, console)
    try:
        return asyncio.run(recorder.run())
    except BaseException:
        if not appender.closed:
            appender.close()
        raise
    finally:
        if recorder.assembler.samples == 0:
            # nothing was recorded (device not found, wrong profile): leave no empty CSV + sidecar behind
            for p in (opts.out, sidecar_path(opts.out)):
                with contextlib.suppress(OSError):
                    p.unlink()


def output_for(out: Path, device: str) -> Path:
    """Per-sensor output path when recording several sensors: run.csv + "GI-Shoe L" -> run_GI-Shoe-L.csv."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", device).strip("-") or "sensor"
    return out.with_name(f"{out.stem}_{safe}{out.suffix}")


async def _run_many(recorders: list[Recorder], console: Console) -> list[RecordResult | BaseException]:
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for r in recorders:
            r.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_all)
    lock = asyncio.Lock()
    tasks = [asyncio.ensure_future(r.run(standalone=False, find_lock=lock)) for r in recorders]

    def on_done(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            stop_all()  # one sensor failed to start or was lost: end the others cleanly too

    for t in tasks:
        t.add_done_callback(on_done)

    def keys(ch: str) -> None:
        for r in recorders:
            r._key(ch)

    with key_input(keys):
        if console.is_terminal and recorders[0].opts.live:
            with Live(console=console, refresh_per_second=4) as live:
                while not all(t.done() for t in tasks):
                    live.update(Group(*(render(r.state) for r in recorders)))
                    await asyncio.sleep(0.25)
        return list(await asyncio.gather(*tasks, return_exceptions=True))


def record_many(opts_list: list[RecordOptions], console: Console | None = None) -> list[RecordResult]:
    """Record several sensors at once into one file each (aligned through the host clock, `start_utc`).

    All outputs are checked before any BLE activity; the first failure is raised after every file is closed.
    """
    console = console or Console(stderr=True)
    appenders: list[CsvAppender] = []
    try:
        for o in opts_list:
            appenders.append(preflight(o.out))
    except BaseException:
        for a, o in zip(appenders, opts_list):
            a.close()
            for p in (o.out, sidecar_path(o.out)):
                with contextlib.suppress(OSError):
                    p.unlink()
        raise
    for o in opts_list:
        o.status_lines = False
    recorders = [Recorder(o, a, console) for o, a in zip(opts_list, appenders)]
    try:
        outcomes = asyncio.run(_run_many(recorders, console))
    finally:
        for r in recorders:
            if not r.appender.closed:
                r.appender.close()
            if r.assembler.samples == 0:
                for p in (r.opts.out, sidecar_path(r.opts.out)):
                    with contextlib.suppress(OSError):
                        p.unlink()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [o for o in outcomes if isinstance(o, RecordResult)]
