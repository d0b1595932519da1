"""Shoe age: speed-adjusted impact against the km on the shoe, the trend per 100 km, and a retirement hint.

Model (one placement, every usable strike of sessions that name a shoe):

    ln(peak_g) = a_shoe + theta_shoe * (km - km_first_shoe) / 100 + b_surface + beta * (speed_mps - v0) + e

`pct_per_100km` = (exp(theta) - 1) * 100. beta as in `compare` (fitted from the runner's runs when speed
varies enough within shoe and surface, else the literature slope; cadence when speed is unknown). The
model is fitted to per-run mean ln(peak_g) (a run = strikes of one session on one surface at one speed),
so the scatter between runs, i.e. day-to-day variation, sets the 95 % CI (t distribution, runs - parameters
degrees of freedom; `stats.ols_t`); strikes within a run are never treated as independent. (Runs of
one session on different surfaces share that day and are treated as independent given the model, which
makes the interval slightly optimistic for sessions that mix surfaces.)
A shoe needs `MIN_SESSIONS` sessions spanning at least `MIN_KM_SPAN` km for a trend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitimpact.report import stats
from gaitimpact.report.compare import _r, choose_placement, prepare

MIN_SESSIONS = 3
"""Sessions a shoe needs before a km trend is fitted."""

MIN_KM_SPAN = 20.0
"""km between a shoe's first and last session needed for a trend."""

MIN_RUN_STRIKES = 10
"""Runs with fewer strikes are left out of the per-run fit, where every run weighs the same: e.g. one
strike that falls a few ms before a segment boundary and so carries the previous (walking) segment's speed."""

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


def shoe_trends(
    strikes: pd.DataFrame,
    *,
    shoes: list | None = None,
    placement: str | None = None,
) -> dict:
    """The `shoes --json` document: per shoe sessions, km_first, km_last, pct_per_100km (+CI95), hint, points.

    strikes: library strike table (session, time_s, peak_g, surface, speed_mps, shoe, shoe_km, ...);
    shoes: optional `library.Shoe` list (adds shoes without sessions, current km and retirement).
    """
    info = {s.name: s for s in (shoes or [])}
    notes: list[str] = []
    data = strikes[strikes["shoe"].notna() & (strikes["shoe"].astype(str) != "")] if len(strikes) else strikes
    data = data[pd.to_numeric(data["shoe_km"], errors="coerce").notna()] if len(data) else data
    out: list[dict] = []
    doc: dict = {"rule": RETIREMENT_RULE, "adjusted_for": [], "notes": notes, "shoes": out}
    if len(data):
        data, placement, pnotes = choose_placement(data, placement)
        notes += pnotes
        data = stats.valid_strikes(data)
    if len(data) == 0:
        for name, s in info.items():
            out.append(_row(name, 0, None, None, None, None, None, None, s, []))
        if not info:
            notes.append("no sessions with a shoe and its km")
        return doc
    df, runs = prepare(data)
    tiny = runs["strikes"].to_numpy() < MIN_RUN_STRIKES
    if tiny.any() and not tiny.all():
        notes.append(f"left out {int(runs.loc[tiny, 'strikes'].sum())} strike(s) in {int(tiny.sum())} run(s) of "
                     f"fewer than {MIN_RUN_STRIKES} strikes (one surface at one speed)")
        runs = runs[~tiny].reset_index(drop=True)
    df["shoe"] = df["shoe"].astype(str)
    runs["shoe"] = runs["shoe"].astype(str)
    shoe_names = sorted(runs["shoe"].unique(), key=lambda n: list(info).index(n) if n in info else len(info))
    speed_known = bool(runs["speed_mps"].notna().all())
    if speed_known:
        cov, x_run = "speed", runs["speed_mps"].to_numpy(float)
        lit, min_spread = stats.SPEED_SLOPE_LIT_PER_MPS, stats.MIN_SPEED_SPREAD_MPS
        x0 = float(np.round(np.median(np.repeat(x_run, runs["strikes"])), 1))
    else:
        x_run = runs["cadence_spm"].to_numpy(float)
        x_run = np.where(np.isfinite(x_run), x_run, np.nanmedian(x_run))
        cov, lit, min_spread = "cadence", stats.CADENCE_SLOPE_LIT_PER_SPM, stats.MIN_CADENCE_SPREAD_SPM
        x0 = float(np.round(np.median(np.repeat(x_run, runs["strikes"]))))
        notes.append("speed unknown for some sessions: impact adjusted by cadence instead of speed")
    doc["adjusted_for"] = [cov, "surface"]
    doc["common_speed_mps" if cov == "speed" else "common_cadence_spm"] = x0

    km = runs["shoe_km"].to_numpy(float)
    s_idx = runs["shoe"].map({n: i for i, n in enumerate(shoe_names)}).to_numpy()
    km_first = {n: float(km[s_idx == i].min()) for i, n in enumerate(shoe_names)}
    km_last = {n: float(km[s_idx == i].max()) for i, n in enumerate(shoe_names)}
    n_sess = {n: int(runs.loc[s_idx == i, "session"].nunique()) for i, n in enumerate(shoe_names)}
    trend = [n for n in shoe_names if n_sess[n] >= MIN_SESSIONS and km_last[n] - km_first[n] >= MIN_KM_SPAN]

    cols = [np.eye(len(shoe_names))[s_idx]]
    for n in list(trend):
        i = shoe_names.index(n)
        col = ((km - km_first[n]) / 100.0 * (s_idx == i))[:, None]
        if stats.full_rank(np.hstack([*cols, col])):
            cols.append(col)
        else:
            trend.remove(n)
    surfaces = sorted(runs["surface"].unique())
    used_surfaces: list[str] = []
    for s in surfaces[1:]:
        col = (runs["surface"].to_numpy() == s).astype(float)[:, None]
        if stats.full_rank(np.hstack([*cols, col])):
            cols.append(col)
            used_surfaces.append(s)
        else:
            notes.append(f"cannot adjust for surface {s!r}: confounded with shoe km")
    # The slope is fitted only when the covariate varies within shoe and surface and is not confounded.
    spread = stats.within_group_spread(
        x_run, (runs["shoe"] + "|" + runs["surface"]).to_numpy(), runs["strikes"].to_numpy(float)
    )
    x_col = (x_run - x0)[:, None]
    fit_slope = (
        spread >= min_spread
        and len(np.unique(np.round(x_run, 3))) >= 2
        and stats.full_rank(np.hstack([*cols, x_col]))
    )
    if fit_slope:
        cols.append(x_col)
    elif spread >= min_spread:
        notes.append(f"{cov} is confounded with shoe km and surface in your runs: literature slope used")
    x_design = np.hstack(cols)
    run_y = runs["ln_peak_mean"].to_numpy(float)
    if not fit_slope:
        run_y = run_y - lit * (x_run - x0)
    fit = stats.ols_t(x_design, run_y)
    slope = float(fit.coef[-1]) if fit_slope else lit
    doc[f"{cov}_slope"] = {
        "per_unit_ln_peak": _r(slope, 4),
        "source": "fitted from your runs" if fit_slope else "literature fallback",
    }
    # Per-session adjusted impact (the plotted points): remove surface and speed effects.
    k = len(shoe_names) + len(trend)
    surf_eff = np.zeros(len(runs))
    for j, s in enumerate(used_surfaces):
        surf_eff += fit.coef[k + j] * (runs["surface"].to_numpy() == s)
    adj = runs["ln_peak_mean"].to_numpy(float) - surf_eff - slope * (x_run - x0)
    runs["adj"] = adj
    points = (
        runs.assign(w=runs["strikes"] * adj)
        .groupby(["shoe", "session"], sort=False)
        .agg(km=("shoe_km", "first"), w=("w", "sum"), n=("strikes", "sum"))
    )
    points["impact_index"] = np.exp(points["w"] / points["n"])
    for n in shoe_names:
        pts = points.loc[n].sort_values("km")
        plist = [
            {"session": _plain(sid), "km": _r(r.km, 1), "impact_index": _r(r.impact_index)}
            for sid, r in pts.iterrows()
        ]
        pct = ci = rise = rise_ci = None
        if n in trend:
            j = len(shoe_names) + trend.index(n)
            theta, theta_ci = float(fit.coef[j]), fit.ci(j)
            span = (km_last[n] - km_first[n]) / 100.0
            pct = float((np.exp(theta) - 1) * 100)
            rise = float((np.exp(theta * span) - 1) * 100)
            if theta_ci is not None:
                ci = tuple(float((np.exp(c) - 1) * 100) for c in theta_ci)
                rise_ci = tuple(float((np.exp(c * span) - 1) * 100) for c in theta_ci)
        out.append(_row(n, n_sess[n], km_first[n], km_last[n], pct, ci, rise, rise_ci, info.get(n), plist))
    for name, s in info.items():
        if name not in shoe_names:
            out.append(_row(name, 0, None, None, None, None, None, None, s, []))
    return doc


def _plain(v: object) -> object:
    return v.item() if hasattr(v, "item") else v


def _row(name, n_sessions, km_first, km_last, pct, ci, rise, rise_ci, shoe, points) -> dict:
    current = shoe.km if shoe is not None else km_last
    retired = shoe.retired_utc if shoe is not None else None
    return {
        "shoe": name,
        "sessions": n_sessions,
        "km_first": _r(km_first, 1),
        "km_last": _r(km_last, 1),
        "km_now": _r(current, 1),
        "pct_per_100km": _r(pct, 2),
        "pct_per_100km_ci95": None if ci is None else [_r(ci[0], 2), _r(ci[1], 2)],
        "rise_pct_since_first": _r(rise, 1),
        "rise_pct_ci95": None if rise_ci is None else [_r(rise_ci[0], 1), _r(rise_ci[1], 1)],
        "retired": retired,
        "hint": retirement_hint(current, n_sessions, rise, rise_ci, retired),
        "points": points,
    }


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
