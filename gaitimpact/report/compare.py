"""Surfaces (or shoes, or sessions) side by side: speed-adjusted impact, and what the runs can and cannot tell.

Model (one placement, per-run mean ln(peak_g); a run = strikes of one session on one surface at one speed
in one shoe):

    ln(peak_g) = a_group + [shoe model] + [surface, when grouping by shoe/session]
                 + gamma * shoe_km/100 + beta * (speed - v0) + day-to-day + e

Before estimating, the design is checked (`design.DesignBuilder`): a shoe seen on only some surfaces
makes those surfaces' contrasts non-estimable when no chain of shared shoes links them, and they get
status `cannot_tell` with a reason and the run that would settle it. beta is fitted from the runner's
runs when speed varies inside the compared cells (>= 0.15 m/s) and is separable; otherwise it is drawn
from the literature range for the sensor's placement (`priors.SPEED_SLOPES`). With the speed of any run
unknown, cadence replaces speed (`priors.CADENCE_SLOPES`, a range that includes zero). The day-to-day
variation is one random effect per session, its variance the runner's own estimate pooled with the
literature's (`priors.DAY_SD`, `priors.DAY_DF`). The 95 % interval is a Monte Carlo interval
(`stats.monte_carlo_fit`) over all of these, so a `higher`/`lower` status holds over every assumption's
range. Clipped strikes and strikes next to a data gap are left out and counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from gaitimpact.errors import InputError
from gaitimpact.recording import SURFACES, steps_per_strike
from gaitimpact.report import priors, stats
from gaitimpact.report.design import DesignBuilder, Slope, connected, fit_runs, within_spread

RESTS_ON = {
    "your runs": "your repeated runs",
    "your runs and studies": "your repeated runs and day-to-day variation from studies",
    "literature": "day-to-day variation from studies",
}
"""What a group's interval rests on, by where the day-to-day variance came from (`stats.McFit.day_source`)."""

MIN_STRIKES = 30
"""Fewest usable strikes a group needs to be compared."""

REFERENCE_ORDER = ("concrete", "asphalt")
"""Default reference surface: the hardest present."""

BY_CHOICES = ("surface", "shoe", "session")

MIN_KM_SPREAD = 50.0
"""Shoe wear is fitted only when km varies by at least this much (SD, km) inside the compared cells."""

STATUSES = ("reference", "higher", "lower", "within_noise", "cannot_tell")


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


@dataclass
class GroupResult:
    """One surface (shoe, session) against the reference: status, plain-words verdict and the figures."""

    name: str
    status: str
    reason: str | None
    verdict: str
    steps: int
    strikes: int
    runs: int
    sessions: int
    shoes: list[str]
    running_s: float | None
    cadence_spm: float | None
    speed_mps_range: list[float] | None
    speed_overlaps_reference: bool | None
    peak_g_median: float | None
    peak_g_p95: float | None
    impact_index: float | None
    ratio: float | None
    ratio_ci95: list[float | None] | None
    interval_rests_on: str | None


@dataclass
class RunRow:
    """One run as measured (not adjusted)."""

    session: object
    surface: str
    shoe: str | None
    speed_mps: float | None
    strikes: int
    running_s: float | None
    cadence_spm: float | None
    peak_g_geomean: float | None


@dataclass
class Comparison:
    """The result of `compare` (the `compare --json` document via `to_dict`)."""

    by: str
    placement: str
    reference: str
    covariate: str
    common_speed_mps: float | None
    common_cadence_spm: float | None
    adjusted_for: list[str]
    slopes: list[Slope]
    day_to_day: dict
    groups: list[GroupResult]
    runs: list[RunRow]
    excluded: dict
    notes: list[str] = field(default_factory=list)
    method: str = ""

    @property
    def slope(self) -> Slope:
        """The speed (or cadence) slope."""
        return next(s for s in self.slopes if s.covariate == self.covariate)

    def group(self, name: str) -> GroupResult:
        """One group's result by name."""
        return next(g for g in self.groups if g.name == name)

    def to_dict(self) -> dict:
        """JSON-ready document (same keys whatever the arguments)."""
        doc = asdict(self)
        doc["slopes"] = [s.to_dict() for s in self.slopes]
        doc["runs"] = [{**asdict(r), "session": _plain(r.session)} for r in self.runs]
        return doc


def _plain(v: object) -> object:
    return v.item() if hasattr(v, "item") else v


def prepare(strikes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sort strikes and label runs; return (strikes with run ids, per-run table)."""
    df = strikes.copy()
    for col, default in (("shoe", None), ("shoe_km", np.nan), ("placement", "auto"), ("bout", 0)):
        if col not in df:
            df[col] = default
    df["surface"] = df["surface"].fillna("").astype(str)
    df = df.sort_values(["session", "time_s"], kind="stable").reset_index(drop=True)
    df["run"] = stats.label_runs(df)
    runs = stats.run_table(df)
    runs["shoe"] = runs["shoe"].where(runs["shoe"].notna(), "").astype(str)
    return df, runs


def drop_tiny_runs(df: pd.DataFrame, runs: pd.DataFrame, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave out runs of fewer than `stats.MIN_RUN_STRIKES` strikes (each run weighs the same in the fit)."""
    tiny = runs["strikes"].to_numpy() < stats.MIN_RUN_STRIKES
    if not tiny.any() or tiny.all():
        return df, runs
    notes.append(
        f"left out {int(runs.loc[tiny, 'strikes'].sum())} strike(s) in {int(tiny.sum())} stretch(es) of "
        f"fewer than {stats.MIN_RUN_STRIKES} strikes"
    )
    keep = np.flatnonzero(~tiny)
    df = df[df["run"].isin(keep)].copy()
    df["run"] = pd.Series(np.arange(len(keep)), index=keep).reindex(df["run"]).to_numpy()
    return df, runs.iloc[keep].reset_index(drop=True)


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


def _most_common(values: pd.Series, weights: pd.Series) -> str:
    return str(weights.groupby(values.astype(str)).sum().idxmax())


def covariate_slope(
    b: DesignBuilder, runs: pd.DataFrame, placement: str, cells: np.ndarray, notes: list[str]
) -> tuple[str, float, Slope]:
    """Add speed (or cadence, when some speed is unknown) to the design; return (name, common value, slope)."""
    w = runs["strikes"].to_numpy()
    if bool(runs["speed_mps"].notna().all()):
        name, x = "speed", runs["speed_mps"].to_numpy(float)
        prior, min_spread = priors.speed_prior(placement), stats.MIN_SPEED_SPREAD_MPS
        x0 = float(np.round(np.median(np.repeat(x, w)), 1))
    else:
        name = "cadence"
        x = runs["cadence_spm"].to_numpy(float)
        x = np.where(np.isfinite(x), x, np.nanmedian(x))
        prior, min_spread = priors.cadence_prior(placement), stats.MIN_CADENCE_SPREAD_SPM
        x0 = float(np.round(np.median(np.repeat(x, w))))
        unknown = int(runs["speed_mps"].isna().sum())
        notes.append(
            f"speed unknown for {unknown} of {len(runs)} runs: impact adjusted by cadence instead, whose "
            "effect on impact is uncertain (it can go either way), so differences need to be larger to show"
        )
    word = "speed" if name == "speed" else "cadence"
    slope = b.covariate(
        name,
        x - x0,
        prior,
        spread=within_spread(x, cells),
        min_spread=min_spread,
        why_not=f"your {word} hardly varies within each group, or changes together with it",
    )
    return name, x0, slope


def wear_slope(b: DesignBuilder, runs: pd.DataFrame, cells: np.ndarray, notes: list[str]) -> float | None:
    """Add km on the shoe when it varies within a shoe (fitted if enough, else drawn); return the common km."""
    km = runs["shoe_km"].to_numpy(float)
    if not np.isfinite(km).all():
        if np.isfinite(km).any():
            notes.append("km on the shoe unknown for some runs: not adjusted for shoe wear")
        return None
    spread = within_spread(km, cells)
    shoe_spread = within_spread(km, runs["shoe"].to_numpy())
    if shoe_spread < 1.0:
        return None  # km constant per shoe: the shoe term already holds it
    km0 = float(np.round(np.median(np.repeat(km, runs["strikes"].to_numpy())), -1))
    b.covariate(
        "shoe km",
        (km - km0) / 100.0,
        priors.WEAR_PRIOR,
        spread=spread / 100.0,
        min_spread=MIN_KM_SPREAD / 100.0,
        why_not="km on the shoe varies too little to fit",
    )
    return km0


def compare(
    strikes: pd.DataFrame,
    *,
    by: str = "surface",
    reference: str | None = None,
    placement: str | None = None,
    min_strikes: int = MIN_STRIKES,
    n_rep: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare groups of strikes (session, time_s, peak_g, clipped, near_gap, surface, speed_mps, shoe, ...).

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
        notes.append(f"left out {n_clipped} clipped strikes (a peak at the sensor's limit is only a lower bound)")
    if n_gap:
        notes.append(f"left out {n_gap} strikes next to a gap in the data")
    labels = _group_labels(usable, by)
    unlabelled = int((labels == "").sum())
    if unlabelled:
        what = {"surface": "without a surface label", "shoe": "without a shoe"}.get(by, "unlabelled")
        notes.append(f"left out {unlabelled} strikes {what}")
    usable = usable[labels != ""]
    if len(usable) == 0:
        raise InputError(f"no usable strikes with a {by} label to compare ({n_all} strikes in total)")
    df, runs = prepare(usable)
    df, runs = drop_tiny_runs(df, runs, notes)
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

    # --- design: group, the other factors, wear, speed ---------------------------------------------------
    b = DesignBuilder(len(runs))
    b.factor("group", runs["group"].to_numpy(), groups)
    nuisance = {"surface": ["shoe"], "shoe": ["surface"], "session": ["surface"]}[by]
    ref_runs = runs[runs["group"] == reference]
    adjusted: list[str] = []
    for factor in nuisance:
        levels = sorted(runs[factor].unique())
        if len(levels) > 1:
            base = _most_common(ref_runs[factor], ref_runs["strikes"])
            b.factor(factor, runs[factor].to_numpy(), levels, baseline=base)
            adjusted.append(factor)
    cells = (runs["group"] + "|" + runs["surface"] + "|" + runs["shoe"]).to_numpy()
    km0 = wear_slope(b, runs, cells, notes) if by != "session" else None
    cov, x0, _ = covariate_slope(b, runs, placement, cells, notes)
    adjusted = [cov, *adjusted] + (["shoe km"] if km0 is not None else [])
    design = b.build()
    fit, day = fit_runs(design, runs, n_rep=n_rep, seed=seed)
    if fit.day_source == "literature":
        notes.append(
            "too few repeated runs to see how much your impact varies from day to day: the ranges use the "
            "typical variation from studies (about 6 % between days); a few more runs of each kind would "
            "replace it with your own"
        )

    # --- per group -----------------------------------------------------------------------------------
    cov_word = "speed" if cov == "speed" else "cadence"
    comp = connected(runs, "group", nuisance[0])
    ref_speeds = ref_runs["speed_mps"].to_numpy(float)
    out: list[GroupResult] = []
    comparable = [g for g in groups if g != reference
                  and design.estimable({f"group={g}": 1.0, f"group={reference}": -1.0})]
    level = stats.simultaneous_level(len(comparable))
    for g in groups:
        sel = df["group"] == g
        rsel = runs["group"] == g
        grs = runs[rsel]
        per = steps_per_strike(placement)
        running_s = float(grs["running_s"].sum())
        n_strikes = int(sel.sum())
        peaks = df.loc[sel, "peak_g"].to_numpy(float)
        speeds = grs["speed_mps"].to_numpy(float)
        known = np.isfinite(speeds).all()
        overlap = None
        if known and np.isfinite(ref_speeds).all() and g != reference:
            overlap = bool(speeds.min() <= ref_speeds.max() + 0.1 and ref_speeds.min() <= speeds.max() + 0.1)
        index = ratio = ci = None
        if design.estimable({f"group={g}": 1.0}):
            index = float(np.exp(design.contrast(fit, {f"group={g}": 1.0})[0]))
        if g == reference:
            status, reason, verdict = "reference", None, f"{g}: the reference"
        elif not design.estimable({f"group={g}": 1.0, f"group={reference}": -1.0}):
            status = "cannot_tell"
            reason, tip = _why_not(by, g, reference, runs, nuisance[0], comp)
            verdict = f"{g} vs {reference}: can't tell. {reason[0].upper()}{reason[1:]}. {tip}"
        else:
            est, reps = design.contrast(fit, {f"group={g}": 1.0, f"group={reference}": -1.0})
            lo, hi = stats.percentile_ci(np.exp(reps), level)
            ratio, ci = float(np.exp(est)), [lo, hi]
            status = "within_noise" if lo <= 1.0 <= hi else ("higher" if lo > 1.0 else "lower")
            reason = None
            verdict = _verdict(g, reference, status, ratio, (lo, hi), cov_word)
            if fit.day_source == "literature" and len(grs) < 2:
                verdict += f" (one run on {g}: this range leans on typical day-to-day variation from studies)"
        out.append(
            GroupResult(
                name=g,
                status=status,
                reason=reason,
                verdict=verdict,
                steps=n_strikes * per,
                strikes=n_strikes,
                runs=int(rsel.sum()),
                sessions=int(grs["session"].nunique()),
                shoes=sorted(s for s in grs["shoe"].unique() if s),
                running_s=_r(running_s, 1),
                cadence_spm=_r(n_strikes * per * 60.0 / running_s if running_s > 0 else None, 1),
                speed_mps_range=[_r(speeds.min(), 2), _r(speeds.max(), 2)] if known else None,
                speed_overlaps_reference=overlap,
                peak_g_median=_r(float(np.median(peaks))),
                peak_g_p95=_r(float(np.percentile(peaks, 95))),
                impact_index=_r(index),
                ratio=_r(ratio, 4),
                ratio_ci95=None if ci is None else [_r(ci[0], 4), _r(ci[1], 4)],
                interval_rests_on=None
                if ci is None
                else RESTS_ON[fit.day_source],
            )
        )
    for s in design.slopes:
        if not s.fitted and s.covariate in ("speed", "cadence"):
            lo_p, hi_p = ((np.exp(np.array(s.range_ln_peak)) - 1) * 100).tolist()
            notes.append(
                f"your runs cannot show how {s.covariate} changes your impact, so published figures for a "
                f"{placement} sensor are used ({lo_p:+.0f} to {hi_p:+.0f}% per {s.unit}), and that whole range "
                "is inside the ranges above"
            )
    return Comparison(
        by=by,
        placement=placement,
        reference=reference,
        covariate=cov,
        common_speed_mps=x0 if cov == "speed" else None,
        common_cadence_spm=x0 if cov == "cadence" else None,
        adjusted_for=adjusted,
        slopes=design.slopes,
        day_to_day=day,
        groups=out,
        runs=[
            RunRow(
                session=r.session,
                surface=r.surface,
                shoe=r.shoe or None,
                speed_mps=_r(r.speed_mps, 2),
                strikes=int(r.strikes),
                running_s=_r(r.running_s, 1),
                cadence_spm=_r(r.cadence_spm, 1),
                peak_g_geomean=_r(float(np.exp(r.ln_peak_mean))),
            )
            for r in runs.itertuples()
        ],
        excluded={"clipped": n_clipped, "near_gap": n_gap, "unlabelled": unlabelled},
        notes=notes,
        method=(
            f"per-run mean ln(peak_g) = a_{by}"
            + "".join(f" + {a}" for a in adjusted)
            + f" + day-to-day + e; {cov} centred at {x0:g}"
            + (f", shoe km at {km0:g}" if km0 is not None else "")
            + f"; simultaneous 95% Monte Carlo intervals (each at {100 * level:.1f}%, Bonferroni over "
            f"{len(comparable)} comparison(s), so all hold together) over {n_rep} draws of the coefficients, the "
            "day-to-day variance and every literature slope (uniform over its range); impact_index = "
            "exp(a_group) in g at the common speed/cadence and the reference's most common shoe/surface"
        ),
    )


def _names(values: list[str]) -> str:
    values = [v or "no named shoe" for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def _why_not(by: str, g: str, ref: str, runs: pd.DataFrame, other: str, comp: dict[str, int]) -> tuple[str, str]:
    """Plain-words reason why g cannot be compared with ref, and the run that would settle it."""
    a = sorted(runs.loc[runs["group"] == g, other].unique())
    r = sorted(runs.loc[runs["group"] == ref, other].unique())
    if comp.get(g) == comp.get(ref):
        return (
            f"your runs on {g} differ from those on {ref} in several things at once (shoe, km, speed)",
            f"A run on {g} and one on {ref} on the same day in the same shoe would settle it.",
        )
    if by == "surface":
        shoe_r = r[0] or "the shoe you wore on " + ref
        return (
            f"you ran on {g} only in {_names(a)} and on {ref} only in {_names(r)}, so the shoe and the "
            "surface are mixed up",
            f"One run on {g} in {shoe_r} would separate them.",
        )
    if by == "shoe":
        return (
            f"{g} ran only on {_names(a)} and {ref} only on {_names(r)}, so the shoe and the surface are mixed up",
            f"One run in {g} on {r[0]} would separate them.",
        )
    return (
        f"session {g} was only on {_names(a)} and session {ref} only on {_names(r)}",
        "Compare by surface instead.",
    )


def _pct(x: float) -> str:
    return f"{x:.1f}" if abs(x) < 10 else f"{x:.0f}"


def _verdict(g: str, ref: str, status: str, ratio: float, ci: tuple[float, float], cov_word: str) -> str:
    """Plain-words verdict for an estimable comparison."""
    lo, hi = ((np.asarray(ci) - 1) * 100).tolist()
    if status == "within_noise":
        return (
            f"{g} vs {ref}: no difference your runs can show at the same {cov_word} "
            f"(anything from {_pct(abs(lo))}% lower to {_pct(hi)}% higher fits). More runs on both would narrow it."
        )
    pct = (ratio - 1) * 100
    word = "higher" if status == "higher" else "lower"
    a, b = sorted((abs(lo), abs(hi)))
    return (
        f"{g}: {_pct(abs(pct))}% {word} impact than {ref} at the same {cov_word} "
        f"(likely {_pct(a)} to {_pct(b)}% {word})"
    )
