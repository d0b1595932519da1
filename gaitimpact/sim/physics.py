"""Physical model numbers of the simulator: gait timing vs speed, impact peaks and their factors.

Every figure here is a model choice, with its source (or "assumption") next to it. The peak impact
of a running strike is multiplicative:

    peak_g = BASE_PEAK_G[placement] * speed_factor(speed_mps) * surface_factor(surface)
             * wear_factor(shoe_km) * exp(N(0, PEAK_CV))

so the reporter can check recovered surface ratios and shoe-wear slopes against these functions.
"""

from __future__ import annotations

import math

import numpy as np

from gaitimpact.errors import InputError
from gaitimpact.recording import PLACEMENTS

REFERENCE_SPEED_MPS = 3.5
"""Speed at which BASE_PEAK_G applies, in m/s."""

BASE_PEAK_G = {"waist": 3.9, "shank": 7.5, "shoe": 11.0}
"""Peak resultant impact in g at 3.5 m/s on concrete, new shoe.
waist: sacral peak on concrete 3.90 g (IJERPH 2023, sacral IMU, concrete/track/grass);
shank: tibial PTA on concrete 7.47 g (J Appl Biomech 2021);
shoe: mid-range of RunScribe's stated impact range 5-15 g (runscribe.com/metrics)."""

WALK_PEAK_G = {"waist": 1.5, "shank": 2.5, "shoe": 3.5}
"""Peak resultant at heel strike when walking (~1.4 m/s), in g (assumption: heel-strike transient
1.5-3.5 g, well below running; keeps walking impacts clearly separable from running)."""

SPEED_EXPONENT = {"waist": 0.6, "shank": 1.0, "shoe": 1.0}
"""peak ~ speed^p. Shank/shoe p = 1.0: PTA +38 % from 2.7 to 3.7 m/s (+3.8 g per m/s) in the
literature collected in domain-notes ((3.7/2.7)^1.0 = 1.37). Waist p = 0.6: assumption (sacral
impact rises less with speed than tibial)."""

SURFACE_FACTORS = {
    # relative to concrete = 1.0; sources in domain-notes: sacral concrete 3.90 g, track 3.68, grass 3.76
    # (IJERPH 2023); tibial grass 8.22 vs concrete 7.47 g (J Appl Biomech 2021); shank lower on the
    # treadmill than overground, no difference at the lower back. Asphalt/trail: assumptions.
    "waist": {"concrete": 1.00, "asphalt": 0.98, "track": 0.944, "grass": 0.964, "trail": 0.96,
              "treadmill": 1.00},
    "shank": {"concrete": 1.00, "asphalt": 0.98, "track": 0.96, "grass": 1.10, "trail": 1.04,
              "treadmill": 0.85},
    "shoe": {"concrete": 1.00, "asphalt": 0.98, "track": 0.96, "grass": 1.08, "trail": 1.03,
             "treadmill": 0.88},
}
"""Multiplicative surface factor on the peak, per placement. Surface effects are small and can go
either way (grass is HIGHER than concrete at the tibia in the cited study)."""

WEAR_PCT_PER_100KM = 2.0
"""Peak rise with shoe km, % per 100 km, linear (assumption built on Cook 1985: after break-in the
midsole loses ~15 cushioning points between 80 and 800 km (75 % -> 60 % kept), ~2 points/100 km;
we let the peak rise 1:1 with lost cushioning points). Humans adapt and studies over 500-1000 km
find no consistent rise: this is a test signal, not a claim."""

WEAR_MAX_KM = 1500.0
"""Wear saturates beyond this km."""

PEAK_CV = 0.08
"""Step-to-step variability of the peak (lognormal sigma); assumption (PTA CV ~ 8-15 %)."""

STEP_TIME_CV = 0.015
"""Step-to-step variability of step time (running stride time CV ~ 1-2 %)."""

CONTACT_CV = 0.03
"""Step-to-step variability of contact time."""


def _check_placement(placement: str) -> str:
    if placement not in PLACEMENTS:
        raise InputError(f"unknown placement {placement!r}, expected one of {', '.join(PLACEMENTS)}",
                         field="placement")
    return placement


def surface_factor(surface: str, placement: str = "waist") -> float:
    """Multiplicative peak factor (dimensionless) of a surface for a placement; unknown surfaces 1.0."""
    return float(SURFACE_FACTORS[_check_placement(placement)].get(surface, 1.0))


def speed_factor(speed_mps: float | np.ndarray, placement: str = "waist") -> float | np.ndarray:
    """Multiplicative peak factor (dimensionless) of running speed in m/s, 1.0 at 3.5 m/s."""
    p = SPEED_EXPONENT[_check_placement(placement)]
    if np.ndim(speed_mps):
        return (np.asarray(speed_mps, dtype=float) / REFERENCE_SPEED_MPS) ** p
    return (float(speed_mps) / REFERENCE_SPEED_MPS) ** p


def wear_factor(shoe_km: float | None) -> float:
    """Multiplicative peak factor (dimensionless) of shoe wear in km (1.0 for a new shoe or unknown)."""
    if shoe_km is None:
        return 1.0
    km = min(max(float(shoe_km), 0.0), WEAR_MAX_KM)
    return 1.0 + WEAR_PCT_PER_100KM / 100.0 * km / 100.0


def expected_peak_g(placement: str, speed_mps: float, surface: str, shoe_km: float | None) -> float:
    """Model mean (median of the lognormal) running peak impact in g for the given conditions."""
    return (BASE_PEAK_G[_check_placement(placement)] * float(speed_factor(speed_mps, placement))
            * surface_factor(surface, placement) * wear_factor(shoe_km))


def cadence_model_spm(speed_mps: float, activity: str = "run") -> float:
    """Model cadence in steps/min (both feet) for running (2.5-5 m/s) or walking.

    Running: 148 + 8 * v spm (168 at 2.5, 176 at 3.5, 188 at 5 m/s), within the 160-190 spm of
    recreational runners and rising slowly with speed (speed grows mainly by step length).
    Walking: 100 + 12 * v spm (117 at 1.4 m/s), within the 100-120 spm of normal walking.
    """
    if activity == "walk":
        return 100.0 + 12.0 * speed_mps
    return 148.0 + 8.0 * speed_mps


def speed_from_cadence_mps(cadence_spm: float | np.ndarray) -> float | np.ndarray:
    """Running speed in m/s the cadence model implies for a cadence in steps/min (inverse of the model)."""
    return (np.asarray(cadence_spm, dtype=float) - 148.0) / 8.0


def contact_time_model_s(speed_mps: float, activity: str = "run") -> float:
    """Model ground contact time of one foot in s.

    Running: 0.54 * v^-0.6 s (0.31 s at 2.5, 0.25 s at 3.5, 0.21 s at 5 m/s), typical of
    recreational runners. Walking: 62 % of the stride (both feet on the ground ~12 % per step).
    """
    if activity == "walk":
        return 0.62 * 2 * 60.0 / cadence_model_spm(speed_mps, "walk")
    return 0.54 * speed_mps ** -0.6


def gamma_pulse(t: np.ndarray, tp: np.ndarray | float, k: float) -> np.ndarray:
    """Unit-peak gamma-shaped pulse (t/tp)^k exp(k (1 - t/tp)) for t >= 0 (0 before), t and tp in s."""
    x = np.maximum(np.asarray(t, dtype=float), 0.0) / tp
    with np.errstate(over="ignore", under="ignore"):
        return np.where(x > 0, np.exp(k * (np.log(np.maximum(x, 1e-300)) + 1.0 - x)), 0.0)


def gamma_pulse_integral(tp: np.ndarray | float, k: float) -> np.ndarray | float:
    """Integral in s of the unit-peak gamma pulse over t >= 0."""
    return tp * math.exp(k) * math.gamma(k + 1.0) / k ** (k + 1.0)
