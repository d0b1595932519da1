"""The radio side of a recording: find a sensor, connect, configure, start, reconnect with backoff.

`SensorLink` hands every data notification to `on_data(data, host_s)` and knows nothing about files or
analysis. A sensor still connected from an earlier run (BlueZ keeps the link when a recorder is killed,
and a connected sensor does not advertise) is found among the adapter's connected devices before a scan.
After a link loss `reconnect()` retries with exponential backoff until `reconnect_timeout_s`, whether the
link or the profile (a sensor back in an odd state refusing a command) failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from bleak import BleakAdapter, BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from gaitimpact.ble.profiles import get_profile, profile_for_services
from gaitimpact.ble.profiles.base import Profile, StreamSetup, normalise_uuid
from gaitimpact.ble.scan import Found, describe_ble_error, find, wanted
from gaitimpact.errors import DeviceError

BATTERY_LEVEL_UUID = normalise_uuid("2a19")
BLE_ERRORS: tuple[type[BaseException], ...] = (BleakError, asyncio.TimeoutError, OSError, EOFError)
"""What a radio, BlueZ or D-Bus failure raises through bleak (retried while reconnecting)."""
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 4.0


@dataclass
class LinkOptions:
    """Which sensor and how: device name/address (None = first supported), profile, rate Hz, range g."""

    device: str | None = None
    profile: str = "auto"
    rate_hz: float | None = None
    range_g: float | None = None
    placement: str = "auto"
    scan_timeout_s: float = 10.0
    reconnect_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0


async def connected_sensor(device: str | None, profile: str) -> Found | None:
    """A matching sensor already connected at the adapter (left by a killed recorder), else None."""
    adapter = await BleakAdapter.get()
    for dev in await adapter.get_connected_devices():
        uuids = tuple((dev.details.get("props") or {}).get("UUIDs", ()) if isinstance(dev.details, dict) else ())
        prof = profile_for_services(uuids, dev.name)
        f = Found(dev.name or "", dev.address, None, prof.NAME if prof else None, dev, uuids)
        if wanted(f, device, profile):
            return f
    return None


class SensorLink:
    """One sensor's connection (see module docstring); `on_data(data, host_s)` gets each notification."""

    def __init__(
        self,
        opts: LinkOptions,
        on_data: Callable[[bytearray, float], None],
        on_battery: Callable[[int], None] | None = None,
    ) -> None:
        self.opts = opts
        self.on_data = on_data
        self.on_battery = on_battery
        self.found: Found | None = None
        self.profile: Profile | None = None
        self.setup: StreamSetup | None = None
        self.client: BleakClient | None = None
        self.reused_connection = False
        self.last_error = ""
        self.disconnected = asyncio.Event()

    @property
    def label(self) -> str:
        """Device name (or address) for messages."""
        if self.found is None:
            return self.opts.device or "sensor"
        return self.found.name or self.found.address

    # ---------------------------------------------------------------- first connection
    async def open(self, find_lock: asyncio.Lock | None = None) -> None:
        """Find the sensor (connected ones first, then a scan), connect, configure and start it."""
        o = self.opts
        try:
            async with find_lock or contextlib.nullcontext():  # one scan at a time per adapter
                self.found = await connected_sensor(o.device, o.profile)
                self.reused_connection = self.found is not None
                if self.found is None:
                    self.found = await find(o.device, o.profile, o.scan_timeout_s)
        except BLE_ERRORS as exc:  # no adapter, no BlueZ, D-Bus down: one line
            raise DeviceError(f"cannot scan for sensors: {describe_ble_error(exc)}") from None
        if self.found is None:
            raise DeviceError(
                f"device {o.device!r} not found within {o.scan_timeout_s:g} s of scanning "
                "(nor connected to this computer)"
                if o.device
                else f"no sensor speaking a supported profile found within {o.scan_timeout_s:g} s of scanning"
            )
        try:
            await self._connect(self.found.device)
        except BLE_ERRORS as exc:
            raise DeviceError(f"cannot connect to {self.label}: {type(exc).__name__}: {exc}") from None

    def _choose_profile(self, client: BleakClient) -> Profile:
        uuids = [s.uuid for s in client.services]
        if self.opts.profile != "auto":
            prof = get_profile(self.opts.profile)
            if not prof.matches(uuids):
                raise DeviceError(
                    f"device {self.label} does not offer the {prof.NAME} profile (service {prof.SERVICE_UUID} missing)"
                )
            return prof
        prof = profile_for_services(uuids)
        if prof is None:
            raise DeviceError(
                f"device {self.label} speaks no supported profile (services: {', '.join(sorted(uuids)) or 'none'})"
            )
        return prof

    async def _connect(self, target: BLEDevice | str) -> None:
        """Connect, configure and start; on any failure the half-open link is closed again."""
        client = BleakClient(
            target, disconnected_callback=lambda _c: self.disconnected.set(), timeout=self.opts.connect_timeout_s
        )
        await client.connect()
        self.client = client
        self.disconnected.clear()
        try:
            first = self.setup is None
            if first:
                self.profile = self._choose_profile(client)
            assert self.profile is not None
            setup = await self.profile.configure(
                client, rate_hz=self.opts.rate_hz, range_g=self.opts.range_g, placement=self.opts.placement
            )
            if first:
                self.setup = setup
            else:
                assert self.setup is not None
                self.setup.extra = setup.extra  # keep the decoder (clock unwrap, period) across links
            await client.start_notify(self.setup.data_char_uuid, lambda _c, d: self.on_data(d, time.monotonic()))
            await self.profile.start(client, self.setup)
            await self._battery(client)
        except BaseException as exc:
            with contextlib.suppress(*BLE_ERRORS):
                await asyncio.wait_for(client.disconnect(), 3.0)
            if isinstance(exc, ValueError) and not isinstance(exc, DeviceError):
                raise DeviceError(f"{self.label}: {exc}") from None  # refused settings / no stream
            raise

    async def _battery(self, client: BleakClient) -> None:
        char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
        if char is None or self.on_battery is None:
            return
        on_battery = self.on_battery
        with contextlib.suppress(*BLE_ERRORS):
            value = await client.read_gatt_char(char)
            if value:
                on_battery(int(value[0]))
            if "notify" in char.properties:
                await client.start_notify(char, lambda _c, d: on_battery(int(d[0])) if d else None)

    # ---------------------------------------------------------------- link loss
    async def reconnect(self, give_up: Callable[[], bool]) -> bool:
        """Get the sensor back with backoff; False when `reconnect_timeout_s` ran out (or `give_up()`)."""
        assert self.found is not None
        deadline = time.monotonic() + self.opts.reconnect_timeout_s
        delay = BACKOFF_FIRST_S
        while not give_up():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                dev = await BleakScanner.find_device_by_address(
                    self.found.address, timeout=min(max(delay, 1.0), remaining)
                )
                if dev is not None:
                    await asyncio.wait_for(self._connect(dev), timeout=max(1.0, remaining))
                    self.last_error = ""
                    return True
                self.last_error = "not seen advertising"
            except (*BLE_ERRORS, DeviceError) as exc:  # link or profile failed: back off and retry
                self.last_error = str(exc) or type(exc).__name__
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, BACKOFF_MAX_S)
        return False

    async def close(self) -> None:
        """Stop the stream and disconnect (best effort: the link may already be gone)."""
        client = self.client
        if client is None or not client.is_connected:
            return
        if self.profile is not None:
            with contextlib.suppress(*BLE_ERRORS, ValueError):
                await asyncio.wait_for(self.profile.stop(client), 2.0)
        with contextlib.suppress(*BLE_ERRORS):
            await asyncio.wait_for(client.disconnect(), 3.0)
