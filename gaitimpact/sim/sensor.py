"""Sensor effects applied to the clean body-frame signal: mounting, bias, noise, quantisation,
clipping, timestamp jitter and BLE-style gaps.

Timing model: the sensor samples at the TRUE instants k / fs_hz (its own regular clock); the
reported timestamps carry the jitter (like BLE arrival stamps): time_s = k / fs + e_k, e_k ~ N(0,
jitter_s) truncated to +-0.45 / fs so timestamps stay strictly increasing, e_0 = 0 (time_s[0] == 0).
Gaps remove whole stretches of samples (never filled); the gap runs from the last kept sample before
it to the first kept after it (reported timestamps).
"""

from __future__ import annotations

import numpy as np

from gaitimpact.recording import Gap
from gaitimpact.sim.rotation import apply_matrix, axis_angle_matrix, random_rotation

GAP_MEDIAN_S = 0.15
"""Median random gap length in s (lognormal, sigma 0.8, clipped to 0.02-3 s): BLE packet losses of a
few connection intervals up to short reconnects."""


def mounting_matrix(rng: np.random.Generator, mount_error_deg: float, random_orientation: bool) -> np.ndarray:
    """Rotation (3x3) from the body frame to the sensor frame: optional random pose, then the error."""
    base = random_rotation(rng) if random_orientation else np.eye(3)
    axis = rng.standard_normal(3)
    err = axis_angle_matrix(axis, np.radians(mount_error_deg)) if mount_error_deg > 0 else np.eye(3)
    return err @ base


def plan_gaps(gaps: int | list, end_s: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Gap stretches [(start_s, end_s)] in s (true clock) from a count or a (start_s, duration_s) list."""
    if isinstance(gaps, (int, np.integer)):
        out = []
        lo, hi = min(1.0, end_s * 0.1), max(end_s - 2.0, end_s * 0.9)
        for _ in range(int(gaps)):
            d = float(np.clip(GAP_MEDIAN_S * np.exp(0.8 * rng.standard_normal()), 0.02, 3.0))
            s = float(rng.uniform(lo, max(lo, hi - d)))
            out.append((s, s + d))
    else:
        out = [(float(s), float(s) + float(d)) for s, d in gaps]
    out.sort()
    merged: list[tuple[float, float]] = []
    for s, e in out:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def apply_sensor(acc_body_g: np.ndarray, fs_hz: float, *, mount: np.ndarray, bias_g: np.ndarray,
                 noise_g: float, range_g: float | None, quant_bits: int | None, jitter_s: float,
                 gap_plan: list[tuple[float, float]], rng: np.random.Generator,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Gap]]:
    """Return (time_s, acc_g, kept_index, gaps) as the sensor would report them."""
    n = acc_body_g.shape[0]
    acc = apply_matrix(acc_body_g, mount) + bias_g
    if noise_g > 0:
        acc += noise_g * rng.standard_normal(acc.shape)
    if quant_bits is not None and range_g is not None:
        lsb = 2.0 * range_g / 2 ** int(quant_bits)
        acc = np.round(acc / lsb) * lsb
    if range_g is not None:
        np.clip(acc, -range_g, range_g, out=acc)
    t_true = np.arange(n) / fs_hz
    time_s = t_true.copy()
    if jitter_s > 0:
        e = np.clip(jitter_s * rng.standard_normal(n), -0.45 / fs_hz, 0.45 / fs_hz)
        e[0] = 0.0
        time_s += e
    keep = np.ones(n, dtype=bool)
    for s, e in gap_plan:
        keep[(t_true >= s) & (t_true < e)] = False
    keep[0] = True
    kept = np.flatnonzero(keep)
    gaps: list[Gap] = []
    if len(kept) < n:
        jumps = np.flatnonzero(np.diff(kept) > 1)
        for j in jumps:
            gaps.append(Gap(float(time_s[kept[j]]), float(time_s[kept[j + 1]]), "ble_dropout"))
    return time_s[kept], acc[kept], kept, gaps
