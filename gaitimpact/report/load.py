"""Impact load per session and per week: strikes, cumulative impact and a bone-loading index.

Bone-loading index: Carter's daily stress stimulus (Carter, Fyhrie & Whalen 1987, J Biomech
20:785-794; Whalen, Carter & Steele 1988, J Biomech 21:825-837),

    psi = ( sum_i n_i * sigma_i ** m ) ** (1 / m),

where n_i loading cycles of stress magnitude sigma_i are summed over the day's activities and m is an
empirical weighting of magnitude against number of cycles. Whalen et al. estimated m from running
studies and found that stress magnitude matters more than the number of cycles; values of about 3-8
appear in that work and m = 4 is the common choice, used here (`BONE_STIMULUS_M`). Following wearable
practice (e.g. IMeasureU's "Bone Stimulus", built on Carter's stimulus) every detected strike is one
cycle and its peak impact (peak_g, g) stands in for the stress magnitude:

    bone_stimulus = ( sum over strikes of peak_g ** 4 ) ** (1/4)      [g]

It grows with the fourth root of the number of strikes (doubling the run raises it by 19 %) and with
the peak itself (10 % higher peaks raise it by 10 %). Per week the sum runs over all the week's strikes.
It is a relative index for one runner and one placement (a shoe sensor counts one foot's strikes), not a
stress in MPa. Clipped strikes enter with their (lower-bound) peak. Cumulative impact = sum of peak_g.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BONE_STIMULUS_M = 4.0
"""Stress exponent m of Carter's daily stress stimulus."""


def bone_stimulus(peak_g: np.ndarray, m: float = BONE_STIMULUS_M) -> float:
    """Carter-type bone stimulus (sum peak_g^m)^(1/m) in g over the given strikes (0 for none)."""
    p = np.asarray(peak_g, float)
    p = p[np.isfinite(p) & (p > 0)]
    if p.size == 0:
        return 0.0
    # Scale by the maximum before the power to stay well inside float range.
    top = float(p.max())
    return top * float(np.sum((p / top) ** m)) ** (1.0 / m)


def _aggregate(strikes: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    p = strikes["peak_g"].to_numpy(float)
    p = np.where(np.isfinite(p) & (p > 0), p, 0.0)
    frame = pd.DataFrame({"key": key.to_numpy(), "p": p, "p4": p**BONE_STIMULUS_M})
    g = frame.groupby("key", sort=True)
    out = pd.DataFrame(
        {
            "strikes": g.size(),
            "cumulative_impact_g": g["p"].sum(),
            "bone_stimulus_g": g["p4"].sum() ** (1.0 / BONE_STIMULUS_M),
            "peak_g_median": g["p"].median(),
        }
    )
    return out


def session_load(strikes: pd.DataFrame) -> pd.DataFrame:
    """Per session: strikes, cumulative_impact_g (sum of peaks, g), bone_stimulus_g, peak_g_median (g)."""
    if len(strikes) == 0:
        return pd.DataFrame(columns=["strikes", "cumulative_impact_g", "bone_stimulus_g", "peak_g_median"])
    out = _aggregate(strikes, strikes["session"])
    out.index.name = "session"
    return out


def weekly_load(strikes: pd.DataFrame) -> pd.DataFrame:
    """Per week (Monday, UTC) and placement: sessions, strikes, cumulative_impact_g, bone_stimulus_g (g)."""
    cols = ["week", "placement", "sessions", "strikes", "cumulative_impact_g", "bone_stimulus_g"]
    if len(strikes) == 0:
        return pd.DataFrame(columns=cols)
    start = pd.to_datetime(strikes["start_utc"], utc=True)
    week = (start.dt.tz_localize(None).dt.normalize() - pd.to_timedelta(start.dt.day_of_week, unit="D")).dt.date
    placement = (
        strikes["placement"].astype(str) if "placement" in strikes else pd.Series("auto", index=strikes.index)
    )
    key = week.astype(str) + "|" + placement
    agg = _aggregate(strikes, key)
    sessions = strikes.groupby(key.to_numpy())["session"].nunique()
    agg["sessions"] = sessions
    agg = agg.reset_index().rename(columns={"index": "key"})
    agg[["week", "placement"]] = agg["key"].str.split("|", n=1, expand=True)
    agg["week"] = pd.to_datetime(agg["week"])
    return agg[cols].sort_values(["week", "placement"]).reset_index(drop=True)
