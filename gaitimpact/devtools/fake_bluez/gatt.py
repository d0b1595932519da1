"""GATT D-Bus calls of the fake BlueZ: reads, writes, notify sessions, acquired sockets (a mixin of FakeBluez)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from dbus_fast import Message

from gaitimpact.devtools.fake_bluez.model import (
    _ACQUIRED,
    _ERR_FAILED,
    _ERR_IN_PROGRESS,
    _ERR_NOT_PERMITTED,
    _ERR_NOT_SUPPORTED,
    _ERR_UNKNOWN_METHOD,
    _ERR_UNKNOWN_OBJECT,
    CCCD_UUID,
    CHAR_IFACE,
    FakeGattError,
    ReadHook,
    WriteHook,
    log,
)
from gaitimpact.devtools.fake_bluez.objects import (
    _NOTIFY_FLAGS,
    _READ_FLAGS,
    _WRITE_FLAGS,
    _CharState,
    _DescState,
    _DeviceState,
    _has_any,
    _PropsInterface,
)


class GattDispatch:
    """GattService1/GattCharacteristic1/GattDescriptor1 method calls (state lives in FakeBluez)."""

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


