"""Step schedule: when each foot lands, for how long, at which speed and on which surface.

Generation is vectorised per segment (no loop per sample, one small loop per segment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitimpact.sim import physics
from gaitimpact.sim.config import SimConfig

WALK, RUN = 1, 2
ACT_CODE = {"walk": WALK, "run": RUN}
FOOT_NAMES = np.array(["L", "R"])


@dataclass
class Steps:
    """Per-step arrays (both feet), times in s on the true clock (sample 0 at 0 s)."""

    ic_s: np.ndarray
    step_s: np.ndarray
    contact_s: np.ndarray
    foot: np.ndarray  # 0 = L, 1 = R
    act: np.ndarray  # WALK / RUN
    speed_mps: np.ndarray
    surface: np.ndarray  # str
    segment: np.ndarray  # index into segments
    block: np.ndarray  # index of the moving block (consecutive walk/run segments)
    target_peak_g: np.ndarray
    pulse_tp_s: np.ndarray

    def __len__(self) -> int:
        return int(self.ic_s.shape[0])


@dataclass
class Schedule:
    """The full plan: steps, actual segment times, moving blocks, standing intervals, total length."""

    steps: Steps
    segments: list[dict]  # start_s, end_s, activity, speed_mps, surface
    blocks: list[tuple[float, float]]  # moving blocks (start_s, end_s)
    rests: list[tuple[float, float]]
    end_s: float


PULSE_TP_S = {"waist": 0.025, "shank": 0.012, "shoe": 0.007}
"""Time from IC to the impact transient's peak at 3.5 m/s, in s (assumption: sacral peak 20-30 ms,
tibial 10-20 ms, shoe 5-10 ms after IC); scales with (3.5/v)^0.3."""

WALK_PULSE_TP_S = {"waist": 0.04, "shank": 0.02, "shoe": 0.012}


def make_schedule(cfg: SimConfig, rng: np.random.Generator) -> Schedule:
    """Draw the step schedule for a config (per-step variability included)."""
    place = cfg.placement
    wear = physics.wear_factor(cfg.shoe_km)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "ic", "T", "tc", "act", "v", "surf", "seg", "block", "target", "tp")}
    segments: list[dict] = []
    blocks: list[tuple[float, float]] = []
    rests: list[tuple[float, float]] = []
    t = 0.0
    in_block = False
    first = True
    for si, seg in enumerate(cfg.segments):
        start = t
        if seg.activity == "stand":
            t += seg.duration_s
            rests.append((start, t))
            segments.append(dict(start_s=start, end_s=t, activity="stand", speed_mps=0.0,
                                 surface=seg.surface))
            in_block = False
            first = False
            continue
        v = float(seg.speed_mps)
        cad = physics.cadence_model_spm(v, seg.activity)
        T0 = 60.0 / cad
        tc0 = physics.contact_time_model_s(v, seg.activity)
        t_first = t - rng.uniform(0.0, T0) if first else t
        n_max = int(np.ceil(seg.duration_s / T0 * 1.2)) + 4
        T = T0 * (1.0 + physics.STEP_TIME_CV * rng.standard_normal(n_max))
        ic = t_first + np.concatenate(([0.0], np.cumsum(T)[:-1]))
        keep = ic < start + seg.duration_s  # the segment ends with its last step (>= nominal length)
        keep[0] = True
        n = int(np.count_nonzero(keep))
        ic, T = ic[:n], T[:n]
        tc = tc0 * (1.0 + physics.CONTACT_CV * rng.standard_normal(n))
        if seg.activity == "run":
            tc = np.minimum(tc, T - 0.02)  # always some flight when running
            mean_peak = physics.expected_peak_g(place, v, seg.surface, cfg.shoe_km)
            tp0 = PULSE_TP_S[place] * (physics.REFERENCE_SPEED_MPS / v) ** 0.3
        else:
            mean_peak = physics.WALK_PEAK_G[place] * wear ** 0.5
            tp0 = WALK_PULSE_TP_S[place]
        target = mean_peak * np.exp(physics.PEAK_CV * rng.standard_normal(n))
        tp = tp0 * np.exp(0.08 * rng.standard_normal(n))
        if not in_block:
            blocks.append((max(start, 0.0), 0.0))
        in_block = True
        first = False
        t = float(ic[-1] + T[-1])
        blocks[-1] = (blocks[-1][0], t)
        segments.append(dict(start_s=max(start, 0.0), end_s=t, activity=seg.activity, speed_mps=v,
                             surface=seg.surface))
        for key, val in (("ic", ic), ("T", T), ("tc", tc), ("act", np.full(n, ACT_CODE[seg.activity])),
                         ("v", np.full(n, v)), ("surf", np.full(n, seg.surface, dtype=object)),
                         ("seg", np.full(n, si)), ("block", np.full(n, len(blocks) - 1)),
                         ("target", target), ("tp", tp)):
            cols[key].append(val)
    if cols["ic"]:
        cat = {k: np.concatenate(v) for k, v in cols.items()}
    else:
        cat = {k: np.zeros(0) for k in cols}
        cat["surf"] = np.zeros(0, dtype=object)
    n = cat["ic"].shape[0]
    foot = (int(rng.integers(2)) + np.arange(n)) % 2
    steps = Steps(ic_s=cat["ic"], step_s=cat["T"], contact_s=cat["tc"], foot=foot,
                  act=cat["act"].astype(np.int64), speed_mps=cat["v"], surface=cat["surf"].astype(str),
                  segment=cat["seg"].astype(np.int64), block=cat["block"].astype(np.int64),
                  target_peak_g=cat["target"], pulse_tp_s=cat["tp"])
    return Schedule(steps=steps, segments=segments, blocks=blocks, rests=rests, end_s=t)
