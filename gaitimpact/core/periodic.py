"""Choose, among candidate events, the sequence that fits the local gait period (dynamic programming).

Running strides (and, at the waist, steps) are nearly regular: healthy step-time asymmetry is a few %.
A detector that keeps the strongest event of each window can still jump between two features of a
stride (e.g. the late-swing peak and the landing), which shows as intervals of 0.8x / 1.2x the period.
`select_periodic` keeps the subsequence of candidates that maximises the sum of their strengths minus
a penalty on every interval's deviation from the local period (Viterbi over candidates). Nothing is
invented: only candidates can be chosen. A stride without a candidate costs MISS_COST (the interval
spans two periods); a break (gap, bout edge, change of pace the period did not follow) starts a new
chain for RESTART_COST.
"""

from __future__ import annotations

import numpy as np

DEV_WEIGHT = 8.0
"""Penalty per interval for a relative deviation of 1 from the local period (quadratic)."""
MISS_COST = 0.5
"""Extra penalty per period skipped inside one interval (a stride whose strike has no candidate)."""
RESTART_COST = 1.0
"""Penalty for starting a new chain (after a gap, at a bout edge)."""
MAX_PERIODS = 3
"""Longest interval (in periods) bridged within a chain; longer ones start a new chain."""
MIN_REL_INTERVAL = 0.5
"""Shortest interval (in periods) between two chosen candidates."""


def local_period_s(t_s: np.ndarray, half: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(mid-times s, local period s) from a first-pass event sequence: the median of the intervals
    within 0.6-1.6x the local median (of the +-half neighbouring intervals) among the +-half neighbouring
    intervals (local: any window of a longer sequence gives the same periods away from its ends)."""
    from gaitimpact.core.strikes import local_median  # local import: strikes imports this module

    d = np.diff(t_s)
    med = local_median(d, half=half)
    use = (d >= 0.6 * med) & (d <= 1.6 * med)
    return 0.5 * (t_s[1:] + t_s[:-1]), local_median(d, use, half)


def select_periodic(t_s: np.ndarray, strength: np.ndarray, period_s: np.ndarray) -> np.ndarray:
    """Indices (sorted) of the candidates at times t_s (s, sorted) whose chain best fits period_s (s,
    per candidate), each candidate scoring strength (about 1 for a typical strike, >= 0)."""
    m = t_s.shape[0]
    if m < 3:
        return np.arange(m)
    # predecessor pairs (j < i) within MAX_PERIODS + 0.5 periods, vectorised
    p_i = np.asarray(period_s, dtype=np.float64)
    lo = np.searchsorted(t_s, t_s - (MAX_PERIODS + 0.5) * p_i, side="left")
    hi = np.searchsorted(t_s, t_s - MIN_REL_INTERVAL * p_i, side="right")
    counts = np.maximum(hi - lo, 0)
    ii = np.repeat(np.arange(m), counts)
    jj = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    per = 0.5 * (p_i[ii] + p_i[jj])
    x = (t_s[ii] - t_s[jj]) / per
    n = np.maximum(np.rint(x), 1.0)
    cost = n * DEV_WEIGHT * (x / n - 1.0) ** 2 + (n - 1.0) * MISS_COST
    ok = (n > 1) | (x <= 1.5)
    ii, jj, cost = ii[ok], jj[ok], cost[ok]
    start = np.searchsorted(ii, np.arange(m + 1))
    # Viterbi over candidates: a loop over candidates (a few per stride) on plain floats
    jl, cl, st, r = jj.tolist(), cost.tolist(), start.tolist(), np.asarray(strength, dtype=float).tolist()
    f = [0.0] * m
    back = [-1] * m
    pref_v = [0.0] * (m + 1)  # best total of any chain ending before candidate k, and where
    pref_a = [-1] * (m + 1)
    hi_l = hi.tolist()
    for i in range(m):
        h = hi_l[i]
        bv, ba = r[i] - RESTART_COST + pref_v[h], pref_a[h]
        for q in range(st[i], st[i + 1]):
            v = f[jl[q]] + r[i] - cl[q]
            if v > bv:
                bv, ba = v, jl[q]
        f[i], back[i] = bv, ba
        if bv > pref_v[i]:
            pref_v[i + 1], pref_a[i + 1] = bv, i
        else:
            pref_v[i + 1], pref_a[i + 1] = pref_v[i], pref_a[i]
    out = []
    i = pref_a[m]
    while i >= 0:
        out.append(i)
        i = back[i]
    return np.array(out[::-1], dtype=np.int64)


def choose_per_step(t_s: np.ndarray, strength: np.ndarray, group: np.ndarray, expect_s: np.ndarray) -> np.ndarray:
    """One candidate per group (a first-pass strike and its alternatives), chosen so that the
    intervals fit the expected ones (Viterbi over groups); returns the chosen candidate indices.

    t_s (s), strength (~1 typical) and group (0..G-1, non-decreasing) per candidate; expect_s (G,)
    the expected interval (s) ending at each group. An interval off by more than 0.6x the expected
    one (a gap, a missed step) costs a constant (it prefers nothing). Nothing is added or dropped:
    only which candidate of each group is kept.
    """
    g_n = int(group[-1]) + 1 if group.size else 0
    first = np.searchsorted(group, np.arange(g_n + 1))
    if g_n == 0 or np.all(np.diff(first) == 1):
        return np.arange(t_s.shape[0])
    score = np.asarray(strength, dtype=np.float64).copy()
    size = np.diff(first)
    back = first[np.maximum(group - 1, 0)]  # a single candidate before: forced
    # a group of one fixes the choice, so only steps next to a group with alternatives need work
    busy = np.flatnonzero((size[1:] > 1) | (size[:-1] > 1)) + 1
    cap = DEV_WEIGHT * 0.36
    for g in busy.tolist():  # a loop over the strikes with alternatives; each a tiny (K x K) array
        a0, a1, b0, b1 = first[g - 1], first[g], first[g], first[g + 1]
        x = (t_s[b0:b1, None] - t_s[None, a0:a1]) / expect_s[g]
        total = score[None, a0:a1] - np.minimum(DEV_WEIGHT * (x - 1.0) ** 2, cap)
        k = np.argmax(total, axis=1)
        score[b0:b1] += total[np.arange(b1 - b0), k]
        back[b0:b1] = a0 + k
    out = np.empty(g_n, dtype=np.int64)
    out[-1] = first[g_n - 1] + int(np.argmax(score[first[g_n - 1]:]))
    for g in range(g_n - 1, 0, -1):
        out[g - 1] = back[out[g]]
    return out
