"""Waist/sacrum model: specific force = ground reaction force / body weight (rigid-trunk approximation).

World frame x forward, y left, z up; values in g. Per running step (IC to next IC):
- vertical: stance (IC to IC + contact) = active half-sine A sin(pi tau/tc) plus the impact transient
  B p(tau) (unit-peak gamma pulse, peak tp after IC); flight = 0 g (free fall). A is set so the stance
  impulse balances gravity over the step: A 2 tc/pi + B I_p = step time (mean 1 g over the step).
- fore-aft: braking then propulsion, -C_ap sin(2 pi tau/tc), C_ap = 0.10 v BW (0.35 at 3.5 m/s), plus a
  braking share of the impact (-0.15 B p) compensated in propulsion so net fore-aft impulse is zero.
- mediolateral: stance force toward the body's midline, -/+0.08 BW sin(pi tau/tc) on a left/right
  foot (so left/right is recoverable), pelvis roll +-2 deg (contralateral side drops) and yaw +-4 deg.
- trunk forward lean 6 deg running, 2 deg walking, pitch oscillation +-1.5 deg per step.
Walking step: vertical 1 + 0.25 cos(2 pi (tau - 0.1 T)/T) plus a heel-strike transient (mean 1 g
over the step), fore-aft -0.15 sin(2 pi tau/T), mediolateral -/+0.05 sin(pi tau/T).
Standing: 1 g plus 0.005 g postural sway at 0.3 Hz.
"""

from __future__ import annotations

import numpy as np

from gaitimpact.sim.physics import gamma_pulse, gamma_pulse_integral
from gaitimpact.sim.rotation import rot_x, rot_y, rot_z
from gaitimpact.sim.schedule import RUN, WALK, Schedule

PULSE_K = 4.0
"""Gamma pulse shape exponent at the waist (assumption: transient of ~40 ms, peak ~25 ms after IC)."""
WALK_PULSE_K = 3.0
AP_IMPACT_SHARE = 0.15


class WaistModel:
    """Evaluate the waist specific force at any times; events are steps (both feet)."""

    placement = "waist"

    def __init__(self, sched: Schedule) -> None:
        self.sched = sched
        st = sched.steps
        self.event_ic_s = st.ic_s
        self.event_step = np.arange(len(st))
        self.has_impact = np.ones(len(st), dtype=bool)
        self.impact_dir = np.array([-AP_IMPACT_SHARE, 0.0, 1.0])

    def world(self, t: np.ndarray, B: np.ndarray, body: bool = True, gyro: bool = False,
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """World-frame and trunk-frame specific force in g, trunk angular rate in deg/s, at times t (s)."""
        st = self.sched.steps
        t = np.asarray(t, dtype=float)
        f = np.zeros((t.shape[0], 3))
        f[:, 2] = 1.0 + 0.005 * np.sin(2 * np.pi * 0.3 * t)
        roll = np.zeros_like(t)
        pitch = np.zeros_like(t)
        yaw = np.zeros_like(t)
        rates = np.zeros((t.shape[0], 3))  # d(roll, pitch, yaw)/dt in deg/s
        if len(st):
            idx = np.searchsorted(st.ic_s, t, side="right") - 1
            i = np.maximum(idx, 0)
            tau = t - st.ic_s[i]
            mv = np.flatnonzero((idx >= 0) & (tau < st.step_s[i]))
            i = i[mv]
            tau = tau[mv]
            T = st.step_s[i]
            side = np.where(st.foot[i] == 0, 1.0, -1.0)  # +1 left
            act = st.act[i]
            b = B[i]
            tp = st.pulse_tp_s[i]
            ph = np.clip(tau / T, 0.0, 1.0)
            fm = np.zeros((len(mv), 3))
            r = np.flatnonzero(act == RUN)
            if len(r):
                # running: stance (tau < tc) then flight (0 g)
                tr, tc, br, tpr = tau[r], st.contact_s[i[r]], b[r], tp[r]
                ip = gamma_pulse_integral(tpr, PULSE_K)
                p = gamma_pulse(tr, tpr, PULSE_K)
                x = np.clip(tr / tc, 0.0, 1.0)
                half = np.sin(np.pi * x)
                A = (T[r] - br * ip) * np.pi / (2.0 * tc)
                cap = 0.10 * st.speed_mps[i[r]]
                stance = tr < tc
                fm[r, 2] = np.where(stance, A * half + br * p, 0.0)
                fm[r, 0] = np.where(stance, -cap * np.sin(2 * np.pi * x)
                                    - AP_IMPACT_SHARE * br * (p - ip * np.pi / (2.0 * tc) * half), 0.0)
                fm[r, 1] = np.where(stance, -side[r] * 0.08 * half, 0.0)
            w = np.flatnonzero(act == WALK)
            if len(w):
                tw, bw, tpw, Tw, phw = tau[w], b[w], tp[w], T[w], ph[w]
                ipw = gamma_pulse_integral(tpw, WALK_PULSE_K)
                pw = gamma_pulse(tw, tpw, WALK_PULSE_K) - ipw / Tw
                fm[w, 2] = 1.0 + 0.25 * np.cos(2 * np.pi * (phw - 0.1)) + bw * pw
                fm[w, 0] = -0.15 * np.sin(2 * np.pi * phw) - AP_IMPACT_SHARE * bw * pw
                fm[w, 1] = -side[w] * 0.05 * np.sin(np.pi * phw)
            f[mv] = fm
            if body:
                lean = np.where(act == RUN, 6.0, 2.0)
                roll[mv] = side * 2.0 * np.sin(np.pi * ph)
                yaw[mv] = side * 4.0 * np.cos(np.pi * ph)
                pitch[mv] = lean + 1.5 * np.sin(2 * np.pi * ph)
                if gyro:
                    rates[mv, 0] = side * 2.0 * np.pi * np.cos(np.pi * ph) / T
                    rates[mv, 1] = 1.5 * 2 * np.pi * np.cos(2 * np.pi * ph) / T
                    rates[mv, 2] = -side * 4.0 * np.pi * np.sin(np.pi * ph) / T
        if not body:
            return f, None, None
        # trunk frame: R = Rz(yaw) Ry(pitch) Rx(roll) maps trunk to world; f_trunk = R^T f_world
        r, p, y = np.radians(roll), np.radians(pitch), np.radians(yaw)
        fb = rot_x(rot_y(rot_z(f, -y), -p), -r)
        wb = None
        if gyro:  # body angular rate from ZYX Euler rates
            dr, dp, dy = rates.T
            wb = np.stack([dr - np.sin(p) * dy,
                           np.cos(r) * dp + np.sin(r) * np.cos(p) * dy,
                           -np.sin(r) * dp + np.cos(r) * np.cos(p) * dy], axis=1)
        return f, fb, wb
