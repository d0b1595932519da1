"""The gaitimpact open GATT profile for DIY sensors (byte layout: firmware_notes/gatt_profile.md).

Data notification (little-endian), 12-byte header + n samples:
  0 u8 version (1) | 1-2 u16 seq (wraps at 65536) | 3-6 u32 t_first_us (device us, wraps at 2^32)
  7 u8 n samples | 8-11 f32 scale (g per LSB) | 12.. n x (i16 x, i16 y, i16 z)
Config (write): u8 op (1 start, 2 stop) | u16 rate_hz | u16 range_g.  Read: u8 state | u16 rate | u16 range.
Info (read): u8 proto | u8 fw major | u8 minor | u8 patch | u8 n_rates | n x u16 rate_hz |
  u8 n_ranges | n x u16 range_g | utf-8 model name.
"""

from __future__ import annotations

import math
import struct

import numpy as np
from bleak import BleakClient

from gaitimpact.ble.profiles.base import (
    Block,
    PacketError,
    Profile,
    ServerReply,
    StreamSetup,
    choose_range,
    decode_each,
    normalise_uuid,
    pick_supported,
)

NAME = "gaitimpact"
DESCRIPTION = "gaitimpact open profile (DIY nRF52/ESP32 sensor)"
SERVICE_UUID = "47616974-0000-4a1b-8c2d-696d70616374"
DATA_UUID = "47616974-0001-4a1b-8c2d-696d70616374"
CONFIG_UUID = "47616974-0002-4a1b-8c2d-696d70616374"
INFO_UUID = "47616974-0003-4a1b-8c2d-696d70616374"
BATTERY_SERVICE_UUID = normalise_uuid("180f")
BATTERY_LEVEL_UUID = normalise_uuid("2a19")

VERSION = 1
HEADER = struct.Struct("<BHIBf")
HEADER_BYTES = HEADER.size  # 12
SAMPLE_BYTES = 6
MAX_SAMPLES_PER_PACKET = (244 - HEADER_BYTES) // SAMPLE_BYTES  # ATT MTU 247 -> 38
OP_START = 1
OP_STOP = 2
SEQ_MODULUS = 1 << 16
US_MODULUS = 1 << 32


def parse_info(data: bytes) -> dict:
    """Decode the info characteristic: protocol, firmware, supported rates (Hz) and ranges (g), model."""
    try:
        proto, major, minor, patch, n_rates = struct.unpack_from("<5B", data, 0)
        off = 5
        rates = list(struct.unpack_from(f"<{n_rates}H", data, off))
        off += 2 * n_rates
        (n_ranges,) = struct.unpack_from("<B", data, off)
        off += 1
        ranges = list(struct.unpack_from(f"<{n_ranges}H", data, off))
        off += 2 * n_ranges
    except struct.error as exc:
        raise PacketError(f"info characteristic truncated ({len(data)} bytes)") from exc
    return {
        "protocol": proto,
        "firmware": f"{major}.{minor}.{patch}",
        "rates_hz": rates,
        "ranges_g": ranges,
        "model": bytes(data[off:]).decode("utf-8", "replace"),
    }


def encode_info(
    firmware: tuple[int, int, int], rates_hz: list[int], ranges_g: list[int], model: str
) -> bytes:
    """Encode the info characteristic (inverse of `parse_info`)."""
    out = struct.pack("<5B", VERSION, *firmware, len(rates_hz)) + struct.pack(f"<{len(rates_hz)}H", *rates_hz)
    out += struct.pack("<B", len(ranges_g)) + struct.pack(f"<{len(ranges_g)}H", *ranges_g)
    return out + model.encode("utf-8")


def encode_config(op: int, rate_hz: int = 0, range_g: int = 0) -> bytes:
    """Encode a config write: op (1 start, 2 stop), rate in Hz, range in g."""
    return struct.pack("<BHH", op, rate_hz, range_g)


def _header(data: bytes | bytearray) -> tuple[int, int, int, float]:
    """(seq, device us, samples, scale g/LSB) of a data notification; PacketError when malformed."""
    if len(data) < HEADER_BYTES:
        raise PacketError(f"truncated packet: {len(data)} bytes < {HEADER_BYTES}-byte header")
    version, seq, t_us, n, scale = HEADER.unpack_from(data, 0)
    if version != VERSION:
        raise PacketError(f"unknown packet version {version}")
    if n == 0:
        raise PacketError("packet with zero samples")
    if len(data) != HEADER_BYTES + SAMPLE_BYTES * n:
        raise PacketError(f"packet length {len(data)} does not match {n} samples")
    if not (math.isfinite(scale) and 0 < scale < 1.0):
        raise PacketError(f"implausible scale {scale!r} g/LSB")
    return seq, t_us, n, scale


class Decoder:
    """Stateful decoder of data notifications (unwraps the 32-bit microsecond device clock)."""

    def __init__(self, fs_hz: float, range_g: float) -> None:
        self.fs_hz = float(fs_hz)
        self.range_g = float(range_g)
        self._last_us: int | None = None
        self._wraps = 0

    def decode(self, data: bytes | bytearray) -> Block:
        """Decode one notification into a `Block` (g, device seconds); raises PacketError when malformed."""
        seq, t_us, _n, scale = _header(data)
        return self._block([data], seq, self._unwrap(t_us), scale)

    def _unwrap(self, t_us: int) -> int:
        """Device time (us) of a packet on the unwrapped clock (counts the 32-bit wraps; call in arrival order)."""
        if self._last_us is not None and t_us < self._last_us and self._last_us - t_us > US_MODULUS // 2:
            self._wraps += 1
        self._last_us = t_us
        return t_us + self._wraps * US_MODULUS

    def decode_many(self, datas: list[bytes | bytearray]) -> list[Block | PacketError]:
        """Decode notifications in arrival order at once; a run of contiguous ones (consecutive seq, each
        starting n periods after the previous one, same n and scale) comes back as one Block (`packets`).

        Headers are read one by one (a few per tick), the samples of a run with one numpy conversion. Any
        malformed packet in the batch decodes it packet by packet, so errors and results are those of
        `decode`."""
        try:
            heads = [_header(data) for data in datas]  # before any clock state changes
        except PacketError:
            return decode_each(self, datas)
        out: list[Block | PacketError] = []
        run: list[bytes | bytearray] = []  # the current run of contiguous packets
        run_seq, run_t_us, run_scale = 0, 0, 0.0  # its first seq and device us, its scale
        last_seq, last_n, last_t_us = 0, 0, 0  # the previous packet's
        for data, (seq, t_us, n, scale) in zip(datas, heads):
            t_first_us = self._unwrap(t_us)
            if run and (
                seq == (last_seq + 1) % SEQ_MODULUS
                and n == last_n
                and scale == run_scale
                and t_first_us - last_t_us == n * 1e6 / self.fs_hz
            ):
                run.append(data)
            else:
                if run:
                    out.append(self._block(run, run_seq, run_t_us, run_scale))
                run, run_seq, run_t_us, run_scale = [data], seq, t_first_us, scale
            last_seq, last_n, last_t_us = seq, n, t_first_us
        if run:
            out.append(self._block(run, run_seq, run_t_us, run_scale))
        return out

    def _block(self, run: list[bytes | bytearray], seq: int, t_first_us: int, scale: float) -> Block:
        """One Block of one packet or of contiguous packets (their samples converted at once)."""
        body = b"".join(memoryview(d)[HEADER_BYTES:] for d in run)
        raw = np.frombuffer(body, dtype="<i2").reshape(-1, 3)
        return Block(
            seq=seq,
            t_first_s=t_first_us * 1e-6,
            period_s=1.0 / self.fs_hz,
            acc_g=raw.astype(np.float64) * float(scale),
            seq_modulus=SEQ_MODULUS,
            packets=len(run),
        )


class GaitimpactOpen(Profile):
    """The open profile: info read, config write to start/stop, sequence-numbered packets."""

    NAME = NAME
    SERVICE_UUID = SERVICE_UUID
    DESCRIPTION = DESCRIPTION

    async def configure(
        self, client: BleakClient, *, rate_hz: float | None, range_g: float | None, placement: str
    ) -> StreamSetup:
        """Read the info characteristic and choose rate (Hz) and range (g); ValueError if unsupported."""
        info = parse_info(bytes(await client.read_gatt_char(INFO_UUID)))
        fs = pick_supported(rate_hz, info["rates_hz"], "rate (Hz)")
        rng, why = choose_range(range_g, info["ranges_g"], placement)
        return StreamSetup(
            data_char_uuid=DATA_UUID,
            fs_hz=fs,
            range_g=rng,
            decoder=Decoder(fs, rng),
            firmware=info["firmware"],
            model=info["model"],
            range_reason=why,
        )

    async def start(self, client: BleakClient, setup: StreamSetup) -> None:
        """Ask the sensor to stream at the chosen rate and range (after notifications are on)."""
        await client.write_gatt_char(
            CONFIG_UUID, encode_config(OP_START, int(setup.fs_hz), int(setup.range_g)), response=True
        )

    async def stop(self, client: BleakClient) -> None:
        """Ask the sensor to stop streaming."""
        await client.write_gatt_char(CONFIG_UUID, encode_config(OP_STOP), response=True)


PROFILE = GaitimpactOpen()


def samples_per_packet(fs_hz: float) -> int:
    """Samples per notification the reference firmware uses: ~50 packets/s, at most 38 (MTU 247)."""
    return int(max(1, min(MAX_SAMPLES_PER_PACKET, round(fs_hz / 50.0))))


def encode_packet(seq: int, t_first_us: int, acc_g: np.ndarray, range_g: float) -> bytes:
    """Encode one data notification from (n, 3) g samples; values beyond the range saturate (clip)."""
    scale = np.float32(range_g / 32768.0)
    counts = np.clip(np.rint(np.asarray(acc_g, dtype=np.float64) / float(scale)), -32768, 32767).astype("<i2")
    head = HEADER.pack(
        VERSION, seq % SEQ_MODULUS, int(t_first_us) % US_MODULUS, counts.shape[0], float(scale)
    )
    return head + counts.tobytes()


class SimServer:
    """Device side of the profile for the simulated sensor: GATT table, config writes, packet encoder."""

    name = NAME

    def __init__(
        self,
        *,
        rates_hz: tuple[int, ...] = (100, 200, 500, 1000),
        ranges_g: tuple[int, ...] = (16, 32, 200),
        firmware: tuple[int, int, int] = (1, 2, 0),
        model: str = "gaitimpact-sim ADXL372+LSM6",
    ) -> None:
        self.rates_hz = list(rates_hz)
        self.ranges_g = list(ranges_g)
        self.firmware = firmware
        self.model = model
        self.fs_hz = float(self.rates_hz[-1])
        self.range_g = float(self.ranges_g[0])
        self.seq = 0

    @property
    def firmware_str(self) -> str:
        """Firmware version as major.minor.patch."""
        return ".".join(str(v) for v in self.firmware)

    def gatt(self) -> list[tuple[str, list[tuple[str, list[str], bytes]]]]:
        """Services as (uuid, [(char uuid, flags, initial value)])."""
        info = encode_info(self.firmware, self.rates_hz, self.ranges_g, self.model)
        return [
            (
                SERVICE_UUID,
                [
                    (DATA_UUID, ["notify"], b""),
                    (CONFIG_UUID, ["read", "write"], self.config_value(False)),
                    (INFO_UUID, ["read"], info),
                ],
            ),
        ]

    def config_value(self, streaming: bool) -> bytes:
        """Current value of the config characteristic."""
        return struct.pack("<BHH", int(streaming), int(self.fs_hz), int(self.range_g))

    def on_write(self, char_uuid: str, data: bytes) -> ServerReply:
        """Handle a central's write; returns what to notify and whether to start/stop streaming."""
        if normalise_uuid(char_uuid) != CONFIG_UUID or len(data) < 1:
            return ServerReply()
        op = data[0]
        if op == OP_START and len(data) >= 5:
            rate, rng = struct.unpack_from("<HH", data, 1)
            if rate in self.rates_hz:
                self.fs_hz = float(rate)
            if rng in self.ranges_g:
                self.range_g = float(rng)
            return ServerReply(start={"fs_hz": self.fs_hz, "range_g": self.range_g})
        if op == OP_STOP:
            return ServerReply(stop=True)
        return ServerReply()

    def samples_per_packet(self) -> int:
        """Samples per notification at the current rate."""
        return samples_per_packet(self.fs_hz)

    def encode(self, t_first_s: float, acc_g: np.ndarray) -> bytes:
        """Encode the next packet (advances the sequence number); t_first_s is device time in s."""
        pkt = encode_packet(self.seq, int(round(t_first_s * 1e6)), acc_g, self.range_g)
        self.seq = (self.seq + 1) % SEQ_MODULUS
        return pkt

    def skip(self) -> None:
        """Account for a packet lost on air (the sequence number still advances)."""
        self.seq = (self.seq + 1) % SEQ_MODULUS
