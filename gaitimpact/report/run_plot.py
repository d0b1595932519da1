"""The `analyze --plot` figure: impact per strike over the run, cadence, and a zoom on the raw signal."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gaitimpact.analysis.summary import resolved_segments
from gaitimpact.core.definitions import IMPACT_WINDOW_S
from gaitimpact.core.result import Analysis
from gaitimpact.io.fsutil import atomic_write_bytes
from gaitimpact.recording import Recording, steps_per_strike
from gaitimpact.usertext import plot_text

SURFACE_COLOURS = {
    "asphalt": "#555555",
    "concrete": "#8c8c8c",
    "track": "#c0392b",
    "grass": "#27ae60",
    "trail": "#8e5a2b",
    "treadmill": "#2c7fb8",
}
ZOOM_S = 4.0
"""Length of the raw-signal zoom panel in s."""


def _rolling_median(x: np.ndarray, n: int) -> np.ndarray:
    """Centred rolling median over n strikes (shorter at the ends)."""
    import pandas as pd

    return pd.Series(x).rolling(n, center=True, min_periods=1).median().to_numpy()


CADENCE_MIN_SPAN_SPM = 20.0
"""The cadence axis spans at least this many steps/min, so that a 1 step/min wobble looks like one."""
MIN_LABEL_RUN_S = 5.0
"""A surface segment is labelled when at least this much running (s) falls in it (a bout's edge spilling
into a walk is not running on it)."""
GAP_COLOUR = "#9e9e9e"
LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "fontsize": 8}
"""Legends sit right of their panel: never over a strike."""


def _running_parts(start_s: float, end_s: float, analysis: Analysis) -> list[tuple[float, float]]:
    """The parts of [start_s, end_s) inside running bouts, in s."""
    parts = [(max(start_s, b.start_s), min(end_s, b.end_s)) for b in analysis.bouts]
    return [(a, b) for a, b in parts if b > a]


def _shade_gaps(ax, rec: Recording, scale: float, window_s: tuple[float, float] | None = None) -> None:  # noqa: ANN001
    """Grey hatched spans over the gaps in the samples (times divided by `scale`; only those overlapping
    `window_s` if given), one legend entry."""
    lo, hi = window_s or (-np.inf, np.inf)
    for k, g in enumerate(g for g in rec.gaps if g.end_s > lo and g.start_s < hi):
        ax.axvspan(g.start_s / scale, g.end_s / scale, color=GAP_COLOUR, alpha=0.35, hatch="///", lw=0,
                   gid="gap", label="gap in the data" if k == 0 else None)
        # a dashed line too: a 0.3 s gap on a 40 min axis is narrower than a pixel
        ax.axvline((g.start_s + g.end_s) / 2 / scale, color=GAP_COLOUR, lw=1.0, ls="--", gid="gap_line")


def run_figure(rec: Recording, analysis: Analysis) -> Figure:
    """The `analyze --plot` figure: peak impact (g) per strike, cadence (steps/min), a raw-signal zoom."""
    s = analysis.strikes
    fig = Figure(figsize=(12, 9), constrained_layout=True)
    FigureCanvasAgg(fig)  # an Agg canvas of its own: no pyplot state, no display, the global backend untouched
    axes = fig.subplots(3, 1)
    name = plot_text(Path(rec.source).name or "recording", 80)
    fig.suptitle(f"{name} — {analysis.placement} sensor, {len(s)} strikes, {analysis.cadence_spm:.0f} steps/min")

    ax = axes[0]
    for seg in resolved_segments(rec):
        # a surface is shown where it was run on: a walk or a stop on the same surface stays unlabelled
        parts = _running_parts(seg.start_s, seg.end_s, analysis)
        for a, b in parts:
            ax.axvspan(a / 60, b / 60, color=SURFACE_COLOURS.get(seg.surface, "#bbbbbb"), alpha=0.12)
        if sum(b - a for a, b in parts) >= MIN_LABEL_RUN_S:  # one label, over the running on this surface
            a, b = parts[0][0], parts[-1][1]
            ax.text((a + b) / 120, 0.97, plot_text(seg.surface, 30), transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=9, gid="surface")
    _shade_gaps(ax, rec, 60.0)
    for side, colour in (("L", "#1f77b4"), ("R", "#d62728"), ("?", "#7f7f7f")):
        sel = s.foot == side
        if sel.any():
            label = {"L": "left", "R": "right", "?": "strike"}[side]
            ax.scatter(s.time_s[sel] / 60, s.peak_g[sel], s=6, alpha=0.5, color=colour, label=label)
    if s.clipped.any():
        ax.scatter(s.time_s[s.clipped] / 60, s.peak_g[s.clipped], s=18, marker="x", color="k",
                   label="clipped (lower bound)")
    for i in range(len(analysis.bouts)):
        sel = s.bout == i
        if sel.any():
            ax.plot(s.time_s[sel] / 60, _rolling_median(s.peak_g[sel], 31), color="k", lw=1.5,
                    label="rolling median (31 strikes)" if i == 0 else None)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("peak impact (g)")
    ax.set_title("Impact of every foot strike (shaded: surface while running)")
    ax.legend(markerscale=2, **LEGEND_OUTSIDE)
    ax.grid(alpha=0.3)

    ax = axes[1]
    per = steps_per_strike(analysis.placement)
    for i in range(len(analysis.bouts)):
        t = s.time_s[s.bout == i]
        if t.size > 2:
            ax.plot((t[1:] + t[:-1]) / 120, _rolling_median(60.0 * per / np.diff(t), 15), color="#2c7fb8",
                    label="cadence" if i == 0 else None)
    _shade_gaps(ax, rec, 60.0)
    lo, hi = ax.get_ylim()
    if hi - lo < CADENCE_MIN_SPAN_SPM:  # never zoom a steady cadence into a dramatic-looking wobble
        mid = (lo + hi) / 2
        ax.set_ylim(mid - CADENCE_MIN_SPAN_SPM / 2, mid + CADENCE_MIN_SPAN_SPM / 2)
    ax.set_xlim(axes[0].get_xlim())
    ax.set_xlabel("time (min)")
    ax.set_ylabel("cadence (steps/min)")
    ax.set_title("Cadence (both feet), rolling median of 15 strikes")
    if rec.gaps:
        ax.legend(**LEGEND_OUTSIDE)
    ax.grid(alpha=0.3)

    ax = axes[2]
    if analysis.bouts:
        bout = max(analysis.bouts, key=lambda b: b.duration_s)
        t0 = (bout.start_s + bout.end_s) / 2 - ZOOM_S / 2
    else:
        t0 = 0.0
    sel = (rec.time_s >= t0) & (rec.time_s <= t0 + ZOOM_S)
    norm = np.linalg.norm(rec.acc_g[sel], axis=1)
    ax.plot(rec.time_s[sel], norm, lw=0.8, color="#333333", label="|a| raw (g)")
    ins = (s.time_s >= t0) & (s.time_s <= t0 + ZOOM_S)
    ax.vlines(s.time_s[ins], 0, max(norm.max() if norm.size else 1, 1), color="#d62728", lw=0.8,
              label="initial contact")
    t_zoom = rec.time_s[sel]
    win = IMPACT_WINDOW_S[analysis.placement]
    for k, ic in enumerate(s.time_s[ins]):  # one step per strike shown (a handful)
        ax.axvspan(ic, ic + win, color="#d62728", alpha=0.08,
                   label=f"impact window ({win * 1000:.0f} ms)" if k == 0 else None)
    # the peak is drawn where the raw resultant peaks in the window (peak_g itself is interpolated)
    lo = np.searchsorted(t_zoom, s.time_s[ins])
    hi = np.searchsorted(t_zoom, s.time_s[ins] + win, side="right")
    t_peak = np.array([t_zoom[a + int(np.argmax(norm[a:b]))] if b > a else np.nan for a, b in zip(lo, hi)])
    ax.scatter(t_peak, s.peak_g[ins], color="#d62728", zorder=3, s=14, label="peak impact")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("resultant (g)")
    _shade_gaps(ax, rec, 1.0, (t0, t0 + ZOOM_S))
    ax.set_xlim(t0, t0 + ZOOM_S)
    ax.set_title(f"{ZOOM_S:.0f} s of raw signal with detected strikes")
    ax.legend(**LEGEND_OUTSIDE)
    ax.grid(alpha=0.3)
    return fig


def plot_run(rec: Recording, analysis: Analysis, out: str | Path) -> Path:
    """Write the `run_figure` as a PNG to `out` (atomically); returns the path."""
    buf = io.BytesIO()
    run_figure(rec, analysis).savefig(buf, format="png", dpi=110)
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    return out
