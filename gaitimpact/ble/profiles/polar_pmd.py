"""Polar Measurement Data (PMD) profile: ACC stream of Polar H10 / Verity Sense / OH1.

Layouts checked against Polar's public SDK (polarofficial/polar-ble-sdk, Android sources `BlePMDClient.kt`,
`PmdDataFrame.kt`, `PmdSetting.kt`, `PmdControlPointResponse.kt`, `model/AccData.kt`); citations and byte
tables in firmware_notes/polar_pmd.md.
  Control point write: u8 opcode (1 get settings, 2 start, 3 stop) | u8 measurement type (ACC = 2) | settings.
  Settings: repeated (u8 type, u8 count, count x value); value size by type: rate/resolution/range 2 bytes,
    range_milliunit 4, channels 1, factor 4 (IEEE-754 float).
  CP response (indication): 0xF0 | opcode | type | status (0 ok) | more | parameters. What the parameters
    mean depends on the opcode: settings TLV for GET_SETTINGS; for a start, a FACTOR setting when the
    sensor sends compressed frames (Verity Sense) or one reserved byte (H10: `F0 02 02 00 00 01`); none
    for stop. Bytes that are no settings are logged and ignored, never fatal.
  Data frame: u8 type | u64 timestamp ns since 2000-01-01 of the LAST sample | u8 frame type (bit 7 =
    delta compressed) | samples. Raw ACC: frame type 0/1/2 = int8/int16/int24 x,y,z in mG.
    Compressed type 1: reference sample 3 x int16, then blocks (u8 bit width, u8 count, packed signed
    deltas LSB first); values x factor = mG. Compressed type 0: values x factor = G.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak import BleakClient
from bleak.exc import BleakError

from gaitimpact.ble.profiles.base import (
    Block,
    PacketError,
    Profile,
    ServerReply,
    StreamSetup,
    choose_range,
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
STATUS_NAMES = {
    0: "success",
    1: "invalid opcode",
    2: "invalid measurement type",
    3: "not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU",
    11: "invalid number of channels",
    12: "invalid state",
    13: "device in charger",
    14: "disk full",
}
"""PmdControlPointResponse.kt (PmdControlPointResponseCode), firmware_notes/polar_pmd.md."""
STATUS_ALREADY_IN_STATE = 6
log = logging.getLogger(__name__)
EPOCH_2000_UNIX_S = 946684800
H10_DEFAULT_TIME_NS = 599616000000000000  # 2019-01-01T00:00:00Z, Polar TimeSystemExplained.md
FRAME_HEADER_BYTES = 10
RAW_SAMPLE_BYTES = {0: 1, 1: 2, 2: 3}


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


@dataclass(frozen=True)
class CpResponse:
    """One control point response: opcode, measurement type, status (0 = success), more, raw parameters."""

    opcode: int
    mtype: int
    status: int
    more: bool
    params: bytes

    @property
    def ok(self) -> bool:
        """True when the sensor accepted the command."""
        return self.status == 0

    @property
    def status_name(self) -> str:
        """The SDK's name of the status code."""
        return STATUS_NAMES.get(self.status, f"unknown status {self.status}")


def parse_cp_response(data: bytes) -> CpResponse:
    """Split a control point response; parameters are the bytes after "more" (not interpreted here)."""
    data = bytes(data)
    if len(data) < 4 or data[0] != CP_RESPONSE:
        raise PacketError(f"not a PMD control point response: {data.hex(' ')}")
    more = data[3] == 0 and len(data) > 4 and data[4] != 0  # an error response has no "more" (SDK)
    return CpResponse(data[1], data[2], data[3], more, data[5:])


def start_response_factor(params: bytes) -> tuple[float | None, bytes]:
    """The FACTOR a start response carries, if any, and the parameter bytes that are no settings.

    A start response's parameters are settings only when they form complete setting entries (a
    compressed-frame sensor sends `05 01 <float32>`); the H10's single reserved byte is not (the SDK's
    `parsePmdSettingsData` also ignores parameters of one byte or less).
    """
    if len(params) <= 1:
        return None, params
    try:
        settings = parse_settings(params)
    except PacketError:
        return None, params
    factor = settings.get(SET_FACTOR)
    return (float(factor[0]) if factor else None), b""


def encode_cp_response(opcode: int, mtype: int, status: int, params: bytes = b"") -> bytes:
    """Encode a success (F0 op type 0 more=0 params) or error (F0 op type status 0) response, device side."""
    return bytes((CP_RESPONSE, opcode, mtype, status, 0)) + (params if status == 0 else b"")


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
    ts_last_ns: int,
    acc_g: np.ndarray,
    range_g: float,
    *,
    compressed: bool,
    factor: float = 1.0,
    frame_type: int | None = None,
) -> bytes:
    """Encode one ACC data frame (device side) from (n, 3) g samples, saturating at the range.

    Raw frames are type 0x01 (int16 mG, H10). Compressed frames are 0x80 (values x factor = g, Verity
    Sense) or 0x81 (values x factor = mG); `frame_type` picks one (default 0x81).
    """
    g = np.clip(np.asarray(acc_g, dtype=np.float64), -range_g, range_g)
    head = bytes((MEAS_ACC,)) + int(ts_last_ns).to_bytes(8, "little")
    if compressed:
        ftype = 0x81 if frame_type is None else frame_type
        scaled = g / factor if ftype == 0x80 else g * 1000.0 / factor
        counts = np.clip(np.rint(scaled), -32768, 32767).astype(np.int64)
        return head + bytes((ftype,)) + encode_delta_frames(counts)
    return head + bytes((0x01,)) + np.rint(g * 1000.0).astype("<i2").tobytes()


# ---------------------------------------------------------------- client side


async def _command(client: BleakClient, queue: asyncio.Queue, payload: bytes, timeout_s: float = 5.0) -> bytes:
    """Write a CP command and wait for its response(s); returns the parameters of all its frames.

    Raises `PmdCommandError` (a ValueError) naming the status when the sensor refuses.
    """
    await client.write_gatt_char(CP_UUID, payload, response=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    params = b""
    while True:
        data = await asyncio.wait_for(queue.get(), max(0.01, deadline - loop.time()))
        try:
            resp = parse_cp_response(data)
        except PacketError:
            log.info("ignored control point indication %s", bytes(data).hex(" "))
            continue
        if resp.opcode != payload[0]:
            continue
        if not resp.ok:
            raise PmdCommandError(resp.opcode, resp.status)
        params += resp.params
        if not resp.more:
            return params


class PmdCommandError(ValueError):
    """The sensor refused a control point command (status code and its SDK name)."""

    def __init__(self, opcode: int, status: int) -> None:
        self.opcode, self.status = opcode, status
        what = {OP_GET_SETTINGS: "get settings", OP_START: "start", OP_STOP: "stop"}.get(opcode, f"op {opcode}")
        super().__init__(
            f"Polar control point {what} refused: status {status} "
            f"({STATUS_NAMES.get(status, 'unknown')})"
        )


async def _read_text(client: BleakClient, uuid: str) -> str:
    """A Device Information string, "" when the sensor has none (the service is optional)."""
    try:
        return bytes(await client.read_gatt_char(uuid)).decode("utf-8", "replace")
    except BleakError:
        return ""


def start_request(setup: StreamSetup) -> bytes:
    """The start command for the chosen settings; CHANNELS only when the sensor offered it (Verity Sense)."""
    chosen: dict[int, list] = {
        SET_RATE: [int(setup.fs_hz)],
        SET_RESOLUTION: [setup.extra["resolution"]],
        SET_RANGE: [int(setup.range_g)],
    }
    if setup.extra.get("channels"):
        chosen[SET_CHANNELS] = [max(setup.extra["channels"])]
    return bytes((OP_START, MEAS_ACC)) + encode_settings(chosen)


class PolarPmd(Profile):
    """Polar PMD ACC stream (H10 chest strap, Verity Sense / OH1 optical sensors)."""

    NAME = NAME
    SERVICE_UUID = SERVICE_UUID
    DESCRIPTION = DESCRIPTION

    def matches_name(self, name: str | None) -> bool:
        """Polar sensors advertise "Polar <model> <id>" and not always the PMD service UUID."""
        return bool(name) and name.startswith("Polar ")

    def worn_on(self, model: str) -> str | None:
        """An H10 is a chest strap: trunk, analysed like a waist sensor; the others go anywhere."""
        return "waist" if "H10" in model.upper() else None

    async def configure(
        self, client: BleakClient, *, rate_hz: float | None, range_g: float | None, placement: str
    ) -> StreamSetup:
        """Subscribe to the control point, check ACC support, query settings, pick rate (Hz) and range (g)."""
        queue: asyncio.Queue = asyncio.Queue()
        await client.start_notify(CP_UUID, lambda _c, data: queue.put_nowait(bytes(data)))
        feature = bytes(await client.read_gatt_char(CP_UUID))
        if len(feature) < 2 or feature[0] != 0x0F or not feature[1] & FEATURE_ACC_BIT:
            raise ValueError("Polar device does not offer the ACC stream")
        settings = parse_settings(await _command(client, queue, bytes((OP_GET_SETTINGS, MEAS_ACC))))
        firmware, model = await _read_text(client, FIRMWARE_REV_UUID), await _read_text(client, MODEL_NUMBER_UUID)
        if placement == "auto":
            placement = self.worn_on(model) or "auto"
        fs = pick_supported(rate_hz, settings.get(SET_RATE, []), "rate (Hz)")
        rng, why = choose_range(range_g, settings.get(SET_RANGE, []), placement)
        resolution = max(settings.get(SET_RESOLUTION, [16]))
        return StreamSetup(
            data_char_uuid=DATA_UUID,
            fs_hz=fs,
            range_g=rng,
            decoder=Decoder(fs, rng),
            firmware=firmware,
            model=model,
            range_reason=why,
            extra={"cp_queue": queue, "resolution": resolution, "channels": settings.get(SET_CHANNELS)},
        )

    async def start(self, client: BleakClient, setup: StreamSetup) -> None:
        """Send the ACC start command; takes the factor from the response (reserved bytes only logged).

        A sensor that is still streaming from before a link loss answers "already in state": it is stopped
        and started again once.
        """
        queue = setup.extra["cp_queue"]
        try:
            params = await _command(client, queue, start_request(setup))
        except PmdCommandError as exc:
            if exc.status != STATUS_ALREADY_IN_STATE:
                raise
            log.info("ACC stream already running: stopping and starting it again")
            await _command(client, queue, bytes((OP_STOP, MEAS_ACC)))
            params = await _command(client, queue, start_request(setup))
        factor, ignored = start_response_factor(params)
        if ignored:
            log.info("start response: parameter bytes %s are no settings (reserved), ignored", ignored.hex(" "))
            setup.extra.setdefault("cp_ignored", []).append(ignored.hex(" "))
        if factor is not None:
            setup.decoder.factor = factor

    async def stop(self, client: BleakClient) -> None:
        """Send the ACC stop command (no wait for the response)."""
        await client.write_gatt_char(CP_UUID, bytes((OP_STOP, MEAS_ACC)), response=True)


PROFILE = PolarPmd()


# ---------------------------------------------------------------- simulated device side

H10_FEATURES = bytes.fromhex("0f 05" + " 00" * 15)
"""CP read value of an H10: ECG (bit 0) and ACC (bit 2); 17 bytes like the spec's Verity Sense example."""
H10_ACC_SETTINGS = bytes.fromhex("f0 01 02 00 00 00 04 19 00 32 00 64 00 c8 00 01 01 10 00 02 03 02 00 04 00 08 00")
"""H10 answer to `01 02`: 25/50/100/200 Hz, 16 bit, 2/4/8 g (Polar measurement data spec, 5.2)."""
H10_START_OK = bytes.fromhex("f0 02 02 00 00 01")
"""H10 answer to an accepted ACC start: ..., more 0, one reserved byte 01 (spec, 5.3)."""
STOP_OK = bytes.fromhex("f0 03 02 00 00")
"""Answer to an accepted ACC stop (spec, 5.4)."""
VERITY_FEATURES = bytes.fromhex("0f 6e" + " 00" * 15)
"""CP read value of a Verity Sense: PPG, ACC, PPI, gyro, magnetometer (spec, 5.1)."""
VERITY_ACC_SETTINGS = bytes.fromhex("f0 01 02 00 00 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")
"""Verity Sense answer to `01 02`: 52 Hz, 16 bit, 8 g, 3 channels (spec, 5.2)."""
VERITY_START_OK = bytes.fromhex("f0 02 02 00 00 05 01 40 da 7f 39")
"""Verity Sense answer to an accepted ACC start: FACTOR 0.000244 (g per count) (spec, 5.3)."""

MODELS: dict[str, dict[str, Any]] = {
    "H10": {
        "features": H10_FEATURES,
        "settings": H10_ACC_SETTINGS,
        "start_ok": H10_START_OK,
        "compressed": False,
        "firmware": "3.1.1",
    },
    "Verity Sense": {
        "features": VERITY_FEATURES,
        "settings": VERITY_ACC_SETTINGS,
        "start_ok": VERITY_START_OK,
        "compressed": True,
        "firmware": "2.1.0",
    },
}


class SimServer:
    """Device side of PMD for the simulated sensor, answering byte for byte like an H10 or a Verity Sense.

    Responses, features and settings are the documented bytes (firmware_notes/polar_pmd.md); refusals use
    the SDK's status codes: start while streaming 6, rate not offered 8, range not offered 9, a setting
    type the sensor does not offer 5, stop while idle 6.
    """

    name = NAME

    def __init__(self, *, model: str = "H10", start_time_ns: int = H10_DEFAULT_TIME_NS) -> None:
        spec = MODELS[model]
        self.model = model
        self.features: bytes = spec["features"]
        self.settings_answer: bytes = spec["settings"]
        self.start_ok: bytes = spec["start_ok"]
        self.compressed: bool = spec["compressed"]
        self.firmware_str: str = spec["firmware"]
        offered = parse_settings(parse_cp_response(self.settings_answer).params)
        self.offered = offered
        self.rates_hz = [int(r) for r in offered[SET_RATE]]
        self.ranges_g = [int(r) for r in offered[SET_RANGE]]
        factor, _ = start_response_factor(parse_cp_response(self.start_ok).params)
        self.factor = factor if factor is not None else 1.0
        self.start_time_ns = start_time_ns
        self.fs_hz = float(self.rates_hz[-1])
        self.range_g = float(self.ranges_g[-1])
        self.streaming = False
        self.refuse_starts = 0  # fault injection: refuse this many starts with status 12 (invalid state)

    def gatt(self) -> list[tuple[str, list[tuple[str, list[str], bytes]]]]:
        """Services as (uuid, [(char uuid, flags, initial value)])."""
        return [
            (
                SERVICE_UUID,
                [
                    (CP_UUID, ["read", "write", "indicate"], self.features),
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

    def _refuse(self, op: int, mtype: int, status: int) -> ServerReply:
        return ServerReply(notify=[(CP_UUID, encode_cp_response(op, mtype, status))])

    def on_write(self, char_uuid: str, data: bytes) -> ServerReply:
        """Answer a control point command like the real sensor does."""
        if normalise_uuid(char_uuid) != CP_UUID or len(data) < 2:
            return ServerReply()
        op, mtype = data[0], data[1] & 0x3F
        if op not in (OP_GET_SETTINGS, OP_START, OP_STOP):
            return self._refuse(op, mtype, 1)
        if mtype != MEAS_ACC:
            return self._refuse(op, mtype, 2)
        if op == OP_GET_SETTINGS:
            return ServerReply(notify=[(CP_UUID, self.settings_answer)])
        if op == OP_STOP:
            if not self.streaming:
                return self._refuse(op, mtype, STATUS_ALREADY_IN_STATE)
            self.streaming = False
            return ServerReply(notify=[(CP_UUID, STOP_OK)], stop=True)
        if self.streaming:
            return self._refuse(op, mtype, STATUS_ALREADY_IN_STATE)
        if self.refuse_starts > 0:
            self.refuse_starts -= 1
            return self._refuse(op, mtype, 12)
        try:
            req = parse_settings(data[2:])
        except PacketError:
            return self._refuse(op, mtype, 4)
        if any(kind not in self.offered for kind in req):
            return self._refuse(op, mtype, 5)
        rate = req.get(SET_RATE, [int(self.fs_hz)])[0]
        rng = req.get(SET_RANGE, [int(self.range_g)])[0]
        if rate not in self.rates_hz:
            return self._refuse(op, mtype, 8)
        if rng not in self.ranges_g:
            return self._refuse(op, mtype, 9)
        self.fs_hz, self.range_g = float(rate), float(rng)
        self.streaming = True
        return ServerReply(notify=[(CP_UUID, self.start_ok)], start={"fs_hz": self.fs_hz, "range_g": self.range_g})

    def link_lost(self) -> None:
        """The link dropped: the sensor stops its measurement (the stream is not resumed by itself)."""
        self.streaming = False

    def samples_per_packet(self) -> int:
        """Samples per frame: an H10 sends 36 raw samples (216 bytes) per ACC frame."""
        return 36

    def encode(self, t_first_s: float, acc_g: np.ndarray) -> bytes:
        """Encode the next frame; t_first_s is device time of the first sample in s since the sim start."""
        n = acc_g.shape[0]
        ts_last = self.start_time_ns + int(round((t_first_s + (n - 1) / self.fs_hz) * 1e9))
        return encode_frame(
            ts_last, acc_g, self.range_g, compressed=self.compressed, factor=self.factor, frame_type=0x80
        )

    def skip(self) -> None:
        """A frame lost on air (PMD has no sequence number)."""
