"""Exact truth of a simulation: impact amplitudes solved to hit target peaks, true peaks and loading rates.

Truth peaks and loading rates are measured on the CLEAN model (no noise, bias, clipping, jitter or
gaps) evaluated on a fine grid (10 kHz shoe/shank, 5 kHz waist) over the impact window of
gaitimpact.core.definitions, so they follow exactly the definitions the signal core uses. The waist's
25 ms transient is smooth: 5 kHz vs 20 kHz changes peaks by < 1e-4 and loading rates by < 3e-4
(relative), measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gaitimpact.core.definitions import IMPACT_WINDOW_S, LOADING_RATE_FRACTIONS
from gaitimpact.recording import Gap
from gaitimpact.sim import physics

if TYPE_CHECKING:
    import pandas as pd

    from gaitimpact.sim.foot import FootModel
    from gaitimpact.sim.waist import WaistModel

TRUTH_DT_S = {"waist": 2e-4, "shoe": 1e-4, "shank": 1e-4}
"""Grid step of the truth evaluation per placement, s."""
_CHUNK = 500
_NEWTON_ITERS = 8


def peak_and_loading_rate(r: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Peak (g) and loading rate (g/s) of resultant traces r (n, m) sampled every dt_s from IC on.

    Loading rate: (a80 - a20) / (t80 - t20) between the first crossings of 20 % and 80 % of the rise
    from r at IC to the peak (linear interpolation between grid points).
    """
    r = np.atleast_2d(r)
    n, m = r.shape
    ipk = np.argmax(r, axis=1)
    rows = np.arange(n)
    peak = r[rows, ipk]
    a0 = r[:, 0]
    rise = peak - a0
    lr = np.full(n, np.nan)
    times = []
    levels = []
    for frac in LOADING_RATE_FRACTIONS:
        lev = a0 + frac * rise
        above = r >= lev[:, None]
        i = np.argmax(above, axis=1)
        i = np.maximum(i, 1)
        y0 = r[rows, i - 1]
        y1 = r[rows, i]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(y1 > y0, (lev - y0) / (y1 - y0), 0.0)
        times.append((i - 1 + np.clip(x, 0.0, 1.0)) * dt_s)
        levels.append(lev)
    dtc = times[1] - times[0]
    good = (rise > 0) & (dtc > 0)
    lr[good] = (levels[1][good] - levels[0][good]) / dtc[good]
    return peak, lr


def solve_impacts(model: WaistModel | FootModel, targets: np.ndarray, window_s: float,
                  dt_s: float = 2e-4) -> np.ndarray:
    """Impact amplitude B per event so the clean peak resultant in the window equals its target (g).

    Solved by Newton iterations on a dt_s grid (the truth is then measured on the TRUTH_DT_S grid)."""
    n_ev = len(model.event_ic_s)
    B = np.zeros(n_ev)
    ev = np.flatnonzero(model.has_impact & np.isfinite(targets))
    grid = np.arange(0.0, window_s + dt_s / 2, dt_s)
    for c0 in range(0, len(ev), _CHUNK):
        ch = ev[c0:c0 + _CHUNK]
        t = (model.event_ic_s[ch, None] + grid[None, :]).ravel()
        f0 = model.world(t, np.zeros(n_ev), body=False)[0].reshape(len(ch), len(grid), 3)
        ones = np.zeros(n_ev)
        ones[ch] = 1.0
        q = model.world(t, ones, body=False)[0].reshape(len(ch), len(grid), 3) - f0
        tgt = targets[ch]
        base = np.linalg.norm(f0, axis=2).max(axis=1)
        qn = np.linalg.norm(q, axis=2).max(axis=1)
        b = np.maximum(tgt - base, 0.0) / np.maximum(qn, 1e-9)
        rows = np.arange(len(ch))
        for _ in range(_NEWTON_ITERS):
            v = f0 + b[:, None, None] * q
            r = np.linalg.norm(v, axis=2)
            i = np.argmax(r, axis=1)
            pk = r[rows, i]
            d = np.einsum("ij,ij->i", v[rows, i], q[rows, i]) / np.maximum(pk, 1e-9)
            b = np.maximum(b + (tgt - pk) / np.maximum(d, 1e-3), 0.0)
        B[ch] = b
    return B


def measure_truth(model: WaistModel | FootModel, B: np.ndarray, events: np.ndarray,
                  window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """True peak (g) and loading rate (g/s) of the given events on the clean model (TRUTH_DT_S grid)."""
    peak = np.zeros(len(events))
    lr = np.zeros(len(events))
    dt = TRUTH_DT_S[model.placement]
    grid = np.arange(0.0, window_s + dt / 2, dt)
    for c0 in range(0, len(events), _CHUNK):
        ch = events[c0:c0 + _CHUNK]
        t = (model.event_ic_s[ch, None] + grid[None, :]).ravel()
        f = model.world(t, B, body=False)[0].reshape(len(ch), len(grid), 3)
        peak[c0:c0 + len(ch)], lr[c0:c0 + len(ch)] = peak_and_loading_rate(np.linalg.norm(f, axis=2), dt)
    return peak, lr


@dataclass
class Truth:
    """What really happened in a simulation. Times in s since the first sample (true clock).

    Running strikes (what the core must find; for shoe/shank only the instrumented foot):
    ic_time_s, foot ("L"/"R"), peak_g (clean peak resultant in the impact window, 5-10 kHz, before
    noise/clipping), loading_rate_gps, speed_mps, surface, contact_time_s, clipped (a sampled axis in
    the window hit range_g), near_gap (a gap overlaps [IC - 0.2 s, IC + window]).
    cadence_spm: running steps per minute over running time, both feet (also for shoe/shank).
    run_bouts: [(start_s, end_s)] of running; bout: index into run_bouts per strike.
    walk_ic_time_s / walk_foot: walking steps (not strikes).
    segments: actual [{start_s, end_s, activity, speed_mps, surface}]. gaps: removed stretches.
    """

    placement: str
    side: str | None
    fs_hz: float
    shoe_km: float
    ic_time_s: np.ndarray
    foot: np.ndarray
    peak_g: np.ndarray
    loading_rate_gps: np.ndarray
    speed_mps: np.ndarray
    surface: np.ndarray
    contact_time_s: np.ndarray
    clipped: np.ndarray
    near_gap: np.ndarray
    cadence_spm: float
    run_bouts: list[tuple[float, float]]
    walk_bouts: list[tuple[float, float]]
    walk_ic_time_s: np.ndarray
    walk_foot: np.ndarray
    segments: list[dict]
    gaps: list[Gap]
    bout: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bout_cadence_spm: list[float] = field(default_factory=list)
    mount_rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    mount_error_deg: float = 0.0
    bias_g: np.ndarray = field(default_factory=lambda: np.zeros(3))
    duration_s: float = 0.0
    seed: int = 0

    @property
    def impact_window_s(self) -> float:
        """Impact window length after IC in s used for peak_g (from core.definitions)."""
        return IMPACT_WINDOW_S[self.placement]

    def surface_factor(self, surface: str) -> float:
        """Model's multiplicative peak factor (dimensionless) of a surface for this placement."""
        return physics.surface_factor(surface, self.placement)

    def speed_factor(self, speed_mps: float) -> float:
        """Model's multiplicative peak factor (dimensionless) of a speed in m/s for this placement."""
        return float(physics.speed_factor(speed_mps, self.placement))

    def wear_factor(self, shoe_km: float) -> float:
        """Model's multiplicative peak factor (dimensionless) of shoe wear in km."""
        return physics.wear_factor(shoe_km)

    def expected_peak_g(self, speed_mps: float, surface: str, shoe_km: float | None = None) -> float:
        """Model median running peak in g at a speed (m/s), surface and shoe km (default this shoe)."""
        km = self.shoe_km if shoe_km is None else shoe_km
        return physics.expected_peak_g(self.placement, speed_mps, surface, km)

    def segment_cadence_spm(self) -> list[float | None]:
        """Cadence in steps/min per segment (None for standing), both feet counted."""
        out: list[float | None] = []
        for seg in self.segments:
            out.append(seg.get("cadence_spm"))
        return out

    def strikes_frame(self) -> pd.DataFrame:
        """Running strikes as a pandas DataFrame (time_s, foot, peak_g, loading_rate_gps, speed_mps, ...)."""
        import pandas as pd

        return pd.DataFrame({
            "time_s": self.ic_time_s, "foot": self.foot, "peak_g": self.peak_g,
            "loading_rate_gps": self.loading_rate_gps, "speed_mps": self.speed_mps, "surface": self.surface,
            "contact_time_s": self.contact_time_s, "clipped": self.clipped, "near_gap": self.near_gap,
            "bout": self.bout,
        })

    def to_dict(self) -> dict:
        """JSON-ready dict (lists, floats, strings)."""
        return {
            "simulated": True,
            "placement": self.placement,
            "side": self.side,
            "fs_hz": self.fs_hz,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "shoe_km": self.shoe_km,
            "impact_window_s": self.impact_window_s,
            "peak_definition": f"max resultant of the clean signal ({1 / TRUTH_DT_S[self.placement]:.0f} Hz grid, "
                               "no noise/clipping) in "
                               "[IC, IC + impact_window_s]",
            "cadence_spm": self.cadence_spm,
            "bout_cadence_spm": self.bout_cadence_spm,
            "run_bouts": [list(b) for b in self.run_bouts],
            "walk_bouts": [list(b) for b in self.walk_bouts],
            "segments": self.segments,
            "gaps": [{"start_s": g.start_s, "end_s": g.end_s, "reason": g.reason} for g in self.gaps],
            "mount_error_deg": self.mount_error_deg,
            "mount_rotation": np.asarray(self.mount_rotation).tolist(),
            "bias_g": np.asarray(self.bias_g).tolist(),
            "factors": {
                "surface": {s: self.surface_factor(s) for s in physics.SURFACE_FACTORS[self.placement]},
                "speed_exponent": physics.SPEED_EXPONENT[self.placement],
                "reference_speed_mps": physics.REFERENCE_SPEED_MPS,
                "base_peak_g": physics.BASE_PEAK_G[self.placement],
                "wear_pct_per_100km": physics.WEAR_PCT_PER_100KM,
                "wear_factor": self.wear_factor(self.shoe_km),
            },
            "strikes": {
                "ic_time_s": self.ic_time_s.tolist(),
                "foot": self.foot.tolist(),
                "peak_g": self.peak_g.tolist(),
                "loading_rate_gps": [x if np.isfinite(x) else None for x in self.loading_rate_gps.tolist()],
                "speed_mps": self.speed_mps.tolist(),
                "surface": self.surface.tolist(),
                "contact_time_s": self.contact_time_s.tolist(),
                "clipped": self.clipped.tolist(),
                "near_gap": self.near_gap.tolist(),
                "bout": self.bout.tolist(),
            },
            "walk_steps": {"ic_time_s": self.walk_ic_time_s.tolist(), "foot": self.walk_foot.tolist()},
        }
