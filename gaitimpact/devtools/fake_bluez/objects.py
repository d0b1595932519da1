"""D-Bus objects of the fake BlueZ: property interfaces and per-device/service/characteristic state."""

from __future__ import annotations

import inspect
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import NameFlag, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property

from gaitimpact.devtools.fake_bluez.model import (
    ADAPTER_IFACE,
    CHAR_IFACE,
    DESC_IFACE,
    DEVICE_IFACE,
    SERVICE_IFACE,
    FakeCharacteristic,
    FakeDescriptor,
    FakeDevice,
    FakeService,
    normalize_uuid,
)


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


