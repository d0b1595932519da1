"""Simulator configuration: `SimConfig`, `SimSegment` and the `--segments` spec parser."""

from __future__ import annotations

from dataclasses import dataclass, field

from gaitimpact.errors import InputError
from gaitimpact.recording import PLACEMENTS, SURFACES

ACTIVITIES = ("stand", "walk", "run")
DEFAULT_SPEED_MPS = {"stand": 0.0, "walk": 1.4, "run": 3.5}


@dataclass(frozen=True)
class SimSegment:
    """One stretch of activity: duration in s, "stand"|"walk"|"run", speed in m/s, surface name."""

    duration_s: float
    activity: str = "run"
    speed_mps: float | None = None
    surface: str = "asphalt"

    def __post_init__(self) -> None:
        if self.activity not in ACTIVITIES:
            raise InputError(f"unknown activity {self.activity!r}, expected stand, walk or run",
                             field="activity")
        if not self.duration_s > 0:
            raise InputError(f"segment duration must be > 0 s, got {self.duration_s}", field="duration_s")
        if self.surface not in SURFACES:
            raise InputError(f"unknown surface {self.surface!r}, expected one of {', '.join(SURFACES)}",
                             field="surface")
        if self.speed_mps is None:
            object.__setattr__(self, "speed_mps", DEFAULT_SPEED_MPS[self.activity])
        v = float(self.speed_mps)
        if self.activity == "run" and not 1.5 <= v <= 7.0:
            raise InputError(f"running speed must be 1.5-7 m/s, got {v}", field="speed_mps")
        if self.activity == "walk" and not 0.5 <= v <= 2.2:
            raise InputError(f"walking speed must be 0.5-2.2 m/s, got {v}", field="speed_mps")


@dataclass
class SimConfig:
    """Everything the simulator needs; every field has a default (60 s waist run at 200 Hz).

    placement: "waist" | "shoe" | "shank"; side: "L"/"R" foot carrying a shoe/shank sensor.
    fs_hz: sampling rate in Hz. segments: the activity plan.
    shoe_km: km on the shoe (wear factor). mount_error_deg: rotation angle in deg about a random axis.
    random_orientation: also rotate the sensor by a uniformly random 3-D rotation (any way up).
    noise_g: white noise std per axis in g. bias_g: std of a constant per-axis bias in g.
    range_g: sensor full scale in g (per-axis clipping), None for no clipping.
    quant_bits: ADC bits over +-range_g (None: no quantisation).
    jitter_s: std of the reported timestamp jitter in s (samples taken at the true instants).
    gaps: BLE-style dropouts: a count (random) or a list of (start_s, duration_s).
    seed: random seed (same seed, same result).
    gyro: also simulate a gyroscope (Recording.gyro_dps, deg/s, same mounting); gyro_noise_dps its noise.
    """

    placement: str = "waist"
    fs_hz: float = 200.0
    segments: list[SimSegment] = field(default_factory=lambda: [SimSegment(60.0, "run", 3.5, "asphalt")])
    shoe_km: float = 0.0
    shoe: str | None = "sim-shoe"
    mount_error_deg: float = 0.0
    random_orientation: bool = False
    noise_g: float = 0.0
    bias_g: float = 0.0
    range_g: float | None = None
    quant_bits: int | None = None
    jitter_s: float = 0.0
    gaps: int | list[tuple[float, float]] = 0
    side: str = "L"
    seed: int = 0
    gyro: bool = False
    gyro_noise_dps: float = 0.0

    def validate(self) -> None:
        """Raise InputError for out-of-range settings."""
        if self.placement not in PLACEMENTS:
            raise InputError(f"unknown placement {self.placement!r}, expected one of {', '.join(PLACEMENTS)}",
                             field="placement")
        if not 10.0 <= float(self.fs_hz) <= 10000.0:
            raise InputError(f"rate must be 10-10000 Hz, got {self.fs_hz}", field="fs_hz")
        if not self.segments:
            raise InputError("at least one segment is needed", field="segments")
        if self.side not in ("L", "R"):
            raise InputError(f"side must be L or R, got {self.side!r}", field="side")
        if self.range_g is not None and not self.range_g > 0:
            raise InputError(f"range must be > 0 g, got {self.range_g}", field="range_g")
        if self.quant_bits is not None and not 4 <= int(self.quant_bits) <= 32:
            raise InputError(f"quantisation bits must be 4-32, got {self.quant_bits}", field="quant_bits")
        if self.quant_bits is not None and self.range_g is None:
            raise InputError("quantisation needs a range_g", field="quant_bits")
        for name in ("noise_g", "bias_g", "jitter_s", "shoe_km", "mount_error_deg", "gyro_noise_dps"):
            if float(getattr(self, name)) < 0:
                raise InputError(f"{name} must be >= 0", field=name)


def parse_segments(spec: str) -> list[SimSegment]:
    """Parse `run:120:3.5:asphalt,walk:30,stand:10` (activity:duration_s[:speed_mps[:surface]])."""
    segments: list[SimSegment] = []
    for i, part in enumerate(p.strip() for p in spec.split(",")):
        if not part:
            continue
        fields = part.split(":")
        if len(fields) < 2 or len(fields) > 4:
            raise InputError(f"segment {i + 1} {part!r}: expected activity:duration[:speed[:surface]]",
                             field="segments")
        activity = fields[0].strip().lower()
        try:
            duration = float(fields[1])
            speed = float(fields[2]) if len(fields) > 2 and fields[2] != "" else None
        except ValueError:
            raise InputError(f"segment {i + 1} {part!r}: duration and speed must be numbers",
                             field="segments") from None
        surface = fields[3].strip().lower() if len(fields) > 3 else "asphalt"
        segments.append(SimSegment(duration, activity, speed, surface))
    if not segments:
        raise InputError("empty segment spec", field="segments")
    return segments
