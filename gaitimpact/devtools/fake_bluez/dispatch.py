"""Adapter and device D-Bus calls and discovery (advertising) of the fake BlueZ (a mixin of FakeBluez)."""

from __future__ import annotations

import asyncio

from dbus_fast import Message, MessageType

from gaitimpact.devtools.fake_bluez.model import (
    _ERR_DOES_NOT_EXIST,
    _ERR_FAILED,
    _ERR_IN_PROGRESS,
    _ERR_NOT_READY,
    _ERR_UNKNOWN_METHOD,
    _ERR_UNKNOWN_OBJECT,
    ADAPTER_IFACE,
    ADAPTER_PATH,
    CHAR_IFACE,
    DESC_IFACE,
    DEVICE_IFACE,
    log,
    normalize_uuid,
)
from gaitimpact.devtools.fake_bluez.objects import _DeviceState


class AdapterDispatch:
    """Discovery sessions, advertising, Adapter1/Device1 method calls (state lives in FakeBluez)."""

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

