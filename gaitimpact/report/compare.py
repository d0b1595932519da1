"""Surfaces (or shoes, or sessions) side by side: speed-adjusted impact index and its ratio with a 95 % CI.

Model (per placement, fitted on ln(peak_g) of every usable strike):

    ln(peak_g) = a_group [+ b_surface, when grouping by shoe/session] + beta * (speed_mps - v0) + e

`impact_index` of a group = exp(a_group): the geometric-mean peak impact in g at the common speed v0 (the
median speed of the compared strikes). Where the data can separate them, the model also takes shoe wear
(+ gamma * (shoe_km - km0) / 100, when km varies by >= 50 km within groups) and the shoe model (one term
per shoe) into account, so that a surface run only in new shoes does not look soft because of the shoes;
`adjusted_for` lists what was adjusted for. `ratio` = exp(a_group - a_reference). beta is fitted from the
runner's own runs when speed varies enough *within* the compared groups (>= 0.15 m/s weighted SD);
otherwise the literature slope `stats.SPEED_SLOPE_LIT_PER_MPS` (+38 % per m/s) is used and the output
says so. When the speed of any run is unknown, the same model is fitted with cadence (steps/min, both
feet) in place of speed (fallback slope `stats.CADENCE_SLOPE_LIT_PER_SPM`), and `adjusted_for` says
"cadence". The 95 % CI is a stratified cluster bootstrap over runs (strikes of one run move together),
or over 30-s blocks within a run when a group has fewer than 3 runs (the output says the interval then
cannot see day-to-day variation). A ratio whose CI includes 1 is reported as "within the noise".
Clipped strikes (peak is only a lower bound) and strikes next to a data gap are left out and counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitimpact.errors import InputError
from gaitimpact.recording import SURFACES, steps_per_strike
from gaitimpact.report import stats

MIN_STRIKES = 30
"""Fewest usable strikes a group needs to be compared."""

REFERENCE_ORDER = ("concrete", "asphalt")
"""Default reference surface: the hardest present."""

BY_CHOICES = ("surface", "shoe", "session")

MIN_KM_SPREAD = 50.0
"""Shoe wear (km) is adjusted for only when km varies by at least this much (weighted SD, km) within groups."""


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def prepare(strikes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sort strikes, label runs and 30-s blocks; return (strikes with run/block ids, per-run table)."""
    df = strikes.copy()
    for col, default in (("shoe", None), ("shoe_km", np.nan), ("placement", "auto"), ("bout", 0)):
        if col not in df:
            df[col] = default
    df["surface"] = df["surface"].fillna("").astype(str)
    df = df.sort_values(["session", "time_s"], kind="stable").reset_index(drop=True)
    df["run"] = stats.label_runs(df)
    df["block"] = stats.block_units(df)
    runs = stats.run_table(df)
    return df, runs


def choose_placement(strikes: pd.DataFrame, placement: str | None = None) -> tuple[pd.DataFrame, str, list[str]]:
    """Keep one placement (given, else the one with most strikes): peaks from different placements differ."""
    notes: list[str] = []
    counts = strikes["placement"].astype(str).value_counts() if "placement" in strikes else pd.Series(dtype=int)
    if placement is None:
        placement = str(counts.index[0]) if len(counts) else "auto"
    kept = strikes[strikes["placement"].astype(str) == placement] if "placement" in strikes else strikes
    others = [f"{p} ({n} strikes)" for p, n in counts.items() if p != placement]
    if others:
        notes.append(f"compared {placement} strikes only; left out other placements: {', '.join(others)}")
    return kept, placement, notes


def default_reference(groups: list[str], counts: dict[str, int], by: str) -> str:
    """Reference group: concrete, then asphalt (by surface); else the group with most strikes."""
    if by == "surface":
        for s in REFERENCE_ORDER:
            if s in groups:
                return s
    return max(groups, key=lambda g: counts[g])


def _group_labels(df: pd.DataFrame, by: str) -> pd.Series:
    if by == "surface":
        return df["surface"].astype(str)
    if by == "shoe":
        return df["shoe"].fillna("").astype(str)
    return df["session"].astype(str)


def compare(
    strikes: pd.DataFrame,
    *,
    by: str = "surface",
    reference: str | None = None,
    placement: str | None = None,
    min_strikes: int = MIN_STRIKES,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict:
    """Compare groups of strikes (session, time_s, peak_g, clipped, near_gap, surface, speed_mps, ...).

    Returns the `compare --json` document: reference, adjusted_for, per-group steps, running_s,
    cadence_spm, peak_g_median/p95 (g), impact_index (g at the common speed), ratio and ratio_ci95.
    Raises InputError when there is nothing to compare or a group has fewer than `min_strikes` strikes.
    """
    if by not in BY_CHOICES:
        raise InputError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}", field="by")
    if strikes is None or len(strikes) == 0:
        raise InputError("no strikes to compare (empty library or no running found)")
    notes: list[str] = []
    strikes, placement, pnotes = choose_placement(strikes, placement)
    notes += pnotes
    n_all = len(strikes)
    n_clipped = int(strikes["clipped"].astype(bool).sum())
    n_gap = int((strikes["near_gap"].astype(bool) & ~strikes["clipped"].astype(bool)).sum())
    usable = stats.valid_strikes(strikes)
    if n_clipped:
        notes.append(f"left out {n_clipped} clipped strikes (peak at the sensor range is only a lower bound)")
    if n_gap:
        notes.append(f"left out {n_gap} strikes next to a data gap")
    labels = _group_labels(usable, by)
    unlabelled = int((labels == "").sum())
    if unlabelled:
        what = {"surface": "without a surface label", "shoe": "without a shoe"}.get(by, "unlabelled")
        notes.append(f"left out {unlabelled} strikes {what}")
    usable = usable[labels != ""]
    if len(usable) == 0:
        raise InputError(f"no usable strikes with a {by} label to compare ({n_all} strikes in total)")
    df, runs = prepare(usable)
    df["group"] = _group_labels(df, by).to_numpy()
    runs["group"] = df.groupby("run")["group"].first().to_numpy()
    counts = df["group"].value_counts().to_dict()
    groups = sorted(
        counts,
        key=lambda g: (SURFACES.index(g) if g in SURFACES else len(SURFACES), int(g) if g.isdigit() else 0, g),
    )
    if len(groups) < 2:
        raise InputError(f"only one {by} ({groups[0]!r}) in the data: nothing to compare it with")
    few = [f"{g!r} has {counts[g]}" for g in groups if counts[g] < min_strikes]
    if few:
        raise InputError(
            f"too few strikes to compare: {', '.join(few)} usable strikes (need >= {min_strikes}); "
            "record more or lower --min-strikes",
            field=by,
        )
    if reference is None:
        reference = default_reference(groups, counts, by)
    elif reference not in groups:
        raise InputError(f"reference {reference!r} not in the data (have: {', '.join(groups)})", field="reference")

    # --- covariate: speed if known for every run, else cadence -----------------------------------------
    speed_known = bool(runs["speed_mps"].notna().all())
    if speed_known:
        cov_name, x_run = "speed", runs["speed_mps"].to_numpy(float)
        lit_slope, min_spread = stats.SPEED_SLOPE_LIT_PER_MPS, stats.MIN_SPEED_SPREAD_MPS
        x0 = float(np.round(np.median(np.repeat(x_run, runs["strikes"])), 1))
    else:
        cov_name = "cadence"
        x_run = runs["cadence_spm"].to_numpy(float)
        x_run = np.where(np.isfinite(x_run), x_run, np.nanmedian(x_run))
        lit_slope, min_spread = stats.CADENCE_SLOPE_LIT_PER_SPM, stats.MIN_CADENCE_SPREAD_SPM
        x0 = float(np.round(np.median(np.repeat(x_run, runs["strikes"]))))
        unknown = int(runs["speed_mps"].isna().sum())
        notes.append(f"speed unknown for {unknown} of {len(runs)} runs: impact adjusted by cadence instead of speed")
    runs["x"] = x_run

    # --- design per run -----------------------------------------------------------------------------
    g_index = {g: i for i, g in enumerate(groups)}
    run_g = runs["group"].map(g_index).to_numpy()
    cols = [np.eye(len(groups))[run_g]]
    nuisance_surfaces: list[str] = []
    if by != "surface":
        for s in sorted(runs["surface"].unique())[1:]:
            col = (runs["surface"].to_numpy() == s).astype(float)[:, None]
            if stats.full_rank(np.hstack([*cols, col])):
                cols.append(col)
                nuisance_surfaces.append(s)
            else:
                notes.append(f"cannot adjust for surface {s!r}: it is confounded with the {by}")
    cells = (runs["group"].astype(str) + "|" + runs["surface"].astype(str)).to_numpy()
    spread = stats.within_group_spread(x_run, cells, runs["strikes"].to_numpy(float))
    x_col = (x_run - x0)[:, None]
    fit_slope = (
        spread >= min_spread and len(np.unique(np.round(x_run, 3))) >= 2 and stats.full_rank(np.hstack([*cols, x_col]))
    )
    slope_idx = km_idx = None
    if fit_slope:
        slope_idx = sum(c.shape[1] for c in cols)
        cols.append(x_col)
        slope_source = "fitted from your runs"
    else:
        slope_source = f"literature fallback ({cov_name} does not vary independently of the {by} here)"
    adjusted = [cov_name] + (["surface"] if nuisance_surfaces else [])
    # --- shoe wear (km on the shoe) and shoe model, where the data can separate them -------------------
    km_run = runs["shoe_km"].to_numpy(float)
    km0 = None
    if np.isfinite(km_run).all():
        km0 = float(np.round(np.median(np.repeat(km_run, runs["strikes"])), -1))
        km_col = ((km_run - km0) / 100.0)[:, None]
        km_spread = stats.within_group_spread(km_run, cells, runs["strikes"].to_numpy(float))
        if km_spread >= MIN_KM_SPREAD and stats.full_rank(np.hstack([*cols, km_col])):
            km_idx = sum(c.shape[1] for c in cols)
            cols.append(km_col)
            adjusted.append("shoe km")
    elif np.isfinite(km_run).any():
        notes.append("shoe km unknown for some runs: not adjusted for shoe wear")
    if by != "shoe":
        shoe_run = runs["shoe"].fillna("").astype(str).to_numpy()
        for name in sorted(set(shoe_run))[1:]:
            col = (shoe_run == name).astype(float)[:, None]
            if stats.full_rank(np.hstack([*cols, col])):
                cols.append(col)
                if "shoe" not in adjusted:
                    adjusted.append("shoe")
            elif by == "surface":
                notes.append(f"shoe {name or '(none)'!r} cannot be separated from the surfaces it ran on")
    x_design = np.hstack(cols)

    # --- units: runs, or 30-s blocks inside runs for cells with < MIN_RUNS runs -------------------------
    # Strata are the (group, surface) cells so that every replicate keeps every cell of the design.
    runs["cell"] = cells
    runs_per_cell = runs.groupby("cell").size()
    thin_cells = set(runs_per_cell[runs_per_cell < stats.MIN_RUNS].index)
    thin = sorted({c.split("|")[0] for c in thin_cells}, key=groups.index)
    if thin:
        notes.append(
            f"fewer than {stats.MIN_RUNS} runs on {', '.join(thin)}: its interval comes from 30-s blocks "
            "within the run(s) and cannot see day-to-day variation"
        )
    units = df.groupby("block").agg(run=("run", "first"), n=("peak_g", "size"))
    units["ln_mean"] = pd.Series(np.log(df["peak_g"].to_numpy(float))).groupby(df["block"]).mean()
    u_run = units["run"].to_numpy()
    u_cell = cells[u_run]
    is_thin = np.isin(u_cell, list(thin_cells))
    resample = np.where(is_thin, units.index.to_numpy() + 10**9, u_run)
    y_unit = units["ln_mean"].to_numpy(float)
    if not fit_slope:
        y_unit = y_unit - lit_slope * (x_run[u_run] - x0)
    boot = stats.cluster_bootstrap(
        x_design[u_run],
        y_unit,
        units["n"].to_numpy(float),
        resample,
        u_cell,
        n_boot=n_boot,
        seed=seed,
    )
    if boot.dropped:
        notes.append(
            f"{boot.dropped} of {n_boot} bootstrap replicates left the model unidentifiable "
            "(e.g. no speed variation) and were skipped"
        )
    slope = float(boot.coef[slope_idx]) if slope_idx is not None else lit_slope
    slope_ci = stats.percentile_ci(boot.replicates[:, slope_idx]) if slope_idx is not None else None
    ref_i = g_index[reference]

    out_groups = []
    for g in groups:
        i = g_index[g]
        sel = df["group"] == g
        rsel = runs["group"] == g
        per = steps_per_strike(placement)
        running_s = float(runs.loc[rsel, "running_s"].sum())
        n_strikes = int(sel.sum())
        ratio = float(np.exp(boot.coef[i] - boot.coef[ref_i]))
        ci = stats.percentile_ci(np.exp(boot.replicates[:, i] - boot.replicates[:, ref_i]))
        peaks = df.loc[sel, "peak_g"].to_numpy(float)
        speeds = df.loc[sel, "speed_mps"].to_numpy(float)
        row = {
            by: g,
            "steps": n_strikes * per,
            "strikes": n_strikes,
            "runs": int(rsel.sum()),
            "sessions": int(runs.loc[rsel, "session"].nunique()),
            "running_s": _r(running_s, 1),
            "cadence_spm": _r(n_strikes * per * 60.0 / running_s if running_s > 0 else None, 1),
            "speed_mps_median": _r(float(np.median(speeds)) if np.isfinite(speeds).all() else None, 2),
            "peak_g_median": _r(float(np.median(peaks))),
            "peak_g_p95": _r(float(np.percentile(peaks, 95))),
            "impact_index": _r(float(np.exp(boot.coef[i]))),
            "ratio": _r(ratio, 4),
            "ratio_ci95": [_r(ci[0], 4), _r(ci[1], 4)],
            "verdict": verdict(g, reference, ratio, ci, cov_name) if g != reference else "reference",
        }
        out_groups.append(row)
    common = {"speed": "common_speed_mps", "cadence": "common_cadence_spm"}[cov_name]
    doc = {
        "by": by,
        "placement": placement,
        "reference": reference,
        "adjusted_for": adjusted,
        common: x0,
        f"{cov_name}_slope": {
            "per_unit_ln_peak": _r(slope, 4),
            "pct_per_unit": _r((np.exp(slope) - 1) * 100, 2),
            "unit": "m/s" if cov_name == "speed" else "steps/min",
            "source": slope_source,
            "ci95": None if slope_ci is None else [_r(slope_ci[0], 4), _r(slope_ci[1], 4)],
        },
        "shoe_wear": None
        if km_idx is None
        else {
            "common_shoe_km": km0,
            "pct_per_100km": _r((np.exp(boot.coef[km_idx]) - 1) * 100, 2),
            "ci95": [_r((np.exp(c) - 1) * 100, 2) for c in stats.percentile_ci(boot.replicates[:, km_idx])],
        },
        "impact_index_definition": (
            f"geometric-mean peak impact (g) adjusted to {x0:g} "
            f"{'m/s' if cov_name == 'speed' else 'steps/min'}"
            + (f" and {km0:g} km on the shoe" if km_idx is not None else "")
            + f"; ln(peak) = a_{by} + beta*({cov_name} - {x0:g})"
            + (" + surface" if nuisance_surfaces else "")
            + (f" + gamma*(shoe_km - {km0:g})/100" if km_idx is not None else "")
            + (" + shoe" if "shoe" in adjusted else "")
        ),
        "ci_method": (
            f"stratified cluster bootstrap ({n_boot} replicates) over runs, strata = {by} x surface; "
            f"30-s blocks for groups with < {stats.MIN_RUNS} runs"
        ),
        "groups" if by != "surface" else "surfaces": out_groups,
        "runs": [
            {
                "session": _jsonable(r.session),
                "surface": r.surface,
                "speed_mps": _r(r.speed_mps, 2),
                "shoe": r.shoe if isinstance(r.shoe, str) else None,
                "strikes": int(r.strikes),
                "running_s": _r(r.running_s, 1),
                "cadence_spm": _r(r.cadence_spm, 1),
                "peak_g_geomean": _r(float(np.exp(r.ln_peak_mean))),
            }
            for r in runs.itertuples()
        ],
        "excluded": {"clipped": n_clipped, "near_gap": n_gap, "unlabelled": unlabelled},
        "notes": notes,
    }
    return doc


def _jsonable(v: object) -> object:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def verdict(group: str, reference: str, ratio: float, ci: tuple[float, float], adjusted: str = "speed") -> str:
    """Plain-language comparison: how much higher/lower than the reference, or 'within the noise'."""
    lo, hi = ci
    if lo <= 1.0 <= hi:
        return f"{group} vs {reference}: within the noise (ratio {ratio:.3f}, 95% CI {lo:.3f}-{hi:.3f} includes 1)"
    pct = (ratio - 1) * 100
    word = "higher" if pct > 0 else "lower"
    a, b = sorted((abs(lo - 1) * 100, abs(hi - 1) * 100))
    return (
        f"{group}: {abs(pct):.1f}% {word} impact than {reference} at equal {adjusted} (95% CI {a:.1f}-{b:.1f}% {word})"
    )
