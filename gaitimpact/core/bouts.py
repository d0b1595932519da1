"""Running bouts vs standing/walking, from block statistics of the resultant (decimated, vectorised).

The recording is cut into blocks of BLOCK_S seconds (by sample count). Per block:
- the maximum of the raw resultant |a| (all samples, so narrow impacts count), its standard
  deviation and mean from a ~DECIM_HZ decimated copy (block means of |a|);
- the normalised autocorrelation of the decimated |a| over a WINDOW_S window centred on the block
  (FFT, all blocks at once), from which the gait period follows: the step period at the waist (the
  sensor feels both feet), the stride period at the shoe/shank (one foot).
A block is running when it moves (std above MIN_STD_G), is periodic (autocorrelation peak above
MIN_PERIODICITY) and its cadence is a running cadence (>= RUN_MIN_CADENCE_SPM; walking is
~100-130 steps/min, running ~150-200). Isolated blocks are smoothed away, bouts shorter than
MIN_BOUT_S are dropped, and bouts separated by less than MERGE_S are joined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.fft import next_fast_len
from scipy.ndimage import median_filter

from gaitimpact.core.filters import autocorrelation_rows, block_view
from gaitimpact.core.result import Bout

BLOCK_S = 1.0
"""Block length in s for the activity decision."""
DECIM_HZ = 50.0
"""Rate (Hz) of the decimated resultant used for periodicity."""
WINDOW_S = 4.0
"""Autocorrelation window (s) centred on each block."""
MAX_LAG_S = 1.6
"""Longest lag (s) of the autocorrelation kept per block."""
ACF_ROWS = 256
"""Blocks whose autocorrelations are computed together (bounds the temporaries, not the result)."""
MIN_STD_G = 0.12
"""A block whose resultant std is below this (g) is standing still."""
MIN_PERIODICITY = 0.25
"""Minimum normalised autocorrelation at the gait period for a block to count as gait."""
RUN_MIN_CADENCE_SPM = 142.0
"""Blocks with a gait cadence (both feet) at or above this (steps/min) are running."""
MIN_BOUT_S = 2.0
"""Running bouts shorter than this (s) are dropped (a 3-s lab capture of about 4 strides must count)."""
MERGE_S = 2.0
"""Running bouts separated by less than this (s) are merged."""
STRIDE_LAGS_S = (0.44, 1.5)
"""Lag range (s) searched for the stride period at the shoe/shank."""
HARMONIC_REL = 0.7
"""The shortest autocorrelation peak reaching this fraction of the best one is the period."""


@dataclass
class BlockStats:
    """Per-block statistics of the resultant (arrays of length n_blocks); times in s.

    acf: (n_blocks, n_lags) normalised autocorrelation of the decimated |a|, lag k at k / fs_dec s.
    """

    start_s: np.ndarray
    end_s: np.ndarray
    std_g: np.ndarray
    max_g: np.ndarray
    mean_g: np.ndarray
    acf: np.ndarray
    fs_dec: float
    block: int
    decim: int
    cache: dict = field(default_factory=dict, repr=False, compare=False)
    """Per-block figures derived from acf, computed once (placement check and bouts both use them)."""


def decimate_mean(x: np.ndarray, factor: int) -> np.ndarray:
    """Block means of x over `factor` consecutive samples (a crude low-pass + decimation)."""
    if factor <= 1:
        return np.asarray(x, dtype=np.float64)
    if factor <= 4:  # a few strided adds in order: the same bits as the mean over the block axis, faster
        v = block_view(np.asarray(x, dtype=np.float64), factor)
        total = v[:, 0] + v[:, 1]
        for k in range(2, factor):
            total += v[:, k]
        return total / factor
    return block_view(x, factor).mean(axis=1)


def block_samples(fs_hz: float, block_s: float = BLOCK_S) -> tuple[int, int]:
    """(samples per activity block, decimation factor) at fs_hz: blocks are whole decimation steps."""
    decim = max(1, int(round(fs_hz / DECIM_HZ)))
    per_block = max(1, int(round(block_s * fs_hz / decim)))
    return per_block * decim, decim


def block_stats(time_s: np.ndarray, res_g: np.ndarray, fs_hz: float, block_s: float = BLOCK_S) -> BlockStats:
    """Block statistics of the resultant |a| (g): std, max, mean, autocorrelation; block times (s)."""
    n = res_g.shape[0]
    block, decim = block_samples(fs_hz, block_s)
    per_block = block // decim
    nb = n // block
    rd = decimate_mean(res_g[: nb * block], decim) if decim > 1 else res_g[: nb * block]
    fs_dec = fs_hz / decim
    full_max = block_view(res_g[: nb * block], block).max(axis=1) if nb else np.zeros(0)
    sub = rd[: nb * per_block].reshape(nb, per_block) if nb else np.zeros((0, 1))
    starts = np.arange(nb) * block
    stops = np.minimum(starts + block, n) - 1
    acf = _block_acf(rd, nb, per_block, fs_dec)
    return BlockStats(
        start_s=time_s[starts] if nb else np.zeros(0),
        end_s=time_s[stops] if nb else np.zeros(0),
        std_g=sub.std(axis=1),
        max_g=full_max,
        mean_g=sub.mean(axis=1),
        acf=acf,
        fs_dec=fs_dec,
        block=block,
        decim=decim,
    )


def _block_acf(rd: np.ndarray, nb: int, per_block: int, fs_dec: float) -> np.ndarray:
    """Normalised autocorrelation (nb, n_lags) of WINDOW_S windows of rd centred on each block."""
    n_lags = int(MAX_LAG_S * fs_dec) + 2
    if nb == 0:
        return np.zeros((0, n_lags))
    win = max(int(WINDOW_S * fs_dec), n_lags + 1)
    pad_l = (win - per_block) // 2
    pad_r = win - per_block - pad_l
    padded = np.pad(rd[: nb * per_block], (max(pad_l, 0), max(pad_r, 0)), mode="reflect")
    view = np.lib.stride_tricks.sliding_window_view(padded, win)[::per_block][:nb]
    # zero-padding to win + n_lags makes the circular correlation linear for every kept lag
    nfft = next_fast_len(win + n_lags, real=True)
    ac = np.empty((nb, n_lags))
    y = np.zeros((min(ACF_ROWS, nb), nfft))
    # unbiased-ish: divide by overlap length so longer lags are not penalised
    overlap = (win - np.arange(n_lags))[None, :]
    # rows in batches of ACF_ROWS (a row's values do not depend on its batch): the temporaries stay small
    for r0 in range(0, nb, ACF_ROWS):
        rows = view[r0:r0 + ACF_ROWS]
        k = rows.shape[0]
        np.subtract(rows, rows.mean(axis=1, keepdims=True), out=y[:k, :win])
        ac[r0:r0 + k] = autocorrelation_rows(y[:k], nfft, n_lags) / overlap * win
    zero = ac[:, :1].copy()
    ac /= np.where(zero > 1e-12, zero, 1.0)  # in place: the lag-0 normalisation
    ac[zero[:, 0] <= 1e-12] = 0.0
    return ac


def gait_period_s(stats: BlockStats, lags_s: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per block: gait period (s) in the lag range and its autocorrelation (periodicity, <= 1).

    Takes the shortest lag whose autocorrelation peak reaches HARMONIC_REL of the range's best, so a
    period is not mistaken for its double (on short real windows the double's peak is often the highest).
    """
    key = ("period", lags_s)
    if key not in stats.cache:
        stats.cache[key] = _gait_period_s(stats, lags_s)
    return stats.cache[key]


def _gait_period_s(stats: BlockStats, lags_s: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """`gait_period_s` computed (not cached)."""
    acf = stats.acf
    lo = max(1, int(lags_s[0] * stats.fs_dec))
    hi = min(acf.shape[1] - 1, int(lags_s[1] * stats.fs_dec) + 1)
    if acf.shape[0] == 0 or hi <= lo + 2:
        return np.full(acf.shape[0], np.nan), np.zeros(acf.shape[0])
    seg = acf[:, lo - 1:hi + 1]
    mid = seg[:, 1:-1]
    is_peak = (mid >= seg[:, :-2]) & (mid >= seg[:, 2:]) & (mid > 0)
    best = np.max(np.where(is_peak, mid, -np.inf), axis=1)
    good = is_peak & (mid >= HARMONIC_REL * best[:, None])
    has = good.any(axis=1)
    k = np.argmax(good, axis=1)
    rows = np.arange(acf.shape[0])
    val = np.where(has, mid[rows, k], 0.0)
    # parabolic refinement of the lag
    y0, y1, y2 = seg[rows, k], seg[rows, k + 1], seg[rows, k + 2]
    den = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(den < 0, 0.5 * (y0 - y2) / den, 0.0)
    period = (lo + k + np.clip(frac, -0.5, 0.5)) / stats.fs_dec
    return np.where(has, period, np.nan), val


def harmonic_powers(stats: BlockStats, period_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block: power of |a| at 1 / period_s and at 2 / period_s (Hz), from the block's autocorrelation
    (Blackman-Tukey: Hann lag window over the MAX_LAG_S lags kept); NaN where the period is NaN."""
    acf = stats.acf
    if acf.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    lags = np.arange(acf.shape[1]) / stats.fs_dec
    w = 0.5 * (1.0 + np.cos(np.pi * lags / lags[-1]))
    w[1:] *= 2.0  # both signs of the lag
    f = 1.0 / np.where(np.isfinite(period_s), period_s, 1.0)
    weighted = acf * w[None, :]
    # cos(k x) for every lag k from cos x alone (Chebyshev: cos kx = 2 cos x cos (k-1)x - cos (k-2)x)
    c = np.empty(acf.shape)
    c[:, 0] = 1.0
    if acf.shape[1] > 1:
        c[:, 1] = np.cos(2 * np.pi * f / stats.fs_dec)
        two_cos = 2.0 * c[:, 1]
        for k in range(2, acf.shape[1]):
            np.multiply(two_cos, c[:, k - 1], out=c[:, k])
            c[:, k] -= c[:, k - 2]
    p1 = np.einsum("ij,ij->i", weighted, c)
    np.multiply(c, c, out=c)  # cos 2x = 2 cos^2 x - 1: the second harmonic without a second cos
    c *= 2.0
    c -= 1.0
    p2 = np.einsum("ij,ij->i", weighted, c)
    finite = np.isfinite(period_s)
    return np.where(finite, p1, np.nan), np.where(finite, p2, np.nan)


def stride_harmonic_ratio(stats: BlockStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block: stride period (s), its periodicity, and the power of |a| at the stride frequency
    relative to twice it. A waist sensor rides on the body, which bounces once per STEP: its power
    sits at twice the stride frequency (ratio << 1) even on one side of the hip, where the two legs'
    impacts differ. A shoe/shank sensor moves once per stride (ratio ~0.5-1.5 on real runners)."""
    if "stride_ratio" in stats.cache:
        return stats.cache["stride_ratio"]
    period, val = gait_period_s(stats, STRIDE_LAGS_S)
    p1, p2 = harmonic_powers(stats, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(p1, 0.0) / np.maximum(p2, 1e-12)
    stats.cache["stride_ratio"] = (period, val, ratio)
    return period, val, ratio


def block_cadence_spm(stats: BlockStats, placement: str) -> tuple[np.ndarray, np.ndarray]:
    """Per block: gait cadence in steps/min (both feet) and its periodicity (autocorrelation).

    At the waist the period found in the stride lag range is a stride when the body's bounce (power
    at twice its frequency) dominates, else it is a step (e.g. walking, whose step is that long).
    """
    if placement == "waist":
        period, val, ratio = stride_harmonic_ratio(stats)
        step = np.where(ratio < 1.0, period / 2.0, period)
        return 60.0 / step, val
    period, val = gait_period_s(stats, STRIDE_LAGS_S)
    return 120.0 / period, val


def running_blocks(stats: BlockStats, placement: str) -> np.ndarray:
    """Boolean per block: moving, periodic and at a running cadence (see module docstring)."""
    cad, val = block_cadence_spm(stats, placement)
    run = (stats.std_g >= MIN_STD_G) & (val >= MIN_PERIODICITY) & (np.nan_to_num(cad) >= RUN_MIN_CADENCE_SPM)
    if run.shape[0] >= 3:
        run = median_filter(run.astype(np.uint8), size=3, mode="nearest").astype(bool)
    return run


def bouts_from_blocks(stats: BlockStats, run: np.ndarray, min_bout_s: float = MIN_BOUT_S,
                      merge_s: float = MERGE_S) -> list[Bout]:
    """Running bouts (s) from per-block flags: merged when closer than merge_s, dropped when short."""
    if run.shape[0] == 0 or not run.any():
        return []
    edges = np.diff(np.concatenate(([0], run.astype(np.int8), [0])))
    first = np.flatnonzero(edges == 1)
    last = np.flatnonzero(edges == -1) - 1
    spans = [[float(stats.start_s[a]), float(stats.end_s[b])] for a, b in zip(first, last)]
    merged: list[list[float]] = []
    for s in spans:
        if merged and s[0] - merged[-1][1] < merge_s:
            merged[-1][1] = s[1]
        else:
            merged.append(s)
    return [Bout(a, b, "running") for a, b in merged if b - a >= min_bout_s]

