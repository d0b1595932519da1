"""Plain data a simulated peripheral is described with (FakeDevice, FakeService, ...) and BlueZ names."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from dbus_fast.annotations import DBusSignature

log = logging.getLogger(__name__)

T = TypeVar("T")
DBusNothing = Annotated[None, DBusSignature("")]  # a D-Bus method that returns nothing

BLUEZ_SERVICE = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
SERVICE_IFACE = "org.bluez.GattService1"
CHAR_IFACE = "org.bluez.GattCharacteristic1"
DESC_IFACE = "org.bluez.GattDescriptor1"

CONTROL_BUS_NAME = "org.gaitimpact.FakeControl"
CONTROL_PATH = "/org/gaitimpact/FakeControl"
CONTROL_IFACE = "org.gaitimpact.FakeControl1"

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
GAP_SERVICE_UUID = "00001800-0000-1000-8000-00805f9b34fb"
GATT_SERVICE_UUID = "00001801-0000-1000-8000-00805f9b34fb"
_BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
_FIRST_HANDLE = 0x000A
_ACQUIRED = "<acquired>"  # subscriber key of an AcquireNotify socket

_ERR_FAILED = "org.bluez.Error.Failed"
_ERR_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
_ERR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
_ERR_IN_PROGRESS = "org.bluez.Error.InProgress"
_ERR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"
_ERR_NOT_READY = "org.bluez.Error.NotReady"
_ERR_UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
_ERR_UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
_ERR_UNKNOWN_DEVICE = "org.gaitimpact.Error.UnknownDevice"

ReadHook = Callable[[], "bytes | Awaitable[bytes]"]
WriteHook = Callable[[bytes], "None | Awaitable[None]"]
DeviceHook = Callable[["FakeDevice"], "None | Awaitable[None]"]


class FakeGattError(Exception):
    """Raise from an on_read/on_write hook to answer with a GATT (ATT) error code, e.g. 0x0E."""

    def __init__(self, att_code: int, message: str = "") -> None:
        super().__init__(message or f"ATT error 0x{att_code:02x}")
        self.att_code = att_code


def normalize_uuid(uuid: str | int) -> str:
    """Full lower-case 128-bit UUID string from a 16/32-bit short form (int or hex) or a full UUID."""
    if isinstance(uuid, int):
        return f"{uuid:08x}{_BASE_UUID_TAIL}"
    text = uuid.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if re.fullmatch(r"[0-9a-f]{4}", text):
        return f"0000{text}{_BASE_UUID_TAIL}"
    if re.fullmatch(r"[0-9a-f]{8}", text):
        return f"{text}{_BASE_UUID_TAIL}"
    return text


def normalize_address(address: str) -> str:
    """Upper-case colon-separated Bluetooth address; raises ValueError if it is not AA:BB:CC:DD:EE:FF."""
    text = address.strip().upper().replace("-", ":").replace("_", ":")
    if not re.fullmatch(r"[0-9A-F]{2}(:[0-9A-F]{2}){5}", text):
        raise ValueError(f"not a Bluetooth address: {address!r}")
    return text


def device_path(address: str, adapter_path: str = ADAPTER_PATH) -> str:
    """BlueZ object path of the device with this address, e.g. /org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF."""
    return f"{adapter_path}/dev_{normalize_address(address).replace(':', '_')}"


# ---------------------------------------------------------------------------------------------
# The public model: plain dataclasses describing a peripheral
# ---------------------------------------------------------------------------------------------


@dataclass
class FakeDescriptor:
    """A GATT descriptor: value (bytes) or on_read() -> bytes; on_write(bytes) is called on writes."""

    uuid: str
    flags: Sequence[str] = ("read",)
    value: bytes = b""
    on_read: ReadHook | None = None
    on_write: WriteHook | None = None


@dataclass
class FakeCharacteristic:
    """A GATT characteristic. flags are BlueZ's ("read", "write", "write-without-response", "notify"...).

    on_read() -> bytes answers reads (default: the current `value`); on_write(data) receives writes;
    on_notify(enabled) is told when the first client subscribes / the last one unsubscribes.
    A CCCD (0x2902) descriptor is added automatically for notify/indicate characteristics.
    Hooks may be plain functions or coroutine functions; they may raise FakeGattError.
    """

    uuid: str
    flags: Sequence[str]
    on_read: ReadHook | None = None
    on_write: WriteHook | None = None
    descriptors: Sequence[FakeDescriptor] = ()
    value: bytes = b""
    on_notify: Callable[[bool], None] | None = None


@dataclass
class FakeService:
    """A primary GATT service holding characteristics."""

    uuid: str
    characteristics: Sequence[FakeCharacteristic] = ()
    primary: bool = True


@dataclass(eq=False)
class FakeDevice:
    """A simulated BLE peripheral: what it advertises and the GATT server it exposes once connected.

    name None means "no name advertised" (bleak then reports name None). rssi in dBm.
    on_connect(device) / on_disconnect(device) are called after each connection / link loss.
    corrupt(data) -> bytes is used by CorruptNext (default: the packet truncated to half its length).
    commands maps a name to a function(arg: str) -> str reachable through the control interface.
    connect_delay_s delays Connect (a real connection takes 50-500 ms); mtu is reported as MTU.
    Like most sensors it stops advertising while connected (advertise_while_connected=False), so a
    process that finds it still connected (e.g. after the previous client was killed: BlueZ keeps the
    link) must use BleakAdapter.get_connected_devices() instead of a scan.
    """

    address: str
    name: str | None = None
    rssi: int = -60
    services: Sequence[FakeService] = ()
    advertised_uuids: Sequence[str] = ()
    on_connect: DeviceHook | None = None
    on_disconnect: DeviceHook | None = None
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    service_data: dict[str, bytes] = field(default_factory=dict)
    tx_power: int | None = None
    corrupt: Callable[[bytes], bytes] | None = None
    commands: dict[str, Callable[[str], str]] = field(default_factory=dict)
    connect_delay_s: float = 0.0
    mtu: int = 247
    address_type: str = "random"
    advertise_while_connected: bool = False

    def __post_init__(self) -> None:
        self.address = normalize_address(self.address)


# ---------------------------------------------------------------------------------------------
# D-Bus property interfaces (methods are dispatched by FakeBluez._on_message, which sees the sender)
# ---------------------------------------------------------------------------------------------


