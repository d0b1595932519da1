"""Finding sensors: a BLE scan filtered to devices that speak a supported profile."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from gaitimpact.ble.profiles import get_profile, profile_for_services


@dataclass
class Found:
    """A device seen during a scan: BLE name, address, RSSI (dBm), profile name (None if unsupported)."""

    name: str
    address: str
    rssi_dbm: int | None
    profile: str | None
    device: BLEDevice | None = None
    service_uuids: tuple[str, ...] = ()


def _found(device: BLEDevice, adv: AdvertisementData) -> Found:
    name = adv.local_name or device.name or ""
    prof = profile_for_services(adv.service_uuids or [], name)
    return Found(
        name=name,
        address=device.address,
        rssi_dbm=adv.rssi,
        profile=prof.NAME if prof else None,
        device=device,
        service_uuids=tuple(adv.service_uuids or ()),
    )


async def scan(timeout_s: float = 5.0) -> list[Found]:
    """All devices seen within `timeout_s` seconds that speak a supported profile, strongest first."""
    seen = await BleakScanner.discover(timeout=timeout_s, return_adv=True)
    found = [_found(dev, adv) for dev, adv in seen.values()]
    found = [f for f in found if f.profile is not None]
    return sorted(found, key=lambda f: -(f.rssi_dbm if f.rssi_dbm is not None else -999))


def wanted(f: Found, device: str | None, profile: str) -> bool:
    """True when `f` is the sensor asked for (name or address), or any of the profile when none is named."""
    if device is not None:
        d = device.lower()
        return f.address.lower() == d or f.name.lower() == d
    if profile == "auto":
        return f.profile is not None
    prof = get_profile(profile)
    return prof.matches(f.service_uuids) or prof.matches_name(f.name)


async def find(device: str | None, profile: str, timeout_s: float) -> Found | None:
    """The first device matching `device` (name or address; any supported one if None) within `timeout_s` s."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Found] = loop.create_future()

    def on_adv(dev: BLEDevice, adv: AdvertisementData) -> None:
        f = _found(dev, adv)
        if not done.done() and wanted(f, device, profile):
            done.set_result(f)

    async with BleakScanner(detection_callback=on_adv):
        try:
            return await asyncio.wait_for(done, timeout_s)
        except asyncio.TimeoutError:
            return None


def describe_ble_error(exc: BaseException) -> str:
    """One line for a failure to reach Bluetooth (no BlueZ, no D-Bus, no adapter)."""
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return ("Bluetooth is not available: no D-Bus system bus or BlueZ here "
                f"(is bluetoothd running? {type(exc).__name__}: {exc})")
    return f"{type(exc).__name__}: {exc}"
