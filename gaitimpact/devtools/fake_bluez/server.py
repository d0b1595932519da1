"""FakeBluez: owns org.bluez on a private bus; devices, faults, connect and link loss."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import select
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from gaitimpact.devtools.fake_bluez.control import FakeControl1
from gaitimpact.devtools.fake_bluez.dispatch import AdapterDispatch
from gaitimpact.devtools.fake_bluez.gatt import GattDispatch
from gaitimpact.devtools.fake_bluez.model import (
    _FIRST_HANDLE,
    ADAPTER_PATH,
    BLUEZ_SERVICE,
    CCCD_UUID,
    CHAR_IFACE,
    CONTROL_BUS_NAME,
    CONTROL_PATH,
    GAP_SERVICE_UUID,
    GATT_SERVICE_UUID,
    PROPERTIES_IFACE,
    FakeDescriptor,
    FakeDevice,
    device_path,
    log,
    normalize_address,
    normalize_uuid,
)
from gaitimpact.devtools.fake_bluez.objects import (
    _NOTIFY_FLAGS,
    _Adapter1,
    _CharState,
    _DescState,
    _Device1,
    _DeviceState,
    _GattCharacteristic1,
    _GattDescriptor1,
    _GattService1,
    _has_any,
    _own_name,
    _ServiceState,
)


class FakeBluez(AdapterDispatch, GattDispatch):
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
