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
- `python -m gaitimpact.devtools.fake_bluez` runs the package's `__main__`, so factories and the server
  share one `FakeDevice` class (a single-file module run with -m would exist twice).
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

Modules: `model` (FakeDevice, FakeService, ... and BlueZ names), `objects` (D-Bus property interfaces,
per-object state), `server` (FakeBluez: devices, faults, connect, link loss), `dispatch` and `gatt` (its
D-Bus method handling, as mixins), `control` (the fault-injection interface and its client), `demo`,
`hosting` (thread / subprocess), `cli`. Needs `dbus_fast` (the `[dev]` extra; bleak brings it on Linux).
"""

from __future__ import annotations

from gaitimpact.devtools.fake_bluez.cli import main, selftest
from gaitimpact.devtools.fake_bluez.control import FakeControl1, call_control, call_control_async
from gaitimpact.devtools.fake_bluez.demo import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    DEMO_COUNTER_UUID,
    DEMO_ECHO_UUID,
    DEMO_INFO_UUID,
    DEMO_SERVICE_UUID,
    DemoCounter,
    demo_devices,
)
from gaitimpact.devtools.fake_bluez.hosting import FakeBluezProcess, FakeBluezThread, apply_factory, load_factory
from gaitimpact.devtools.fake_bluez.model import (
    ADAPTER_PATH,
    CCCD_UUID,
    CONTROL_BUS_NAME,
    CONTROL_IFACE,
    CONTROL_PATH,
    FakeCharacteristic,
    FakeDescriptor,
    FakeDevice,
    FakeGattError,
    FakeService,
    device_path,
    normalize_address,
    normalize_uuid,
)
from gaitimpact.devtools.fake_bluez.server import FakeBluez

__all__ = [
    "ADAPTER_PATH", "BATTERY_LEVEL_UUID", "CCCD_UUID", "BATTERY_SERVICE_UUID", "CONTROL_BUS_NAME", "CONTROL_IFACE",
    "CONTROL_PATH", "DEMO_COUNTER_UUID", "DEMO_ECHO_UUID", "DEMO_INFO_UUID", "DEMO_SERVICE_UUID", "DemoCounter",
    "FakeBluez", "FakeBluezProcess", "FakeBluezThread", "FakeCharacteristic", "FakeControl1", "FakeDescriptor",
    "FakeDevice", "FakeGattError", "FakeService", "apply_factory", "call_control", "call_control_async",
    "demo_devices", "device_path", "load_factory", "main", "normalize_address", "normalize_uuid", "selftest",
]
