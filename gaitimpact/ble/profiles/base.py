"""What every sensor profile hands the recorder: decoded sample blocks, stream setup, packet errors.

A profile is one module in `gaitimpact.ble.profiles` exposing the names in `ProfileModule`; the
registry (`gaitimpact.ble.profiles`) finds it by module scan, so adding a profile touches nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class PacketError(ValueError):
    """A notification that cannot be decoded (truncated, malformed, unsupported): counted and skipped."""


@dataclass
class Block:
    """Samples decoded from one notification.

    seq: packet sequence number (None when the profile has none), wrapping at `seq_modulus`.
    t_first_s: device-clock time of the first sample in s (device epoch, unwrapped).
    period_s: sample period in s on the device clock.
    acc_g: (n, 3) float64 specific force in g incl. gravity.
    """

    seq: int | None
    t_first_s: float
    period_s: float
    acc_g: np.ndarray
    seq_modulus: int = 65536

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.acc_g.shape[0])


@dataclass
class StreamSetup:
    """Result of configuring a device: where samples arrive and what they mean.

    fs_hz: sampling rate in Hz; range_g: full-scale range in g; firmware: device firmware string.
    """

    data_char_uuid: str
    fs_hz: float
    range_g: float
    decoder: Any
    firmware: str = ""
    model: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class ServerReply:
    """Simulated sensor side: notifications to send after a write, and stream start/stop requests."""

    notify: list[tuple[str, bytes]] = field(default_factory=list)
    start: dict | None = None
    stop: bool = False


class ProfileModule(Protocol):
    """Names each profile module defines (checked by the registry)."""

    NAME: str
    SERVICE_UUID: str
    DESCRIPTION: str

    def matches(self, service_uuids: Iterable[str]) -> bool: ...

    async def configure(
        self, client: Any, *, rate_hz: float | None, range_g: float | None
    ) -> StreamSetup: ...

    async def start(self, client: Any, setup: StreamSetup) -> None: ...

    async def stop(self, client: Any) -> None: ...


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
