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
    surface_factor,
    wear_factor,
)
from gaitimpact.sim.simulate import SimResult, simulate
from gaitimpact.sim.truth import Truth

__all__ = [
    "SimConfig", "SimSegment", "SimResult", "Truth", "simulate", "parse_segments", "write_simulation",
    "surface_factor", "speed_factor", "wear_factor", "expected_peak_g", "cadence_model_spm",
    "contact_time_model_s",
]


def write_simulation(result: SimResult, csv_path):  # noqa: ANN001, ANN201
    """Write CSV + sidecar JSON + <stem>.truth.json for a simulation; returns the three paths."""
    from gaitimpact.sim.writer import write_simulation as _write

    return _write(result, csv_path)
