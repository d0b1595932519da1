"""Report plots as PNG bytes (matplotlib Agg canvas, no pyplot state, no display needed)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gaitimpact.errors import InputError
from gaitimpact.io.fsutil import atomic_write_bytes
from gaitimpact.report.compare import Comparison
from gaitimpact.report.shoes import ShoeReport
from gaitimpact.usertext import plot_text

DPI = 110
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def save_png(data: bytes, path: str | os.PathLike) -> None:
    """Write PNG bytes atomically to `path`; InputError unless it ends in .png (no PNG under another name)."""
    if Path(path).suffix.lower() != ".png":
        raise InputError(f"plots are written as PNG: give a file name ending in .png, got {Path(path).name!r}",
                         path=str(path), field="--plot")
    atomic_write_bytes(path, data)


def compare_png(cmp: Comparison, strikes: pd.DataFrame) -> bytes:
    """Per-group peak_g distributions (box plots, g) and the adjusted ratios to the reference with 95% CIs."""
    by = cmp.by
    names = [g.name for g in cmp.groups]
    labels = strikes[by].astype(str)
    ok = ~strikes["clipped"].astype(bool) & ~strikes["near_gap"].astype(bool)
    if "placement" in strikes:
        ok &= strikes["placement"].astype(str) == cmp.placement
    data = [strikes.loc[ok & (labels == n), "peak_g"].to_numpy(float) for n in names]
    fig = Figure(figsize=(10, 4.2))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    bp = ax1.boxplot(data, showfliers=False, patch_artist=True, widths=0.6)
    shown_names = [plot_text(n, 30) for n in names]  # user text: never mathtext, never megabytes
    ax1.set_xticks(range(1, len(names) + 1), shown_names, rotation=20 if len(names) > 4 else 0)
    for patch, color in zip(bp["boxes"], PALETTE * 4):
        patch.set_facecolor(color)
        patch.set_alpha(0.45)
    ax1.set_ylabel("peak impact per strike (g)")
    ax1.set_title(f"Measured peaks by {by} ({cmp.placement}, not speed-adjusted)", fontsize=10)
    ax1.grid(axis="y", alpha=0.3)
    y = np.arange(len(cmp.groups))[::-1]
    ax2.axvline(1.0, color="#444444", lw=1, ls="--")
    spans = [0.05]
    for i, (yi, g) in enumerate(zip(y, cmp.groups)):
        if g.status == "reference":
            ax2.plot(1.0, yi, "s", color="#777777", ms=6)
        elif g.ratio is None:
            ax2.text(1.0, yi, "  can't tell", va="center", fontsize=8, color="#aa3333")
        else:
            lo, hi = g.ratio_ci95
            ax2.errorbar(g.ratio, yi, xerr=[[g.ratio - lo], [hi - g.ratio]], fmt="o",
                         color=PALETTE[i % len(PALETTE)], capsize=4, ms=6)
            spans.append(max(abs(lo - 1), abs(hi - 1)) * 1.2)
    ax2.set_yticks(y, shown_names)
    common = cmp.common_speed_mps
    at = f" at {common:g} m/s" if common is not None else f" at {cmp.common_cadence_spm:g} steps/min"
    ax2.set_xlabel(f"impact ratio to {plot_text(cmp.reference, 30)} (95% range)")
    ax2.set_title(f"Adjusted for {', '.join(cmp.adjusted_for)}{at}", fontsize=10)
    ax2.grid(axis="x", alpha=0.3)
    span = float(max(spans))
    ax2.set_xlim(1 - span, 1 + span)
    fig.tight_layout()
    return _png(fig)


def shoes_png(rep: ShoeReport) -> bytes:
    """Speed-adjusted impact index (g) per session against km on the shoe, with each shoe's fitted trend."""
    fig = Figure(figsize=(10, 4.2))
    ax = fig.subplots()
    drawn = 0
    for i, shoe in enumerate(rep.shoes):
        if not shoe.points:
            continue
        km = np.array([p.km for p in shoe.points], float)
        idx = np.array([p.impact_index for p in shoe.points], float)
        color = PALETTE[i % len(PALETTE)]
        label = plot_text(shoe.shoe)
        if shoe.pct_per_100km is not None:
            lo, hi = shoe.pct_per_100km_ci95
            label += f": {shoe.pct_per_100km:+.1f}%/100 km (95% CI {lo:+.1f} to {hi:+.1f})"
            grid = np.linspace(km.min(), km.max(), 50)
            centre = np.exp(np.mean(np.log(idx)))
            line = centre * (1 + shoe.pct_per_100km / 100.0) ** ((grid - km.mean()) / 100.0)
            ax.plot(grid, line, color=color, lw=1.5)
        ax.plot(km, idx, "o", color=color, label=label, alpha=0.8)
        drawn += 1
    for x in (500, 800):
        ax.axvline(x, color="#999999", ls=":", lw=1)
    ax.set_xlabel("km on the shoe at the session")
    adjusted = " and ".join(rep.adjusted_for or ["nothing"])
    ax.set_ylabel("impact index (g)")
    ax.set_title(f"Shoe age: impact adjusted for {adjusted} (dotted: 500 and 800 km)", fontsize=10)
    if drawn:
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(0.5, 0.5, "no sessions with a shoe yet", ha="center", va="center", transform=ax.transAxes)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def load_png(weekly: pd.DataFrame, sessions: pd.DataFrame) -> bytes:
    """Weekly bone stimulus index (g, bars) and strikes (line), and per-session stimulus over time, as PNG."""
    return _png(load_figure(weekly, sessions))


def load_figure(weekly: pd.DataFrame, sessions: pd.DataFrame) -> Figure:
    """Weekly bone stimulus index (g, bars) and strikes (line, right axis, in the legend), per-session index."""
    fig = Figure(figsize=(10, 4.2))
    ax1, ax3 = fig.subplots(1, 2)
    title_extra = ""
    if len(weekly) and "placement" in weekly:
        top = weekly.groupby("placement")["strikes"].sum().idxmax()
        weekly = weekly[weekly["placement"] == top]
        sessions = sessions[sessions["placement"] == top] if "placement" in sessions else sessions
        title_extra = f" ({top} sensor)"
    if len(weekly):
        w = weekly.groupby("week", sort=True).agg(
            stim=("bone_stimulus_g", lambda s: float(np.sum(np.asarray(s, float) ** 4) ** 0.25)),
            strikes=("strikes", "sum"),
        )
        x = np.arange(len(w))
        ax1.bar(x, w["stim"], color=PALETTE[0], alpha=0.7, width=0.6, label="bone stimulus (g)")
        ax1.set_xlim(-0.8, max(len(w), 3) - 0.2)
        ax1.set_xticks(x, [d.strftime("%Y-%m-%d") for d in w.index], rotation=30, fontsize=8)
        ax1.set_ylabel("bone stimulus index (g)")
        ax2 = ax1.twinx()
        ax2.plot(x, w["strikes"], "o-", color=PALETTE[1], label="strikes per week (right axis)")
        ax2.set_ylabel("strikes per week", color=PALETTE[1])
        ax2.tick_params(axis="y", colors=PALETTE[1])
        ax2.set_ylim(0, max(1.0, float(w["strikes"].max())) * 1.3)
        # one legend for both axes: the orange dots (one per week) say what they are
        handles = [h for a in (ax1, ax2) for h in a.get_legend_handles_labels()[0]]
        ax1.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
        ax1.set_ylim(0, float(w["stim"].max()) * 1.35 if len(w) else 1.0)
        ax1.set_title(f"Per week (Monday start){title_extra}", fontsize=10)
    if len(sessions):
        x = np.arange(len(sessions))
        ax3.bar(x, sessions["bone_stimulus_g"], color=PALETTE[2], alpha=0.75, width=0.6)
        dates = pd.to_datetime(sessions["start_utc"], utc=True).dt.strftime("%m-%d")
        labels = [f"#{s} {d}" for s, d in zip(sessions["session"], dates)]
        step = max(1, len(labels) // 12)
        ax3.set_xticks(x[::step], labels[::step], rotation=30, fontsize=8)
        ax3.set_ylabel("bone stimulus index per session (g)")
        ax3.set_title(f"Per session{title_extra}", fontsize=10)
    for ax in (ax1, ax3):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
