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


def test_monte_carlo_interval_of_a_mean_is_a_t_interval_from_the_run_scatter() -> None:
    # 8 run means around 1.0 with SD 0.05: the 95 % interval of their mean is mean +- t(7) * 0.05 / sqrt(8).
    rng = np.random.default_rng(2)
    y = 1.0 + rng.normal(0, 0.05, 8)
    fit = stats.monte_carlo_fit(np.ones((8, 1)), y, np.zeros(8), [], day_sd_prior=(0.045, 0.075), n_rep=40000)
    lo, hi = stats.percentile_ci(fit.replicates[:, 0])
    half = 2.365 * y.std(ddof=1) / np.sqrt(8)
    assert fit.day_source == "your runs" and fit.residual_df == 7
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.05)
    assert fit.coef[0] == pytest.approx(y.mean())


def test_monte_carlo_with_too_few_runs_uses_the_literature_day_to_day_range() -> None:
    y = np.array([1.0, 1.1])
    x = np.eye(2)
    fit = stats.monte_carlo_fit(x, y, np.zeros(2), [], day_sd_prior=(0.05, 0.05), n_rep=40000)
    assert fit.day_source == "literature" and fit.residual_df == 0
    diff = fit.replicates[:, 1] - fit.replicates[:, 0]
    assert diff.std() == pytest.approx(0.05 * np.sqrt(2), rel=0.03)


def test_a_drawn_slope_adds_its_range_to_the_interval() -> None:
    # Two groups 1 m/s apart in speed, slope drawn from [0, 0.3]: the group difference spreads by 0.3.
    x = np.repeat(np.eye(2), 5, axis=0)
    speed = np.repeat([0.0, 1.0], 5)
    y = 0.15 * speed
    fixed = [stats.FixedSlope(speed, 0.0, 0.3)]
    fit = stats.monte_carlo_fit(x, y, np.full(10, 1e-8), fixed, day_sd_prior=(0.0, 0.0), n_rep=20000)
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
