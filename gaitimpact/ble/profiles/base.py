"""What every sensor profile hands the recorder: decoded sample blocks, stream setup, packet errors.

A profile is one module in `gaitimpact.ble.profiles` defining `PROFILE`, an instance of a `Profile`
subclass; the registry (`gaitimpact.ble.profiles`) finds it by module scan, so adding a profile touches
nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    from bleak import BleakClient


class PacketError(ValueError):
    """A notification that cannot be decoded (truncated, malformed, unsupported): counted and skipped."""


@dataclass
class Block:
    """Samples decoded from one notification, or from `packets` contiguous ones (consecutive sequence
    numbers, each starting one period after the previous one ends, the same number of samples each).

    seq: sequence number of the (first) packet (None when the profile has none), wrapping at `seq_modulus`.
    t_first_s: device-clock time of the first sample in s (device epoch, unwrapped).
    period_s: sample period in s on the device clock.
    acc_g: (n, 3) float64 specific force in g incl. gravity.
    """

    seq: int | None
    t_first_s: float
    period_s: float
    acc_g: np.ndarray
    seq_modulus: int = 65536
    packets: int = 1

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.acc_g.shape[0])


class Decoder(Protocol):
    """Turns one data notification into a `Block`; raises PacketError when it cannot."""

    def decode(self, data: bytes | bytearray) -> Block: ...


def decode_each(decoder: Decoder, datas: list[bytes | bytearray]) -> list[Block | PacketError]:
    """Notifications in arrival order -> one Block each (or the PacketError of a malformed one), in order."""
    out: list[Block | PacketError] = []
    for data in datas:
        try:
            out.append(decoder.decode(data))
        except PacketError as exc:
            out.append(exc)
    return out


def decode_all(decoder: Decoder, datas: list[bytes | bytearray]) -> list[Block | PacketError]:
    """Notifications in arrival order -> Blocks (and the PacketError of each malformed one), in order.

    A decoder with a `decode_many` (same contract, several packets at once) is asked for all of them."""
    many = getattr(decoder, "decode_many", None)
    return many(datas) if many is not None else decode_each(decoder, datas)


@dataclass
class StreamSetup:
    """Result of configuring a device: where samples arrive and what they mean.

    fs_hz: sampling rate in Hz; range_g: full-scale range in g; range_reason: why that range;
    firmware/model: device strings; extra: profile-private state (e.g. the Polar control point queue).
    """

    data_char_uuid: str
    fs_hz: float
    range_g: float
    decoder: Decoder
    firmware: str = ""
    model: str = ""
    range_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServerReply:
    """Simulated sensor side: notifications to send after a write, and stream start/stop requests."""

    notify: list[tuple[str, bytes]] = field(default_factory=list)
    start: dict | None = None
    stop: bool = False


class Profile(ABC):
    """A sensor profile: how to recognise, configure, start and stop one kind of sensor."""

    NAME: ClassVar[str]
    SERVICE_UUID: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    def matches(self, service_uuids: Iterable[str]) -> bool:
        """True when the profile's service is among the service UUIDs."""
        return self.SERVICE_UUID in {normalise_uuid(u) for u in service_uuids}

    def matches_name(self, name: str | None) -> bool:
        """True when the advertised name alone identifies a sensor of this profile."""
        return False

    def worn_on(self, model: str) -> str | None:
        """Placement a model is made for (e.g. "waist" for a chest strap), None when it varies."""
        return None

    @abstractmethod
    async def configure(
        self, client: BleakClient, *, rate_hz: float | None, range_g: float | None, placement: str
    ) -> StreamSetup:
        """Query the sensor and choose rate (Hz) and range (g); ValueError when it cannot stream."""

    @abstractmethod
    async def start(self, client: BleakClient, setup: StreamSetup) -> None:
        """Start the stream (notifications on the data characteristic are already enabled)."""

    @abstractmethod
    async def stop(self, client: BleakClient) -> None:
        """Stop the stream."""


def normalise_uuid(uuid: str) -> str:
    """Lower-case 128-bit UUID string (16-bit SIG UUIDs expanded on the Bluetooth base)."""
    u = uuid.strip().lower()
    if len(u) == 4:
        return f"0000{u}-0000-1000-8000-00805f9b34fb"
    return u


def pick_supported(wanted: float | None, supported: Iterable[float], what: str) -> float:
    """The supported value closest to `wanted` (the largest when None); raises ValueError when far."""
    options = sorted(float(s) for s in supported)
    if not options:
        raise ValueError(f"device reports no supported {what}")
    if wanted is None:
        return options[-1]
    best = min(options, key=lambda s: abs(s - wanted))
    if abs(best - wanted) > 0.01 * max(wanted, 1.0):
        raise ValueError(
            f"{what} {wanted:g} not supported (device offers {', '.join(f'{o:g}' for o in options)})"
        )
    return best


RANGE_FOR_PLACEMENT_G = {"waist": 8.0, "shank": 16.0, "shoe": 32.0, "auto": 32.0}
"""Smallest range (g) that keeps a placement's impacts unclipped (firmware_notes/hardware.md, "Range":
waist peaks 2-5 g, shank 5-15 g, shoe 10-20 g and more); an unknown placement is treated like a shoe."""


def choose_range(wanted: float | None, supported: Iterable[float], placement: str) -> tuple[float, str]:
    """Range (g) to use and why: `wanted` when given, else the smallest offered that suits the placement."""
    options = sorted(float(s) for s in supported)
    if wanted is not None:
        return pick_supported(wanted, options, "range (g)"), "asked for with --range"
    if not options:
        raise ValueError("device reports no supported range (g)")
    need = RANGE_FOR_PLACEMENT_G.get(placement, 16.0)
    where = "an unknown placement (treated like a shoe)" if placement == "auto" else f"a {placement} sensor"
    fitting = [o for o in options if o >= need]
    if fitting:
        return fitting[0], f"the smallest offered range of at least {need:g} g, suited to {where}"
    return options[-1], f"the widest offered; {where} needs {need:g} g, so the hardest impacts may clip"
