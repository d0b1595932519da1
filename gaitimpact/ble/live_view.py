"""What a live recording shows, as plain data (the CLI renders it): `LiveState` and the surface keys."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gaitimpact.recording import SURFACES

SURFACE_KEYS = {str(i + 1): s for i, s in enumerate(SURFACES)}
"""Key -> surface: 1 asphalt, 2 concrete, 3 track, 4 grass, 5 trail, 6 treadmill."""


@dataclass
class LiveState:
    """Numbers shown live: elapsed s, samples/s, samples on disk, packets lost, battery %, cadence spm, peaks g.

    status: "connecting", "waiting for ...", "recording" or "reconnecting" (then `reconnecting_s` s since
    the link was lost).
    """

    device: str = ""
    status: str = "connecting"
    elapsed_s: float = 0.0
    samples: int = 0
    samples_per_s: float = 0.0
    packets_lost: int = 0
    malformed: int = 0
    gaps: int = 0
    battery_pct: int | None = None
    cadence_spm: float = math.nan
    last_peak_g: float = math.nan
    rolling_peak_g: float = math.nan
    strikes: int = 0
    surface: str | None = None
    reconnecting_s: float = 0.0
