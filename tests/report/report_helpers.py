"""Helpers for the reporter tests: simulated recordings on disk and synthetic strike tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


def write_run(
    path: Path,
    segments: list[tuple[float, float, str]],
    *,
    seed: int,
    placement: str = "waist",
    shoe: str | None = "sim-shoe",
    shoe_km: float = 0.0,
) -> Path:
    """Simulate a run of (duration_s, speed_mps, surface) segments and write CSV + sidecar; returns the CSV."""
    cfg = SimConfig(
        placement=placement,
        fs_hz=200.0 if placement == "waist" else 500.0,
        segments=[SimSegment(d, "run", v, s) for d, v, s in segments],
        seed=seed,
        shoe=shoe,
        shoe_km=shoe_km,
        noise_g=0.02,
        mount_error_deg=3.0,
    )
    write_simulation(simulate(cfg), path)
    return path


def synthetic_strikes(
    plan: dict[str, list[float]],
    *,
    factors: dict[str, float] | None = None,
    n: int = 120,
    slope_per_mps: float = 0.3,
    session_sd: float = 0.03,
    strike_sd: float = 0.1,
    seed: int = 0,
    placement: str = "waist",
    shoe: str = "A",
    shoe_km: float = 100.0,
    first_session: int = 1,
    step_s: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Strike table: for each surface one session per listed speed, lognormal peaks with a session effect.

    factors: true surface factor at equal speed; session_sd: day-to-day SD of ln(peak); step_s: strike
    interval per surface (s, default 0.35: 171 steps/min at the waist).
    """
    rng = np.random.default_rng(seed)
    factors = factors or {}
    frames = []
    session = first_session - 1
    for surface, speeds in plan.items():
        for v in speeds:
            session += 1
            ln = (
                np.log(4.0 * factors.get(surface, 1.0))
                + slope_per_mps * (v - 3.0)
                + rng.normal(0, session_sd)
                + rng.normal(0, strike_sd, n)
            )
            frames.append(
                pd.DataFrame(
                    {
                        "session": session,
                        "time_s": np.arange(n) * (step_s or {}).get(surface, 0.35),
                        "foot": "?",
                        "peak_g": np.exp(ln),
                        "loading_rate_gps": 150.0,
                        "clipped": False,
                        "near_gap": False,
                        "surface": surface,
                        "speed_mps": v,
                        "bout": 0,
                        "placement": placement,
                        "shoe": shoe,
                        "shoe_km": shoe_km,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
