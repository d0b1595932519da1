"""Impact load: Carter-type bone stimulus per session and per week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitimpact.report.load import bone_stimulus, session_load, weekly_load


def test_bone_stimulus_is_fourth_root_of_sum_of_fourth_powers() -> None:
    assert bone_stimulus(np.full(16, 2.0)) == pytest.approx(4.0)  # (16 * 2^4)^(1/4)
    assert bone_stimulus(np.full(32, 2.0)) / bone_stimulus(np.full(16, 2.0)) == pytest.approx(2**0.25)
    assert bone_stimulus(np.full(16, 2.2)) / bone_stimulus(np.full(16, 2.0)) == pytest.approx(1.1)
    assert bone_stimulus(np.array([])) == 0.0
    assert np.isfinite(bone_stimulus(np.full(10**6, 1e80)))


def frame(session: int, start: str, peaks: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"session": session, "start_utc": pd.Timestamp(start, tz="UTC"), "peak_g": peaks, "placement": "waist"}
    )


def test_session_and_weekly_load_group_strikes_by_session_and_monday_week() -> None:
    df = pd.concat(
        [
            frame(1, "2026-11-02 07:00", [2.0] * 16),  # Monday
            frame(2, "2026-11-08 20:00", [2.0] * 16),  # Sunday, same week
            frame(3, "2026-11-09 06:00", [3.0] * 10),  # next Monday
        ]
    )
    per_session = session_load(df)
    assert per_session.loc[1, "strikes"] == 16
    assert per_session.loc[1, "cumulative_impact_g"] == pytest.approx(32.0)
    assert per_session.loc[1, "bone_stimulus_g"] == pytest.approx(4.0)
    weeks = weekly_load(df)
    assert [str(w.date()) for w in weeks["week"]] == ["2026-11-02", "2026-11-09"]
    assert list(weeks["sessions"]) == [2, 1] and list(weeks["strikes"]) == [32, 10]
    assert weeks.loc[0, "bone_stimulus_g"] == pytest.approx((32 * 16) ** 0.25)
