"""Statistics helpers: runs, blocks, weighted fits, the Rao-Wu cluster bootstrap and OLS with t intervals."""

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


def test_blocks_cut_long_runs_into_30_s_pieces_and_short_runs_into_four() -> None:
    long = pd.DataFrame({"session": 1, "bout": 0, "surface": "a", "speed_mps": 3.0, "time_s": np.arange(0, 150, 0.5)})
    blocks = stats.block_units(long)
    assert len(np.unique(blocks)) == 5 and np.all(np.bincount(blocks) == 60)
    short = long[long.time_s < 20.0]
    assert len(np.unique(stats.block_units(short))) == 4


def test_wls_on_unit_means_equals_strike_level_least_squares() -> None:
    rng = np.random.default_rng(0)
    x_unit = np.array([[1, 0, 0.1], [1, 0, -0.2], [0, 1, 0.3], [0, 1, 0.0]])
    n = np.array([10, 20, 15, 5])
    y = [rng.normal(size=k) + i for i, k in enumerate(n)]
    x_strike = np.repeat(x_unit, n, axis=0)
    full = np.linalg.lstsq(x_strike, np.concatenate(y), rcond=None)[0]
    means = np.array([v.mean() for v in y])
    assert np.allclose(stats.wls(x_unit, means, n), full)


def test_rao_wu_bootstrap_keeps_weights_unbiased_and_variance_of_a_mean_right() -> None:
    # 4 clusters with means m; the bootstrap variance of the mean should match var(m)/4 (not 3/4 of it).
    m = np.array([1.0, 2.0, 4.0, 7.0])
    x = np.ones((4, 1))
    res = stats.cluster_bootstrap(x, m, np.ones(4), np.arange(4), np.zeros(4), n_boot=40000, seed=1)
    assert res.coef[0] == pytest.approx(m.mean())
    assert res.replicates[:, 0].mean() == pytest.approx(m.mean(), abs=0.03)
    assert res.replicates[:, 0].var() == pytest.approx(m.var(ddof=1) / 4, rel=0.05)
    assert res.dropped == 0


def test_bootstrap_strata_keep_every_stratum_in_every_replicate() -> None:
    x = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]], float)
    y = np.array([1.0, 1.1, 0.9, 2.0, 2.2, 1.8])
    res = stats.cluster_bootstrap(x, y, np.ones(6), np.arange(6), np.array([0, 0, 0, 1, 1, 1]), n_boot=500)
    assert res.dropped == 0 and np.isfinite(res.replicates).all()


def test_ols_t_interval_covers_the_true_slope() -> None:
    rng = np.random.default_rng(4)
    km = np.linspace(0, 7, 12)
    y = 1.0 + 0.02 * km + rng.normal(0, 0.01, km.size)
    fit = stats.ols_t(np.c_[np.ones_like(km), km], y)
    lo, hi = fit.ci(1)
    assert fit.df == 10 and lo < 0.02 < hi and hi - lo < 0.01


def test_full_rank_detects_confounded_columns() -> None:
    a = np.array([[1, 0, 2.0], [1, 0, 2.0], [0, 1, 3.0], [0, 1, 3.0]])
    assert not stats.full_rank(a)
    assert stats.full_rank(a[:, :2])


def test_valid_strikes_drops_clipped_gap_and_nonpositive_peaks() -> None:
    df = pd.DataFrame({"peak_g": [3.0, 0.0, np.nan, 4.0, 5.0], "clipped": [0, 0, 0, 1, 0], "near_gap": [0, 0, 0, 0, 1]})
    assert list(stats.valid_strikes(df).index) == [0]
