"""Session overview: the library's sessions joined with their impact load (the `sessions` listing)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from gaitimpact.report.library import Library
from gaitimpact.report.load import session_load


def session_overview(lib: Library, since: datetime | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sessions with strikes, cumulative_impact_g, bone_stimulus_g, peak_g_median; their strike table)."""
    sessions = lib.sessions(since)
    strikes = lib.strikes(since)
    load = session_load(strikes)
    sessions = sessions.drop(columns=["strikes"]).merge(load, how="left", left_on="session", right_index=True)
    sessions["strikes"] = sessions["strikes"].fillna(0).astype(int)
    return sessions, strikes
