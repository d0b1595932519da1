"""Toe-off timing primitives, flight time and duty factor, and their place in the summary."""

from __future__ import annotations

import numpy as np

from gaitimpact.analysis.summary import asymmetry, steps_table, summarize
from gaitimpact.core.contact import flight_and_duty, steepest_fall_end, tangent_events
from gaitimpact.core.pipeline import analyze_recording


def test_steepest_fall_end_meets_the_flight_level_of_a_half_sine():
    t = np.arange(0, 0.5, 0.002)
    tc = 0.25  # stance of 250 ms: v = 1.5 sin(pi t / tc) then flight at 0 g
    v = np.where(t < tc, 1.5 * np.sin(np.pi * t / tc), 0.0)
    to = steepest_fall_end(t, v, np.array([int(0.125 / 0.002)]), np.array([int(0.3 / 0.002)]))
    assert abs(to[0] - tc) <= 0.004


def test_tangent_rise_onset_is_where_a_ramp_leaves_its_floor():
    t = np.arange(0, 0.3, 0.001)
    x = np.where(t < 0.1, 1.0, 1.0 + 50.0 * (t - 0.1))  # a 50 g/s rise starting at 0.1 s
    on = tangent_events(t, x, np.array([50]), np.array([200]), 0.2, falling=False)
    assert abs(on[0] - 0.1) <= 0.002


def test_flight_and_duty_of_a_regular_waist_run():
    ic = np.arange(10) * 0.33
    ct = np.full(10, 240.0)
    ok = np.ones(9, dtype=bool)
    flight, duty = flight_and_duty(ic, ct, ok, steps_per_strike=1)
    assert np.allclose(flight[:-1], 90.0)
    assert np.allclose(duty[:-1], 240.0 / 660.0)
    assert np.isnan(flight[-1]) and np.isnan(duty[-1])  # no next strike: unknown


def test_asymmetry_needs_both_sides_and_gives_an_interval():
    left = np.full(20, 250.0) + np.arange(20) * 0.1
    right = np.full(20, 230.0) + np.arange(20) * 0.1
    a = asymmetry(left, right)
    assert 7.0 < a["pct"] < 10.0
    assert a["ci95_pct"][0] <= a["pct"] <= a["ci95_pct"][1]
    assert asymmetry(left[:3], right) is None


def test_summary_and_steps_table_carry_contact_flight_and_duty(sim):
    res = sim("waist", 200.0, speed_mps=3.5)
    ana = analyze_recording(res.recording, placement="waist")
    summ = summarize(res.recording, ana)
    truth_ms = float(np.median(res.truth.contact_time_s)) * 1e3
    assert abs(summ["contact_ms_median"] - truth_ms) <= 15.0
    assert 0.2 < summ["duty_factor"] < 0.5
    assert summ["flight_ms_median"] > 0
    assert summ["bouts"][0]["contact_ms_median"] is not None
    assert "contact_ms" in summ["feet"]["L"] or "contact_ms_median" in summ["feet"]["L"]
    assert set(summ["asymmetry"]) == {"peak_g", "contact_ms"}
    table = steps_table(res.recording, ana)
    assert "contact_ms" in table.columns
    assert np.isfinite(table["contact_ms"]).mean() >= 0.95


def test_cadence_of_a_few_strikes_with_one_missed_stays_sane():
    from gaitimpact.core.cadence import cadence_spm

    # three strides of 0.7 s seen by a shoe sensor, one strike missed: intervals 0.7, 1.4
    spm = cadence_spm(np.array([0.0, 0.7, 2.1]), steps_per_strike=2)
    assert abs(spm - 120.0 * 2 / 1.4) < 1e-6  # 171.4 steps/min from the one whole stride
