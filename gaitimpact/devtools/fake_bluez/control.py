"""org.gaitimpact.FakeControl: fault injection over D-Bus, and the client side to call it."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import Future as ConcurrentFuture
from typing import TYPE_CHECKING, Any

from dbus_fast import BusType, DBusError, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusDouble, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

from gaitimpact.devtools.fake_bluez.model import (
    _ERR_FAILED,
    _ERR_UNKNOWN_DEVICE,
    CONTROL_BUS_NAME,
    CONTROL_IFACE,
    CONTROL_PATH,
    DBusNothing,
)
from gaitimpact.devtools.fake_bluez.objects import _DeviceState

if TYPE_CHECKING:
    from gaitimpact.devtools.fake_bluez.server import FakeBluez


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
