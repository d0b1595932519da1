"""Figures from the literature the reporter falls back on when the runner's own runs cannot supply them.

Every fallback is a *range*, not a number: the comparison draws it uniformly from that range inside its
Monte Carlo interval, so a verdict can only be "higher" or "lower" if it holds over the whole range.
Sources and reasoning: docs/statistics.md ("Fallbacks").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prior:
    """A fallback slope of ln(peak_g) per unit of a covariate: uniform over [lo, hi]; where it comes from."""

    lo: float
    hi: float
    unit: str
    source: str

    @property
    def centre(self) -> float:
        """Middle of the range (the point estimate uses it)."""
        return 0.5 * (self.lo + self.hi)

    def pct_range(self) -> tuple[float, float]:
        """The range as % change in impact per unit."""
        return float((np.exp(self.lo) - 1) * 100), float((np.exp(self.hi) - 1) * 100)


SPEED_SLOPES: dict[str, Prior] = {
    "shank": Prior(
        float(np.log(1.20)), float(np.log(1.50)), "m/s",
        "tibia: peak tibial acceleration +38 % per m/s on average from 2.7 to 3.7 m/s, speed explaining only "
        "19 % of its variance (Sheerin, Besier & Reid 2020, Sports Biomech 19:750-760); range +20 to +50 %",
    ),
    "shoe": Prior(
        float(np.log(1.15)), float(np.log(1.60)), "m/s",
        "shoe/foot: no speed study at the laces found; the tibial figure (+38 %/m/s, Sheerin et al. 2020) "
        "with a wider range, +15 to +60 %",
    ),
    "waist": Prior(
        0.0, float(np.log(1.35)), "m/s",
        "waist/sacrum: sacral peaks follow the whole-body vertical force (Alcantara et al. 2021, PeerJ "
        "9:e11199; Patoz et al. 2022, Sensors 22:784), which rises far less with speed than tibial peaks; "
        "range 0 to +35 %/m/s (the tibial figure is the upper end)",
    ),
}
"""Fallback speed slopes per sensor placement (a tibial slope applied to a waist sensor was the
issue-11 failure: +38 %/m/s against a waist truth of about +17 %/m/s)."""

SPEED_SLOPE_UNKNOWN_PLACEMENT = Prior(0.0, float(np.log(1.60)), "m/s", "placement unknown: union of all placements")

CADENCE_SLOPES: dict[str, Prior] = {
    p: Prior(
        -0.010, float(SPEED_SLOPES[p].hi / 8.0), "steps/min",
        "at equal speed a higher step rate lowers impact (about -1 %/step/min at most); through speed, "
        "cadence rises about 8 steps/min per m/s, so the speed slope's upper end divided by 8",
    )
    for p in SPEED_SLOPES
}
"""Fallback cadence slopes (when the speed of some run is unknown): they include zero and both signs,
so a few steps/min of cadence difference can no longer flip a comparison."""

WEAR_PRIOR = Prior(
    float(np.log(0.99)), float(np.log(1.03)), "100 km",
    "shoe wear: machine tests lose ~2 cushioning points per 100 km (Cook, Kester & Brunet 1985, Am J Sports "
    "Med 13:248-253) while runners adapt and studies over 500-1000 km find no consistent rise; -1 to +3 %/100 km",
)
"""Fallback wear slope, used when km varies within a shoe but too little to fit."""

DAY_SD = 0.06
"""Day-to-day SD of a run's mean ln(peak) for one runner, shoe, surface and speed: a test-retest minimum
detectable difference near 1.5 g, 15-20 % of a typical peak tibial acceleration (Sheerin, Besier, Reid &
Hume 2018, Sports Biomech, doi:10.1080/14763141.2017.1371214 and the test-retest study in
docs/statistics.md); MDD = 1.96 * sqrt(2) * SEM gives SEM = 5.4-7.2 %, centre 6 %."""

DAY_DF = 14
"""Degrees of freedom the literature's day-to-day SD is worth when pooled with the runner's own: Sheerin et
al. 2018 retested 14 runners once (14 runners x (2 sessions - 1) = 14 df behind their SEM). Posterior
95 % range of the SD with no runs of one's own: 4.4-9.5 %."""

DAY_SOURCE = (
    "typical day-to-day variation of one runner's impact, about 6 % (4.4-9.5 %), from a test-retest study "
    "of 14 runners (Sheerin et al. 2018)"
)


def speed_prior(placement: str) -> Prior:
    """Fallback speed slope for a placement (waist, shoe, shank; else the union of all)."""
    return SPEED_SLOPES.get(placement, SPEED_SLOPE_UNKNOWN_PLACEMENT)


def cadence_prior(placement: str) -> Prior:
    """Fallback cadence slope for a placement (widest range when the placement is unknown)."""
    return CADENCE_SLOPES.get(placement, Prior(-0.010, SPEED_SLOPE_UNKNOWN_PLACEMENT.hi / 8.0, "steps/min",
                                               CADENCE_SLOPES["shoe"].source))
