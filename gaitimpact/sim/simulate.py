"""`simulate(SimConfig) -> SimResult`: a simulated IMU recording with its exact truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitimpact.core.definitions import IMPACT_WINDOW_S
from gaitimpact.recording import Metadata, Recording, SurfaceSegment
from gaitimpact.sim.config import SimConfig
from gaitimpact.sim.foot import FootModel
from gaitimpact.sim.rotation import apply_matrix
from gaitimpact.sim.schedule import FOOT_NAMES, RUN, WALK, make_schedule
from gaitimpact.sim.sensor import apply_sensor, mounting_matrix, plan_gaps
from gaitimpact.sim.truth import Truth, measure_truth, solve_impacts
from gaitimpact.sim.waist import WaistModel

_EVAL_CHUNK = 400_000
NEAR_GAP_BEFORE_S = 0.2
"""A strike is near a gap when a gap overlaps [IC - 0.2 s, IC + impact window]."""


@dataclass
class SimResult:
    """A simulated recording and what really happened in it."""

    recording: Recording
    truth: Truth
    config: SimConfig


def _bouts(intervals: list[tuple[float, float]], tol_s: float = 1e-6) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in intervals:
        if out and s <= out[-1][1] + tol_s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def simulate(config: SimConfig | None = None) -> SimResult:
    """Simulate a recording (acc in g incl. gravity, time in s) and its exact truth from a config."""
    cfg = config or SimConfig()
    cfg.validate()
    ss = np.random.SeedSequence(cfg.seed)
    r_sched, r_mount, r_noise, r_gaps = (np.random.default_rng(s) for s in ss.spawn(4))
    sched = make_schedule(cfg, r_sched)
    model = WaistModel(sched) if cfg.placement == "waist" else FootModel(sched, cfg.placement, cfg.side)
    window = IMPACT_WINDOW_S[cfg.placement]
    st = sched.steps

    # impacts: solve amplitudes so each clean peak equals its drawn target
    ev_step = model.event_step
    targets = np.where(ev_step >= 0, st.target_peak_g[np.maximum(ev_step, 0)], np.nan)
    B = solve_impacts(model, targets, window, dt_s=4e-4 if cfg.placement == "waist" else 2e-4)

    # sampled clean signal, body frame, in chunks
    fs = float(cfg.fs_hz)
    n = int(np.floor(sched.end_s * fs)) + 1
    body = np.empty((n, 3))
    rate = np.empty((n, 3)) if cfg.gyro else None
    for c0 in range(0, n, _EVAL_CHUNK):
        t = np.arange(c0, min(n, c0 + _EVAL_CHUNK)) / fs
        _, fb, wb = model.world(t, B, gyro=cfg.gyro)
        body[c0:c0 + len(t)] = fb
        if rate is not None:
            rate[c0:c0 + len(t)] = wb

    mount = mounting_matrix(r_mount, cfg.mount_error_deg, cfg.random_orientation)
    bias = cfg.bias_g * r_mount.standard_normal(3)
    gap_plan = plan_gaps(cfg.gaps, sched.end_s, r_gaps)
    time_s, acc, kept, gaps = apply_sensor(
        body, fs, mount=mount, bias_g=bias, noise_g=cfg.noise_g, range_g=cfg.range_g,
        quant_bits=cfg.quant_bits, jitter_s=cfg.jitter_s, gap_plan=gap_plan, rng=r_noise)
    end_s = (n - 1) / fs
    gyro_dps = None
    if rate is not None:
        gyro_dps = apply_matrix(rate, mount)
        if cfg.gyro_noise_dps > 0:
            gyro_dps += cfg.gyro_noise_dps * r_noise.standard_normal(gyro_dps.shape)
        gyro_dps = gyro_dps[kept]

    # truth strikes: events with an impact, fully inside the recording
    ev_ic = model.event_ic_s
    has = model.has_impact & (ev_ic >= 0) & (ev_ic + window <= end_s)
    ev = np.flatnonzero(has)
    peak, lr = measure_truth(model, B, ev, window)
    steps = ev_step[ev]
    act = st.act[steps]
    ic = ev_ic[ev]
    clipped = np.zeros(len(ev), dtype=bool)
    if cfg.range_g is not None and len(ev):
        t_kept = kept / fs
        lo = np.searchsorted(t_kept, ic)
        hi = np.searchsorted(t_kept, ic + window, side="right")
        hit = np.any(np.abs(acc) >= cfg.range_g, axis=1)
        csum = np.concatenate(([0], np.cumsum(hit)))
        clipped = csum[hi] > csum[lo]
    near_gap = np.zeros(len(ev), dtype=bool)
    for s, e in gap_plan:
        near_gap |= (ic - NEAR_GAP_BEFORE_S < e) & (ic + window > s)
    run = act == RUN
    walk = act == WALK

    # cadence over running time, both feet, from the full step schedule
    run_steps = st.act == RUN
    walk_steps = st.act == WALK
    run_intervals = [(float(a), float(a + T)) for a, T in zip(st.ic_s[run_steps], st.step_s[run_steps])]
    walk_intervals = [(float(a), float(a + T)) for a, T in zip(st.ic_s[walk_steps], st.step_s[walk_steps])]
    run_bouts = [(max(s, 0.0), min(e, end_s)) for s, e in _bouts(run_intervals)
                 if min(e, end_s) > max(s, 0.0)]
    walk_bouts = [(max(s, 0.0), min(e, end_s)) for s, e in _bouts(walk_intervals)
                  if min(e, end_s) > max(s, 0.0)]
    # cadence: the true step rate of the running steps that start inside the recording
    in_rec = run_steps & (st.ic_s >= 0) & (st.ic_s < end_s)
    running_s = float(np.sum(st.step_s[in_rec]))
    cadence = 60.0 * np.count_nonzero(in_rec) / running_s if running_s > 0 else 0.0
    bout_cad = []
    for s, e in run_bouts:
        m = in_rec & (st.ic_s >= s) & (st.ic_s < e)
        tot = float(np.sum(st.step_s[m]))
        bout_cad.append(60.0 * np.count_nonzero(m) / tot if tot > 0 else 0.0)
    ic_run = ic[run]
    bout = np.full(len(ic_run), -1, dtype=np.int64)
    for k, (s, e) in enumerate(run_bouts):
        bout[(ic_run >= s) & (ic_run < e)] = k
    segments = []
    for i, seg in enumerate(sched.segments):
        seg = dict(seg)
        seg["end_s"] = min(seg["end_s"], end_s)
        m = (st.segment == i) & (st.ic_s >= 0) & (st.ic_s < end_s)
        tot = float(np.sum(st.step_s[m]))
        moving = tot > 0 and seg["activity"] != "stand"
        seg["cadence_spm"] = 60.0 * np.count_nonzero(m) / tot if moving else None
        segments.append(seg)

    side = None if cfg.placement == "waist" else cfg.side
    truth = Truth(
        placement=cfg.placement, side=side, fs_hz=fs, shoe_km=float(cfg.shoe_km),
        ic_time_s=ic[run], foot=FOOT_NAMES[st.foot[steps[run]]], peak_g=peak[run],
        loading_rate_gps=lr[run], speed_mps=st.speed_mps[steps[run]], surface=st.surface[steps[run]],
        contact_time_s=st.contact_s[steps[run]], clipped=clipped[run], near_gap=near_gap[run],
        cadence_spm=cadence, run_bouts=run_bouts, walk_bouts=walk_bouts,
        walk_ic_time_s=ic[walk], walk_foot=FOOT_NAMES[st.foot[steps[walk]]],
        segments=segments, gaps=gaps, bout=bout, bout_cadence_spm=bout_cad, mount_rotation=mount,
        mount_error_deg=float(cfg.mount_error_deg), bias_g=bias, duration_s=end_s, seed=int(cfg.seed),
    )
    meta = Metadata(
        placement=cfg.placement,
        segments=[SurfaceSegment(s["start_s"], s["end_s"], s["surface"], s["speed_mps"])
                  for s in segments if s["activity"] != "stand"],
        speed_mps=None, shoe=cfg.shoe, shoe_km=float(cfg.shoe_km),
        device={"name": "gaitimpact-sim", "profile": "simulated", **({"side": side} if side else {})},
        range_g=cfg.range_g, simulated=True,
        notes=f"simulated by gaitimpact.sim (seed {cfg.seed}); truth in <name>.truth.json",
    )
    rec = Recording(time_s=time_s, acc_g=acc, fs_hz=fs, gyro_dps=gyro_dps, gaps=gaps, meta=meta,
                    source="simulated")
    return SimResult(recording=rec, truth=truth, config=cfg)
