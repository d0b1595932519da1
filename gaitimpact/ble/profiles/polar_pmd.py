"""Polar Measurement Data (PMD) profile: ACC stream of Polar H10 / Verity Sense / OH1.

Layouts checked against Polar's public SDK (polarofficial/polar-ble-sdk, Android sources `BlePMDClient.kt`,
`PmdDataFrame.kt`, `PmdSetting.kt`, `PmdControlPointResponse.kt`, `model/AccData.kt`); citations and byte
tables in firmware_notes/polar_pmd.md.
  Control point write: u8 opcode (1 get settings, 2 start, 3 stop) | u8 measurement type (ACC = 2) | settings.
  Settings: repeated (u8 type, u8 count, count x value); value size by type: rate/resolution/range 2 bytes,
    range_milliunit 4, channels 1, factor 4 (IEEE-754 float).
  CP response (notification): 0xF0 | opcode | type | status (0 ok) | more | parameters.
  Data frame: u8 type | u64 timestamp ns since 2000-01-01 of the LAST sample | u8 frame type (bit 7 =
    delta compressed) | samples. Raw ACC: frame type 0/1/2 = int8/int16/int24 x,y,z in mG.
    Compressed type 1: reference sample 3 x int16, then blocks (u8 bit width, u8 count, packed signed
    deltas LSB first); values x factor = mG. Compressed type 0: values x factor = G.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Iterable
from typing import Any

import numpy as np

from gaitimpact.ble.profiles.base import (
    Block,
    PacketError,
    ServerReply,
    StreamSetup,
    normalise_uuid,
    pick_supported,
)

NAME = "polar"
DESCRIPTION = "Polar Measurement Data (H10, Verity Sense, OH1) ACC stream"
SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CP_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
DIS_SERVICE_UUID = normalise_uuid("180a")
FIRMWARE_REV_UUID = normalise_uuid("2a26")
MODEL_NUMBER_UUID = normalise_uuid("2a24")

MEAS_ACC = 2
OP_GET_SETTINGS, OP_START, OP_STOP = 1, 2, 3
CP_RESPONSE = 0xF0
SET_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLIUNIT, SET_CHANNELS, SET_FACTOR = 0, 1, 2, 3, 4, 5
SETTING_SIZE = {
    SET_RATE: 2,
    SET_RESOLUTION: 2,
    SET_RANGE: 2,
    SET_RANGE_MILLIUNIT: 4,
    SET_CHANNELS: 1,
    SET_FACTOR: 4,
}
FEATURE_ACC_BIT = 0x04  # byte 1 of the CP read value
EPOCH_2000_UNIX_S = 946684800
H10_DEFAULT_TIME_NS = 599616000000000000  # 2019-01-01T00:00:00Z, Polar TimeSystemExplained.md
FRAME_HEADER_BYTES = 10
RAW_SAMPLE_BYTES = {0: 1, 1: 2, 2: 3}


def matches(service_uuids: Iterable[str]) -> bool:
    """True when the PMD service is among the (normalised) service UUIDs."""
    return SERVICE_UUID in {normalise_uuid(u) for u in service_uuids}


def matches_name(name: str | None) -> bool:
    """Polar sensors advertise "Polar <model> <id>" and not always the PMD service UUID."""
    return bool(name) and name.startswith("Polar ")


# ---------------------------------------------------------------- settings and control point


def parse_settings(data: bytes) -> dict[int, list[int]]:
    """Decode a settings TLV block into {setting type: [values]} (factor as float)."""
    out: dict[int, list] = {}
    off = 0
    try:
        while off < len(data):
            kind, count = data[off], data[off + 1]
            off += 2
            size = SETTING_SIZE.get(kind)
            if size is None:
                raise PacketError(f"unknown PMD setting type {kind}")
            vals: list = []
            for _ in range(count):
                chunk = bytes(data[off : off + size])
                if len(chunk) != size:
                    raise PacketError("truncated PMD settings")
                vals.append(
                    struct.unpack("<f", chunk)[0] if kind == SET_FACTOR else int.from_bytes(chunk, "little")
                )
                off += size
            out[kind] = vals
    except IndexError as exc:
        raise PacketError("truncated PMD settings") from exc
    return out


def encode_settings(settings: dict[int, list]) -> bytes:
    """Encode {setting type: [values]} as the PMD settings TLV block."""
    out = bytearray()
    for kind, vals in settings.items():
        out += bytes((kind, len(vals)))
        for v in vals:
            out += (
                struct.pack("<f", v) if kind == SET_FACTOR else int(v).to_bytes(SETTING_SIZE[kind], "little")
            )
    return bytes(out)


def parse_cp_response(data: bytes) -> tuple[int, int, int, bytes]:
    """Split a control point response into (opcode, measurement type, status, parameters)."""
    if len(data) < 4 or data[0] != CP_RESPONSE:
        raise PacketError(f"not a PMD control point response: {bytes(data).hex()}")
    params = bytes(data[5:]) if len(data) > 5 else b""
    return data[1], data[2], data[3], params


def encode_cp_response(opcode: int, mtype: int, status: int, params: bytes = b"") -> bytes:
    """Encode a control point response (device side)."""
    return bytes((CP_RESPONSE, opcode, mtype, status, 0)) + params


# ---------------------------------------------------------------- frames


def _sign_extend(vals: np.ndarray, bits: int) -> np.ndarray:
    """Two's complement sign extension of `bits`-wide unsigned integers."""
    half = np.int64(1) << (bits - 1)
    return np.where(vals >= half, vals - (np.int64(1) << bits), vals)


def parse_delta_frames(content: bytes, channels: int = 3, resolution: int = 16) -> np.ndarray:
    """Decode a delta-compressed PMD payload into (n, channels) int64 sample values."""
    ref_bytes = math.ceil(resolution / 8)
    if len(content) < channels * ref_bytes:
        raise PacketError("compressed frame shorter than its reference sample")
    raw = np.frombuffer(content, dtype=np.uint8, count=channels * ref_bytes).reshape(channels, ref_bytes)
    ref = _sign_extend((raw.astype(np.int64) << (8 * np.arange(ref_bytes))).sum(axis=1), resolution)
    rows = [ref[None, :]]
    off = channels * ref_bytes
    weights_cache: dict[int, np.ndarray] = {}
    while off < len(content):
        if off + 2 > len(content):
            raise PacketError("truncated delta block header")
        width, count = content[off], content[off + 1]
        off += 2
        if not 1 <= width <= 32:
            raise PacketError(f"invalid delta bit width {width}")
        nbits = width * count * channels
        nbytes = math.ceil(nbits / 8)
        if off + nbytes > len(content):
            raise PacketError(f"truncated delta block: needs {nbytes} bytes, has {len(content) - off}")
        bits = np.unpackbits(
            np.frombuffer(content, dtype=np.uint8, count=nbytes, offset=off), bitorder="little"
        )[:nbits].reshape(count * channels, width)
        w = weights_cache.setdefault(width, np.int64(1) << np.arange(width, dtype=np.int64))
        rows.append(_sign_extend(bits.astype(np.int64) @ w, width).reshape(count, channels))
        off += nbytes
    return np.cumsum(np.vstack(rows), axis=0)


def encode_delta_frames(values: np.ndarray, block: int = 12) -> bytes:
    """Encode (n, 3) int16 sample values as a delta-compressed payload (reference + blocks of deltas)."""
    values = np.asarray(values, dtype=np.int64)
    out = bytearray(values[0].astype("<i2").tobytes())
    deltas = np.diff(values, axis=0)
    for start in range(0, deltas.shape[0], block):
        d = deltas[start : start + block]
        mag = np.where(d >= 0, d, ~d)
        width = int(max(1, int(mag.max()).bit_length() + 1)) if d.size else 1
        u = (d.reshape(-1) & ((1 << width) - 1)).astype(np.uint64)
        bits = ((u[:, None] >> np.arange(width, dtype=np.uint64)) & 1).astype(np.uint8).reshape(-1)
        out += bytes((width, d.shape[0])) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


class Decoder:
    """Stateful decoder of PMD ACC data frames into g and device seconds (derives sample period)."""

    def __init__(self, fs_hz: float, range_g: float, factor: float = 1.0) -> None:
        self.fs_hz = float(fs_hz)
        self.range_g = float(range_g)
        self.factor = float(factor)
        self._prev_ts_ns: int | None = None

    def decode(self, data: bytes | bytearray) -> Block:
        """Decode one PMD data notification into a `Block`; raises PacketError when malformed."""
        if len(data) < FRAME_HEADER_BYTES + 1:
            raise PacketError(f"truncated PMD frame: {len(data)} bytes")
        if data[0] & 0x3F != MEAS_ACC:
            raise PacketError(f"PMD frame of measurement type {data[0] & 0x3F}, not ACC")
        ts_ns = int.from_bytes(data[1:9], "little")
        ftype = data[9]
        kind = ftype & 0x7F
        content = bytes(data[FRAME_HEADER_BYTES:])
        if ftype & 0x80:
            if kind not in (0, 1):
                raise PacketError(f"unsupported compressed ACC frame type {kind}")
            vals = parse_delta_frames(content, 3, 16).astype(np.float64)
            mg = (
                vals * self.factor * 1000.0
                if kind == 0
                else (vals * self.factor if self.factor != 1.0 else vals)
            )
        else:
            size = RAW_SAMPLE_BYTES.get(kind)
            if size is None:
                raise PacketError(f"unsupported raw ACC frame type {kind}")
            if len(content) % (3 * size):
                raise PacketError(f"raw ACC frame length {len(content)} not a multiple of {3 * size}")
            b = np.frombuffer(content, dtype=np.uint8).reshape(-1, size).astype(np.int64)
            vals = _sign_extend((b << (8 * np.arange(size))).sum(axis=1), 8 * size)
            mg = vals.reshape(-1, 3).astype(np.float64)
        n = mg.shape[0]
        period = 1.0 / self.fs_hz
        prev = self._prev_ts_ns
        if prev is not None and ts_ns > prev:
            measured = (ts_ns - prev) * 1e-9 / n
            if abs(measured * self.fs_hz - 1.0) < 0.05:
                period = measured
        self._prev_ts_ns = ts_ns
        t_last = ts_ns * 1e-9
        return Block(seq=None, t_first_s=t_last - (n - 1) * period, period_s=period, acc_g=mg / 1000.0)


def encode_frame(
    ts_last_ns: int, acc_g: np.ndarray, range_g: float, *, compressed: bool, factor: float = 1.0
) -> bytes:
    """Encode one ACC data frame (device side) from (n, 3) g samples, saturating at the range."""
    mg = np.clip(np.asarray(acc_g, dtype=np.float64) * 1000.0, -range_g * 1000.0, range_g * 1000.0)
    head = bytes((MEAS_ACC,)) + int(ts_last_ns).to_bytes(8, "little")
    if compressed:
        counts = np.clip(np.rint(mg / factor), -32768, 32767).astype(np.int64)
        return head + bytes((0x81,)) + encode_delta_frames(counts)
    return head + bytes((0x01,)) + np.rint(mg).astype("<i2").tobytes()


# ---------------------------------------------------------------- client side


def _cp_queue(setup_or_client: Any) -> asyncio.Queue:
    return setup_or_client.extra["cp_queue"]


async def _command(client: Any, queue: asyncio.Queue, payload: bytes, timeout_s: float = 5.0) -> bytes:
    """Write a CP command and wait for its response; returns the parameters; raises ValueError on error."""
    await client.write_gatt_char(CP_UUID, payload, response=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        data = await asyncio.wait_for(queue.get(), max(0.01, deadline - loop.time()))
        try:
            opcode, _mtype, status, params = parse_cp_response(data)
        except PacketError:
            continue
        if opcode != payload[0]:
            continue
        if status != 0:
            raise ValueError(f"Polar control point opcode {opcode} failed with status {status}")
        return params


async def configure(client: Any, *, rate_hz: float | None, range_g: float | None) -> StreamSetup:
    """Subscribe to the control point, check ACC support, query settings, pick rate (Hz) and range (g)."""
    queue: asyncio.Queue = asyncio.Queue()
    await client.start_notify(CP_UUID, lambda _c, data: queue.put_nowait(bytes(data)))
    feature = bytes(await client.read_gatt_char(CP_UUID))
    if len(feature) < 2 or feature[0] != 0x0F or not feature[1] & FEATURE_ACC_BIT:
        raise ValueError("Polar device does not offer the ACC stream")
    settings = parse_settings(await _command(client, queue, bytes((OP_GET_SETTINGS, MEAS_ACC))))
    fs = pick_supported(rate_hz, settings.get(SET_RATE, []), "rate (Hz)")
    rng = pick_supported(range_g, settings.get(SET_RANGE, []), "range (g)")
    resolution = max(settings.get(SET_RESOLUTION, [16]))
    firmware = model = ""
    for uuid in (FIRMWARE_REV_UUID, MODEL_NUMBER_UUID):
        try:
            value = bytes(await client.read_gatt_char(uuid)).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - Device Information is optional
            value = ""
        if uuid == FIRMWARE_REV_UUID:
            firmware = value
        else:
            model = value
    return StreamSetup(
        data_char_uuid=DATA_UUID,
        fs_hz=fs,
        range_g=rng,
        decoder=Decoder(fs, rng),
        firmware=firmware,
        model=model,
        extra={"cp_queue": queue, "resolution": resolution},
    )


async def start(client: Any, setup: StreamSetup) -> None:
    """Send the ACC start command with the chosen settings; takes the factor from the response."""
    req = encode_settings(
        {
            SET_RATE: [int(setup.fs_hz)],
            SET_RESOLUTION: [setup.extra["resolution"]],
            SET_RANGE: [int(setup.range_g)],
        }
    )
    params = await _command(client, _cp_queue(setup), bytes((OP_START, MEAS_ACC)) + req)
    factor = parse_settings(params).get(SET_FACTOR) if params else None
    if factor:
        setup.decoder.factor = float(factor[0])


async def stop(client: Any) -> None:
    """Send the ACC stop command (no wait for the response)."""
    await client.write_gatt_char(CP_UUID, bytes((OP_STOP, MEAS_ACC)), response=True)


# ---------------------------------------------------------------- simulated device side


class SimServer:
    """Device side of PMD for the simulated sensor (H10-like: 25-200 Hz, 2/4/8 g, mG frames)."""

    name = NAME

    def __init__(
        self,
        *,
        rates_hz: tuple[int, ...] = (25, 50, 100, 200),
        ranges_g: tuple[int, ...] = (2, 4, 8),
        compressed: bool = True,
        factor: float = 0.25,
        firmware: str = "3.1.1",
        model: str = "H10",
        start_time_ns: int = H10_DEFAULT_TIME_NS,
    ) -> None:
        self.rates_hz = list(rates_hz)
        self.ranges_g = list(ranges_g)
        self.compressed = compressed
        self.factor = factor if compressed else 1.0
        self.firmware_str = firmware
        self.model = model
        self.start_time_ns = start_time_ns
        self.fs_hz = float(self.rates_hz[-1])
        self.range_g = float(self.ranges_g[-1])

    def gatt(self) -> list[tuple[str, list[tuple[str, list[str], bytes]]]]:
        """Services as (uuid, [(char uuid, flags, initial value)])."""
        feature = bytes((0x0F, 0x01 | FEATURE_ACC_BIT, 0x00))
        return [
            (
                SERVICE_UUID,
                [
                    (CP_UUID, ["read", "write", "indicate"], feature),
                    (DATA_UUID, ["notify"], b""),
                ],
            ),
            (
                DIS_SERVICE_UUID,
                [
                    (MODEL_NUMBER_UUID, ["read"], self.model.encode()),
                    (FIRMWARE_REV_UUID, ["read"], self.firmware_str.encode()),
                ],
            ),
        ]

    def on_write(self, char_uuid: str, data: bytes) -> ServerReply:
        """Answer a control point command like an H10 does."""
        if normalise_uuid(char_uuid) != CP_UUID or len(data) < 2:
            return ServerReply()
        op, mtype = data[0], data[1] & 0x3F
        if mtype != MEAS_ACC:
            return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 2))])
        if op == OP_GET_SETTINGS:
            params = encode_settings(
                {SET_RATE: self.rates_hz, SET_RESOLUTION: [16], SET_RANGE: self.ranges_g}
            )
            return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 0, params))])
        if op == OP_START:
            try:
                req = parse_settings(data[2:])
            except PacketError:
                return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 4))])
            rate = req.get(SET_RATE, [int(self.fs_hz)])[0]
            rng = req.get(SET_RANGE, [int(self.range_g)])[0]
            if rate not in self.rates_hz:
                return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 8))])
            if rng not in self.ranges_g:
                return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 9))])
            self.fs_hz, self.range_g = float(rate), float(rng)
            params = encode_settings({SET_FACTOR: [self.factor]}) if self.compressed else b""
            return ServerReply(
                notify=[(CP_UUID, encode_cp_response(op, mtype, 0, params))],
                start={"fs_hz": self.fs_hz, "range_g": self.range_g},
            )
        if op == OP_STOP:
            return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 0))], stop=True)
        return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, 1))])

    def samples_per_packet(self) -> int:
        """Samples per frame: an H10 fills a 232-byte MTU with 36 raw samples."""
        return 36

    def encode(self, t_first_s: float, acc_g: np.ndarray) -> bytes:
        """Encode the next frame; t_first_s is device time of the first sample in s since the sim start."""
        n = acc_g.shape[0]
        ts_last = self.start_time_ns + int(round((t_first_s + (n - 1) / self.fs_hz) * 1e9))
        return encode_frame(ts_last, acc_g, self.range_g, compressed=self.compressed, factor=self.factor)

    def skip(self) -> None:
        """A frame lost on air (PMD has no sequence number)."""
