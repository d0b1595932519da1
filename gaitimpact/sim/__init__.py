"""Physically grounded simulator of running IMU signals (waist, shoe, shank) with exact truth.

    from gaitimpact.sim import SimConfig, SimSegment, simulate
    res = simulate(SimConfig(placement="shoe", fs_hz=500, segments=[SimSegment(60, "run", 3.5, "grass")]))
    res.recording  # gaitimpact.recording.Recording
    res.truth      # gaitimpact.sim.truth.Truth: ic_time_s, foot, peak_g, loading_rate_gps, cadence_spm, ...
"""

from gaitimpact.sim.config import SimConfig, SimSegment, parse_segments
from gaitimpact.sim.physics import (
    cadence_model_spm,
    contact_time_model_s,
    expected_peak_g,
    speed_factor,
    speed_from_cadence_mps,
    surface_factor,
    wear_factor,
)
from gaitimpact.sim.simulate import SimResult, simulate
from gaitimpact.sim.truth import Truth
from gaitimpact.sim.writer import truth_path, write_simulation

__all__ = [
    "SimConfig", "SimSegment", "SimResult", "Truth", "simulate", "parse_segments", "write_simulation",
    "surface_factor", "speed_factor", "wear_factor", "expected_peak_g", "cadence_model_spm",
    "contact_time_model_s", "speed_from_cadence_mps", "truth_path",
]

