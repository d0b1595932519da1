"""Shoe and shank model: a rigid segment (foot or tibia) moving through the gait cycle.

World frame x forward, y left, z up; body frame x forward along the foot (shoe) / anterior (shank),
z up along the shank. Each stride of the instrumented foot runs from its IC to its next IC:
- pitch theta(u) from keyframes (periodic PCHIP over the stride phase u, Gaussian-smoothed;
  stance occupies u in [0, d0), d0 = 0.38 running, 0.62 walking; a smooth phase warp puts the actual
  toe-off at d0, so angular velocity and acceleration stay continuous);
- the pivot (forefoot for the shoe, ankle for the shank) rests during stance; in swing it travels
  one stride length v*S forward on a minimum-jerk path and lifts H (0.25 m running, 0.10 m walking)
  on a 64 s^3 (1-s)^3 bump (shank: 60 % of that path, see TRANSLATION_SCALE);
- the sensor sits at offset r from the pivot, so its acceleration is
  a = a_pivot + theta'' J r_w - theta'^2 r_w (tangential + centripetal terms of the rotation);
- specific force f_w = a / g + (0, 0, 1) (gravity, 1 g up), seen by the sensor as R(theta)^T f_w
  (gravity projection changes as the segment rotates through gravity);
- impact transient at IC along (-0.3, 0, 0.95): B (p(tau) + rho e^(-tau/tr) sin(2 pi fr tau)), p a
  unit-peak gamma pulse (shoe: peak 7 ms, shank 12 ms after IC at 3.5 m/s), plus ringing (RING);
- mediolateral: 0.1 g swing sway (mirrored for the right foot).
Standing: segment level (theta = 0), 1 g. A stride squeezed by a short stand or a start from rest
moves less (translation and rotation scaled by (S / 0.8 S_nominal)^2, at most 1).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

from gaitimpact.sim.physics import gamma_pulse
from gaitimpact.sim.schedule import RUN, WALK, Schedule
from gaitimpact.units import STANDARD_GRAVITY_MPS2

DUTY = {RUN: 0.38, WALK: 0.62}
# keyframes (u, theta_deg); first and last theta equal (periodic)
KEYFRAMES = {
    ("shoe", RUN): [(0.0, 15), (0.06, 0), (0.20, 0), (0.30, -20), (0.38, -45), (0.50, -70), (0.62, -55),
                    (0.75, -15), (0.88, 18), (0.95, 20), (1.0, 15)],
    ("shoe", WALK): [(0.0, 15), (0.10, 0), (0.40, 0), (0.55, -20), (0.62, -35), (0.75, -25), (0.88, 10),
                     (0.95, 20), (1.0, 15)],
    ("shank", RUN): [(0.0, 10), (0.10, 2), (0.20, -12), (0.38, -45), (0.50, -75), (0.62, -55),
                     (0.75, -5), (0.88, 25), (0.95, 18), (1.0, 10)],
    ("shank", WALK): [(0.0, 12), (0.15, 5), (0.45, -15), (0.62, -38), (0.75, -30), (0.88, 10),
                      (0.95, 18), (1.0, 12)],
}
SENSOR_OFFSET_M = {"shoe": np.array([-0.10, 0.0, 0.06]), "shank": np.array([0.0, 0.0, 0.08])}
"""Sensor position relative to the pivot in the segment frame, m (shoe: on the laces, 10 cm behind
the forefoot pivot; shank: distal tibia, 8 cm above the ankle)."""
TRANSLATION_SCALE = {"shoe": 1.0, "shank": 0.6}
"""Share of the foot's swing translation seen by the sensor's pivot: the shoe pivot is the foot; the
shank path blends ankle (60 %) and knee (40 %, which advances at a steady speed: no acceleration)."""
LIFT_M = {RUN: 0.25, WALK: 0.10}
IMPACT_DIR = np.array([-0.3, 0.0, 0.95]) / np.hypot(0.3, 0.95)
PULSE_K = {"shoe": 2.5, "shank": 2.5}
RING = {"shoe": (0.15, 60.0, 0.010), "shank": (0.12, 35.0, 0.015)}
"""Ringing after impact: (amplitude relative to B, frequency Hz, decay s) (assumption: soft tissue
and midsole oscillation; tibial transients ring at tens of Hz)."""
MIN_SWING_S = 0.25
PROFILE_SMOOTH_U = 0.015
"""Pitch profiles are the keyframe PCHIP curve smoothed by a circular Gaussian of sigma 0.015 stride
(~10 ms): smooth angular acceleration, flat stretches stay flat, no Gibbs ringing."""
_TABLE_N = 4096


def _pitch_profile(placement: str, act: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tables (u, theta, dtheta/du, d2theta/du2) in rad over one stride phase u in [0, 1]."""
    kf = np.array(KEYFRAMES[(placement, act)], dtype=float)
    u = np.concatenate((kf[:-1, 0] - 1.0, kf[:, 0], kf[1:, 0] + 1.0))
    th = np.radians(np.concatenate((kf[:-1, 1], kf[:, 1], kf[1:, 1])))
    m = 2048
    x = np.arange(m) / m
    c = np.fft.rfft(PchipInterpolator(u, th)(x)) / m
    c *= np.exp(-0.5 * (2 * np.pi * np.arange(len(c)) * PROFILE_SMOOTH_U) ** 2)
    c = c[:200]
    grid = np.linspace(0.0, 1.0, _TABLE_N + 1)
    k = np.arange(len(c))
    e = np.exp(2j * np.pi * np.outer(grid, k))
    w = np.where(k == 0, 1.0, 2.0)
    theta = (e * (w * c)).real.sum(axis=1)
    d1 = (e * (w * c * 2j * np.pi * k)).real.sum(axis=1)
    d2 = (e * (w * c * -(2 * np.pi * k) ** 2)).real.sum(axis=1)
    return grid, theta, d1, d2


def _stride_warp(x: np.ndarray, duty: np.ndarray, d0: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smooth phase warp u = x + beta (1 - cos 2 pi x) putting the actual toe-off (x = duty) at the
    profile's toe-off (u = d0); returns u, du/dx, d2u/dx2."""
    beta = (d0 - duty) / (1.0 - np.cos(2 * np.pi * duty))
    u = x + beta * (1.0 - np.cos(2 * np.pi * x))
    du = 1.0 + beta * 2 * np.pi * np.sin(2 * np.pi * x)
    ddu = beta * (2 * np.pi) ** 2 * np.cos(2 * np.pi * x)
    return u, du, ddu


class FootModel:
    """Evaluate the shoe/shank specific force at any times; events are strides of the instrumented foot."""

    def __init__(self, sched: Schedule, placement: str, side: str) -> None:
        self.sched = sched
        self.placement = placement
        self.side_sign = 1.0 if side == "L" else -1.0
        st = sched.steps
        own = np.flatnonzero(st.foot == (0 if side == "L" else 1))
        starts: list[float] = []
        stance: list[float] = []
        ends: list[float] = []
        step_of: list[int] = []
        acts: list[int] = []
        speeds: list[float] = []
        nominal: list[float] = []
        for b, (_b0, b1) in enumerate(sched.blocks):
            o = own[st.block[own] == b]
            blk = np.flatnonzero(st.block == b)
            if len(blk) == 0:
                continue
            if len(o) == 0 or st.ic_s[o[0]] > st.ic_s[blk[0]]:
                # the foot pushes off from rest before its first landing: a virtual stride, no impact
                first_ic = st.ic_s[o[0]] if len(o) else b1
                j = blk[0]
                s0 = max(first_ic - 2 * st.step_s[j], ends[-1] if ends else -np.inf)
                starts.append(s0)
                stance.append(min(st.contact_s[j], 0.5 * (first_ic - s0)))
                ends.append(first_ic)
                nominal.append(2 * st.step_s[j])
                step_of.append(-1)
                acts.append(int(st.act[j]))
                speeds.append(float(st.speed_mps[j]))
            for n, j in enumerate(o):
                s0 = st.ic_s[j]
                e = st.ic_s[o[n + 1]] if n + 1 < len(o) else max(b1, s0 + st.contact_s[j] + MIN_SWING_S)
                starts.append(s0)
                stance.append(st.contact_s[j])
                ends.append(e)
                nominal.append(2 * st.step_s[j])
                step_of.append(int(j))
                acts.append(int(st.act[j]))
                speeds.append(float(st.speed_mps[j]))
        self.start_s = np.array(starts)
        self.stance_s = np.array(stance)
        # strides never overlap (a short stand between blocks cuts the last swing short)
        self.end_s = np.minimum(np.array(ends), np.append(self.start_s[1:], np.inf))
        # strides squeezed by a short stand (or a start from rest) move less: scale translation and rotation
        squeeze = (self.end_s - self.start_s) / (0.8 * np.array(nominal)) if nominal else np.zeros(0)
        self.motion_scale = np.minimum(1.0, squeeze) ** 2
        self.step_of = np.array(step_of, dtype=np.int64)
        self.act = np.array(acts, dtype=np.int64)
        self.speed = np.array(speeds)
        self.has_impact = self.step_of >= 0
        self.event_ic_s = self.start_s
        self.event_step = self.step_of
        self.tp = np.where(self.has_impact, st.pulse_tp_s[np.maximum(self.step_of, 0)], 0.01)
        self.impact_dir = IMPACT_DIR
        self.profiles = {act: _pitch_profile(placement, act) for act in (RUN, WALK)}

    def world(self, t: np.ndarray, B: np.ndarray, body: bool = True, gyro: bool = False,
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """World- and segment-frame specific force in g, segment angular rate in deg/s, at times t (s)."""
        t = np.asarray(t, dtype=float)
        n = t.shape[0]
        f = np.zeros((n, 3))
        f[:, 2] = 1.0
        theta = np.zeros(n)
        omega = np.zeros(n)
        if len(self.start_s):
            j = np.searchsorted(self.start_s, t, side="right") - 1
            ok = j >= 0
            jj = np.where(ok, j, 0)
            tau = t - self.start_s[jj]
            S = self.end_s[jj] - self.start_s[jj]
            mv = ok & (tau < S)
            m = np.flatnonzero(mv)
            jm = jj[m]
            tau = tau[m]
            tc = self.stance_s[jm]
            Tsw = np.maximum(S[m] - tc, 1e-3)
            act = self.act[jm]
            d0 = np.where(act == RUN, DUTY[RUN], DUTY[WALK])
            in_st = tau < tc
            s = np.clip((tau - tc) / Tsw, 0.0, 1.0)
            Sm = S[m]
            u, dudx, d2udx2 = _stride_warp(np.clip(tau / Sm, 0.0, 1.0), tc / Sm, d0)
            th = np.empty_like(u)
            thu = np.empty_like(u)
            thuu = np.empty_like(u)
            for a, (grid, t0, t1, t2) in self.profiles.items():
                sel = act == a
                uu = u[sel]
                th[sel] = np.interp(uu, grid, t0)
                thu[sel] = np.interp(uu, grid, t1)
                thuu[sel] = np.interp(uu, grid, t2)
            dudt = dudx / Sm
            ms = self.motion_scale[jm]
            th, thu, thuu = th * ms, thu * ms, thuu * ms
            w = thu * dudt
            al = thuu * dudt ** 2 + thu * d2udx2 / Sm ** 2
            # pivot acceleration in swing (m/s^2)
            L = self.speed[jm] * S[m] * ms
            H = np.where(act == RUN, LIFT_M[RUN], LIFT_M[WALK])
            hx = 60 * s - 180 * s ** 2 + 120 * s ** 3
            hz = 64 * (6 * s * (1 - s) ** 3 - 18 * s ** 2 * (1 - s) ** 2 + 6 * s ** 3 * (1 - s))
            sw = ~in_st
            ts = TRANSLATION_SCALE[self.placement]
            ax = np.where(sw, ts * L * hx / Tsw ** 2, 0.0)
            az = np.where(sw, ts * ms * H * hz / Tsw ** 2, 0.0)
            r = SENSOR_OFFSET_M[self.placement]
            c, sn = np.cos(th), np.sin(th)
            rx = r[0] * c - r[2] * sn
            rz = r[0] * sn + r[2] * c
            ax = ax + al * (-rz) - w ** 2 * rx
            az = az + al * rx - w ** 2 * rz
            amp, fr, tr = RING[self.placement]
            b = B[jm]
            tp = self.tp[jm]
            pulse = b * (gamma_pulse(tau, tp, PULSE_K[self.placement])
                         + amp * np.exp(-tau / tr) * np.sin(2 * np.pi * fr * tau))
            f[m, 0] = ax / STANDARD_GRAVITY_MPS2 + pulse * IMPACT_DIR[0]
            f[m, 2] = 1.0 + az / STANDARD_GRAVITY_MPS2 + pulse * IMPACT_DIR[2]
            f[m, 1] = np.where(sw, self.side_sign * 0.1 * ms * np.sin(2 * np.pi * s), 0.0)
            theta[m] = th
            omega[m] = w
        if not body:
            return f, None, None
        c, sn = np.cos(theta), np.sin(theta)
        fb = np.stack([f[:, 0] * c + f[:, 2] * sn, f[:, 1], -f[:, 0] * sn + f[:, 2] * c], axis=1)
        wb = None
        if gyro:  # toe-up pitch is a rotation about -y
            wb = np.zeros((n, 3))
            wb[:, 1] = -np.degrees(omega)
        return f, fb, wb
