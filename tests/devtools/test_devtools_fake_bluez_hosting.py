"""The fake hosted in a thread or a subprocess, driving real bleak in another process; the control API."""

from __future__ import annotations

import json
import signal
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from bleak import BleakClient, BleakScanner

from gaitimpact.devtools.dbus_daemon import bluez_env
from gaitimpact.devtools.fake_bluez import (
    DEMO_COUNTER_UUID,
    FakeBluezProcess,
    FakeBluezThread,
    call_control,
    demo_devices,
    selftest,
)

DEMO_ADDRESS = "C0:FF:EE:00:00:01"

# A bleak client in its own process: stream for SECONDS from the device, print what it got. It first
# looks for the device among those already connected at BlueZ level (a killed client leaves the link
# up and a connected sensor does not advertise), else connects by address (which scans).
CLIENT = textwrap.dedent("""
    import asyncio, json, struct, sys
    from bleak import BleakAdapter, BleakClient
    ADDRESS, CHAR, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
    async def main():
        seqs = []
        connected = await (await BleakAdapter.get()).get_connected_devices()
        target = next((d for d in connected if d.address == ADDRESS), ADDRESS)
        print("ATTACHED" if target is not ADDRESS else "SCANNING", flush=True)
        async with BleakClient(target, timeout=10) as client:
            await client.start_notify(CHAR, lambda _c, d: seqs.append(struct.unpack_from("<I", d)[0]))
            print("SUBSCRIBED", flush=True)
            await asyncio.sleep(SECONDS)
            await client.stop_notify(CHAR)
        print(json.dumps({"seqs": seqs}), flush=True)
    asyncio.run(main())
""")


def _client(address: str, seconds: float, **popen) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CLIENT, DEMO_ADDRESS, DEMO_COUNTER_UUID, str(seconds)],
                            env=bluez_env(address), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def _wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)


def test_thread_hosted_fake_streams_every_packet_to_bleak_in_a_subprocess(dbus_daemon) -> None:
    with FakeBluezThread(dbus_daemon.address, demo_devices, {"rate_hz": "200"}) as host:
        proc = _client(dbus_daemon.address, 1.0)
        try:
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        sent = host.call(lambda fake: fake.run_command(DEMO_ADDRESS, "sent"))
        stats = host.call(lambda fake: fake.stats(DEMO_ADDRESS))
    assert proc.returncode == 0, err
    seqs = json.loads(out.splitlines()[-1])["seqs"]
    assert len(seqs) >= 100
    assert seqs == list(range(len(seqs)))
    assert int(sent) == stats["notifications_sent"] == len(seqs)


def test_sigkilled_client_loses_its_subscription_but_device_stays_connected_like_bluez(dbus_daemon) -> None:
    with FakeBluezThread(dbus_daemon.address, demo_devices) as host:
        proc = _client(dbus_daemon.address, 30.0)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "SCANNING"
            assert proc.stdout.readline().strip() == "SUBSCRIBED"
            assert host.call(lambda fake: fake.is_notifying(DEMO_ADDRESS, DEMO_COUNTER_UUID))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            proc.kill()
            proc.communicate()
        _wait_for(lambda: not host.call(lambda fake: fake.is_notifying(DEMO_ADDRESS, DEMO_COUNTER_UUID)))
        still_connected = host.call(lambda fake: fake.is_connected(DEMO_ADDRESS))
        # a new client process attaches to the still-connected device and streams again
        again = _client(dbus_daemon.address, 0.3)
        out, err = again.communicate(timeout=30)
    assert still_connected
    assert again.returncode == 0, err
    assert out.splitlines()[0] == "ATTACHED"
    assert json.loads(out.splitlines()[-1])["seqs"]


def test_process_hosted_fake_is_controlled_over_dbus(dbus_daemon, run) -> None:
    import asyncio

    with FakeBluezProcess(dbus_daemon.address, options={"rate_hz": "500"}) as host:

        async def scenario():
            lost = asyncio.Event()
            seqs: list[int] = []
            client = BleakClient(DEMO_ADDRESS, disconnected_callback=lambda _c: lost.set(), timeout=5)
            try:
                await client.connect()
                subscribed = asyncio.ensure_future(
                    asyncio.to_thread(host.control, "WaitNotifying", DEMO_ADDRESS, DEMO_COUNTER_UUID, 5.0))
                await client.start_notify(DEMO_COUNTER_UUID,
                                          lambda _c, d: seqs.append(struct.unpack_from("<I", d)[0]))
                assert await subscribed is True
                while len(seqs) < 50:
                    await asyncio.sleep(0.01)
                await asyncio.to_thread(host.control, "DropNext", DEMO_ADDRESS, 5)
                while len(seqs) < 150:
                    await asyncio.sleep(0.01)
                await asyncio.to_thread(host.control, "Disconnect", DEMO_ADDRESS, 0.0)
                await asyncio.wait_for(lost.wait(), 5)
                stats = await asyncio.to_thread(host.control, "Stats")
                assert stats[DEMO_ADDRESS]["notifying"] == []
                await asyncio.to_thread(host.control, "Vanish", DEMO_ADDRESS)
                gone = await BleakScanner.find_device_by_address(DEMO_ADDRESS, timeout=0.4)
                await asyncio.to_thread(host.control, "Reappear", DEMO_ADDRESS)
                back = await BleakScanner.find_device_by_address(DEMO_ADDRESS, timeout=3)
                return seqs, stats[DEMO_ADDRESS], gone, back
            finally:
                await client.disconnect()

        seqs, stats, gone, back = run(scenario())
        with pytest.raises(RuntimeError, match="UnknownDevice"):
            host.control("Vanish", "11:22:33:44:55:66")
        rate = host.control("Command", DEMO_ADDRESS, "rate", "25")
    assert stats["notifications_dropped"] == 5
    assert stats["notifications_sent"] == len(seqs)
    assert stats["link_losses"] == 1 and stats["connected"] is False
    missing = sorted(set(range(seqs[-1] + 1)) - set(seqs))
    assert len(missing) == 5 and missing[-1] - missing[0] == 4
    assert gone is None and back is not None
    assert rate == "25.0"


def test_control_call_to_a_bus_without_fake_fails_with_a_clear_error(dbus_daemon) -> None:
    with pytest.raises(RuntimeError, match="Stats failed"):
        call_control(dbus_daemon.address, "Stats")
    with pytest.raises(ValueError, match="unknown control method"):
        call_control(dbus_daemon.address, "Explode")


def test_module_entry_point_has_help_and_rejects_a_bad_factory(dbus_daemon) -> None:
    help_run = subprocess.run([sys.executable, "-m", "gaitimpact.devtools.fake_bluez", "--help"],
                              capture_output=True, text=True, timeout=30)
    assert help_run.returncode == 0
    assert "--factory" in help_run.stdout
    with pytest.raises(RuntimeError, match="did not start"):
        FakeBluezProcess(dbus_daemon.address, factory="no_such_module:nothing", start_timeout_s=10).start()


def test_module_entry_point_without_bus_starts_its_own_daemon_and_prints_the_environment() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "gaitimpact.devtools.fake_bluez"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        export_line = proc.stdout.readline()
        ready_line = proc.stdout.readline()
        address = export_line.split("DBUS_SYSTEM_BUS_ADDRESS='", 1)[1].split("'", 1)[0]
        stats = call_control(address, "Stats")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert ready_line.startswith("READY bus=unix:")
    assert list(stats) == [DEMO_ADDRESS]
    assert proc.returncode == 0


def test_selftest_streams_from_a_subprocess_fake_and_reports_n_of_n(dbus_daemon) -> None:
    figures = selftest(seconds=0.5, rate_hz=200.0, bus_address=dbus_daemon.address)
    assert figures["in_order"]
    assert figures["received"] == figures["sent"] >= 50
    assert figures["scan_s"] > 0 and figures["connect_s"] > 0


def test_control_set_powered_off_makes_bleak_in_another_process_report_bluetooth_off(dbus_daemon) -> None:
    probe = ("import asyncio\nfrom bleak import BleakScanner\n"
             "try:\n    asyncio.run(BleakScanner.discover(timeout=0.2))\n    print('SCANNED')\n"
             "except Exception as exc:\n    print(type(exc).__name__)\n")
    with FakeBluezThread(dbus_daemon.address, demo_devices):
        env = bluez_env(dbus_daemon.address)
        command = [sys.executable, "-c", probe]
        before = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        call_control(dbus_daemon.address, "SetPowered", False)
        after = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert before.stdout.strip() == "SCANNED"
    assert after.stdout.strip() == "BleakBluetoothNotAvailableError"
