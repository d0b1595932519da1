"""Real bleak (no mocks) against the fake BlueZ on a private dbus-daemon, fake and bleak in one loop."""

from __future__ import annotations

import asyncio
import struct

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)

from gaitimpact.devtools import fake_bluez as fb
from gaitimpact.devtools.fake_bluez import (
    DEMO_COUNTER_UUID,
    DEMO_ECHO_UUID,
    DEMO_INFO_UUID,
    DEMO_SERVICE_UUID,
    DemoCounter,
    FakeBluez,
    FakeCharacteristic,
    FakeDevice,
    FakeGattError,
    FakeService,
)

DEMO_ADDRESS = "C0:FF:EE:00:00:01"
OTHER_SERVICE = "0000fff0-0000-1000-8000-00805f9b34fb"
OTHER_CHAR = "0000fff1-0000-1000-8000-00805f9b34fb"


async def _start(address: str, rate_hz: float = 100.0, **fake_kwargs) -> tuple[FakeBluez, DemoCounter]:
    fake = FakeBluez(**fake_kwargs)
    await fake.start(address)
    demo = DemoCounter(fake, DEMO_ADDRESS, rate_hz=rate_hz)
    fake.add_device(demo.device)
    return fake, demo


def _seqs(packets: list[bytes]) -> list[int]:
    return [struct.unpack_from("<I", p)[0] for p in packets]


async def _wait_until(predicate, timeout_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


def test_scan_reports_name_address_rssi_uuids_and_manufacturer_data(dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        try:
            found = await BleakScanner.discover(timeout=0.5, return_adv=True)
            return {dev.address: (dev.name, adv.rssi, adv.service_uuids, adv.manufacturer_data)
                    for dev, adv in found.values()}
        finally:
            await fake.stop()

    found = run(scenario())
    assert found == {DEMO_ADDRESS: ("GI-Demo", -55, [DEMO_SERVICE_UUID], {0xFFFF: b"gi-demo"})}


def test_scan_with_service_filter_reports_only_matching_devices_and_unnamed_device_has_no_name(
        dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        unnamed = FakeDevice("AA:BB:CC:00:00:02", name=None, rssi=-80, advertised_uuids=[OTHER_SERVICE])
        fake.add_device(unnamed)
        try:
            filtered = await BleakScanner.discover(timeout=0.4, service_uuids=[DEMO_SERVICE_UUID])
            everything = await BleakScanner.discover(timeout=0.4)
            return [d.address for d in filtered], {d.address: d.name for d in everything}
        finally:
            await fake.stop()

    filtered, everything = run(scenario())
    assert filtered == [DEMO_ADDRESS]
    assert everything == {DEMO_ADDRESS: "GI-Demo", "AA:BB:CC:00:00:02": None}


def test_connect_by_address_resolves_gatt_tree_with_bluez_handles_and_auto_cccd(dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                connected = fake.is_connected(DEMO_ADDRESS)
                tree = {s.uuid: (s.handle, {c.uuid: (c.handle, c.properties, [d.uuid for d in c.descriptors])
                                            for c in s.characteristics}) for s in client.services}
            return connected, tree, fake.is_connected(DEMO_ADDRESS)
        finally:
            await fake.stop()

    connected, tree, after = run(scenario())
    assert connected and not after
    handle, chars = tree[DEMO_SERVICE_UUID]
    assert handle == 0x0A
    assert chars[DEMO_COUNTER_UUID] == (0x0B, ["read", "notify"], [fb.CCCD_UUID])
    assert chars[DEMO_ECHO_UUID][0] == 0x0E
    assert chars[DEMO_INFO_UUID][2] == ["00002901-0000-1000-8000-00805f9b34fb"]
    assert tree[fb.BATTERY_SERVICE_UUID][1][fb.BATTERY_LEVEL_UUID][1] == ["read", "notify"]


def test_read_write_and_descriptor_read_round_trip_through_the_hooks(dbus_daemon, run) -> None:
    async def scenario():
        fake, demo = await _start(dbus_daemon.address)
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                info = await client.read_gatt_char(DEMO_INFO_UUID)
                await client.write_gatt_char(DEMO_ECHO_UUID, b"\x01\x02cfg", response=True)
                await client.write_gatt_char(DEMO_ECHO_UUID, b"cmd", response=False)
                echo = await client.read_gatt_char(DEMO_ECHO_UUID)
                battery = await client.read_gatt_char(fb.BATTERY_LEVEL_UUID)
                desc = client.services.get_characteristic(DEMO_INFO_UUID).descriptors[0]
                user_description = await client.read_gatt_descriptor(desc)
            return info, echo, battery, user_description, demo.writes, fake.stats(DEMO_ADDRESS)
        finally:
            await fake.stop()

    info, echo, battery, user_description, writes, stats = run(scenario())
    assert info == b"fake-bluez demo 1.0"
    assert writes == [b"\x01\x02cfg", b"cmd"]
    assert echo == b"cmd"
    assert battery == bytes([87])
    assert user_description == b"info"
    assert stats["writes"] == 2 and stats["reads"] == 3


def test_gatt_errors_and_broken_hooks_reach_bleak_as_errors_not_hangs(dbus_daemon, run) -> None:
    def refuse(_data: bytes) -> None:
        raise FakeGattError(0x13, "value not allowed")

    async def async_read() -> bytes:
        await asyncio.sleep(0.01)
        return b"slow"

    def broken_read() -> bytes:
        raise ZeroDivisionError("bug in a simulated sensor")

    device = FakeDevice("AA:BB:CC:00:00:03", name="Errs", advertised_uuids=[OTHER_SERVICE], services=[
        FakeService(OTHER_SERVICE, [
            FakeCharacteristic(OTHER_CHAR, ["write"], on_write=refuse),
            FakeCharacteristic("0000fff2-0000-1000-8000-00805f9b34fb", ["read"], on_read=async_read),
            FakeCharacteristic("0000fff3-0000-1000-8000-00805f9b34fb", ["read"], on_read=broken_read),
        ])])

    async def scenario():
        fake = FakeBluez()
        await fake.start(dbus_daemon.address)
        fake.add_device(device)
        try:
            async with BleakClient(device.address, timeout=5) as client:
                with pytest.raises(BleakGATTProtocolError) as write_error:
                    await client.write_gatt_char(OTHER_CHAR, b"x", response=True)
                with pytest.raises(BleakGATTProtocolError) as read_error:
                    await client.read_gatt_char(OTHER_CHAR)
                with pytest.raises(BleakError):
                    await client.start_notify(OTHER_CHAR, lambda _c, _d: None)
                slow = await client.read_gatt_char("0000fff2-0000-1000-8000-00805f9b34fb")
                with pytest.raises(BleakError, match="hook failed: ZeroDivisionError"):
                    await client.read_gatt_char("0000fff3-0000-1000-8000-00805f9b34fb")
            return write_error.value, read_error.value, slow
        finally:
            await fake.stop()

    write_error, read_error, slow = run(scenario())
    assert write_error.code == BleakGATTProtocolErrorCode.VALUE_NOT_ALLOWED
    assert read_error.code == BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
    assert slow == b"slow"


def test_control_point_answers_a_write_with_an_indication_after_the_write_reply(dbus_daemon, run) -> None:
    fake_ref: list[FakeBluez] = []
    device = FakeDevice("AA:BB:CC:00:00:04", name="CP", advertised_uuids=[OTHER_SERVICE])

    def on_write(data: bytes) -> None:
        assert fake_ref[0].notify_nowait(device, OTHER_CHAR, b"\xf0" + data)

    device.services = [FakeService(OTHER_SERVICE, [FakeCharacteristic(OTHER_CHAR, ["write", "indicate"],
                                                                       on_write=on_write)])]

    async def scenario():
        fake = FakeBluez()
        fake_ref.append(fake)
        await fake.start(dbus_daemon.address)
        fake.add_device(device)
        answers: list[bytes] = []
        try:
            async with BleakClient(device.address, timeout=5) as client:
                await client.start_notify(OTHER_CHAR, lambda _c, d: answers.append(bytes(d)))
                await client.write_gatt_char(OTHER_CHAR, b"\x01\x02", response=True)
                await _wait_until(lambda: answers)
            return answers
        finally:
            await fake.stop()

    assert run(scenario()) == [b"\xf0\x01\x02"]


def test_bleak_learns_the_mtu_through_acquire_write_or_acquire_notify(dbus_daemon, run) -> None:
    notify_only = FakeDevice(
        "AA:BB:CC:00:00:05", name="NotifyOnly", mtu=185, advertised_uuids=[OTHER_SERVICE],
        services=[FakeService(OTHER_SERVICE, [FakeCharacteristic(OTHER_CHAR, ["notify"])])])

    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        fake.add_device(notify_only)
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:  # has write-without-response
                await client._backend._acquire_mtu()
                demo_mtu = client.mtu_size
            async with BleakClient(notify_only.address, timeout=5) as client:  # AcquireNotify path
                await client._backend._acquire_mtu()
                other_mtu = client.mtu_size
                released = await fake.wait_notifying(notify_only, OTHER_CHAR, 5.0, notifying=False)
            return demo_mtu, other_mtu, released
        finally:
            await fake.stop()

    assert run(scenario()) == (247, 185, True)


def test_notify_delivers_every_packet_in_order_at_1000_hz(dbus_daemon, run) -> None:
    async def scenario():
        fake, demo = await _start(dbus_daemon.address, rate_hz=1000.0)
        received: list[bytes] = []
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                await client.start_notify(DEMO_COUNTER_UUID, lambda _c, data: received.append(bytes(data)))
                await asyncio.sleep(1.0)
                await client.stop_notify(DEMO_COUNTER_UUID)
                await _wait_until(lambda: len(received) >= demo.sent)
                notifying_after_stop = fake.is_notifying(DEMO_ADDRESS, DEMO_COUNTER_UUID)
            return received, demo.sent, notifying_after_stop, fake.stats(DEMO_ADDRESS)
        finally:
            await fake.stop()

    received, sent, notifying_after_stop, stats = run(scenario())
    assert sent >= 500
    assert _seqs(received) == list(range(sent))
    assert stats["notifications_sent"] == sent
    assert not notifying_after_stop


def test_a_burst_faster_than_the_bus_drains_is_queued_not_lost_and_stays_in_order(dbus_daemon, run) -> None:
    # dbus-fast drops its connection if a write meets a full socket; the fake must pace the burst.
    burst = 10_000

    async def scenario():
        fake, demo = await _start(dbus_daemon.address, rate_hz=0.001)
        received: list[bytes] = []
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                await client.start_notify(DEMO_COUNTER_UUID, lambda _c, d: received.append(bytes(d)))
                await _wait_until(lambda: len(received) == 1)  # the stream's first packet, seq 0
                accepted = [fake.notify_nowait(DEMO_ADDRESS, DEMO_COUNTER_UUID, demo.packet(1 + i))
                            for i in range(burst)]
                await _wait_until(lambda: len(received) == burst + 1, timeout_s=30)
            return accepted, received, fake.stats(DEMO_ADDRESS), fake.bus is not None and fake.bus.connected
        finally:
            await fake.stop()

    accepted, received, stats, bus_alive = run(scenario(), 60)
    assert all(accepted)
    assert bus_alive
    assert _seqs(received) == list(range(burst + 1))
    assert stats["notifications_sent"] == burst + 1


def test_two_devices_stream_to_two_clients_at_once_without_mixing_packets(dbus_daemon, run) -> None:
    async def scenario():
        fake = FakeBluez()
        await fake.start(dbus_daemon.address)
        left = DemoCounter(fake, "C0:FF:EE:00:00:0A", name="Left", rate_hz=300.0)
        right = DemoCounter(fake, "C0:FF:EE:00:00:0B", name="Right", rate_hz=150.0, payload_bytes=8)
        fake.add_device(left.device)
        fake.add_device(right.device)
        got: dict[str, list[bytes]] = {"Left": [], "Right": []}
        try:
            found = await BleakScanner.discover(timeout=0.4)
            by_name = {d.name: d for d in found}
            async with (BleakClient(by_name["Left"], timeout=5) as a,
                        BleakClient(by_name["Right"], timeout=5) as b):
                await a.start_notify(DEMO_COUNTER_UUID, lambda _c, d: got["Left"].append(bytes(d)))
                await b.start_notify(DEMO_COUNTER_UUID, lambda _c, d: got["Right"].append(bytes(d)))
                await asyncio.sleep(0.5)
                await a.stop_notify(DEMO_COUNTER_UUID)
                await b.stop_notify(DEMO_COUNTER_UUID)
                await _wait_until(lambda: len(got["Left"]) == left.sent and len(got["Right"]) == right.sent)
            return got
        finally:
            await fake.stop()

    got = run(scenario())
    assert len(got["Left"]) > 50 and len(got["Right"]) > 25
    assert {len(p) for p in got["Left"]} == {20} and {len(p) for p in got["Right"]} == {8}
    assert _seqs(got["Left"]) == list(range(len(got["Left"])))
    assert _seqs(got["Right"]) == list(range(len(got["Right"])))


def test_second_start_notify_from_the_same_client_fails_like_bluez_and_set_value_notifies(
        dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        got: list[bytes] = []
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                def on_level(_c, data: bytearray) -> None:
                    got.append(bytes(data))

                await client.start_notify(fb.BATTERY_LEVEL_UUID, on_level)
                with pytest.raises(BleakError, match="Already notifying"):
                    # (bleak installs the callback before asking BlueZ, so it replaces the first one)
                    await client.start_notify(fb.BATTERY_LEVEL_UUID, on_level)
                notified = fake.set_value(DEMO_ADDRESS, fb.BATTERY_LEVEL_UUID, b"\x41")
                await _wait_until(lambda: got)
                level = await client.read_gatt_char(fb.BATTERY_LEVEL_UUID)
            return notified, got, level
        finally:
            await fake.stop()

    notified, got, level = run(scenario())
    assert notified
    assert got == [b"\x41"] and level == b"\x41"


def test_notify_from_python_api_returns_false_when_nobody_subscribed(dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        try:
            before = await fake.notify(DEMO_ADDRESS, fb.BATTERY_LEVEL_UUID, b"\x50")
            got: list[bytes] = []
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                unsubscribed = await fake.notify(DEMO_ADDRESS, fb.BATTERY_LEVEL_UUID, b"\x51")
                await client.start_notify(fb.BATTERY_LEVEL_UUID, lambda _c, d: got.append(bytes(d)))
                delivered = await fake.notify(DEMO_ADDRESS, fb.BATTERY_LEVEL_UUID, b"\x52")
                await _wait_until(lambda: got)
            return before, unsubscribed, delivered, got
        finally:
            await fake.stop()

    before, unsubscribed, delivered, got = run(scenario())
    assert (before, unsubscribed, delivered) == (False, False, True)
    assert got == [b"\x52"]


def test_link_loss_fires_disconnected_callback_and_the_same_client_reconnects_and_streams(
        dbus_daemon, run) -> None:
    async def scenario():
        fake, demo = await _start(dbus_daemon.address, rate_hz=200.0)
        lost = asyncio.Event()
        received: list[bytes] = []
        client = BleakClient(DEMO_ADDRESS, disconnected_callback=lambda _c: lost.set(), timeout=5)
        try:
            await client.connect()
            await client.start_notify(DEMO_COUNTER_UUID, lambda _c, d: received.append(bytes(d)))
            await _wait_until(lambda: len(received) >= 20)
            fake.disconnect(DEMO_ADDRESS)
            await asyncio.wait_for(lost.wait(), 3)
            state_after_loss = (client.is_connected, fake.is_connected(DEMO_ADDRESS), demo._task is None)
            before = len(received)
            await client.connect()
            await client.start_notify(DEMO_COUNTER_UUID, lambda _c, d: received.append(bytes(d)))
            await _wait_until(lambda: len(received) >= before + 20)
            reconnected = client.is_connected
            await client.disconnect()
            return state_after_loss, reconnected, fake.stats(DEMO_ADDRESS)
        finally:
            await client.disconnect()
            await fake.stop()

    state_after_loss, reconnected, stats = run(scenario())
    assert state_after_loss == (False, False, True)
    assert reconnected
    assert stats["connects"] == 2 and stats["link_losses"] == 2


def test_device_down_after_link_loss_refuses_connections_until_its_downtime_ends(dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address, connect_fail_delay_s=0.05)
        client = BleakClient(DEMO_ADDRESS, timeout=5)
        try:
            await client.connect()
            fake.disconnect(DEMO_ADDRESS, down_s=1.2)
            await _wait_until(lambda: not client.is_connected)
            with pytest.raises(BleakError):
                await client.connect()
            not_seen = await BleakScanner.find_device_by_address(DEMO_ADDRESS, timeout=0.3)
            assert not fake.is_available(DEMO_ADDRESS), "machine too slow: the checks outlasted the downtime"
            await _wait_until(lambda: fake.is_available(DEMO_ADDRESS))
            await client.connect(timeout=5)
            return not_seen, client.is_connected
        finally:
            await client.disconnect()
            await fake.stop()

    not_seen, connected_again = run(scenario())
    assert not_seen is None
    assert connected_again


def test_vanished_device_drops_the_link_is_not_found_by_scan_and_returns_after_reappear(
        dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        lost = asyncio.Event()
        client = BleakClient(DEMO_ADDRESS, disconnected_callback=lambda _c: lost.set(), timeout=5)
        try:
            await client.connect()
            fake.vanish(DEMO_ADDRESS)
            await asyncio.wait_for(lost.wait(), 3)
            gone = await BleakScanner.discover(timeout=0.4)
            with pytest.raises((BleakDeviceNotFoundError, BleakError)):
                await BleakClient(DEMO_ADDRESS, timeout=0.5).connect()
            fake.reappear(DEMO_ADDRESS)
            back = await BleakScanner.find_device_by_address(DEMO_ADDRESS, timeout=2)
            async with BleakClient(back, timeout=5) as again:
                info = await again.read_gatt_char(DEMO_INFO_UUID)
            return [d.address for d in gone], back is not None, info
        finally:
            await client.disconnect()
            await fake.stop()

    gone, back, info = run(scenario())
    assert gone == []
    assert back
    assert info == b"fake-bluez demo 1.0"


def test_drop_next_loses_exactly_n_packets_and_corrupt_next_truncates_exactly_n(dbus_daemon, run) -> None:
    async def scenario():
        fake, demo = await _start(dbus_daemon.address, rate_hz=500.0)
        received: list[bytes] = []
        try:
            async with BleakClient(DEMO_ADDRESS, timeout=5) as client:
                await client.start_notify(DEMO_COUNTER_UUID, lambda _c, d: received.append(bytes(d)))
                await _wait_until(lambda: len(received) >= 50)
                fake.drop_next(DEMO_ADDRESS, 7)
                await _wait_until(lambda: len(received) >= 100)
                fake.corrupt_next(DEMO_ADDRESS, 3)
                await _wait_until(lambda: len(received) >= 150)
                await client.stop_notify(DEMO_COUNTER_UUID)
                await _wait_until(lambda: len(received) + 7 >= demo.sent)
            return received, demo.sent, fake.stats(DEMO_ADDRESS)
        finally:
            await fake.stop()

    received, sent, stats = run(scenario())
    short = [p for p in received if len(p) != 20]
    whole = _seqs([p for p in received if len(p) == 20])
    assert len(short) == 3 and all(len(p) == 10 for p in short)
    assert len(received) == sent - 7
    missing = sorted(set(range(sent)) - set(whole))
    assert len(missing) == 7 + 3
    assert missing[6] - missing[0] == 6  # the 7 dropped packets are one contiguous gap
    assert stats["notifications_dropped"] == 7 and stats["notifications_corrupted"] == 3


def test_pair_connects_and_marks_the_device_paired(dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        try:
            async with BleakClient(DEMO_ADDRESS, pair=True, timeout=5) as client:
                connected = client.is_connected
                props = fake._state(DEMO_ADDRESS).iface.values
                return connected, props["Paired"], props["Trusted"]
        finally:
            await fake.stop()

    assert run(scenario()) == (True, True, True)


def test_powered_off_adapter_makes_bleak_report_bluetooth_not_available(dbus_daemon, run) -> None:
    async def scenario():
        fake, _demo = await _start(dbus_daemon.address)
        fake.set_powered(False)
        try:
            with pytest.raises(BleakBluetoothNotAvailableError):
                await BleakScanner.discover(timeout=0.2)
        finally:
            await fake.stop()

    run(scenario())


def test_fake_refuses_to_start_when_org_bluez_is_already_owned(dbus_daemon, run) -> None:
    async def scenario():
        first = FakeBluez()
        await first.start(dbus_daemon.address)
        try:
            with pytest.raises(RuntimeError, match="org.bluez"):
                await FakeBluez(control=False).start(dbus_daemon.address)
        finally:
            await first.stop()

    run(scenario())
