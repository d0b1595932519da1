"""Session overview: the library's sessions joined with their impact load and impact drift (`sessions`)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from gaitimpact.core.drift import impact_drift
from gaitimpact.report.library import Library
from gaitimpact.report.load import session_load


def session_overview(lib: Library, since: datetime | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sessions with strikes, cumulative_impact_g, bone_stimulus_g, peak_g_median, drift_pct_per_10min and
    its 95 % CI bounds drift_lo_pct/drift_hi_pct; their strike table)."""
    sessions = lib.sessions(since)
    strikes = lib.strikes(since)
    load = session_load(strikes).join(session_drift(strikes))
    sessions = sessions.drop(columns=["strikes"]).merge(load, how="left", left_on="session", right_index=True)
    sessions["strikes"] = sessions["strikes"].fillna(0).astype(int)
    return sessions, strikes


def session_drift(strikes: pd.DataFrame) -> pd.DataFrame:
    """Per session: speed-adjusted impact drift in % per 10 min and its 95 % CI (NaN when too short)."""
    rows = {}
    for sid, g in strikes.groupby("session", sort=True):
        usable = ~g["clipped"].astype(bool).to_numpy() & ~g["near_gap"].astype(bool).to_numpy()
        d = impact_drift(g["time_s"].to_numpy(float), g["peak_g"].to_numpy(float), usable,
                         g["surface"].fillna("").astype(str).to_numpy(),
                         pd.to_numeric(g["speed_mps"], errors="coerce").to_numpy(float))
        ci = d["pct_per_10min_ci95"] or [np.nan, np.nan]
        rows[sid] = (d["pct_per_10min"] if d["pct_per_10min"] is not None else np.nan, ci[0], ci[1])
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["drift_pct_per_10min", "drift_lo_pct", "drift_hi_pct"])
    out.index.name = "session"
    return out
