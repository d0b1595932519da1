"""One design builder for `compare` and `shoes`: per-run design matrix, what is fitted vs drawn, and what is identified.

A design is built on the per-run table (`stats.run_table`). Factors (surface, shoe, session) enter as
indicator columns; covariates (speed or cadence, km on the shoe) are *fitted* when they vary inside the
compared cells and add information to the design, otherwise they are adjusted for with a literature slope
drawn from its range (`report.priors`). Rank-deficient designs are kept: a factor that cannot be separated
from another (a racing shoe that only ran on the track) makes the affected contrasts non-estimable, and
the caller reports them as "cannot tell" with the reason from `separation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gaitimpact.report import priors, stats
from gaitimpact.report.priors import Prior


@dataclass
class Slope:
    """How one covariate was adjusted for: slope of ln(peak_g) per unit, fitted or drawn from a range."""

    covariate: str
    unit: str
    fitted: bool
    per_unit_ln_peak: float | None = None
    range_ln_peak: tuple[float, float] | None = None
    source: str = ""
    column: int | None = None

    def to_dict(self) -> dict:
        """JSON form: slope, % per unit, its 95 % CI (fitted) or literature range (drawn), and the source."""
        pct = None if self.per_unit_ln_peak is None else round((np.exp(self.per_unit_ln_peak) - 1) * 100, 2)
        rng = self.range_ln_peak
        return {
            "covariate": self.covariate,
            "unit": self.unit,
            "from": "your runs" if self.fitted else "literature",
            "per_unit_ln_peak": None if self.per_unit_ln_peak is None else round(float(self.per_unit_ln_peak), 4),
            "pct_per_unit": pct,
            "pct_per_unit_interval": None
            if rng is None
            else [round((np.exp(rng[0]) - 1) * 100, 2), round((np.exp(rng[1]) - 1) * 100, 2)],
            "source": self.source,
        }


@dataclass
class Design:
    """Per-run design matrix with named columns, the covariates drawn from priors, and the slopes used."""

    x: np.ndarray
    columns: list[str]
    fixed: list[stats.FixedSlope] = field(default_factory=list)
    slopes: list[Slope] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def col(self, name: str) -> int:
        """Index of a named column."""
        return self.columns.index(name)

    def estimable(self, contrast: dict[str, float]) -> bool:
        """True when sum(weight * coefficient) over the named columns is identified by the runs."""
        c = np.zeros(len(self.columns))
        for name, w in contrast.items():
            c[self.col(name)] = w
        return stats.estimable(self.x, c)

    def contrast(self, fit: stats.McFit, contrast: dict[str, float]) -> tuple[float, np.ndarray]:
        """Point value and Monte Carlo replicates of a linear contrast of the coefficients."""
        c = np.zeros(len(self.columns))
        for name, w in contrast.items():
            c[self.col(name)] = w
        return float(fit.coef @ c), fit.replicates @ c


class DesignBuilder:
    """Assemble a per-run design column by column, checking what each column adds."""

    def __init__(self, n_runs: int) -> None:
        self.n = n_runs
        self.cols: list[np.ndarray] = []
        self.names: list[str] = []
        self.fixed: list[stats.FixedSlope] = []
        self.slopes: list[Slope] = []
        self.notes: list[str] = []

    def _x(self) -> np.ndarray:
        return np.column_stack(self.cols) if self.cols else np.zeros((self.n, 0))

    def adds_information(self, values: np.ndarray) -> bool:
        """True when the column is not a linear combination of the columns so far."""
        x = self._x()
        base = int(np.linalg.matrix_rank(x)) if x.shape[1] else 0
        return int(np.linalg.matrix_rank(np.column_stack([x, values]))) > base

    def column(self, name: str, values: np.ndarray) -> None:
        """Add one named column."""
        self.cols.append(np.asarray(values, float))
        self.names.append(name)

    def factor(self, prefix: str, values: np.ndarray, levels: list[str], *, baseline: str | None = None) -> None:
        """Indicator columns `prefix=level` for every level (or every level but `baseline`)."""
        values = np.asarray(values).astype(str)
        for lev in levels:
            if lev != baseline:
                self.column(f"{prefix}={lev}", (values == lev).astype(float))

    def covariate(
        self,
        name: str,
        x: np.ndarray,
        prior: Prior,
        *,
        spread: float,
        min_spread: float,
        why_not: str,
    ) -> Slope:
        """Fit the slope of `x` (centred, per run) when it varies enough and adds information; else draw it."""
        x = np.asarray(x, float)
        if spread >= min_spread and self.adds_information(x):
            self.column(name, x)
            slope = Slope(name, prior.unit, True, source="fitted from your runs", column=len(self.names) - 1)
        else:
            self.fixed.append(stats.FixedSlope(x, prior.lo, prior.hi))
            slope = Slope(name, prior.unit, False, prior.centre, (prior.lo, prior.hi), f"{why_not}; {prior.source}")
        self.slopes.append(slope)
        return slope

    def build(self) -> Design:
        """The finished design."""
        return Design(self._x(), list(self.names), list(self.fixed), list(self.slopes), list(self.notes))


def fit_runs(design: Design, runs: pd.DataFrame, *, n_rep: int, seed: int) -> tuple[stats.McFit, dict]:
    """Monte Carlo fit of the runs' mean ln(peak_g) on the design; fills the fitted slopes' values and
    intervals into `design.slopes`; returns (fit, the JSON `day_to_day` block)."""
    fit = stats.monte_carlo_fit(
        design.x,
        runs["ln_peak_mean"].to_numpy(float),
        runs["ln_peak_var_of_mean"].to_numpy(float),
        design.fixed,
        day_sd_prior=(priors.DAY_SD, priors.DAY_DF),
        sessions=runs["session"].to_numpy(),
        n_rep=n_rep,
        seed=seed,
    )
    for s in design.slopes:
        if s.fitted and s.column is not None:
            s.per_unit_ln_peak = float(fit.coef[s.column])
            s.range_ln_peak = stats.percentile_ci(fit.replicates[:, s.column])
    own = None if not np.isfinite(fit.own_day_sd) else round(fit.own_day_sd * 100, 1)
    day = {
        "sd_pct": round(fit.day_sd * 100, 1),
        "from": fit.day_source,
        "repeat_runs_df": fit.residual_df,
        "your_runs_sd_pct": own,
        "studies_sd_pct": round(priors.DAY_SD * 100, 1),
        "studies_df": priors.DAY_DF,
        "source": "one day effect per session; its variance is the scatter of your runs around the model "
        f"({fit.residual_df} degrees of freedom) pooled with {priors.DAY_SOURCE} "
        f"(worth {priors.DAY_DF} degrees of freedom)",
    }
    return fit, day


def within_spread(x: np.ndarray, cells: np.ndarray) -> float:
    """SD (unweighted, per run) of a covariate around its cell means: how much it varies inside cells."""
    return stats.within_group_spread(np.asarray(x, float), np.asarray(cells), np.ones(len(x)))


def connected(runs: pd.DataFrame, a: str, b: str) -> dict[str, int]:
    """Component id of every level of column `a`, linking levels that share a level of column `b`.

    Two surfaces are comparable despite different shoes only if a chain of shared shoes links them (and
    vice versa): e.g. surfaces {asphalt, grass} run only in shoe X and {track, concrete} only in shoe Y
    form two components.
    """
    pairs = runs[[a, b]].astype(str).drop_duplicates().to_numpy()
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for u, v in pairs:
        parent[find("a:" + u)] = find("b:" + v)
    roots: dict[str, int] = {}
    return {u: roots.setdefault(find("a:" + u), len(roots)) for u in runs[a].astype(str).unique()}
