"""Automatic placement (waist vs shoe vs shank) from the signal alone, orientation-free.

1. Waist vs foot (stride harmonic ratio): a waist sensor rides on the trunk, which bounces once per
   step, so the power of |a| at the stride frequency is small against the power at twice it (the step
   frequency), even at the side of the hip where the two legs' impacts differ in size; a shoe/shank
   sensor moves once per stride, so the stride frequency carries as much power as its double or more.
   Median over the vigorous (running-like), periodic blocks.
2. Shoe vs shank (impact timing): the impact transient at the shoe peaks 5-10 ms after initial
   contact, at the tibia 10-20 ms (heel pad, ankle and soft tissue low-pass it). The median time
   centroid of the transient (first CENTROID_WINDOW_S after IC) of up to MAX_BLOCKS s of running
   strikes decides (threshold SHOE_MAX_CENTROID_S).
   Resultant only, so the mounting does not matter.
"""

from __future__ import annotations

import numpy as np

from gaitimpact.core.bouts import BlockStats, running_blocks, stride_harmonic_ratio
from gaitimpact.core.filters import contiguous_segments
from gaitimpact.core.strikes import detect_foot

ACTIVE_STD_G = 0.12
"""Blocks with a resultant std above this (g) are moving and used for the decision."""
VIGOROUS_STD_G = 0.4
"""Blocks with a resultant std above this (g) are running-like; the placement is decided on them when
there are at least 3 (a walking waist's step is as long as a running foot's stride)."""
WAIST_MAX_HARMONIC_RATIO = 0.2
"""Power at the stride frequency below this fraction of the power at twice it means a waist sensor
(real recordings: hip belt and sacrum 0.001-0.022, ankle and shank 0.35-1.27; simulated feet 0.33-3.9)."""
SHOE_MAX_CENTROID_S = 0.010
"""A median impact centroid below this (s after IC) means a shoe sensor (shoe transients peak 5-10 ms
after contact, tibial ones 10-20 ms: the heel pad and ankle soften them)."""
LOW_RATE_HZ = 150.0
"""Below this rate (Hz) the impact timing cannot separate shoe from shank reliably (said so)."""
CENTROID_WINDOW_S = 0.025
"""Window after IC (s) over which the impact centroid is taken."""
MAX_BLOCKS = 60
"""At most this many blocks (s) of running are used for the impact-centroid feature."""


def stride_ratio(stats: BlockStats) -> tuple[float, np.ndarray]:
    """Median over moving, periodic (vigorous if possible) blocks of the stride harmonic ratio; the blocks used."""
    _period, val, ratio = stride_harmonic_ratio(stats)
    use = (stats.std_g >= ACTIVE_STD_G) & (val >= 0.25) & np.isfinite(ratio)
    vigorous = use & (stats.std_g >= VIGOROUS_STD_G)
    if np.count_nonzero(vigorous) >= 3:
        use = vigorous
    if not use.any():
        return float("nan"), use
    return float(np.median(ratio[use])), use


def impact_centroid_s(time_s: np.ndarray, res_g: np.ndarray, fs_hz: float, stats: BlockStats,
                      blocks: np.ndarray) -> float:
    """Median time centroid (s after IC) of the impact transient over the longest stretch of blocks.

    Centroid of the excess of |a| over its value at IC within CENTROID_WINDOW_S after IC; being an
    integral it depends little on the sampling rate (a peak time would).
    """
    if blocks.size == 0:
        return float("nan")
    runs = np.split(blocks, np.flatnonzero(np.diff(blocks) != 1) + 1)
    best = max(runs, key=len)[:MAX_BLOCKS]
    i0, i1 = int(best[0]) * stats.block, min((int(best[-1]) + 1) * stats.block, res_g.shape[0])
    t, r = time_s[i0:i1], res_g[i0:i1]
    starts, stops, _ = contiguous_segments(t, fs_hz)
    ic = detect_foot(t, r, fs_hz, starts, stops, "shoe", toe_off=False).ic_time_s
    if ic.shape[0] < 5:
        return float("nan")
    length = max(2, int(np.ceil(CENTROID_WINDOW_S * fs_hz)) + 2)
    j0 = np.searchsorted(t, ic)
    idx = np.minimum(j0[:, None] + np.arange(length)[None, :], t.shape[0] - 1)
    dt = t[idx] - ic[:, None]
    excess = np.maximum(r[idx] - np.interp(ic, t, r)[:, None], 0.0)
    excess[(dt > CENTROID_WINDOW_S) | (dt < 0)] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        cent = (dt * excess).sum(axis=1) / excess.sum(axis=1)
    cent = cent[np.isfinite(cent)]
    return float(np.median(cent)) if cent.size >= 5 else float("nan")


def decide_placement(time_s: np.ndarray, acc_g: np.ndarray, res_g: np.ndarray, fs_hz: float,
                     stats: BlockStats, foot_kind: bool = True) -> tuple[str, str]:
    """("waist"|"shoe"|"shank", reason) decided from the signal's features; foot_kind False stops at
    waist vs one foot ("foot", reason: shoe vs shank is not looked at)."""
    sym, _ = stride_ratio(stats)
    if not np.isfinite(sym):
        return "waist", "no steady gait found; defaulting to waist"
    if sym < WAIST_MAX_HARMONIC_RATIO:
        return "waist", (f"stride/step power {sym:.2f} < {WAIST_MAX_HARMONIC_RATIO}: the body's bounce "
                         "at every step dominates")
    if not foot_kind:
        return "foot", f"stride/step power {sym:.2f}: one foot"
    run = np.flatnonzero(running_blocks(stats, "shoe"))
    if run.size == 0:
        run = np.flatnonzero(stats.std_g >= ACTIVE_STD_G)
    cent = impact_centroid_s(time_s, res_g, fs_hz, stats, run)
    caveat = "" if fs_hz >= LOW_RATE_HZ else f"; at {fs_hz:.0f} Hz shoe vs shank is unreliable, declare it"
    if not np.isfinite(cent):
        return "shoe", f"stride/step power {sym:.2f}: one foot; too few impacts to tell shoe from shank"
    if cent < SHOE_MAX_CENTROID_S:
        return "shoe", (f"stride/step power {sym:.2f}: one foot; impact centred {cent * 1e3:.1f} ms after contact "
                        f"(< {SHOE_MAX_CENTROID_S * 1e3:.0f} ms: sharp shoe transient){caveat}")
    return "shank", (f"stride/step power {sym:.2f}: one foot; impact centred {cent * 1e3:.1f} ms after contact "
                     f"(>= {SHOE_MAX_CENTROID_S * 1e3:.0f} ms: transient softened by heel pad and ankle){caveat}")
