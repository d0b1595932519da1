"""Statistics for the reporter: runs (clusters) of strikes, weighted least squares and a cluster bootstrap.

Strikes within one run are not independent (same day, same mounting, same fatigue, same shoe), so a
confidence interval that treats every strike as independent is far too narrow. Everything here works on
*units*: contiguous blocks of strikes that share all covariates (session, bout, surface, speed). The
strike-level least-squares fit of ln(peak_g) equals a weighted fit of the units' mean ln(peak_g) with
weight = strikes in the unit, so the bootstrap only needs per-unit sums. The 95 % interval comes from a
stratified cluster bootstrap (Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007): whole resampling
groups (runs or sessions) are drawn with replacement within each stratum (e.g. surface), with the
Rao-Wu rescaling for few clusters, and the model is refitted on every replicate, so the uncertainty
of the fitted speed slope is carried into the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gaitimpact.recording import steps_per_strike

SPEED_SLOPE_LIT_PER_MPS = float(np.log(1.38))
"""Fallback speed slope of ln(peak) in 1/(m/s): resultant peak tibial acceleration rose on average
3.8 g (38 %) from 2.7 to 3.7 m/s in 85 runners (Sheerin, Besier & Reid 2020, Sports Biomech
19(6):750-760, doi:10.1080/14763141.2018.1546890); ln(1.38) per 1.0 m/s. Runners differ, which is why
the runner's own slope is preferred whenever their data can identify it."""

CADENCE_SLOPE_LIT_PER_SPM = SPEED_SLOPE_LIT_PER_MPS / 8.0
"""Fallback cadence slope of ln(peak) in 1/(steps/min): the speed slope divided by the typical rise of
cadence with speed (~8 steps/min per m/s in recreational runners). Subject-specific speed and step
frequency corrections of peak tibial acceleration: Zandbergen et al. 2023, Front Sports Act Living
5:1085513."""

MIN_SPEED_SPREAD_MPS = 0.15
"""The speed slope is fitted from the runner's own data only if speed varies by at least this much
(weighted SD, m/s) *within* the compared groups; else the literature slope is used."""

MIN_CADENCE_SPREAD_SPM = 3.0
"""Same rule for the cadence slope, in steps/min."""

BLOCK_S = 30.0
"""Block length (s) used to resample within a run when a stratum has fewer than `MIN_RUNS` runs."""

MIN_BLOCK_S = 5.0
"""Shortest block (s) when a short run is cut into 4 blocks."""

MIN_RUNS = 3
"""Runs needed in a stratum for a between-run (cluster) bootstrap; fewer falls back to 30-s blocks."""


def valid_strikes(strikes: pd.DataFrame) -> pd.DataFrame:
    """Strikes usable for impact statistics: finite positive peak_g, not clipped, not next to a gap."""
    ok = np.isfinite(strikes["peak_g"].to_numpy(float)) & (strikes["peak_g"].to_numpy(float) > 0)
    ok &= ~strikes["clipped"].astype(bool).to_numpy() & ~strikes["near_gap"].astype(bool).to_numpy()
    return strikes[ok]


def label_runs(strikes: pd.DataFrame, keys: tuple[str, ...] = ("surface", "speed_mps", "shoe")) -> np.ndarray:
    """Run id per strike: a new run starts with a new session or bout or when any of `keys` changes."""
    df = strikes.reset_index(drop=True)
    change = np.zeros(len(df), dtype=bool)
    if len(df):
        change[0] = True
    for col in ("session", "bout", *keys):
        if col not in df:
            continue
        v = pd.factorize(df[col], use_na_sentinel=False)[0]  # NaN/None is one value, not a change
        change[1:] |= v[1:] != v[:-1]
    return np.cumsum(change) - 1


def run_table(strikes: pd.DataFrame) -> pd.DataFrame:
    """Per run: session, surface, speed_mps, shoe, shoe_km, placement, n, running_s, cadence_spm, ln peak.

    running_s = time from the run's first to last strike plus one median strike interval; cadence_spm
    counts both feet (a one-foot sensor's strikes count twice).
    """
    df = strikes.sort_values(["session", "time_s"], kind="stable").reset_index(drop=True)
    df["run"] = label_runs(df)
    df["ln_peak"] = np.log(df["peak_g"].to_numpy(float))
    g = df.groupby("run", sort=True)
    t0 = g["time_s"].min()
    t1 = g["time_s"].max()
    n = g.size()
    med_dt = g["time_s"].agg(lambda t: float(np.median(np.diff(t.to_numpy()))) if len(t) > 1 else np.nan)
    running_s = (t1 - t0 + med_dt.fillna(0.0)).clip(lower=1e-9)
    first = g.first()
    per = first["placement"].map(steps_per_strike) if "placement" in first else 1
    out = pd.DataFrame(
        {
            "session": first["session"],
            "bout": first["bout"] if "bout" in first else 0,
            "surface": first["surface"].fillna("").astype(str),
            "speed_mps": pd.to_numeric(first["speed_mps"], errors="coerce"),
            "shoe": first["shoe"] if "shoe" in first else None,
            "shoe_km": pd.to_numeric(first["shoe_km"], errors="coerce") if "shoe_km" in first else np.nan,
            "placement": first["placement"] if "placement" in first else "auto",
            "start_s": t0,
            "end_s": t1,
            "strikes": n,
            "running_s": running_s,
            "cadence_spm": (n * per * 60.0 / running_s).where(n > 1),
            "ln_peak_mean": g["ln_peak"].mean(),
        }
    )
    return out.reset_index(drop=True)


def block_units(strikes: pd.DataFrame, block_s: float = BLOCK_S) -> np.ndarray:
    """Block id per strike: runs cut into consecutive pieces of `block_s` s (for within-run resampling).

    A run shorter than 4 blocks is cut into 4 pieces (each at least `MIN_BLOCK_S` s) so that a group with
    a single short run still has several units to resample.
    """
    df = strikes.reset_index(drop=True)
    run = label_runs(df)
    t = pd.Series(df["time_s"].to_numpy(float))
    start = t.groupby(run).transform("min").to_numpy()
    span = (t.groupby(run).transform("max") - start).to_numpy()
    length = np.clip(span / 4.0, MIN_BLOCK_S, block_s)
    piece = np.floor((t.to_numpy() - start) / length).astype(np.int64)
    key = pd.Series(run).astype(str) + ":" + pd.Series(piece).astype(str)
    return pd.factorize(key)[0]


def wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares: coefficients minimising sum w (y - x b)^2 (pseudo-inverse if singular)."""
    xtw = x.T * w
    return np.linalg.pinv(xtw @ x) @ (xtw @ y)


@dataclass
class BootstrapResult:
    """Point estimate (p,), bootstrap replicates (R, p; NaN rows for singular replicates) and their count."""

    coef: np.ndarray
    replicates: np.ndarray
    dropped: int = 0


def cluster_bootstrap(
    x: np.ndarray,
    y_mean: np.ndarray,
    n: np.ndarray,
    group: np.ndarray,
    stratum: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> BootstrapResult:
    """Stratified cluster bootstrap of a weighted least-squares fit on unit means.

    x: (U, p) design row per unit; y_mean: (U,) mean response per unit; n: (U,) strikes per unit.
    group: (U,) resampling group per unit (all units of a group move together); stratum: (U,) stratum of
    each unit (constant within a group): k_h - 1 of the stratum's k_h groups are drawn with replacement
    and their weights scaled by k_h / (k_h - 1) (Rao & Wu 1988 rescaling bootstrap, JASA 83:231-241),
    which removes the naive bootstrap's (k-1)/k variance shrinkage when a stratum has few clusters.
    Returns the full-data fit and `n_boot` refits (vectorised over replicates).
    """
    x = np.asarray(x, float)
    y_mean = np.asarray(y_mean, float)
    n = np.asarray(n, float)
    g_codes, g_idx = np.unique(np.asarray(group), return_inverse=True)
    g_stratum = pd.Series(np.asarray(stratum)).groupby(g_idx).first().to_numpy()
    rng = np.random.default_rng(seed)
    mult = np.zeros((n_boot, g_codes.size))
    for s in pd.unique(g_stratum):
        members = np.flatnonzero(g_stratum == s)
        k = members.size
        m = max(k - 1, 1)
        draws = rng.integers(0, k, size=(n_boot, m))
        counts = np.zeros((n_boot, k))
        np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
        mult[:, members] = counts * (k / m)
    # Per-group sufficient statistics, so a replicate is a weighted sum over groups (one matrix product).
    p = x.shape[1]
    g_xtx = np.zeros((g_codes.size, p * p))
    np.add.at(g_xtx, g_idx, (n[:, None, None] * x[:, :, None] * x[:, None, :]).reshape(-1, p * p))
    g_xty = np.zeros((g_codes.size, p))
    np.add.at(g_xty, g_idx, (n * y_mean)[:, None] * x)
    xtwx = (mult @ g_xtx).reshape(n_boot, p, p)
    xtwy = mult @ g_xty
    reps = np.einsum("rij,rj->ri", np.linalg.pinv(xtwx), xtwy)
    singular = np.linalg.matrix_rank(xtwx) < x.shape[1]
    reps[singular] = np.nan
    return BootstrapResult(wls(x, y_mean, n), reps, int(singular.sum()))


def full_rank(x: np.ndarray) -> bool:
    """True when the design matrix's columns are linearly independent (every coefficient identifiable)."""
    return bool(np.linalg.matrix_rank(np.asarray(x, float)) == np.asarray(x).shape[1])


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap samples."""
    lo, hi = np.nanpercentile(samples, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def within_group_spread(values: np.ndarray, groups: np.ndarray, weights: np.ndarray) -> float:
    """Weighted SD of `values` around their group means: how much a covariate varies inside groups."""
    v = pd.Series(np.asarray(values, float))
    w = pd.Series(np.asarray(weights, float))
    gm = (v * w).groupby(groups).transform("sum") / w.groupby(groups).transform("sum")
    var = float(((v - gm) ** 2 * w).sum() / w.sum()) if float(w.sum()) > 0 else 0.0
    return float(np.sqrt(var))


@dataclass
class OlsResult:
    """Ordinary least squares: coefficients, their covariance and the residual degrees of freedom."""

    coef: np.ndarray
    cov: np.ndarray
    df: int

    def ci(self, index: int, level: float = 0.95) -> tuple[float, float] | None:
        """t-based interval of one coefficient (None without residual degrees of freedom)."""
        from scipy.stats import t as student_t

        if self.df <= 0:
            return None
        half = float(student_t.ppf(0.5 + level / 2, self.df)) * float(np.sqrt(self.cov[index, index]))
        return float(self.coef[index] - half), float(self.coef[index] + half)


def ols_t(x: np.ndarray, y: np.ndarray) -> OlsResult:
    """OLS of unit means on a design (each unit one observation); covariance from the residual scatter.

    Used on per-run means (summary-measures approach, Matthews et al. 1990, BMJ 300:230-235): the
    scatter of run means around the fit already contains day-to-day (between-run) variation, so the
    strikes within a run are never counted as independent observations.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    xtx_inv = np.linalg.pinv(x.T @ x)
    coef = xtx_inv @ (x.T @ y)
    rank = int(np.linalg.matrix_rank(x))
    df = int(x.shape[0] - rank)
    resid = y - x @ coef
    s2 = float(resid @ resid / df) if df > 0 else float("nan")
    return OlsResult(coef, xtx_inv * s2, df)
