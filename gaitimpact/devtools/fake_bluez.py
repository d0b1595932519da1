"""A fake BlueZ (org.bluez on a private D-Bus) that real, unmodified bleak can scan, connect and stream from.

This is how gaitimpact is developed and tested without a Bluetooth radio: a private `dbus-daemon`
(`gaitimpact.devtools.dbus_daemon`) stands in for the system bus, this module owns `org.bluez` on it,
and bleak is pointed there with `DBUS_SYSTEM_BUS_ADDRESS`. Nothing in bleak is mocked or patched.

Run one by hand (starts its own dbus-daemon when --bus is not given)::

    python -m gaitimpact.devtools.fake_bluez --factory gaitimpact.devtools.fake_bluez:demo_devices
    # prints: export DBUS_SYSTEM_BUS_ADDRESS=... PATH=<stand-in dir>:$PATH ; then, in that shell:
    gaitimpact scan

What bleak 3.1's BlueZ backend needs (read from bleak/backends/bluezdbus/*.py), and what this provides:

- dbus-fast reaches the "system" bus at `DBUS_SYSTEM_BUS_ADDRESS`; a session-type daemon config that
  lets any connection own any name is enough (no root policy files).
- bleak runs `bluetoothctl --version` once per process on first connect: missing is tolerated, below
  5.55 is refused. `gaitimpact/devtools/bluetoothctl` prints 5.66; `bluez_env()` puts it on PATH.
- `org.freedesktop.DBus.ObjectManager.GetManagedObjects` at `/` and `InterfacesAdded/Removed` signals
  (bleak matches them with arg0path=/org/bluez/); `PropertiesChanged` under path namespace /org/bluez.
- An adapter `/org/bluez/hci0` (Adapter1) with `Powered` true and `Roles` containing "central";
  methods SetDiscoveryFilter(a{sv}), StartDiscovery, StopDiscovery, GetDiscoveryFilters, RemoveDevice.
- A scan only reports a device that is announced *while discovery runs*: a Device1 InterfacesAdded, or
  any Device1 PropertiesChanged (BlueZ sends RSSI updates per advertisement). A device that already
  existed and never changes is invisible. Here each in-range, unconnected device is exported on its
  first advertisement and then re-announced every `advertising_interval_s` (RSSI PropertiesChanged).
- Device1 properties bleak reads: Address, Alias (bleak's name; Alias == address with dashes means
  "no name"), Name, Adapter, UUIDs, RSSI, ManufacturerData a{qv}, ServiceData a{sv}, TxPower,
  Connected, ServicesResolved, Paired. Methods: Connect, Disconnect, Pair; Properties.Set("Trusted").
- On Connect: `Connected` true, then the GATT objects appear (InterfacesAdded), then
  `ServicesResolved` true last; bleak waits for ServicesResolved and then builds its service tree from
  its cache of signals. Object paths must have BlueZ's shape
  `/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF/service000a/char000b/desc000d`: bleak parses handles from
  the last 4 hex digits and finds a notification's device by cutting exactly 21 characters
  ("/serviceXXXX/charXXXX") off the characteristic path -- any other shape silently drops notifications.
- GattService1 (UUID, Primary, Device), GattCharacteristic1 (UUID, Service, Value, Notifying, Flags,
  MTU; ReadValue(a{sv}) -> ay, WriteValue(ay, a{sv}), StartNotify, StopNotify), GattDescriptor1 (UUID,
  Characteristic, Value, Flags; ReadValue, WriteValue). bleak uses StartNotify by default and uses
  AcquireNotify for streaming only if the characteristic shows NotifyAcquired, which this fake never
  does. AcquireWrite/AcquireNotify do work (fd + MTU) so bleak's `_acquire_mtu()` / `mtu_size` work.
- A notification is a PropertiesChanged of `Value` on the characteristic object (sent from the fake's
  own connection; bleak's manager connection receives it).
- Link loss: `ServicesResolved` false, then `Connected` false (bleak fires its disconnected callback),
  then the GATT objects are removed. The same BleakClient can connect again.
- GATT errors: raise `FakeGattError(att_code)` from a hook; the fake answers like BlueZ
  ("org.bluez.Error.Failed: Operation failed with ATT error: 0x..") and bleak raises
  BleakGATTProtocolError.

- A device connected at BlueZ level keeps its link when the client process dies (BlueZ does not
  disconnect on client exit), and a connected sensor does not advertise: a restarted client must
  attach through `BleakAdapter.get_connected_devices()` (it filters on Device1.UUIDs containing 1801,
  which BlueZ -- and this fake -- list once connected), not a scan. Its notify sessions do end.
- One notify session per client and characteristic: a second StartNotify from the same connection
  fails ("Already notifying"), as in BlueZ.

Pitfalls met while building this:
- bleak keeps one BlueZ manager per event loop and connects it on first use, so set the environment
  *before* the first bleak call in a loop; a fresh `asyncio.run` gets a fresh manager.
  `BlueZFeatures` (the bluetoothctl check) is process-global and runs once.
- dbus-fast 5.x drops its whole connection when a write meets a full socket buffer (BlockingIOError).
  A burst of notifications faster than dbus-daemon reads would kill the fake, so notifications pass a
  flow-control queue (sent in order when the socket is writable; stats "notifications_queued").
- Hooks run inside the D-Bus dispatch: notifications sent from a write hook (a control point's
  answer) are held until the write's reply is out, as on air.
- `python -m gaitimpact.devtools.fake_bluez` re-imports itself as a module so factories and the
  server share one `FakeDevice` class.
- dbus-daemon's stderr goes to a file: an unread pipe fills up and blocks the daemon.

Python API (plain dataclasses)::

    fake = FakeBluez()
    await fake.start(bus_address)                       # owns org.bluez (+ org.gaitimpact.FakeControl)
    dev = fake.add_device(FakeDevice("C0:FF:EE:00:00:01", "GI-Sensor", rssi=-50,
        advertised_uuids=[SVC], services=[FakeService(SVC, [
            FakeCharacteristic(DATA, ["notify"], on_notify=start_or_stop_streaming),
            FakeCharacteristic(CTRL, ["write"], on_write=handle_command)])]))
    await fake.notify(dev, DATA, packet)                # or notify_nowait(); False if not subscribed
    fake.disconnect(dev, down_s=2.0); fake.vanish(dev); fake.reappear(dev)
    fake.drop_next(dev, 3); fake.corrupt_next(dev, 1); fake.stats(dev)

Stats counters per device: notifications_sent / _dropped (DropNext) / _corrupted (CorruptNext) /
_skipped (nobody subscribed or not connected) / _queued (flow control) / _purged (still queued at a
link loss) / _overflow, connects, link_losses, reads, writes.

For tests that run the real CLI in a subprocess there is a D-Bus control interface
(`org.gaitimpact.FakeControl`, see `FakeControl1`; `call_control(bus, "DropNext", address, 3)`) and
three ways to host the fake: in the test's own event loop, `FakeBluezThread` (a background thread of
the test process, Python API via `.call(fn)`) or `FakeBluezProcess` (a subprocess running
`python -m gaitimpact.devtools.fake_bluez --factory module:function --opt key=value`).
`python -m gaitimpact.devtools.fake_bluez --selftest 2` checks a machine end to end and prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import json
import logging
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import Future as ConcurrentFuture
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from dbus_fast import BusType, DBusError, Message, MessageType, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusDouble, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

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


def _prop(name: str, signature: str, writable: bool = False) -> Any:
    """A dbus-fast property named `name` that reads (and optionally writes) self.values[name]."""

    def getter(self: _PropsInterface) -> Any:
        return self.values[name]

    getter.__name__ = name
    getter.__annotations__ = {"return": signature}
    access = PropertyAccess.READWRITE if writable else PropertyAccess.READ
    prop = dbus_property(access=access, name=name)(getter)
    if writable:

        def setter(self: _PropsInterface, value: Any) -> None:
            self.values[name] = value
            self.emit_properties_changed({name: value})
            if self.on_set is not None:
                self.on_set(name, value)

        setter.__name__ = name
        setter.__annotations__ = {"value": signature}
        prop = prop.setter(setter)
    return prop


class _PropsInterface(ServiceInterface):
    """A property bag exported on D-Bus; only the properties present in `values` are visible."""

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        super().__init__(name)
        self.values = values
        self.on_set: Callable[[str, Any], None] | None = None
        props = ServiceInterface._get_properties(self)
        props[:] = [p for p in props if p.name in values]

    def update(self, **changed: Any) -> None:
        """Set properties and emit one PropertiesChanged (no-op on the bus when not exported)."""
        self.values.update(changed)
        self.emit_properties_changed(changed)


def _props_class(iface: str, spec: dict[str, str], writable: Iterable[str] = ()) -> type[_PropsInterface]:
    writable = set(writable)
    members = {name: _prop(name, sig, name in writable) for name, sig in spec.items()}

    def __init__(self: _PropsInterface, values: dict[str, Any]) -> None:
        _PropsInterface.__init__(self, iface, values)

    members["__init__"] = __init__
    return type(f"_{iface.rsplit('.', 1)[-1]}", (_PropsInterface,), members)


_Adapter1 = _props_class(
    ADAPTER_IFACE,
    {"Address": "s", "AddressType": "s", "Name": "s", "Alias": "s", "Class": "u", "Powered": "b",
     "Discoverable": "b", "Pairable": "b", "DiscoverableTimeout": "u", "PairableTimeout": "u",
     "Discovering": "b", "UUIDs": "as", "Roles": "as", "Modalias": "s"},
    writable=("Powered", "Alias", "Discoverable", "Pairable"),
)
_Device1 = _props_class(
    DEVICE_IFACE,
    {"Address": "s", "AddressType": "s", "Name": "s", "Alias": "s", "Paired": "b", "Bonded": "b",
     "Trusted": "b", "Blocked": "b", "LegacyPairing": "b", "Connected": "b", "ServicesResolved": "b",
     "UUIDs": "as", "Adapter": "o", "RSSI": "n", "TxPower": "n", "ManufacturerData": "a{qv}",
     "ServiceData": "a{sv}", "AdvertisingFlags": "ay"},
    writable=("Trusted", "Alias", "Blocked"),
)
_GattService1 = _props_class(SERVICE_IFACE, {"UUID": "s", "Primary": "b", "Device": "o", "Includes": "ao"})
_GattCharacteristic1 = _props_class(
    CHAR_IFACE, {"UUID": "s", "Service": "o", "Value": "ay", "Notifying": "b", "Flags": "as", "MTU": "q"}
)
_GattDescriptor1 = _props_class(
    DESC_IFACE, {"UUID": "s", "Characteristic": "o", "Value": "ay", "Flags": "as"}
)


# ---------------------------------------------------------------------------------------------
# Internal state per exported object
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _DescState:
    spec: FakeDescriptor
    path: str
    iface: _PropsInterface


@dataclass(eq=False)
class _CharState:
    spec: FakeCharacteristic
    path: str
    iface: _PropsInterface
    uuid: str
    descriptors: list[_DescState]
    subscribers: set[str] = field(default_factory=set)  # bus names with a notify session (or ACQUIRED)
    notify_sock: socket.socket | None = None  # our end of an AcquireNotify socket
    write_sock: socket.socket | None = None  # our end of an AcquireWrite socket


@dataclass(eq=False)
class _ServiceState:
    spec: FakeService
    path: str
    iface: _PropsInterface
    chars: list[_CharState]


@dataclass(eq=False)
class _DeviceState:
    dev: FakeDevice
    path: str
    iface: _PropsInterface
    services: list[_ServiceState]
    chars_by_path: dict[str, _CharState]
    descs_by_path: dict[str, _DescState]
    exported: bool = False
    in_range: bool = True
    down_until: float = 0.0
    connected: bool = False
    connecting: bool = False
    drop_next: int = 0
    corrupt_next: int = 0
    stats: Counter[str] = field(default_factory=Counter)
    char_cache: dict[str, _CharState] = field(default_factory=dict)  # uuid as given -> characteristic

    def find_char(self, uuid: str) -> _CharState:
        """The first characteristic with this UUID (any service); KeyError if none."""
        found = self.char_cache.get(uuid)
        if found is not None:
            return found
        wanted = normalize_uuid(uuid)
        for service in self.services:
            for char in service.chars:
                if char.uuid == wanted:
                    self.char_cache[uuid] = char
                    return char
        raise KeyError(f"{self.dev.address} has no characteristic {uuid}")


def _has_any(flags: Iterable[str], wanted: Iterable[str]) -> bool:
    return not set(flags).isdisjoint(wanted)


_READ_FLAGS = ("read", "encrypt-read", "encrypt-authenticated-read", "secure-read")
_WRITE_FLAGS = ("write", "write-without-response", "reliable-write", "authenticated-signed-writes",
                "encrypt-write", "encrypt-authenticated-write", "secure-write")
_NOTIFY_FLAGS = ("notify", "indicate")


async def _own_name(bus: MessageBus, name: str) -> None:
    """Own a well-known name or fail (another fake, or a real bluetoothd, already owns it)."""
    reply = await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
    if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
        bus.disconnect()
        raise RuntimeError(f"cannot own {name} on this bus ({reply.name}): is another fake BlueZ running?")


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


# ---------------------------------------------------------------------------------------------
# The fake BlueZ service
# ---------------------------------------------------------------------------------------------


class FakeBluez:
    """A fake `org.bluez` on a D-Bus bus: one adapter (hci0) and any number of FakeDevice peripherals.

    All methods must be called from the event loop the fake was started in (use FakeBluezThread.call
    from other threads).
    """

    def __init__(
        self,
        *,
        adapter_address: str = "00:1A:7D:DA:71:13",
        advertising_interval_s: float = 0.1,
        connect_fail_delay_s: float = 0.3,
        control: bool = True,
        max_queued_notifications: int = 100_000,
    ) -> None:
        self.adapter_address = normalize_address(adapter_address)
        self.advertising_interval_s = advertising_interval_s
        self.connect_fail_delay_s = connect_fail_delay_s
        self.control = control
        self.bus: MessageBus | None = None
        self.control_bus: MessageBus | None = None
        self.bus_address = ""
        self._devices: dict[str, _DeviceState] = {}
        self._by_path: dict[str, _DeviceState] = {}
        self._discovery_filters: dict[str, dict[str, Any]] = {}  # sender -> filter (set, maybe unused)
        self._discovery_sessions: set[str] = set()
        self._advertiser: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: list[Message] | None = None  # notifications held back while a write hook runs
        self._outq: deque[tuple[_DeviceState, Message, asyncio.Future[Any]]] = deque()
        self._pump_handle: asyncio.TimerHandle | None = None
        self.max_queued_notifications = max_queued_notifications
        self.adapter = _Adapter1({
            "Address": self.adapter_address, "AddressType": "public", "Name": "gaitimpact-fake",
            "Alias": "gaitimpact-fake", "Class": 0, "Powered": True, "Discoverable": False,
            "Pairable": True, "DiscoverableTimeout": 180, "PairableTimeout": 0, "Discovering": False,
            "UUIDs": [], "Roles": ["central", "peripheral"], "Modalias": "usb:v1D6Bp0246d0542",
        })

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, bus_address: str) -> None:
        """Connect to the bus at `bus_address`, own org.bluez (and the control name), export hci0."""
        self.bus_address = bus_address
        try:
            self.bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM,
                                        negotiate_unix_fd=True).connect()
            self.bus.add_message_handler(self._on_message)
            await self._add_match("type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'")
            self.bus.export(ADAPTER_PATH, self.adapter)
            await _own_name(self.bus, BLUEZ_SERVICE)
            if self.control:
                self.control_bus = MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM)
                await self.control_bus.connect()
                self.control_bus.export(CONTROL_PATH, FakeControl1(self))
                await _own_name(self.control_bus, CONTROL_BUS_NAME)
        except BaseException:
            await self.stop()
            raise
        log.info("fake BlueZ up on %s", bus_address)

    async def stop(self) -> None:
        """Cancel background work and leave the bus (clients then see org.bluez vanish)."""
        if self._pump_handle is not None:
            self._pump_handle.cancel()
            self._pump_handle = None
        self._purge_queue(None)
        for state in self._devices.values():
            for char in state.chars_by_path.values():
                self._release(char, "write")
                self._release(char, "notify")
        tasks = list(self._tasks)
        if self._advertiser is not None:
            tasks.append(self._advertiser)
            self._advertiser = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        for bus in (self.control_bus, self.bus):
            if bus is not None and bus.connected:
                bus.disconnect()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(bus.wait_for_disconnect(), 2.0)
        self.bus = self.control_bus = None

    async def _add_match(self, rule: str) -> None:
        assert self.bus is not None
        reply = await self.bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member="AddMatch", signature="s", body=[rule]))
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"AddMatch failed: {reply.error_name} {reply.body}")

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("fake BlueZ background task failed", exc_info=task.exception())

    def _run_hook(self, hook: Callable[..., Any] | None, *args: Any) -> None:
        """Call a user hook; coroutines are run as background tasks; errors are logged, not raised."""
        if hook is None:
            return
        try:
            result = hook(*args)
        except Exception:
            log.exception("fake BlueZ hook %r failed", hook)
            return
        if inspect.isawaitable(result):
            self._spawn(result)

    # -- devices --------------------------------------------------------------------------------

    def add_device(self, dev: FakeDevice) -> FakeDevice:
        """Put a peripheral in range; it is announced to scanners while discovery runs. Returns dev."""
        if dev.address in self._devices:
            raise ValueError(f"device {dev.address} already added")
        path = device_path(dev.address)
        uuids = [normalize_uuid(u) for u in dev.advertised_uuids]
        values: dict[str, Any] = {
            "Address": dev.address, "AddressType": dev.address_type,
            "Alias": dev.name if dev.name else dev.address.replace(":", "-"),
            "Paired": False, "Bonded": False, "Trusted": False, "Blocked": False, "LegacyPairing": False,
            "Connected": False, "ServicesResolved": False, "UUIDs": uuids, "Adapter": ADAPTER_PATH,
            "RSSI": int(dev.rssi), "AdvertisingFlags": b"\x06",
        }
        if dev.name:
            values["Name"] = dev.name
        if dev.tx_power is not None:
            values["TxPower"] = int(dev.tx_power)
        if dev.manufacturer_data:
            values["ManufacturerData"] = {int(k): Variant("ay", bytes(v))
                                          for k, v in dev.manufacturer_data.items()}
        if dev.service_data:
            values["ServiceData"] = {normalize_uuid(k): Variant("ay", bytes(v))
                                     for k, v in dev.service_data.items()}
        state = _DeviceState(dev=dev, path=path, iface=_Device1(values), services=[], chars_by_path={},
                             descs_by_path={})
        self._build_gatt(state)
        self._devices[dev.address] = state
        self._by_path[path] = state
        if self._discovery_sessions:
            self._announce(state)
        return dev

    def _build_gatt(self, state: _DeviceState) -> None:
        """Assign BlueZ-shaped paths and handles (service000a/char000b/desc000d) once per device."""
        handle = _FIRST_HANDLE
        for service in state.dev.services:
            spath = f"{state.path}/service{handle:04x}"
            handle += 1
            siface = _GattService1({"UUID": normalize_uuid(service.uuid), "Primary": service.primary,
                                    "Device": state.path, "Includes": []})
            sstate = _ServiceState(spec=service, path=spath, iface=siface, chars=[])
            for char in service.characteristics:
                cpath = f"{spath}/char{handle:04x}"
                handle += 2  # declaration + value handle
                uuid = normalize_uuid(char.uuid)
                ciface = _GattCharacteristic1({"UUID": uuid, "Service": spath, "Value": bytes(char.value),
                                               "Notifying": False, "Flags": list(char.flags),
                                               "MTU": state.dev.mtu})
                descs = list(char.descriptors)
                if _has_any(char.flags, _NOTIFY_FLAGS) and not any(
                        normalize_uuid(d.uuid) == CCCD_UUID for d in descs):
                    cccd = FakeDescriptor(uuid=CCCD_UUID, flags=("read", "write"), value=b"\x00\x00")
                    descs.insert(0, cccd)
                cstate = _CharState(spec=char, path=cpath, iface=ciface, uuid=uuid, descriptors=[])
                for desc in descs:
                    dpath = f"{cpath}/desc{handle:04x}"
                    handle += 1
                    diface = _GattDescriptor1({"UUID": normalize_uuid(desc.uuid), "Characteristic": cpath,
                                               "Value": bytes(desc.value), "Flags": list(desc.flags)})
                    dstate = _DescState(spec=desc, path=dpath, iface=diface)
                    cstate.descriptors.append(dstate)
                    state.descs_by_path[dpath] = dstate
                sstate.chars.append(cstate)
                state.chars_by_path[cpath] = cstate
            state.services.append(sstate)
            if handle > 0xFFFF:
                raise ValueError(f"{state.dev.address}: GATT table exceeds 0xFFFF handles")

    def _state(self, device: FakeDevice | str) -> _DeviceState:
        address = normalize_address(device if isinstance(device, str) else device.address)
        try:
            return self._devices[address]
        except KeyError:
            raise KeyError(f"no fake device {address}") from None

    @property
    def devices(self) -> list[FakeDevice]:
        """All devices added so far (in range or not)."""
        return [s.dev for s in self._devices.values()]

    def is_connected(self, device: FakeDevice | str) -> bool:
        """True while a central is connected to the device."""
        return self._state(device).connected

    def is_notifying(self, device: FakeDevice | str, char_uuid: str) -> bool:
        """True while at least one client has notifications enabled on the characteristic."""
        state = self._state(device)
        return state.connected and bool(state.find_char(char_uuid).subscribers)

    def char_path(self, device: FakeDevice | str, char_uuid: str) -> str:
        """D-Bus object path of the device's first characteristic with this UUID."""
        return self._state(device).find_char(char_uuid).path

    def stats(self, device: FakeDevice | str | None = None) -> dict[str, Any]:
        """Counters (notifications_sent/dropped/corrupted/skipped, connects, link_losses, reads, writes).

        For one device: its counters; for None: {address: counters} for every device.
        """
        if device is not None:
            return dict(self._state(device).stats)
        return {addr: {**s.stats, "connected": s.connected, "in_range": s.in_range, "name": s.dev.name,
                       "notifying": [c.uuid for c in s.chars_by_path.values()
                                     if s.connected and c.subscribers]}
                for addr, s in self._devices.items()}

    async def wait_notifying(self, device: FakeDevice | str, char_uuid: str, timeout_s: float = 10.0,
                             notifying: bool = True) -> bool:
        """Wait until a client has (notifying=True) or has no longer notifications on; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.is_notifying(device, char_uuid) != notifying:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # -- notifications (fast path) --------------------------------------------------------------

    def notify_nowait(self, device: FakeDevice | str, char_uuid: str, data: bytes) -> bool:
        """Send one notification now (or queue it, in order, if the bus is backed up): True.

        False if nobody is subscribed, the device is not connected, or DropNext ate it.
        """
        state = self._state(device)
        char = state.find_char(char_uuid)
        return self._notify_char(state, char, data) is not None

    async def notify(self, device: FakeDevice | str, char_uuid: str, data: bytes) -> bool:
        """Send one notification (a PropertiesChanged of Value) and wait until it is written to the bus.

        Returns False when nobody is subscribed, the device is not connected, or a DropNext fault ate
        it (the sensor should still count it as sent: that is what a radio loss looks like).
        """
        state = self._state(device)
        fut = self._notify_char(state, state.find_char(char_uuid), data)
        if fut is None:
            return False
        return (await fut) is not False

    def _notify_char(self, state: _DeviceState, char: _CharState, data: bytes) -> asyncio.Future[Any] | None:
        if not state.connected or not char.subscribers or self.bus is None:
            state.stats["notifications_skipped"] += 1
            return None
        if state.drop_next > 0:
            state.drop_next -= 1
            state.stats["notifications_dropped"] += 1
            return None
        payload = bytes(data)
        if state.corrupt_next > 0:
            state.corrupt_next -= 1
            state.stats["notifications_corrupted"] += 1
            payload = state.dev.corrupt(payload) if state.dev.corrupt else payload[: len(payload) // 2]
        char.iface.values["Value"] = payload
        msg = Message.new_signal(char.path, PROPERTIES_IFACE, "PropertiesChanged", "sa{sv}as",
                                 [CHAR_IFACE, {"Value": Variant("ay", payload)}, []])
        if char.notify_sock is not None:  # acquired: straight into the client's socket
            try:
                char.notify_sock.send(payload)
            except OSError:
                state.stats["notifications_dropped"] += 1
                return None
            state.stats["notifications_sent"] += 1
            sent: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            sent.set_result(None)
            return sent
        if self._held is not None:  # sent from inside a write hook: goes out after the write's reply
            state.stats["notifications_sent"] += 1
            self._held.append(msg)
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        if not self._outq and self._can_write():
            state.stats["notifications_sent"] += 1
            return self.bus.send(msg)
        if len(self._outq) >= self.max_queued_notifications:
            state.stats["notifications_overflow"] += 1
            return None
        queued: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._outq.append((state, msg, queued))
        state.stats["notifications_queued"] += 1
        self._schedule_pump()
        return queued

    # Flow control. dbus-fast (5.x) drops its whole connection if a write finds the socket buffer full
    # (BlockingIOError), which a burst of notifications can cause when dbus-daemon is slow to read. So
    # a notification is handed to dbus-fast only when its writer is idle and the socket is writable;
    # otherwise it waits here, in order, and a 1 ms timer pumps the queue.

    def _can_write(self) -> bool:
        bus = self.bus
        writer = getattr(bus, "_writer", None)
        if writer is not None and (getattr(writer, "buf", None) is not None
                                   or getattr(writer, "messages", None)):
            return False
        sock = getattr(bus, "_sock", None)
        if sock is None:
            return True
        try:
            return bool(select.select([], [sock], [], 0)[1])
        except (OSError, ValueError):
            return False

    def _schedule_pump(self) -> None:
        if self._pump_handle is None:
            self._pump_handle = asyncio.get_running_loop().call_later(0.001, self._pump)

    def _pump(self) -> None:
        self._pump_handle = None
        if self.bus is None or not self.bus.connected:
            self._purge_queue(None)
            return
        while self._outq and self._can_write():
            state, msg, queued = self._outq.popleft()
            state.stats["notifications_sent"] += 1
            self.bus.send(msg).add_done_callback(
                lambda _f, queued=queued: queued.done() or queued.set_result(None))
        if self._outq:
            self._schedule_pump()

    def _purge_queue(self, state: _DeviceState | None) -> None:
        """Forget queued notifications of one device (None: all); they count as notifications_purged."""
        keep: deque[tuple[_DeviceState, Message, asyncio.Future[Any]]] = deque()
        for item in self._outq:
            if state is None or item[0] is state:
                item[0].stats["notifications_purged"] += 1
                if not item[2].done():
                    item[2].set_result(False)
            else:
                keep.append(item)
        self._outq = keep

    def set_value(self, device: FakeDevice | str, char_uuid: str, data: bytes) -> bool:
        """Change a characteristic's value (what reads return); notifies subscribers. True if notified."""
        state = self._state(device)
        char = state.find_char(char_uuid)
        char.spec.value = bytes(data)
        char.iface.values["Value"] = bytes(data)
        return bool(char.subscribers) and self._notify_char(state, char, data) is not None

    # -- faults ---------------------------------------------------------------------------------

    def disconnect(self, device: FakeDevice | str, down_s: float = 0.0) -> None:
        """Simulated link loss; the device then neither advertises nor accepts connections for down_s."""
        state = self._state(device)
        self._link_lost(state)
        if down_s > 0:
            state.down_until = time.monotonic() + down_s

    def drop_next(self, device: FakeDevice | str, n: int) -> None:
        """Lose the next n notifications of this device (radio loss: never delivered)."""
        self._state(device).drop_next += int(n)

    def corrupt_next(self, device: FakeDevice | str, n: int) -> None:
        """Mangle the next n notifications (device.corrupt, default: truncated to half their length)."""
        self._state(device).corrupt_next += int(n)

    def vanish(self, device: FakeDevice | str) -> None:
        """Device gone: link lost if connected, InterfacesRemoved, not rediscoverable until reappear()."""
        state = self._state(device)
        state.in_range = False
        self._link_lost(state)
        self._unexport_device(state)

    def reappear(self, device: FakeDevice | str) -> None:
        """Device back in range: announced again at the next advertisement while discovery runs."""
        state = self._state(device)
        state.in_range = True
        state.down_until = 0.0
        if self._discovery_sessions:
            self._announce(state)

    def remove_device(self, device: FakeDevice | str) -> None:
        """Forget the device entirely (vanish, then drop it from the fake)."""
        state = self._state(device)
        self.vanish(state.dev)
        del self._devices[state.dev.address]
        del self._by_path[state.path]

    def set_powered(self, powered: bool) -> None:
        """Power the adapter on/off (off: every link is lost and discovery stops)."""
        if not powered:
            for state in self._devices.values():
                self._link_lost(state)
            self._discovery_sessions.clear()
            self._update_discovering()
        self.adapter.update(Powered=bool(powered))

    def run_command(self, device: FakeDevice | str, name: str, arg: str = "") -> str:
        """Run a device-specific command registered in FakeDevice.commands; returns its answer."""
        state = self._state(device)
        try:
            fn = state.dev.commands[name]
        except KeyError:
            raise KeyError(f"{state.dev.address} has no command {name!r}") from None
        return str(fn(arg))

    def is_available(self, device: FakeDevice | str) -> bool:
        """True if the device is in range, not in a Disconnect downtime, and the adapter is powered."""
        return self._available(self._state(device))

    def _available(self, state: _DeviceState) -> bool:
        powered = bool(self.adapter.values["Powered"])
        return powered and state.in_range and time.monotonic() >= state.down_until

    # -- connection state machine ---------------------------------------------------------------

    def _export_device(self, state: _DeviceState) -> None:
        if not state.exported and self.bus is not None:
            self.bus.export(state.path, state.iface)
            state.exported = True

    def _unexport_device(self, state: _DeviceState) -> None:
        if state.exported and self.bus is not None:
            self.bus.unexport(state.path, state.iface)
        state.exported = False

    def _connect_now(self, state: _DeviceState) -> None:
        """Connected true, GATT objects exported, then ServicesResolved true (bleak's required order)."""
        assert self.bus is not None
        state.connected = True
        state.stats["connects"] += 1
        state.iface.update(Connected=True)
        for service in state.services:
            self.bus.export(service.path, service.iface)
            for char in service.chars:
                char.subscribers.clear()
                char.iface.values["Notifying"] = False
                self.bus.export(char.path, char.iface)
                for desc in char.descriptors:
                    self.bus.export(desc.path, desc.iface)
        # BlueZ lists GAP/GATT (1800/1801) in UUIDs though it exports no objects for them; bleak's
        # BleakAdapter.get_connected_devices() filters on 1801 by default.
        gatt_uuids = [GAP_SERVICE_UUID, GATT_SERVICE_UUID, *(s.iface.values["UUID"] for s in state.services)]
        all_uuids = list(dict.fromkeys([*state.iface.values["UUIDs"], *gatt_uuids]))
        if all_uuids != state.iface.values["UUIDs"]:
            state.iface.update(UUIDs=all_uuids)
        state.iface.update(ServicesResolved=True)
        self._run_hook(state.dev.on_connect, state.dev)

    def _link_lost(self, state: _DeviceState) -> None:
        """ServicesResolved false, Connected false, GATT objects removed, subscriptions dropped."""
        if not state.connected:
            return
        state.connected = False
        state.stats["link_losses"] += 1
        self._purge_queue(state)  # packets still queued at a link loss never make it (as on air)
        state.iface.update(ServicesResolved=False)
        state.iface.update(Connected=False)
        for service in reversed(state.services):
            for char in service.chars:
                self._release(char, "write")
                if char.notify_sock is not None:
                    char.notify_sock.close()  # the client sees the socket hang up
                    with contextlib.suppress(Exception):
                        asyncio.get_running_loop().remove_reader(char.notify_sock.fileno())
                    char.notify_sock = None
                was_notifying = bool(char.subscribers)
                char.subscribers.clear()
                char.iface.values["Notifying"] = False
                if was_notifying:
                    self._run_hook(char.spec.on_notify, False)
                if self.bus is not None:
                    for desc in char.descriptors:
                        self.bus.unexport(desc.path, desc.iface)
                    self.bus.unexport(char.path, char.iface)
            if self.bus is not None:
                self.bus.unexport(service.path, service.iface)
        self._run_hook(state.dev.on_disconnect, state.dev)

    # -- discovery / advertising ----------------------------------------------------------------

    def _passes_filters(self, state: _DeviceState) -> bool:
        """BlueZ merges the filters of all discovery sessions: a device passes if any session accepts it."""
        for sender in self._discovery_sessions:
            flt = self._discovery_filters.get(sender, {})
            uuids = [normalize_uuid(u) for u in flt.get("UUIDs", [])]
            if uuids and not set(uuids) & set(state.iface.values["UUIDs"]):
                continue
            if "RSSI" in flt and state.iface.values["RSSI"] < int(flt["RSSI"]):
                continue
            return True
        return False

    def _announce(self, state: _DeviceState) -> None:
        """One advertisement: export the device if new, else an RSSI PropertiesChanged (what bleak sees)."""
        if state.connected and not state.dev.advertise_while_connected:
            return
        if not self._available(state) or not self._passes_filters(state):
            return
        if not state.exported:
            state.iface.values["RSSI"] = int(state.dev.rssi)
            self._export_device(state)
        else:
            state.iface.update(RSSI=int(state.dev.rssi))

    async def _advertise_loop(self) -> None:
        while self._discovery_sessions:
            for state in list(self._devices.values()):
                self._announce(state)
            await asyncio.sleep(self.advertising_interval_s)

    def _update_discovering(self) -> None:
        discovering = bool(self._discovery_sessions)
        if self.adapter.values["Discovering"] != discovering:
            self.adapter.update(Discovering=discovering)
        if discovering and self._advertiser is None:
            self._advertiser = asyncio.ensure_future(self._advertise_loop())
            self._advertiser.add_done_callback(self._advertiser_done)

    def _advertiser_done(self, task: asyncio.Task[None]) -> None:
        if self._advertiser is task:
            self._advertiser = None
        if not task.cancelled() and task.exception() is not None:
            log.error("advertising loop failed", exc_info=task.exception())
        if self._discovery_sessions and self._advertiser is None and self.bus is not None:
            self._update_discovering()

    def _client_gone(self, name: str) -> None:
        """A bus client disconnected: end its discovery session and notify subscriptions (as BlueZ does)."""
        if name in self._discovery_sessions:
            self._discovery_sessions.discard(name)
            self._update_discovering()
        self._discovery_filters.pop(name, None)
        for state in self._devices.values():
            for char in state.chars_by_path.values():
                self._unsubscribe(char, name)

    # -- D-Bus method dispatch ------------------------------------------------------------------

    def _on_message(self, msg: Message) -> Message | bool | None:
        """Handle org.bluez method calls ourselves (we need the caller's unique name)."""
        if msg.message_type == MessageType.SIGNAL:
            if msg.member == "NameOwnerChanged" and msg.sender == "org.freedesktop.DBus":
                name, _old, new = msg.body
                if name.startswith(":") and not new:
                    self._client_gone(name)
            return None
        if msg.message_type != MessageType.METHOD_CALL:
            return None
        iface = msg.interface
        if iface == ADAPTER_IFACE:
            if msg.path != ADAPTER_PATH:
                return Message.new_error(msg, _ERR_UNKNOWN_OBJECT, f"no adapter at {msg.path}")
            return self._adapter_call(msg)
        if iface == DEVICE_IFACE:
            state = self._by_path.get(msg.path or "")
            if state is None or not state.exported:
                return Message.new_error(msg, _ERR_UNKNOWN_OBJECT, f"no object at {msg.path}")
            return self._device_call(state, msg)
        if iface in (CHAR_IFACE, DESC_IFACE):
            return self._gatt_call(msg)
        return None

    def _adapter_call(self, msg: Message) -> Message | bool:
        member, sender = msg.member, msg.sender or ""
        if member == "SetDiscoveryFilter" and msg.signature == "a{sv}":
            self._discovery_filters[sender] = {k: v.value for k, v in msg.body[0].items()}
            return Message.new_method_return(msg)
        if member == "GetDiscoveryFilters":
            return Message.new_method_return(msg, "as", [["UUIDs", "RSSI", "Pathloss", "Transport",
                                                          "DuplicateData", "Discoverable", "Pattern"]])
        if member == "StartDiscovery":
            if not self.adapter.values["Powered"]:
                return Message.new_error(msg, _ERR_NOT_READY, "Resource Not Ready")
            self._discovery_sessions.add(sender)
            self._update_discovering()
            return Message.new_method_return(msg)
        if member == "StopDiscovery":
            if sender not in self._discovery_sessions:
                if not self.adapter.values["Powered"]:
                    return Message.new_error(msg, _ERR_NOT_READY, "Resource Not Ready")
                return Message.new_error(msg, _ERR_FAILED, "No discovery started")
            self._discovery_sessions.discard(sender)
            self._update_discovering()
            return Message.new_method_return(msg)
        if member == "RemoveDevice" and msg.signature == "o":
            state = self._by_path.get(msg.body[0])
            if state is None or not state.exported:
                return Message.new_error(msg, _ERR_DOES_NOT_EXIST, "Does Not Exist")
            self._link_lost(state)
            self._unexport_device(state)
            return Message.new_method_return(msg)
        return Message.new_error(msg, _ERR_UNKNOWN_METHOD, f"Adapter1 has no {member}({msg.signature})")

    def _device_call(self, state: _DeviceState, msg: Message) -> Message | bool:
        member = msg.member
        if member in ("Connect", "Pair"):
            if member == "Pair" and state.connected:
                state.iface.update(Paired=True, Bonded=True)
                return Message.new_method_return(msg)
            if state.connected:
                return Message.new_method_return(msg)
            if state.connecting:
                return Message.new_error(msg, _ERR_IN_PROGRESS, "In Progress")
            state.connecting = True
            self._spawn(self._connect_later(state, msg, pair=member == "Pair"))
            return True
        if member == "Disconnect":
            self._link_lost(state)
            return Message.new_method_return(msg)
        if member == "CancelPairing":
            return Message.new_method_return(msg)
        return Message.new_error(msg, _ERR_UNKNOWN_METHOD, f"Device1 has no method {member}({msg.signature})")

    async def _connect_later(self, state: _DeviceState, msg: Message, pair: bool) -> None:
        assert self.bus is not None
        bus = self.bus
        try:
            if not self._available(state):
                await asyncio.sleep(self.connect_fail_delay_s)
                reply = Message.new_error(msg, _ERR_FAILED, "Software caused connection abort")
            else:
                if state.dev.connect_delay_s > 0:
                    await asyncio.sleep(state.dev.connect_delay_s)
                if not self._available(state) or not state.exported:
                    reply = Message.new_error(msg, _ERR_FAILED, "Software caused connection abort")
                else:
                    if not state.connected:
                        self._connect_now(state)
                    if pair:
                        state.iface.update(Paired=True, Bonded=True)
                    reply = Message.new_method_return(msg)
        finally:
            state.connecting = False
        bus.send(reply)

    def _gatt_call(self, msg: Message) -> Message | bool:
        path = msg.path or ""
        state = self._by_path.get(path.split("/service", 1)[0])
        if state is None or not state.connected:
            return Message.new_error(msg, _ERR_UNKNOWN_OBJECT, f"no object at {path}")
        member, sender = msg.member, msg.sender or ""
        if msg.interface == CHAR_IFACE:
            char = state.chars_by_path.get(path)
            if char is None:
                return Message.new_error(msg, _ERR_UNKNOWN_OBJECT, f"no object at {path}")
            flags = char.spec.flags
            if member == "ReadValue":
                if not _has_any(flags, _READ_FLAGS):
                    return Message.new_error(msg, _ERR_NOT_PERMITTED, "Read not permitted")
                state.stats["reads"] += 1
                return self._reply_read(msg, char.spec.on_read, char.iface)
            if member == "WriteValue":
                if not _has_any(flags, _WRITE_FLAGS):
                    return Message.new_error(msg, _ERR_NOT_PERMITTED, "Write not permitted")
                state.stats["writes"] += 1
                return self._reply_write(msg, char.spec.on_write)
            if member == "StartNotify":
                if not _has_any(flags, _NOTIFY_FLAGS):
                    return Message.new_error(msg, _ERR_NOT_SUPPORTED, "Operation is not supported")
                if char.notify_sock is not None:
                    return Message.new_error(msg, _ERR_NOT_PERMITTED, "Notify acquired")
                if sender in char.subscribers:  # BlueZ: one notify session per client
                    return Message.new_error(msg, _ERR_FAILED, "Already notifying")
                self._subscribe(char, sender)
                return Message.new_method_return(msg)
            if member == "StopNotify":
                if sender not in char.subscribers:
                    return Message.new_error(msg, _ERR_FAILED, "No notify session started")
                self._unsubscribe(char, sender)
                return Message.new_method_return(msg)
            if member == "AcquireNotify":
                if not _has_any(flags, _NOTIFY_FLAGS):
                    return Message.new_error(msg, _ERR_NOT_SUPPORTED, "Operation is not supported")
                if char.notify_sock is not None:
                    return Message.new_error(msg, _ERR_NOT_PERMITTED, "Notify acquired")
                if char.subscribers:
                    return Message.new_error(msg, _ERR_IN_PROGRESS, "In Progress")
                return self._acquire(msg, state, char, "notify")
            if member == "AcquireWrite":
                if "write-without-response" not in flags:
                    return Message.new_error(msg, _ERR_NOT_SUPPORTED, "Operation is not supported")
                if char.write_sock is not None:
                    return Message.new_error(msg, _ERR_NOT_PERMITTED, "Write acquired")
                return self._acquire(msg, state, char, "write")
            if member == "Confirm":
                return Message.new_method_return(msg)
            return Message.new_error(msg, _ERR_UNKNOWN_METHOD, f"no method {member}")
        desc = state.descs_by_path.get(path)
        if desc is None:
            return Message.new_error(msg, _ERR_UNKNOWN_OBJECT, f"no object at {path}")
        if member == "ReadValue":
            if not _has_any(desc.spec.flags, _READ_FLAGS):
                return Message.new_error(msg, _ERR_NOT_PERMITTED, "Read not permitted")
            return self._reply_read(msg, desc.spec.on_read, desc.iface)
        if member == "WriteValue":
            if not _has_any(desc.spec.flags, _WRITE_FLAGS):
                return Message.new_error(msg, _ERR_NOT_PERMITTED, "Write not permitted")

            def store(data: bytes, desc: _DescState = desc) -> Any:
                desc.iface.values["Value"] = bytes(data)
                return desc.spec.on_write(data) if desc.spec.on_write else None

            return self._reply_write(msg, store)
        return Message.new_error(msg, _ERR_UNKNOWN_METHOD, f"no method {member}")

    def _subscribe(self, char: _CharState, key: str) -> None:
        first = not char.subscribers
        char.subscribers.add(key)
        if first:
            self._set_cccd(char, b"\x01\x00" if "notify" in char.spec.flags else b"\x02\x00")
            char.iface.update(Notifying=True)
            self._run_hook(char.spec.on_notify, True)

    def _unsubscribe(self, char: _CharState, key: str) -> None:
        if key not in char.subscribers:
            return
        char.subscribers.discard(key)
        if not char.subscribers:
            self._set_cccd(char, b"\x00\x00")
            char.iface.update(Notifying=False)
            self._run_hook(char.spec.on_notify, False)

    def _acquire(self, msg: Message, state: _DeviceState, char: _CharState, kind: str) -> bool:
        """AcquireNotify/AcquireWrite: answer (fd, MTU) with one end of a SEQPACKET socket pair.

        Acquired notifications go to the socket instead of Value PropertiesChanged; bytes the client
        writes to an acquired write socket reach on_write. Closing the socket releases it. bleak itself
        only uses this in _acquire_mtu() (to learn the MTU); this fake never advertises NotifyAcquired.
        """
        assert self.bus is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        loop = asyncio.get_running_loop()
        if kind == "notify":
            char.notify_sock = ours
            self._subscribe(char, _ACQUIRED)
        else:
            char.write_sock = ours
        loop.add_reader(ours.fileno(), self._on_acquired_readable, state, char, kind)
        reply = Message.new_method_return(msg, "hq", [0, state.dev.mtu], unix_fds=[theirs.fileno()])
        self.bus.send(reply).add_done_callback(lambda _f: theirs.close())
        return True

    def _on_acquired_readable(self, state: _DeviceState, char: _CharState, kind: str) -> None:
        sock = char.notify_sock if kind == "notify" else char.write_sock
        if sock is None:
            return
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the client closed its end
            self._release(char, kind)
            return
        if kind == "write":
            state.stats["writes"] += 1
            self._run_hook(char.spec.on_write, data)

    def _release(self, char: _CharState, kind: str) -> None:
        sock = char.notify_sock if kind == "notify" else char.write_sock
        if sock is None:
            return
        if kind == "notify":
            char.notify_sock = None
            self._unsubscribe(char, _ACQUIRED)
        else:
            char.write_sock = None
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(sock.fileno())
        sock.close()

    @staticmethod
    def _set_cccd(char: _CharState, value: bytes) -> None:
        for desc in char.descriptors:
            if desc.iface.values["UUID"] == CCCD_UUID:
                desc.iface.values["Value"] = value

    @staticmethod
    def _gatt_error(msg: Message, exc: FakeGattError) -> Message:
        return Message.new_error(msg, _ERR_FAILED, f"Operation failed with ATT error: 0x{exc.att_code:02x}")

    def _reply_read(self, msg: Message, hook: ReadHook | None, iface: _PropsInterface) -> Message | bool:
        options = msg.body[0] if msg.body else {}
        offset = int(options["offset"].value) if "offset" in options else 0

        def done(value: Any) -> Message:
            data = bytes(value)
            iface.values["Value"] = data
            if offset > len(data):
                return Message.new_error(msg, "org.bluez.Error.InvalidOffset", "Invalid offset")
            return Message.new_method_return(msg, "ay", [data[offset:]])

        if hook is None:
            return done(iface.values["Value"])
        try:
            result = hook()
        except FakeGattError as exc:
            return self._gatt_error(msg, exc)
        except Exception as exc:
            log.exception("fake BlueZ read hook failed")
            return Message.new_error(msg, _ERR_FAILED, f"hook failed: {type(exc).__name__}")
        if not inspect.isawaitable(result):
            return done(result)
        self._spawn(self._finish_async(msg, result, done))
        return True

    def _reply_write(self, msg: Message, hook: WriteHook | None) -> Message | bool:
        """Run the write hook; notifications it sends go out after the write's reply, as on air."""
        data = bytes(msg.body[0])
        if hook is None:
            return Message.new_method_return(msg)
        self._held = []
        reply: Message | None
        try:
            result = hook(data)
        except FakeGattError as exc:
            reply = self._gatt_error(msg, exc)
        except Exception as exc:
            log.exception("fake BlueZ write hook failed")
            reply = Message.new_error(msg, _ERR_FAILED, f"hook failed: {type(exc).__name__}")
        else:
            if inspect.isawaitable(result):
                self._spawn(self._finish_async(msg, result, lambda _: Message.new_method_return(msg)))
                reply = None
            else:
                reply = Message.new_method_return(msg)
        finally:
            held, self._held = self._held, None
        assert self.bus is not None
        if reply is not None:
            self.bus.send(reply)
        for signal_msg in held:
            self.bus.send(signal_msg)
        return True

    async def _finish_async(
        self, msg: Message, pending: Awaitable[Any], done: Callable[[Any], Message]
    ) -> None:
        bus = self.bus
        try:
            reply = done(await pending)
        except FakeGattError as exc:
            reply = self._gatt_error(msg, exc)
        except Exception as exc:  # a broken hook must still answer, or the client hangs
            log.exception("fake BlueZ hook failed")
            reply = Message.new_error(msg, _ERR_FAILED, f"hook failed: {type(exc).__name__}")
        if bus is not None and bus.connected:
            bus.send(reply)


# ---------------------------------------------------------------------------------------------
# Control interface (fault injection for tests that run the real CLI in a subprocess)
# ---------------------------------------------------------------------------------------------


class FakeControl1(ServiceInterface):
    """org.gaitimpact.FakeControl1 at /org/gaitimpact/FakeControl on bus name org.gaitimpact.FakeControl."""

    def __init__(self, fake: FakeBluez) -> None:
        super().__init__(CONTROL_IFACE)
        self._fake = fake

    def _state(self, address: str) -> _DeviceState:
        try:
            return self._fake._state(address)
        except (KeyError, ValueError) as exc:
            raise DBusError(_ERR_UNKNOWN_DEVICE, str(exc)) from None

    @dbus_method()
    def Disconnect(self, address: DBusStr, seconds_down: DBusDouble) -> DBusNothing:  # noqa: N802
        """Link loss; the device stays unreachable for seconds_down (s)."""
        self._fake.disconnect(self._state(address).dev, float(seconds_down))

    @dbus_method()
    def Vanish(self, address: DBusStr) -> DBusNothing:  # noqa: N802
        """Device gone from the bus until Reappear."""
        self._fake.vanish(self._state(address).dev)

    @dbus_method()
    def Reappear(self, address: DBusStr) -> DBusNothing:  # noqa: N802
        """Device back in range."""
        self._fake.reappear(self._state(address).dev)

    @dbus_method()
    def DropNext(self, address: DBusStr, n: DBusUInt32) -> DBusNothing:  # noqa: N802
        """Lose the next n notifications."""
        self._fake.drop_next(self._state(address).dev, int(n))

    @dbus_method()
    def CorruptNext(self, address: DBusStr, n: DBusUInt32) -> DBusNothing:  # noqa: N802
        """Mangle the next n notifications."""
        self._fake.corrupt_next(self._state(address).dev, int(n))

    @dbus_method()
    async def WaitNotifying(  # noqa: N802
        self, address: DBusStr, char_uuid: DBusStr, timeout_s: DBusDouble
    ) -> DBusBool:
        """Wait up to timeout_s (s) until a client subscribed to char_uuid; False on timeout."""
        state = self._state(address)
        try:
            state.find_char(char_uuid)
        except KeyError as exc:
            raise DBusError(_ERR_UNKNOWN_DEVICE, str(exc)) from None
        return await self._fake.wait_notifying(state.dev, char_uuid, float(timeout_s))

    @dbus_method()
    def SetPowered(self, powered: DBusBool) -> DBusNothing:  # noqa: N802
        """Adapter power (off: all links lost, scans fail as "Bluetooth is off")."""
        self._fake.set_powered(bool(powered))

    @dbus_method()
    def Stats(self) -> DBusStr:  # noqa: N802
        """JSON {address: {counter: n, ...}} for every device."""
        return json.dumps(self._fake.stats(), sort_keys=True)

    @dbus_method()
    def Command(self, address: DBusStr, name: DBusStr, arg: DBusStr) -> DBusStr:  # noqa: N802
        """Run a device-specific command (FakeDevice.commands); returns its answer."""
        state = self._state(address)
        try:
            return self._fake.run_command(state.dev, name, arg)
        except KeyError as exc:
            raise DBusError(_ERR_UNKNOWN_DEVICE, str(exc)) from None
        except Exception as exc:
            raise DBusError(_ERR_FAILED, f"{type(exc).__name__}: {exc}") from None


_CONTROL_SIGNATURES = {"Disconnect": "sd", "Vanish": "s", "Reappear": "s", "DropNext": "su",
                       "CorruptNext": "su", "SetPowered": "b", "Stats": "", "Command": "sss",
                       "WaitNotifying": "ssd"}


async def call_control_async(bus_address: str, method: str, *args: Any, timeout_s: float = 5.0) -> Any:
    """Call a FakeControl1 method on the fake at bus_address; returns its result (Stats: parsed JSON)."""
    if method not in _CONTROL_SIGNATURES:
        raise ValueError(f"unknown control method {method!r}; one of {sorted(_CONTROL_SIGNATURES)}")
    signature = _CONTROL_SIGNATURES[method]
    convert = {"d": float, "u": int, "b": bool, "s": str}
    body = [convert[t](a) for t, a in zip(signature, args)]
    if len(body) != len(signature):
        raise ValueError(f"{method} takes {len(signature)} arguments")
    if method == "WaitNotifying":
        timeout_s = max(timeout_s, float(body[2]) + 5.0)
    bus = MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM)
    try:
        await asyncio.wait_for(bus.connect(), timeout_s)
        reply = await asyncio.wait_for(bus.call(Message(
            destination=CONTROL_BUS_NAME, path=CONTROL_PATH, interface=CONTROL_IFACE, member=method,
            signature=signature, body=body)), timeout_s)
    finally:
        bus.disconnect()
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError(f"{method} failed: {reply.error_name}: {reply.body[0] if reply.body else ''}")
    result = reply.body[0] if reply.body else None
    return json.loads(result) if method == "Stats" else result


def call_control(bus_address: str, method: str, *args: Any, timeout_s: float = 5.0) -> Any:
    """Blocking call_control_async for synchronous code (own short event loop; own thread if needed)."""
    def call() -> Any:
        return asyncio.run(call_control_async(bus_address, method, *args, timeout_s=timeout_s))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    # called from inside an event loop (blocking it): run the call's own loop in a helper thread
    result: ConcurrentFuture[Any] = ConcurrentFuture()

    def worker() -> None:
        try:
            result.set_result(call())
        except BaseException as exc:
            result.set_exception(exc)

    threading.Thread(target=worker, name="fake-bluez-control", daemon=True).start()
    return result.result(timeout_s * 3)


# ---------------------------------------------------------------------------------------------
# Factories and a trivial demo device (used by this module's tests and as the CLI default)
# ---------------------------------------------------------------------------------------------

Factory = Callable[[FakeBluez, dict[str, str]], "Iterable[FakeDevice] | None | Awaitable[Any]"]

DEMO_SERVICE_UUID = "6e6f7400-0000-4000-8000-00000000f00d"
DEMO_COUNTER_UUID = "6e6f7401-0000-4000-8000-00000000f00d"
DEMO_ECHO_UUID = "6e6f7402-0000-4000-8000-00000000f00d"
DEMO_INFO_UUID = "6e6f7403-0000-4000-8000-00000000f00d"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


class DemoCounter:
    """A trivial streaming peripheral: notifies `<I seq` + padding at rate_hz while subscribed.

    The sequence number advances for every packet the sensor emits, including ones lost by
    DropNext, so a client sees real gaps. Writes to the echo characteristic are kept in `writes`
    and read back. `sent` counts emitted packets (delivered or not).
    """

    def __init__(self, fake: FakeBluez, address: str, name: str | None = "GI-Demo", rate_hz: float = 50.0,
                 payload_bytes: int = 20, rssi: int = -55) -> None:
        self.fake = fake
        self.rate_hz = float(rate_hz)
        self.payload_bytes = max(4, int(payload_bytes))
        self.seq = 0
        self.sent = 0
        self.writes: list[bytes] = []
        self._task: asyncio.Task[None] | None = None
        self.device = FakeDevice(
            address=address, name=name, rssi=rssi, advertised_uuids=[DEMO_SERVICE_UUID],
            manufacturer_data={0xFFFF: b"gi-demo"},
            services=[
                FakeService(DEMO_SERVICE_UUID, [
                    FakeCharacteristic(DEMO_COUNTER_UUID, ["read", "notify"], on_read=self._read_counter,
                                       on_notify=self._on_notify),
                    FakeCharacteristic(DEMO_ECHO_UUID, ["read", "write", "write-without-response"],
                                       on_read=lambda: self.writes[-1] if self.writes else b"",
                                       on_write=self.writes.append),
                    FakeCharacteristic(DEMO_INFO_UUID, ["read"], value=b"fake-bluez demo 1.0",
                                       descriptors=[FakeDescriptor("2901", ("read",), b"info")]),
                ]),
                FakeService(BATTERY_SERVICE_UUID, [
                    FakeCharacteristic(BATTERY_LEVEL_UUID, ["read", "notify"], value=bytes([87])),
                ]),
            ],
            on_disconnect=lambda _dev: self._stop(),
            commands={"rate": self._set_rate, "sent": lambda _arg: str(self.sent)},
        )

    def packet(self, seq: int) -> bytes:
        """The notification payload for sequence number seq (uint32 little-endian + zero padding)."""
        return struct.pack("<I", seq & 0xFFFFFFFF) + bytes(self.payload_bytes - 4)

    def _read_counter(self) -> bytes:
        return self.packet(self.seq)

    def _set_rate(self, arg: str) -> str:
        self.rate_hz = float(arg)
        return str(self.rate_hz)

    def _on_notify(self, enabled: bool) -> None:
        if enabled and self._task is None:
            self._task = self.fake._spawn(self._stream())
        elif not enabled:
            self._stop()

    def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    async def _stream(self) -> None:
        """Emit packets on an absolute schedule (no drift); several per wake-up at high rates."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        emitted = 0
        while self.fake.is_notifying(self.device, DEMO_COUNTER_UUID):
            due = int((loop.time() - start) * self.rate_hz) + 1
            while emitted < due:
                self.fake.notify_nowait(self.device, DEMO_COUNTER_UUID, self.packet(self.seq))
                self.seq += 1
                self.sent += 1
                emitted += 1
            await asyncio.sleep(max(0.001, start + due / self.rate_hz - loop.time()))


def demo_devices(fake: FakeBluez, options: dict[str, str]) -> list[FakeDevice]:
    """Factory: `count` DemoCounter devices (options: count, rate_hz, payload_bytes, name)."""
    count = int(options.get("count", "1"))
    name = options.get("name", "GI-Demo")
    devices = []
    for i in range(count):
        demo = DemoCounter(fake, f"C0:FF:EE:00:00:{i + 1:02X}", name=f"{name}-{i + 1}" if count > 1 else name,
                           rate_hz=float(options.get("rate_hz", "50")),
                           payload_bytes=int(options.get("payload_bytes", "20")))
        devices.append(demo.device)
    return devices


def load_factory(spec: str) -> Factory:
    """Import a factory from "package.module:function"."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"factory must look like package.module:function, got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)


async def apply_factory(
    fake: FakeBluez, factory: Factory | str, options: dict[str, str] | None = None
) -> None:
    """Run a factory (callable or "module:function") and add the devices it returns to the fake."""
    fn = load_factory(factory) if isinstance(factory, str) else factory
    result = await _maybe_await(fn(fake, dict(options or {})))
    for dev in result or ():
        fake.add_device(dev)


# ---------------------------------------------------------------------------------------------
# Hosting: in a background thread, or in a subprocess
# ---------------------------------------------------------------------------------------------


class FakeBluezThread:
    """Run a FakeBluez in a background thread with its own event loop (for synchronous tests).

        with DBusDaemon() as d, FakeBluezThread(d.address, demo_devices) as t:
            subprocess.run([...], env=bluez_env(d.address))
            t.call(lambda fake: fake.disconnect("C0:FF:EE:00:00:01", down_s=2))
    """

    def __init__(self, bus_address: str, factory: Factory | str | None = None,
                 options: dict[str, str] | None = None, start_timeout_s: float = 10.0,
                 **fake_kwargs: Any) -> None:
        self.bus_address = bus_address
        self.factory = factory
        self.options = options or {}
        self.start_timeout_s = start_timeout_s
        self.fake = FakeBluez(**fake_kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: ConcurrentFuture[None] = ConcurrentFuture()
        self._stop_event: asyncio.Event | None = None

    def start(self) -> FakeBluezThread:
        """Start the thread and wait until the fake owns org.bluez and the factory has run."""
        self._thread = threading.Thread(target=self._main, name="fake-bluez", daemon=True)
        self._thread.start()
        self._ready.result(timeout=self.start_timeout_s)
        return self

    def _main(self) -> None:
        asyncio.run(self._amain())

    async def _amain(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            await self.fake.start(self.bus_address)
            if self.factory is not None:
                await apply_factory(self.fake, self.factory, self.options)
        except BaseException as exc:
            self._ready.set_exception(exc)
            await self.fake.stop()
            return
        self._ready.set_result(None)
        try:
            await self._stop_event.wait()
        finally:
            await self.fake.stop()

    def call(self, fn: Callable[[FakeBluez], T | Awaitable[T]], timeout_s: float = 10.0) -> T:
        """Run fn(fake) in the fake's loop (awaiting it if it returns an awaitable); return its result."""
        assert self.loop is not None, "not started"
        return asyncio.run_coroutine_threadsafe(self._call(fn), self.loop).result(timeout_s)

    async def _call(self, fn: Callable[[FakeBluez], Any]) -> Any:
        return await _maybe_await(fn(self.fake))

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the fake and join the thread."""
        if self.loop is not None and self._stop_event is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join(timeout_s)
        self._thread = None

    def __enter__(self) -> FakeBluezThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeBluezProcess:
    """Run `python -m gaitimpact.devtools.fake_bluez` as a subprocess on an existing bus.

    Waits for its READY line; control it with `.control("Disconnect", address, 2.0)` etc. Its stderr
    (logs, a factory's traceback) goes to log_path (default: a temp file, quoted if it fails to start);
    its later stdout is drained so a chatty factory cannot block it. It dies with the parent (Linux).
    """

    def __init__(self, bus_address: str, factory: str = "gaitimpact.devtools.fake_bluez:demo_devices",
                 options: dict[str, str] | None = None, start_timeout_s: float = 15.0,
                 log_path: str | None = None) -> None:
        self.bus_address = bus_address
        self.factory = factory
        self.options = options or {}
        self.start_timeout_s = start_timeout_s
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._own_log: str | None = None
        self._drainer: threading.Thread | None = None

    def start(self) -> FakeBluezProcess:
        """Start the subprocess and wait (up to start_timeout_s) until it reports READY."""
        from gaitimpact.devtools.dbus_daemon import _die_with_parent

        cmd = [sys.executable, "-m", "gaitimpact.devtools.fake_bluez", "--bus", self.bus_address,
               "--factory", self.factory]
        for key, value in self.options.items():
            cmd += ["--opt", f"{key}={value}"]
        log_path = self.log_path
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="gi-fake-bluez-", suffix=".log")
            os.close(fd)
            self._own_log = log_path
        with open(log_path, "ab") as stderr:
            self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + self.start_timeout_s
        buf = b""
        while b"READY" not in buf:
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                with open(log_path, "rb") as log_file:
                    tail = log_file.read().decode(errors="replace")[-1500:]
                self.stop()
                why = "timed out" if not ready else f"exited: {buf.decode(errors='replace')!r}"
                raise RuntimeError(f"fake BlueZ process did not start ({why}); its stderr: {tail.strip()}")
            buf += chunk
        self._drainer = threading.Thread(target=self._drain, args=(self.process,), name="fake-bluez-stdout",
                                         daemon=True)
        self._drainer.start()
        return self

    @staticmethod
    def _drain(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(Exception):
            while process.stdout is not None and process.stdout.read(65536):
                pass

    def control(self, method: str, *args: Any) -> Any:
        """Call a FakeControl1 method (see _CONTROL_SIGNATURES), e.g. control("DropNext", address, 3)."""
        return call_control(self.bus_address, method, *args)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=3.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5.0)
        if self._drainer is not None:
            self._drainer.join(timeout=2.0)
            self._drainer = None
        if proc.stdout is not None:
            proc.stdout.close()
        if self._own_log is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._own_log)
            self._own_log = None

    def __enter__(self) -> FakeBluezProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Self-test: real bleak against the demo device, with figures
# ---------------------------------------------------------------------------------------------


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


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy: factories import gaitimpact.devtools.fake_bluez,
    # and two copies would mean two different FakeDevice classes.
    from gaitimpact.devtools import fake_bluez as _module

    sys.exit(_module.main())
