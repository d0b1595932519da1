"""The one in-memory model every source becomes: `Recording` and its metadata.

Data flows one way: source (CSV, Parquet, BLE) -> `Recording` -> analysis -> report.
A `Recording` keeps the raw samples untouched; analysis never modifies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from gaitimpact.notice import Notice

PLACEMENTS = ("waist", "shoe", "shank")
"""Body placements the signal core understands (plus "auto" on input)."""

ONE_FOOT_PLACEMENTS = ("shoe", "shank")
"""Placements that feel one foot only: each detected strike stands for two steps (both feet)."""

SURFACES = ("asphalt", "concrete", "track", "grass", "trail", "treadmill")
"""Running surfaces the reporter knows; other strings are kept but not ranked."""

RUNNING_SPEED_MPS = (1.5, 7.0)
"""Plausible running speeds in m/s (5.4-25 km/h: a slow jog to faster than a world-class 10 km); a speed
outside is almost always a unit slip (km/h or min/km typed as m/s) and is warned about, not refused."""


def steps_per_strike(placement: str) -> int:
    """Steps (both feet) represented by one detected strike: 2 for a one-foot sensor, else 1."""
    return 2 if placement in ONE_FOOT_PLACEMENTS else 1


@dataclass(frozen=True)
class Gap:
    """A stretch with no samples: from the last sample before it to the first after, in s."""

    start_s: float
    end_s: float
    reason: str = "gap"

    @property
    def duration_s(self) -> float:
        """Length of the gap in s."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SurfaceSegment:
    """A labelled stretch of the recording: surface and optional speed (m/s), times in s."""

    start_s: float
    end_s: float
    surface: str
    speed_mps: float | None = None


@dataclass
class Metadata:
    """What is known about a recording beyond its samples (sidecar JSON, CLI flags, device).

    The sidecar fields are declared in `gaitimpact.sidecar_schema.FIELDS`; `source_format` is what a
    reader read the file as (not written to a sidecar); `extra` holds recorder/simulator keys and
    unknown keys, written back as they were.
    """

    placement: str = "auto"
    segments: list[SurfaceSegment] = field(default_factory=list)
    speed_mps: float | None = None
    shoe: str | None = None
    shoe_km: float | None = None
    distance_km: float | None = None
    device: dict = field(default_factory=dict)
    range_g: float | None = None
    start_utc: datetime | None = None
    simulated: bool = False
    notes: str = ""
    side: str | None = None
    source_format: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Recording:
    """Raw IMU samples and their metadata.

    time_s: float64 seconds from the first sample (time_s[0] == 0), strictly increasing.
    acc_g: (N, 3) float64 specific force in g, including gravity (sensor at rest reads 1 g).
    gyro_dps: optional (N, 3) angular rate in deg/s.
    fs_hz: nominal sampling rate in Hz.
    gaps: stretches with missing samples (never filled with invented samples).
    warnings: what the reader noticed and decided (inferred units, dropped rows, ...).
    """

    time_s: np.ndarray
    acc_g: np.ndarray
    fs_hz: float
    gyro_dps: np.ndarray | None = None
    gaps: list[Gap] = field(default_factory=list)
    meta: Metadata = field(default_factory=Metadata)
    source: str = ""
    warnings: list[Notice] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.time_s = np.asarray(self.time_s, dtype=np.float64)
        self.acc_g = np.asarray(self.acc_g, dtype=np.float64)
        if self.acc_g.ndim != 2 or self.acc_g.shape[1] != 3:
            raise ValueError(f"acc_g must be (N, 3), got {self.acc_g.shape}")
        if self.time_s.shape != (self.acc_g.shape[0],):
            raise ValueError("time_s and acc_g must have the same number of samples")
        if self.gyro_dps is not None:
            self.gyro_dps = np.asarray(self.gyro_dps, dtype=np.float64)
            if self.gyro_dps.shape != self.acc_g.shape:
                raise ValueError("gyro_dps must have the same shape as acc_g")

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.time_s.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from first to last sample in s."""
        return float(self.time_s[-1] - self.time_s[0]) if self.n_samples else 0.0

    @property
    def placement(self) -> str:
        """Declared placement ("auto" when unknown)."""
        return self.meta.placement
