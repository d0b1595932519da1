"""A demo peripheral (counter, echo, info) for trying the fake by hand."""

from __future__ import annotations

import asyncio
import struct
from typing import TYPE_CHECKING

from gaitimpact.devtools.fake_bluez.model import FakeCharacteristic, FakeDescriptor, FakeDevice, FakeService

if TYPE_CHECKING:
    from gaitimpact.devtools.fake_bluez.server import FakeBluez


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


