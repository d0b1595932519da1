"""A live recording: sensor link -> decoded blocks -> samples on the recording clock -> sinks.

`SensorLink` (link.py) delivers notifications; they wait for the next 0.1 s tick, where the profile's
decoder turns them into `Block`s at once (a run of contiguous packets is one block: a few numpy calls per
tick instead of per notification); the `Assembler` (timeline.py) maps each to recording time and finds lost
packets and gaps; the samples go to the `FileSink` (CSV + sidecar) and the `LiveAnalysis` (sinks.py). The
tick also flushes the file, updates the live figures in `LiveState` and watches the link: a lost link is
reconnected in the background while the tick goes on, so a view keeps refreshing ("reconnecting... 12 s").
No terminal here: the CLI renders `LiveState`, reads keys and owns the signal handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gaitimpact.ble.link import BLE_ERRORS, LinkOptions, SensorLink
from gaitimpact.ble.live_view import SURFACE_KEYS, LiveState
from gaitimpact.ble.profiles.base import Block, PacketError, decode_all
from gaitimpact.ble.sinks import FileSink, LiveAnalysis
from gaitimpact.ble.timeline import Assembler
from gaitimpact.core.streaming import load_core
from gaitimpact.errors import DeviceError, GaitImpactError, InputError
from gaitimpact.io.csv_writer import CsvAppender
from gaitimpact.io.sidecar import sidecar_path, write_sidecar
from gaitimpact.recording import Metadata, SurfaceSegment

MIN_FREE_BYTES = 8 * 1024 * 1024
"""Refuse to start with less free space than this (a 1000 Hz hour is ~150 MB)."""
TICK_S = 0.1
SIDECAR_EVERY_S = 5.0
"""The sidecar's counters are rewritten this often (s); also at once when the first samples arrived (device,
start time), so a killed recorder leaves them a few seconds old at most (the CSV itself: ~1 s)."""


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
    data_timeout_s: float = 10.0
    events_path: Path | None = None
    hop_s: float = 0.1


@dataclass
class RecordResult:
    """Outcome of a recording: counters, gaps, notes and how it ended ("duration", "interrupted", "lost")."""

    ended: str = ""
    samples: int = 0
    packets_received: int = 0
    packets_lost: int = 0
    malformed: int = 0
    malformed_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gaps: list = field(default_factory=list)
    reconnects: int = 0
    live_cadence_spm: float = math.nan
    live_median_peak_g: float = math.nan
    live_strikes: int = 0
    drift_ppm: float = 0.0
    last_error: str = ""


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

    def __init__(self, opts: RecordOptions, appender: CsvAppender) -> None:
        self.opts = opts
        self.link = SensorLink(
            LinkOptions(
                device=opts.device,
                profile=opts.profile,
                rate_hz=opts.rate_hz,
                range_g=opts.range_g,
                placement=opts.placement,
                scan_timeout_s=opts.scan_timeout_s,
                reconnect_timeout_s=opts.reconnect_timeout_s,
            ),
            self._on_data,
            self._on_battery,
        )
        self.file = FileSink(appender, opts.out)
        self.assembler = Assembler()
        self.live: LiveAnalysis | None = None
        self.placement = opts.placement
        self.result = RecordResult()
        self.state = LiveState(device=opts.device or "", surface=opts.surface)
        self._stop = asyncio.Event()
        self._t_first_host: float | None = None
        self._t_started: float | None = None
        self._last_data_host: float | None = None
        self._start_utc: datetime | None = None
        self._segments: list[tuple[float, str]] = [(0.0, opts.surface)] if opts.surface else []
        self._rate_window: list[tuple[float, int]] = []
        self._full = False  # --duration reached: later samples are not kept
        self._packets: list[tuple[bytearray, float]] = []  # notifications (data, host s) since the last tick

    # ---------------------------------------------------------------- notification path
    def _on_data(self, data: bytearray, host_s: float) -> None:
        """A notification arrived (host time in s): kept for the next tick, which decodes them together."""
        if self.link.setup is not None and not self._full:
            self._packets.append((data, host_s))

    def _drain(self) -> None:
        """Decode the notifications since the last tick at once; their samples go to the file sink."""
        setup = self.link.setup
        if not self._packets or setup is None:
            return
        packets, self._packets = self._packets, []
        i = 0
        for item in decode_all(setup.decoder, [data for data, _ in packets]):
            if isinstance(item, PacketError):
                self.result.malformed += 1
                if len(self.result.malformed_reasons) < 20:
                    self.result.malformed_reasons.append(str(item))
                i += 1
                continue
            arrivals = [host_s for _, host_s in packets[i : i + item.packets]]
            i += item.packets
            if not self._full:
                self._add_block(item, arrivals)

    def _add_block(self, block: Block, arrivals_s: list[float]) -> None:
        host_s = arrivals_s[0]
        self._last_data_host = arrivals_s[-1]
        chunk = self.assembler.push(block, host_s, arrivals_s)
        if chunk is None or chunk.time_s.size == 0:
            return
        if self._t_first_host is None:
            self._t_first_host = host_s - (block.n // block.packets - 1) * block.period_s
            self._start_utc = datetime.now(timezone.utc) - timedelta(seconds=time.monotonic() - self._t_first_host)
            if self.live is not None:
                self.live.start_unix_s = self._start_utc.timestamp()
        t, a = chunk.time_s, chunk.acc_g
        if self.opts.duration_s is not None and t[-1] >= self.opts.duration_s:
            keep = t < self.opts.duration_s  # the file never runs past --duration
            t, a, self._full = t[keep], a[keep], True
        if chunk.gap is not None:
            self._flush_file()
            if self.live is not None:
                self.live.add_gap(chunk.gap.start_s, chunk.gap.end_s)
        if t.size:
            self.file.add(t, a)

    def _on_battery(self, pct: int) -> None:
        self.state.battery_pct = pct

    def _flush(self, force: bool = False) -> None:
        """Decode what arrived, then hand the new samples to the file (written when due) and the live analysis."""
        self._drain()
        self._flush_file(force)

    def _flush_file(self, force: bool = False) -> None:
        written = self.file.flush(force)
        if written is not None and self.live is not None:
            self.live.add(*written)

    # ---------------------------------------------------------------- control
    def stop(self) -> None:
        """Ask the recording to end (as Ctrl-C does)."""
        self._stop.set()

    def mark_surface(self, key: str) -> None:
        """A surface key (1-6) was pressed: a new surface segment starts at the newest sample."""
        surface = SURFACE_KEYS.get(key)
        if surface is None:
            return
        self._drain()
        self._segments.append((self.assembler.last_time_s or 0.0, surface))
        self.state.surface = surface

    def _duration_reached(self) -> bool:
        if self.opts.duration_s is None:
            return False
        if self._full:
            return True
        begin = self._t_first_host if self._t_first_host is not None else self._t_started
        return begin is not None and time.monotonic() - begin >= self.opts.duration_s

    # ---------------------------------------------------------------- metadata
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
        link, setup = self.link, self.link.setup
        device = {
            "name": link.found.name if link.found else None,
            "address": link.found.address if link.found else None,
            "profile": link.profile.NAME if link.profile else None,
            "firmware": setup.firmware if setup else None,
            "model": setup.model if setup else None,
        }
        return Metadata(
            placement=self.placement,
            segments=self._segments_meta(),
            shoe=self.opts.shoe,
            device=device,
            range_g=setup.range_g if setup else None,
            start_utc=self._start_utc,
        )

    def write_sidecar(self, recording: str) -> None:
        """Rewrite the sidecar atomically with the counters so far."""
        a, r = self.assembler, self.result
        extra: dict[str, object] = {}
        if r.ended and self.live is not None:
            extra["live"] = {
                "strikes": r.live_strikes,
                "cadence_spm": round(r.live_cadence_spm, 2) if math.isfinite(r.live_cadence_spm) else None,
                "peak_g_median": round(r.live_median_peak_g, 4) if math.isfinite(r.live_median_peak_g) else None,
            }
        self.file.write_sidecar(
            self.metadata(),
            fs_hz=self.link.setup.fs_hz if self.link.setup else None,
            gaps=list(a.gaps),
            packets_lost=a.packets_lost,
            packets_received=a.packets_received,
            samples_received=self.file.samples_written,
            malformed_packets=r.malformed,
            reconnects=r.reconnects,
            clock_drift_ppm=round(a.clock.drift_ppm, 2),
            recording=recording,
            **extra,
        )

    # ---------------------------------------------------------------- main loop
    def _started(self) -> None:
        """First link up: choose placement, start the live analysis, note what was chosen."""
        link, setup = self.link, self.link.setup
        assert setup is not None and link.profile is not None
        self.state.device = link.label
        if self.placement == "auto":
            worn = link.profile.worn_on(setup.model or link.label)
            if worn is not None:
                self.placement = worn
                self.result.notes.append(
                    f"placement: {worn} (a {setup.model or link.label} is worn on the trunk: analysed like a "
                    "waist sensor; --placement to override)"
                )
        self.result.notes.append(f"range: +-{setup.range_g:g} g ({setup.range_reason})")
        if link.reused_connection:
            self.result.notes.append(f"{link.label} was still connected (an earlier recorder?): reused")
        for ignored in setup.extra.get("cp_ignored", []):
            self.result.notes.append(f"sensor answer bytes ignored (reserved): {ignored}")
        self.live = LiveAnalysis(setup.fs_hz, self.placement, setup.range_g, self.opts.hop_s, self.opts.events_path)
        self._t_started = time.monotonic()
        self.state.status = "waiting for samples"

    def _update_state(self, now: float) -> None:
        st, a = self.state, self.assembler
        st.samples, st.packets_lost, st.gaps = self.file.samples_written, a.packets_lost, len(a.gaps)
        st.malformed = self.result.malformed
        begin = self._t_first_host if self._t_first_host is not None else self._t_started
        st.elapsed_s = now - begin if begin is not None else 0.0
        if self.opts.duration_s is not None:
            st.elapsed_s = min(st.elapsed_s, self.opts.duration_s)
        self._rate_window.append((now, a.samples))
        while len(self._rate_window) > 2 and now - self._rate_window[0][0] > 2.0:
            self._rate_window.pop(0)
        (t0, n0), (t1, n1) = self._rate_window[0], self._rate_window[-1]
        st.samples_per_s = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
        if self.live is not None:
            f = self.live.update()
            st.cadence_spm, st.last_peak_g, st.rolling_peak_g = f.cadence_spm, f.last_peak_g, f.rolling_peak_g
            st.strikes = f.n_strikes

    async def _stream(self) -> None:
        """Tick until duration, stop request, or a link that cannot be healed."""
        last_sidecar = time.monotonic()
        sidecar_started = False  # written since the first samples (device, start_utc)
        reconnecting: asyncio.Task[bool] | None = None
        lost_at = 0.0
        try:
            while True:
                await asyncio.sleep(TICK_S)
                now = time.monotonic()
                self._flush()
                self._update_state(now)
                if self._duration_reached():
                    self.result.ended = "duration"
                    return
                if self._stop.is_set():
                    self.result.ended = "interrupted"
                    return
                if reconnecting is None and self.link.disconnected.is_set():
                    self._flush()
                    self.assembler.mark_reconnect()
                    self.result.reconnects += 1
                    lost_at = now
                    reconnecting = asyncio.ensure_future(
                        self.link.reconnect(lambda: self._stop.is_set() or self._duration_reached())
                    )
                if reconnecting is not None:
                    self.state.status = "reconnecting"
                    self.state.reconnecting_s = now - lost_at
                    if reconnecting.done():
                        ok = reconnecting.result()
                        reconnecting = None
                        if ok:
                            self.state.status = "recording"
                            self._last_data_host = now
                        elif not (self._stop.is_set() or self._duration_reached()):
                            self.result.ended = "lost"
                            self.result.last_error = self.link.last_error
                            return
                else:
                    self._check_data(now)
                first_samples = not sidecar_started and self._start_utc is not None
                if first_samples or now - last_sidecar >= SIDECAR_EVERY_S:
                    self.write_sidecar("in progress")
                    last_sidecar, sidecar_started = now, self._start_utc is not None
        finally:
            if reconnecting is not None and not reconnecting.done():
                reconnecting.cancel()
                with contextlib.suppress(asyncio.CancelledError, *BLE_ERRORS):
                    await reconnecting

    def _check_data(self, now: float) -> None:
        """No samples yet, or none for a while on a link that is up: say so; time out clearly."""
        assert self._t_started is not None
        last = self._last_data_host if self._last_data_host is not None else self._t_started
        silent = now - last
        if self._t_first_host is None:
            self.state.status = f"waiting for the first samples ({silent:.0f} s)"
            if silent > self.opts.data_timeout_s:
                setup = self.link.setup
                assert setup is not None
                raise DeviceError(
                    f"{self.link.label} accepted the start ({setup.fs_hz:g} Hz, +-{setup.range_g:g} g) but sent no "
                    f"samples within {self.opts.data_timeout_s:g} s; nothing was recorded"
                )
        elif silent > self.opts.data_timeout_s and self.link.client is not None:
            # a link that is up but silent: drop it so that the reconnect path restarts the stream
            self.result.warnings.append(f"no samples for {silent:.0f} s on a live link: reconnected")
            self._last_data_host = now
            self.link.disconnected.set()
            asyncio.ensure_future(self.link.close())
        else:
            self.state.status = "recording"

    async def run(self, find_lock: asyncio.Lock | None = None) -> RecordResult:
        """Record until done; the CSV is closed and the sidecar final whatever happens."""
        try:
            load_core()  # before samples flow: the first live analysis would import it on the event loop
            self.state.status = "connecting"
            await self.link.open(find_lock)
            self._started()
            await self._stream()
        finally:
            await self._close()
        return self.result

    async def _close(self) -> None:
        await self.link.close()
        try:
            self._flush(force=True)
        except GaitImpactError as exc:  # e.g. the disk filled up: keep what is on disk, say why
            self.result.warnings.append(f"last samples not written: {exc}")
        finally:
            with contextlib.suppress(GaitImpactError):
                self.file.close()
        r, a = self.result, self.assembler
        if self.live is not None:
            r.live_strikes, r.live_cadence_spm, r.live_median_peak_g = self.live.finish()
            r.warnings.extend(self.live.analyzer.warnings)
        r.samples, r.packets_received = self.file.samples_written, a.packets_received
        r.packets_lost, r.gaps, r.drift_ppm = a.packets_lost, list(a.gaps), a.clock.drift_ppm
        if self.link.found is not None:
            self.write_sidecar(r.ended or "aborted")

    def discard_if_empty(self) -> None:
        """Nothing recorded (device not found, wrong profile, no samples): leave no empty CSV + sidecar."""
        self.file.close()
        if self.file.samples_written == 0:
            for p in (self.opts.out, sidecar_path(self.opts.out)):
                with contextlib.suppress(OSError):
                    p.unlink()


def output_for(out: Path, device: str) -> Path:
    """Per-sensor output path when recording several sensors: run.csv + "GI-Shoe L" -> run_GI-Shoe-L.csv."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", device).strip("-") or "sensor"
    return out.with_name(f"{out.stem}_{safe}{out.suffix}")


def open_recorders(opts_list: list[RecordOptions]) -> list[Recorder]:
    """Pre-flight every output (path, disk) before any BLE activity; one `Recorder` per sensor."""
    appenders: list[CsvAppender] = []
    try:
        for o in opts_list:
            appenders.append(preflight(o.out))
    except GaitImpactError:
        for a, o in zip(appenders, opts_list):
            a.close()
            for p in (o.out, sidecar_path(o.out)):
                with contextlib.suppress(OSError):
                    p.unlink()
        raise
    return [Recorder(o, a) for o, a in zip(opts_list, appenders)]


async def run_recorders(
    recorders: list[Recorder], on_tick: Callable[[list[LiveState]], None] | None = None, every_s: float = 0.25
) -> list[RecordResult | BaseException]:
    """Run recordings concurrently (one scan at a time); when one fails, the others end cleanly too.

    `on_tick(states)` is called every `every_s` seconds while they run (the CLI's live view).
    """
    lock = asyncio.Lock()
    tasks = [asyncio.ensure_future(r.run(find_lock=lock)) for r in recorders]

    def on_done(task: asyncio.Task[RecordResult]) -> None:
        if not task.cancelled() and task.exception() is not None:
            for r in recorders:
                r.stop()

    for t in tasks:
        t.add_done_callback(on_done)
    try:
        while not all(t.done() for t in tasks):
            if on_tick is not None:
                on_tick([r.state for r in recorders])
            await asyncio.wait(tasks, timeout=every_s if on_tick is not None else None)
        return list(await asyncio.gather(*tasks, return_exceptions=True))
    finally:
        for r in recorders:
            r.discard_if_empty()
