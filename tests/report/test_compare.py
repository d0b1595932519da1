"""Surface comparison on synthetic strike tables with known factors: ratios, CIs, verdicts, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from report_helpers import synthetic_strikes

from gaitimpact.errors import InputError
from gaitimpact.report.compare import compare
from gaitimpact.report.shoes import shoe_trends

PLAN_CONFOUNDED = {"concrete": [2.6, 3.0, 3.4], "asphalt": [3.0, 3.4, 3.8], "grass": [3.4, 3.8, 4.2]}


def by_name(doc: dict) -> dict:
    return {r["surface"]: r for r in doc["surfaces"]}


def test_json_document_has_the_issue_schema_and_is_serialisable() -> None:
    doc = compare(synthetic_strikes(PLAN_CONFOUNDED), n_boot=300)
    json.dumps(doc)
    assert {"reference", "adjusted_for", "surfaces"} <= set(doc)
    for row in doc["surfaces"]:
        for key in ("surface", "steps", "running_s", "cadence_spm", "peak_g_median", "peak_g_p95",
                    "impact_index", "ratio", "ratio_ci95"):
            assert key in row
        assert row["ratio_ci95"][0] <= row["ratio"] <= row["ratio_ci95"][1]


def test_speed_adjustment_recovers_factors_although_surfaces_ran_at_different_speeds() -> None:
    factors = {"concrete": 1.0, "asphalt": 0.97, "grass": 0.90}
    df = synthetic_strikes(PLAN_CONFOUNDED, factors=factors, session_sd=0.005, n=400)
    doc = compare(df, n_boot=500)
    rows = by_name(doc)
    assert doc["reference"] == "concrete" and doc["adjusted_for"] == ["speed"]
    assert doc["speed_slope"]["source"] == "fitted from your runs"
    assert doc["speed_slope"]["per_unit_ln_peak"] == pytest.approx(0.3, abs=0.05)
    for s, f in factors.items():
        assert rows[s]["ratio"] == pytest.approx(f, rel=0.02)
        assert rows[s]["ratio_ci95"][0] <= f <= rows[s]["ratio_ci95"][1]
    naive = df[df.surface == "grass"].peak_g.median() / df[df.surface == "concrete"].peak_g.median()
    assert abs(naive / 0.90 - 1) > 0.15  # the unadjusted comparison would be badly wrong


def test_equal_surfaces_are_reported_within_the_noise() -> None:
    plan = {"concrete": [3.0, 3.2, 3.4], "grass": [3.0, 3.2, 3.4]}
    doc = compare(synthetic_strikes(plan, session_sd=0.03, seed=3), n_boot=500)
    grass = by_name(doc)["grass"]
    lo, hi = grass["ratio_ci95"]
    assert lo <= 1.0 <= hi
    assert "within the noise" in grass["verdict"]


def test_ci_respects_run_to_run_variation_so_it_is_wider_than_the_strike_level_ci() -> None:
    plan = {"concrete": [3.0, 3.1, 3.2, 3.3], "asphalt": [3.0, 3.1, 3.2, 3.3]}
    df = synthetic_strikes(plan, session_sd=0.06, strike_sd=0.1, n=200, seed=5)
    lo, hi = by_name(compare(df, n_boot=800))["asphalt"]["ratio_ci95"]
    # iid strike-level standard error of the log ratio: sqrt(2 * 0.1^2 / 800)
    iid_half_width = 1.96 * np.sqrt(2 * 0.1**2 / 800)
    assert (np.log(hi) - np.log(lo)) / 2 > 2 * iid_half_width


def test_default_reference_is_concrete_then_asphalt_then_most_strikes() -> None:
    doc = compare(synthetic_strikes({"grass": [3.0, 3.2], "asphalt": [3.0, 3.3]}), n_boot=100)
    assert doc["reference"] == "asphalt"
    doc = compare(synthetic_strikes({"grass": [3.0, 3.2], "asphalt": [3.0, 3.3]}), reference="grass", n_boot=100)
    assert doc["reference"] == "grass"
    with pytest.raises(InputError, match="reference 'track' not in the data"):
        compare(synthetic_strikes({"grass": [3.0], "asphalt": [3.0]}), reference="track", n_boot=50)


def test_unknown_speed_adjusts_by_cadence_and_says_so() -> None:
    df = synthetic_strikes({"concrete": [3.0, 3.3, 3.6], "grass": [3.0, 3.3, 3.6]})
    df["speed_mps"] = np.nan
    doc = compare(df, n_boot=200)
    assert doc["adjusted_for"] == ["cadence"]
    assert "common_cadence_spm" in doc
    assert any("adjusted by cadence" in n for n in doc["notes"])


def test_constant_speed_within_each_surface_falls_back_to_the_literature_slope() -> None:
    df = synthetic_strikes({"concrete": [3.0, 3.0, 3.0], "grass": [3.5, 3.5, 3.5]})
    doc = compare(df, n_boot=200)
    assert doc["speed_slope"]["source"].startswith("literature fallback")
    assert doc["speed_slope"]["per_unit_ln_peak"] == pytest.approx(np.log(1.38), abs=1e-3)


def test_surface_with_too_few_strikes_is_an_input_error_naming_it() -> None:
    df = synthetic_strikes({"concrete": [3.0, 3.2], "grass": [3.0]})
    df = df[(df.surface != "grass") | (df.time_s < 5)]
    with pytest.raises(InputError, match="too few strikes to compare: 'grass' has 15"):
        compare(df)


def test_no_strikes_or_a_single_surface_cannot_be_compared() -> None:
    df = synthetic_strikes({"concrete": [3.0, 3.2]})
    with pytest.raises(InputError, match="no strikes"):
        compare(df.iloc[:0])
    with pytest.raises(InputError, match="only one surface"):
        compare(df)


def test_clipped_and_gap_strikes_are_left_out_and_counted() -> None:
    df = synthetic_strikes({"concrete": [3.0, 3.2], "grass": [3.0, 3.2]})
    df.loc[df.index[:10], "clipped"] = True
    df.loc[df.index[10:13], "near_gap"] = True
    doc = compare(df, n_boot=100)
    assert doc["excluded"]["clipped"] == 10 and doc["excluded"]["near_gap"] == 3
    assert sum(r["strikes"] for r in doc["surfaces"]) == len(df) - 13


def test_one_foot_sensor_counts_two_steps_per_strike() -> None:
    df = synthetic_strikes({"concrete": [3.0, 3.2], "grass": [3.0, 3.2]}, placement="shoe")
    rows = by_name(compare(df, n_boot=100))
    assert rows["grass"]["steps"] == 2 * rows["grass"]["strikes"]
    # 120 strikes 0.35 s apart per run: cadence = 2 * 60 / 0.35 steps/min
    assert rows["grass"]["cadence_spm"] == pytest.approx(2 * 60 / 0.35, rel=0.01)


def test_compare_by_shoe_adjusts_for_surface() -> None:
    a = synthetic_strikes({"concrete": [3.0, 3.4], "grass": [3.0, 3.4]}, factors={"grass": 0.9}, seed=1)
    b = synthetic_strikes({"concrete": [3.1, 3.5], "grass": [3.1, 3.5]}, factors={"grass": 0.9}, seed=2)
    b["session"] += 100
    b["shoe"] = "B"
    b["peak_g"] *= 1.05
    doc = compare(__import__("pandas").concat([a, b]), by="shoe", reference="A", n_boot=300)
    assert doc["adjusted_for"] == ["speed", "surface"]
    rows = {r["shoe"]: r for r in doc["groups"]}
    assert rows["B"]["ratio"] == pytest.approx(1.05, rel=0.02)


def test_one_stray_strike_at_walking_speed_does_not_shift_the_shoe_points():
    # Regression: a running strike detected a few ms before a run segment starts carries the walking
    # segment's speed (1.4 m/s); as a one-strike run it weighed as much as a whole run in the per-run fit
    # and moved every session's impact index by ~40 % (15.6 g points for ~11.5 g runs).
    strikes = synthetic_strikes({"concrete": [3.5], "track": [3.5], "trail": [3.5]}, n=200, placement="shoe")
    strikes["shoe_km"] = strikes["session"].map({1: 0.0, 2: 1.0, 3: 2.0})
    stray = strikes.iloc[[0]].assign(time_s=-0.35, speed_mps=1.4)
    strikes = pd.concat([stray, strikes], ignore_index=True)
    medians = strikes.groupby("session")["peak_g"].median()
    doc = shoe_trends(strikes)
    (shoe,) = doc["shoes"]
    assert len(shoe["points"]) == 3
    for p in shoe["points"]:
        assert 0.85 * medians.min() < p["impact_index"] < 1.15 * medians.max(), p
    assert any("left out 1 strike(s) in 1 run(s)" in n for n in doc["notes"])
