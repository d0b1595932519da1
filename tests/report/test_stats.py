"""Statistics helpers: runs, estimability, and the Monte Carlo fit (day-to-day variance, drawn slopes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitimpact.report import stats


def test_runs_start_at_new_session_bout_surface_or_speed() -> None:
    df = pd.DataFrame(
        {
            "session": [1, 1, 1, 1, 1, 2, 2],
            "bout": [0, 0, 0, 1, 1, 0, 0],
            "surface": ["a", "a", "g", "g", "g", "g", "g"],
            "speed_mps": [3.0, 3.0, 3.0, 3.0, 3.5, 3.5, 3.5],
            "time_s": np.arange(7.0),
        }
    )
    assert list(stats.label_runs(df)) == [0, 0, 1, 2, 3, 4, 4]


def test_with_a_weak_prior_the_interval_of_a_mean_is_a_t_interval_from_the_run_scatter() -> None:
    # 8 run means (8 days) around 1.0 with SD 0.05, prior worth ~0 df: mean +- t(7) * s / sqrt(8).
    rng = np.random.default_rng(2)
    y = 1.0 + rng.normal(0, 0.05, 8)
    fit = stats.monte_carlo_fit(np.ones((8, 1)), y, np.zeros(8), [], day_sd_prior=(0.06, 1e-9), n_rep=40000)
    lo, hi = stats.percentile_ci(fit.replicates[:, 0])
    half = 2.365 * y.std(ddof=1) / np.sqrt(8)
    assert fit.day_source == "your runs" and fit.residual_df == 7
    assert fit.own_day_sd == pytest.approx(y.std(ddof=1), rel=1e-6)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.05)
    assert fit.coef[0] == pytest.approx(y.mean())


def test_a_small_day_sd_from_few_sessions_is_pooled_with_the_literature_so_the_interval_stays_wide() -> None:
    # 4 days whose runs scatter by only 1 %: pooled with 6 % worth 14 df, the day SD used is about
    # sqrt((14 * 36 + 3 * 1) / 17) = 5.5 % (times a chi-square median factor), not 1 %.
    y = 1.0 + np.array([-0.01, 0.01, -0.005, 0.005]) * 1.3
    fit = stats.monte_carlo_fit(np.ones((4, 1)), y, np.zeros(4), [], day_sd_prior=(0.06, 14), n_rep=40000)
    assert fit.day_source == "your runs and studies" and fit.residual_df == 3
    pooled = np.sqrt((14 * 0.06**2 + 3 * fit.own_day_sd**2) / 17)
    assert fit.own_day_sd < 0.015 and fit.day_sd == pytest.approx(pooled, rel=0.1)
    assert fit.replicates[:, 0].std() > 0.05 / np.sqrt(4)


def test_with_no_repeated_days_the_literature_day_sd_is_used() -> None:
    y = np.array([1.0, 1.1])
    x = np.eye(2)
    fit = stats.monte_carlo_fit(x, y, np.zeros(2), [], day_sd_prior=(0.05, 1e9), n_rep=40000)
    assert fit.day_source == "literature" and fit.residual_df == 0
    diff = fit.replicates[:, 1] - fit.replicates[:, 0]
    assert diff.std() == pytest.approx(0.05 * np.sqrt(2), rel=0.03)


def test_day_degrees_of_freedom_are_counted_in_sessions_not_runs() -> None:
    # Two surfaces in each of 3 sessions: 6 runs but 3 days; with 2 parameters 1 day df is left.
    x = np.tile(np.eye(2), (3, 1))
    y = np.array([1.0, 1.1, 1.02, 1.12, 0.98, 1.08])
    fit = stats.monte_carlo_fit(x, y, np.full(6, 1e-4), [], day_sd_prior=(0.06, 14),
                                sessions=np.repeat([0, 1, 2], 2), n_rep=1000)
    assert fit.residual_df == 1 and fit.day_source == "your runs and studies"


def test_a_drawn_slope_adds_its_range_to_the_interval() -> None:
    # Two groups 1 m/s apart in speed, slope drawn from [0, 0.3]: the group difference spreads by 0.3.
    x = np.repeat(np.eye(2), 5, axis=0)
    speed = np.repeat([0.0, 1.0], 5)
    y = 0.15 * speed
    fixed = [stats.FixedSlope(speed, 0.0, 0.3)]
    fit = stats.monte_carlo_fit(x, y, np.full(10, 1e-8), fixed, day_sd_prior=(1e-9, 1e9), n_rep=20000)
    diff = fit.replicates[:, 1] - fit.replicates[:, 0]
    assert fit.coef[1] - fit.coef[0] == pytest.approx(0.0, abs=1e-9)
    assert diff.min() == pytest.approx(-0.15, abs=0.01) and diff.max() == pytest.approx(0.15, abs=0.01)


def test_estimable_contrasts_of_a_confounded_design() -> None:
    # surfaces a, b only in shoe X; c, d only in shoe Y: a-b and c-d identified, a-c not.
    x = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 1], [0, 0, 0, 1, 1]], float)
    assert stats.estimable(x, np.array([1, -1, 0, 0, 0.0]))
    assert stats.estimable(x, np.array([0, 0, 1, -1, 0.0]))
    assert not stats.estimable(x, np.array([1, 0, -1, 0, 0.0]))


def test_full_rank_detects_confounded_columns() -> None:
    a = np.array([[1, 0, 2.0], [1, 0, 2.0], [0, 1, 3.0], [0, 1, 3.0]])
    assert not stats.full_rank(a)
    assert stats.full_rank(a[:, :2])


def test_valid_strikes_drops_clipped_gap_and_nonpositive_peaks() -> None:
    df = pd.DataFrame({"peak_g": [3.0, 0.0, np.nan, 4.0, 5.0], "clipped": [0, 0, 0, 1, 0], "near_gap": [0, 0, 0, 0, 1]})
    assert list(stats.valid_strikes(df).index) == [0]
