"""Shoe age: speed-adjusted impact against the km on the shoe, the trend per 100 km, and a retirement hint.

Model (one placement, per-run mean ln(peak_g) of sessions that name a shoe and its km), built by the same
`design.DesignBuilder` as `compare`:

    ln(peak_g) = a_shoe + theta_shoe * (km - km_first_shoe) / 100 + b_surface + beta * (speed_mps - v0)
                 + day-to-day + e

`pct_per_100km` = (exp(theta) - 1) * 100. beta as in `compare` (fitted when speed varies within shoe and
surface, else drawn from the placement's literature range; cadence when speed is unknown); the day-to-day
variation from the runner's own repeated runs when there are enough, else the literature. Each shoe gets a
`status`: `higher` (impact rising with km), `lower`, `within_noise`, or `cannot_tell` with a reason (fewer
than `MIN_SESSIONS` sessions over `MIN_KM_SPAN` km, or km confounded with surface and speed changes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from gaitimpact.report import stats
from gaitimpact.report.compare import _r, choose_placement, covariate_slope, drop_tiny_runs, prepare
from gaitimpact.report.design import DesignBuilder, Slope, fit_runs

MIN_SESSIONS = 3
"""Sessions a shoe needs before a km trend is fitted."""

MIN_KM_SPAN = 20.0
"""km between a shoe's first and last session needed for a trend."""

KM_GUIDANCE = (500.0, 800.0)
"""Common replacement guidance in km (quoted lifespans range 300-1000 km)."""

RISE_LIMIT_PCT = 10.0
"""Rise (%) in speed-adjusted impact since the shoe's first sessions that triggers 'consider replacing'."""

RETIREMENT_RULE = (
    "Replace at 800 km; consider replacing when your own speed-adjusted impact has risen by more than "
    f"{RISE_LIMIT_PCT:.0f}% since the shoe's first sessions (lower end of its 95% CI above "
    f"{RISE_LIMIT_PCT:.0f}%); from 500 km keep an eye on it. Follows the common 500-800 km guidance "
    "(midsole shock absorption falls to ~75% of new after ~80 km and ~60% after ~800 km in machine tests, "
    "Cook, Kester & Brunet 1985, Am J Sports Med 13:248-253); runners adapt their stride to worn "
    "cushioning (Kong, Candelaria & Smith 2009, Br J Sports Med 43:745-749), so a flat measured trend "
    "does not prove the midsole is fine."
)


STATUS_WORDS = {"higher": "rising", "lower": "falling", "within_noise": "no change shown",
                "cannot_tell": "can't tell yet"}
"""A shoe's km trend in words for tables (the JSON keeps `status`)."""


@dataclass
class ShoePoint:
    """One session of a shoe: km on the shoe and the speed- and surface-adjusted impact index (g)."""

    session: object
    km: float | None
    impact_index: float | None


@dataclass
class ShoeTrend:
    """One shoe: its km trend with status and plain-words verdict, and the retirement hint."""

    shoe: str
    status: str
    reason: str | None
    verdict: str
    sessions: int
    km_first: float | None
    km_last: float | None
    km_now: float | None
    pct_per_100km: float | None
    pct_per_100km_ci95: list[float | None] | None
    rise_pct_since_first: float | None
    rise_pct_ci95: list[float | None] | None
    retired: str | None
    hint: str
    points: list[ShoePoint] = field(default_factory=list)

    @property
    def status_words(self) -> str:
        """The km trend in words for tables: rising, falling, no change shown, can't tell yet."""
        return STATUS_WORDS.get(self.status, self.status.replace("_", " "))


@dataclass
class ShoeReport:
    """The result of `shoe_trends` (the `shoes --json` document via `to_dict`)."""

    rule: str
    placement: str | None
    covariate: str | None
    common_speed_mps: float | None
    common_cadence_spm: float | None
    adjusted_for: list[str]
    slopes: list[Slope]
    day_to_day: dict | None
    shoes: list[ShoeTrend]
    notes: list[str] = field(default_factory=list)

    def shoe(self, name: str) -> ShoeTrend:
        """One shoe's trend by name."""
        return next(s for s in self.shoes if s.shoe == name)

    def to_dict(self) -> dict:
        """JSON-ready document (same keys whatever the arguments)."""
        doc = asdict(self)
        doc["slopes"] = [s.to_dict() for s in self.slopes]
        for s in doc["shoes"]:
            for p in s["points"]:
                p["session"] = _plain(p["session"])
        return doc


def shoe_trends(
    strikes: pd.DataFrame,
    *,
    shoes: list | None = None,
    placement: str | None = None,
    n_rep: int = 2000,
    seed: int = 0,
) -> ShoeReport:
    """Per shoe: sessions, km_first, km_last, pct_per_100km (+ 95 % CI), status, verdict, hint, points.

    strikes: library strike table (session, time_s, peak_g, surface, speed_mps, shoe, shoe_km, ...);
    shoes: optional `library.Shoe` list (adds shoes without sessions, current km and retirement).
    """
    info = {s.name: s for s in (shoes or [])}
    notes: list[str] = []
    data = strikes[strikes["shoe"].notna() & (strikes["shoe"].astype(str) != "")] if len(strikes) else strikes
    data = data[pd.to_numeric(data["shoe_km"], errors="coerce").notna()] if len(data) else data
    out: list[ShoeTrend] = []
    doc = ShoeReport(RETIREMENT_RULE, placement, None, None, None, [], [], None, out, notes)
    if len(data):
        data, placement, pnotes = choose_placement(data, placement)
        doc.placement = placement
        notes += pnotes
        data = stats.valid_strikes(data)
    if len(data) == 0:
        for name, s in info.items():
            out.append(_empty(name, s))
        if not info:
            notes.append("no sessions with a shoe and its km")
        return doc
    df, runs = prepare(data)
    df, runs = drop_tiny_runs(df, runs, notes)
    shoe_names = sorted(runs["shoe"].unique(), key=lambda n: list(info).index(n) if n in info else len(info))
    km = runs["shoe_km"].to_numpy(float)
    shoe_of = runs["shoe"].to_numpy()
    km_first = {n: float(km[shoe_of == n].min()) for n in shoe_names}
    km_last = {n: float(km[shoe_of == n].max()) for n in shoe_names}
    n_sess = {n: int(runs.loc[shoe_of == n, "session"].nunique()) for n in shoe_names}
    trend = [n for n in shoe_names if n_sess[n] >= MIN_SESSIONS and km_last[n] - km_first[n] >= MIN_KM_SPAN]

    b = DesignBuilder(len(runs))
    b.factor("shoe", shoe_of, shoe_names)
    for n in trend:
        b.column(f"km:{n}", (km - km_first[n]) / 100.0 * (shoe_of == n))
    surfaces = sorted(runs["surface"].unique())
    base_surface = str(runs.groupby("surface")["strikes"].sum().idxmax())
    b.factor("surface", runs["surface"].to_numpy(), surfaces, baseline=base_surface)
    cells = (runs["shoe"] + "|" + runs["surface"]).to_numpy()
    cov, x0, slope = covariate_slope(b, runs, placement, cells, notes)
    design = b.build()
    fit, day = fit_runs(design, runs, n_rep=n_rep, seed=seed)
    doc.covariate = cov
    doc.common_speed_mps = x0 if cov == "speed" else None
    doc.common_cadence_spm = x0 if cov == "cadence" else None
    doc.adjusted_for = [cov] + (["surface"] if len(surfaces) > 1 else [])
    doc.slopes = design.slopes
    doc.day_to_day = day
    # Per-session adjusted impact (the plotted points): remove surface and speed effects.
    beta = float(slope.per_unit_ln_peak) if slope.per_unit_ln_peak is not None else 0.0
    x_run = design.fixed[0].x if not slope.fitted else design.x[:, slope.column]
    surf_eff = np.zeros(len(runs))
    for s in surfaces:
        if s != base_surface and stats.estimable(design.x, _unit(design.columns, f"surface={s}")):
            surf_eff += fit.coef[design.col(f"surface={s}")] * (runs["surface"].to_numpy() == s)
    runs["adj"] = runs["ln_peak_mean"].to_numpy(float) - surf_eff - beta * x_run
    points = (
        runs.assign(w=runs["strikes"] * runs["adj"])
        .groupby(["shoe", "session"], sort=False)
        .agg(km=("shoe_km", "first"), w=("w", "sum"), n=("strikes", "sum"))
    )
    points["impact_index"] = np.exp(points["w"] / points["n"])
    level = stats.simultaneous_level(sum(stats.estimable(design.x, _unit(design.columns, f"km:{n}")) for n in trend))
    for n in shoe_names:
        pts = points.loc[n].sort_values("km")
        plist = [ShoePoint(_plain(sid), _r(r.km, 1), _r(r.impact_index)) for sid, r in pts.iterrows()]
        pct = ci = rise = rise_ci = None
        span = (km_last[n] - km_first[n]) / 100.0
        if n not in trend:
            status = "cannot_tell"
            reason = (
                f"{n_sess[n]} session(s) over {km_last[n] - km_first[n]:.0f} km; a trend needs "
                f"{MIN_SESSIONS} sessions over at least {MIN_KM_SPAN:.0f} km"
            )
        elif not stats.estimable(design.x, _unit(design.columns, f"km:{n}")):
            status = "cannot_tell"
            reason = "its km went up together with changes of surface or speed, so wear cannot be told apart"
        else:
            j = design.col(f"km:{n}")
            theta = float(fit.coef[j])
            lo, hi = stats.percentile_ci(fit.replicates[:, j], level)
            pct = float((np.exp(theta) - 1) * 100)
            ci = [float((np.exp(lo) - 1) * 100), float((np.exp(hi) - 1) * 100)]
            rise = float((np.exp(theta * span) - 1) * 100)
            rise_ci = [float((np.exp(lo * span) - 1) * 100), float((np.exp(hi * span) - 1) * 100)]
            status = "within_noise" if lo <= 0 <= hi else ("higher" if lo > 0 else "lower")
            reason = None
        out.append(
            _trend(n, status, reason, n_sess[n], km_first[n], km_last[n], pct, ci, rise, rise_ci, info.get(n), plist,
                   fit.day_source)
        )
    for name, s in info.items():
        if name not in shoe_names:
            out.append(_empty(name, s))
    return doc


def _unit(columns: list[str], name: str) -> np.ndarray:
    c = np.zeros(len(columns))
    c[columns.index(name)] = 1.0
    return c


def _plain(v: object) -> object:
    return v.item() if hasattr(v, "item") else v


def _empty(name: str, shoe) -> ShoeTrend:
    return _trend(name, "cannot_tell", "no sessions in this shoe yet", 0, None, None, None, None, None, None,
                  shoe, [], None)


def _trend(name, status, reason, n_sessions, km_first, km_last, pct, ci, rise, rise_ci, shoe, points,
           day_from) -> ShoeTrend:
    current = shoe.km if shoe is not None else km_last
    retired = shoe.retired_utc if shoe is not None else None
    return ShoeTrend(
        shoe=name,
        status=status,
        reason=reason,
        verdict=_verdict(name, status, reason, pct, ci, day_from),
        sessions=n_sessions,
        km_first=_r(km_first, 1),
        km_last=_r(km_last, 1),
        km_now=_r(current, 1),
        pct_per_100km=_r(pct, 2),
        pct_per_100km_ci95=None if ci is None else [_r(ci[0], 2), _r(ci[1], 2)],
        rise_pct_since_first=_r(rise, 1),
        rise_pct_ci95=None if rise_ci is None else [_r(rise_ci[0], 1), _r(rise_ci[1], 1)],
        retired=retired,
        hint=retirement_hint(current, n_sessions, rise, rise_ci, retired),
        points=points,
    )


def _verdict(name: str, status: str, reason: str | None, pct, ci, day_from: str | None) -> str:
    """Plain-words verdict on a shoe's km trend."""
    if status == "cannot_tell":
        return f"{name}: can't tell yet how its impact changes with km ({reason})"
    lo, hi = ci
    lean = " Leans on typical day-to-day variation from studies." if day_from == "literature" else ""
    if status == "within_noise":
        return (f"{name}: no change with km your runs can show (anything from {lo:+.1f}% to {hi:+.1f}% "
                f"per 100 km fits).{lean}")
    word = "rising" if status == "higher" else "falling"
    return f"{name}: impact {word} {abs(pct):.1f}% per 100 km (likely {lo:+.1f} to {hi:+.1f}%).{lean}"

def retirement_hint(
    km_now: float | None,
    n_sessions: int,
    rise_pct: float | None,
    rise_ci: tuple[float, float] | None,
    retired: str | None = None,
) -> str:
    """Plain-language hint following `RETIREMENT_RULE` (km in km, rise in % of the shoe's first sessions)."""
    if retired:
        return f"retired on {retired[:10]}"
    km = km_now or 0.0
    lo_g, hi_g = KM_GUIDANCE
    measured = ""
    if rise_pct is not None and rise_ci is not None:
        if rise_ci[0] > RISE_LIMIT_PCT:
            return (
                f"consider replacing: speed-adjusted impact up {rise_pct:.0f}% since its first sessions "
                f"(95% CI {rise_ci[0]:.0f} to {rise_ci[1]:.0f}%) at {km:.0f} km"
            )
        if rise_ci[0] <= 0 <= rise_ci[1]:
            measured = "no measured rise beyond the noise"
        else:
            measured = (
                f"impact changed {rise_pct:+.0f}% since its first sessions "
                f"(95% CI {rise_ci[0]:.0f} to {rise_ci[1]:.0f}%)"
            )
    else:
        measured = f"too few sessions for a trend (need {MIN_SESSIONS} over {MIN_KM_SPAN:.0f} km)"
    if km >= hi_g:
        return f"replace: {km:.0f} km is past the common {lo_g:.0f}-{hi_g:.0f} km guidance; {measured}"
    if km >= lo_g:
        return f"watch: {km:.0f} km is within the common {lo_g:.0f}-{hi_g:.0f} km guidance; {measured}"
    return f"keep: {km:.0f} km; {measured}"
