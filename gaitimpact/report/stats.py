"""Statistics for the reporter: runs of strikes, and a Monte Carlo fit that carries every uncertainty.

Strikes within one run are not independent (same day, same mounting, same fatigue, same shoe), and a
runner's impact varies from day to day by several percent. So the model is fitted to *run* means of
ln(peak_g) (summary measures, Matthews et al. 1990, BMJ 300:230-235): the scatter of run means around
the fit contains the day-to-day variation. `monte_carlo_fit` draws, in each of R replicates,
  - every fallback slope uniformly from its literature range (`report.priors`),
  - the day-to-day variance from its posterior: the runner's own residual scatter (degrees of freedom
    counted in sessions) pooled with the literature's figure (`priors.DAY_SD`, worth `priors.DAY_DF`
    degrees of freedom), a scaled inverse chi-square,
  - the coefficients from their normal sampling distribution given both,
so a percentile interval over the replicates includes all three (Gelman et al., Bayesian Data Analysis,
3rd ed., sec. 14.2: the flat-prior posterior of a normal linear model). Rank-deficient designs are
allowed: only contrasts in the row space of the design (`estimable`) are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gaitimpact.recording import steps_per_strike

MIN_SPEED_SPREAD_MPS = 0.15
"""The speed slope is fitted from the runner's own data only if speed varies by at least this much
(weighted SD, m/s) *within* the compared groups; else the literature slope is used."""

MIN_CADENCE_SPREAD_SPM = 3.0
"""Same rule for the cadence slope, in steps/min."""

MIN_RUN_STRIKES = 10
"""Runs with fewer strikes are left out of the per-run fit, where every run weighs the same (e.g. one
strike a few ms before a segment boundary that carries the previous walking segment's speed)."""


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
    """Per run: session, surface, speed_mps, shoe, shoe_km, placement, n, running_s, cadence_spm, ln peak (mean, var).

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
            "ln_peak_var_of_mean": (g["ln_peak"].var() / n).fillna(0.0),
        }
    )
    return out.reset_index(drop=True)


def full_rank(x: np.ndarray) -> bool:
    """True when the design matrix's columns are linearly independent (every coefficient identifiable)."""
    return bool(np.linalg.matrix_rank(np.asarray(x, float)) == np.asarray(x).shape[1])


def simultaneous_level(m: int, family: float = 0.95) -> float:
    """Per-interval level so that m intervals hold together with probability >= family (Bonferroni)."""
    return 1.0 - (1.0 - family) / max(int(m), 1)


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
class FixedSlope:
    """A covariate adjusted for with a slope drawn from a range (not fitted): x per run, [lo, hi] in ln/unit."""

    x: np.ndarray
    lo: float
    hi: float


@dataclass
class McFit:
    """Point coefficients (p,), Monte Carlo replicates (R, p), the day-to-day SD used (median of its posterior),
    where it came from, the runner's own degrees of freedom and own SD estimate."""

    coef: np.ndarray
    replicates: np.ndarray
    day_sd: float
    day_source: str
    residual_df: int
    own_day_sd: float = float("nan")


def estimable(x: np.ndarray, c: np.ndarray, tol: float = 1e-8) -> bool:
    """True when the contrast c'b is identified by design x (c lies in the row space of x)."""
    x = np.asarray(x, float)
    c = np.asarray(c, float)
    proj = c @ np.linalg.pinv(x) @ x
    return bool(np.abs(proj - c).max() <= tol * max(1.0, float(np.abs(c).max())))


def run_variance_posterior(
    rss: np.ndarray, df: int, nu: int, within: float, prior_sd: float, prior_df: float, rng: np.random.Generator,
) -> np.ndarray:
    """Draws of the variance of a run mean around the model (day-to-day plus within-run, ln units^2).

    The runner's own estimate s^2 = RSS / (runs - rank), worth nu degrees of freedom (counted in sessions),
    is pooled with the literature's prior_sd^2 + within (the mean within-run variance) worth prior_df:
    a scaled inverse chi-square posterior with nu0 + nu degrees of freedom and scale
    (nu0 s0^2 + nu s^2) / (nu0 + nu) (Gelman et al., BDA 3rd ed., sec. 3.3), drawn once per replicate, so
    an SD of 2 % from three sessions cannot make an interval tight.
    """
    own = rss / df if df > 0 else np.zeros(len(rss))
    df_post = prior_df + nu
    scale = (prior_df * (prior_sd**2 + within) + nu * own) / df_post
    return scale * df_post / rng.chisquare(df_post, len(rss))


def monte_carlo_fit(
    x: np.ndarray,
    y: np.ndarray,
    var_within: np.ndarray,
    fixed: list[FixedSlope],
    *,
    day_sd_prior: tuple[float, float],
    sessions: np.ndarray | None = None,
    n_rep: int = 2000,
    seed: int = 0,
) -> McFit:
    """Fit y (run mean ln peak) = x b + sum(beta_k * x_k) + day + e, drawing fixed slopes, day variance and b.

    x: (runs, p) design, may be rank deficient; var_within: (runs,) variance of each run mean from its
    strikes; fixed: covariates whose slope is drawn uniformly from [lo, hi] (the point fit uses the middle).
    sessions: session id per run (default: every run its own): runs of one session share their day, so
    the runner's own day-to-day variance has at most sessions - rank degrees of freedom.
    day_sd_prior: (SD, degrees of freedom) of the literature's day-to-day SD, pooled with the runner's own.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n, p = x.shape
    rng = np.random.default_rng(seed)
    n_days = n if sessions is None else int(pd.Series(np.asarray(sessions)).nunique())
    w = np.asarray(var_within, float)
    within = float(np.mean(w)) if n else 0.0
    pinv = np.linalg.pinv(x)  # (p, n): minimum-norm least squares; estimable contrasts do not depend on it
    rank = int(np.linalg.matrix_rank(x)) if n else 0
    df = n - rank
    # Day degrees of freedom: sessions left over after the fitted parameters (runs of one day share it).
    nu = max(min(n_days, n) - rank, 0)
    # Point fit with the fixed slopes at the middle of their ranges.
    shift0 = sum(((f.lo + f.hi) / 2) * f.x for f in fixed) if fixed else np.zeros(n)
    coef = pinv @ (y - shift0)
    # Replicates: fixed slopes drawn from their ranges.
    y_rep = np.repeat(y[None, :], n_rep, axis=0)
    for f in fixed:
        beta = rng.uniform(f.lo, f.hi, n_rep)
        y_rep -= beta[:, None] * np.asarray(f.x, float)[None, :]
    b_hat = y_rep @ pinv.T  # (R, p)
    resid = y_rep - b_hat @ x.T
    rss = np.einsum("ri,ri->r", resid, resid)
    sigma2 = run_variance_posterior(rss, df, nu, within, day_sd_prior[0], day_sd_prior[1], rng)
    own_sd = float(np.sqrt(max(float(np.median(rss)) / df - within, 0.0))) if nu > 0 else float("nan")
    # Coefficient draws: b_hat + sigma * (X'X)^+^(1/2) z (rank-deficient directions carry no variance).
    # Runs are independent given the model: a run's deviation from the model (its day, its mounting, the
    # strikes) is not assumed to cancel within a session, which keeps within-session contrasts honest
    # when runs of one session differ by more than their strikes show.
    vals, vecs = np.linalg.eigh(np.linalg.pinv(x.T @ x))
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    reps = b_hat + np.sqrt(sigma2)[:, None] * (rng.standard_normal((n_rep, p)) @ root.T)
    day_sd = float(np.sqrt(max(float(np.median(sigma2)) - within, 0.0)))
    source = "literature" if nu == 0 else ("your runs" if nu >= day_sd_prior[1] else "your runs and studies")
    return McFit(coef, reps, day_sd, source, nu, own_sd)
