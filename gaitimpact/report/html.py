"""The HTML report: one self-contained file (inline CSS, plots as base64 PNG); every user string escaped."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from gaitimpact import __version__
from gaitimpact.report import load as load_mod
from gaitimpact.report.compare import Comparison
from gaitimpact.report.shoes import ShoeReport
from gaitimpact.usertext import clean, pace

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;
background:#f6f7f9;color:#222}
header{background:#1d3557;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:24px} header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{max-width:1120px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:18px 0;
padding:14px 20px}
h2{font-size:18px;margin:4px 0 10px;color:#1d3557}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 10px}
th,td{padding:4px 6px;border-bottom:1px solid #e5e7eb;text-align:right}
td{white-space:nowrap} td.w{white-space:normal;text-align:left;min-width:18em} .scroll{overflow-x:auto}
th{background:#eef1f5;font-weight:600} td.l,th.l,th.w{text-align:left}
img{max-width:100%;height:auto;display:block;margin:8px auto}
.note{font-size:12px;color:#555} .verdict{margin:2px 0;font-size:14px}
.warn{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 10px;font-size:13px}
.cards{display:flex;gap:12px;flex-wrap:wrap} .card{background:#eef1f5;border-radius:6px;padding:8px 14px}
details{font-size:13px;margin:6px 0} summary{cursor:pointer;color:#1d3557}
.sim{background:#f0a030;color:#fff;border-radius:3px;padding:0 4px;font-size:11px}
.card b{display:block;font-size:20px;color:#1d3557} .card span{font-size:12px;color:#555}
"""


def esc(value: object) -> str:
    """HTML-escape any value without bidi overrides or control characters (None -> empty string)."""
    return "" if value is None else html.escape(clean(value), quote=True)


def img(png: bytes, alt: str) -> str:
    """An <img> with the PNG embedded as a base64 data URI."""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def fmt(value: object, nd: int = 2) -> str:
    """Format a number (or '-' for missing) and escape the result."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, (float, np.floating)):
        return esc(f"{value:.{nd}f}")
    return esc(value)


def table(headers: list[str], rows: Iterable[Iterable[object]], left: int = 1, wrap: int | None = None) -> str:
    """An HTML table: first `left` columns left-aligned, column `wrap` wraps; cells passed pre-escaped."""

    def cls(i: int) -> str:
        return "w" if i == wrap else "l" if i < left else ""

    head = "".join(f'<th class="{cls(i)}">{esc(h)}</th>' for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = "".join(f'<td class="{cls(i)}">{c}</td>' for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    rows_html = "".join(body)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table></div>'


def _drift(r: object) -> str:
    """Drift cell: '+1.2 (-0.4 to +2.8)' or '-'."""
    v = getattr(r, "drift_pct_per_10min", np.nan)
    if v is None or not np.isfinite(v):
        return "-"
    return esc(f"{v:+.1f} ({r.drift_lo_pct:+.1f} to {r.drift_hi_pct:+.1f})")


def simulated_warning(sessions: pd.DataFrame) -> str:
    """A warning line when sessions were made by `gaitimpact simulate` (they describe the simulator, not you)."""
    n = int(sessions["simulated"].sum()) if "simulated" in sessions else 0
    if not n:
        return ""
    return (f'<p class="warn">{n} of {len(sessions)} sessions are <b>simulated</b> recordings (made by '
            "<code>gaitimpact simulate</code>, marked below): their figures describe the simulator, not a "
            "runner, and they are counted in every table and plot of this report.</p>")


def sessions_section(sessions: pd.DataFrame) -> str:
    """Sessions table: date, file, placement, shoe, km, distance, strikes, cadence, speed, peaks, load."""
    rows = []
    for r in sessions.itertuples():
        rows.append(
            [
                esc(pd.Timestamp(r.start_utc).strftime("%Y-%m-%d %H:%M")),
                esc(r.source) + (' <span class="sim">simulated</span>' if getattr(r, "simulated", False) else ""),
                esc(r.placement),
                esc(r.shoe if isinstance(r.shoe, str) else "-"),
                fmt(r.shoe_km, 0),
                fmt(r.distance_km, 2) + ("*" if str(r.distance_source).startswith("estimated") else ""),
                fmt(r.running_s / 60.0, 1),
                fmt(int(r.strikes)),
                fmt(r.cadence_spm, 0),
                fmt(r.speed_mps, 2),
                fmt(r.peak_g_median, 2),
                _drift(r),
                fmt(r.bone_stimulus_g, 1),
            ]
        )
    headers = [
        "date (UTC)",
        "file",
        "placement",
        "shoe",
        "shoe km",
        "km",
        "run min",
        "strikes",
        "cadence spm",
        "speed m/s",
        "median peak g",
        "impact drift % per 10 min",
        "bone stimulus g",
    ]
    return (
        f"<section><h2>Sessions ({len(sessions)})</h2>{simulated_warning(sessions)}{table(headers, rows, left=4)}"
        '<p class="note">* distance estimated (speed x running time, or steps x 1.0 m '
        "when speed is unknown). Impact drift: change of speed-adjusted impact per 10 minutes of running within "
        "the session, with its 95% range (fatigue shows here; where the speed is unknown a change of pace shows "
        "too); '-' for runs under 5 minutes.</p>"
        "</section>"
    )


def splits_section(sessions: pd.DataFrame) -> str:
    """Km splits (pace, speed, cadence, median peak, contact time) of every session recorded with a watch track."""
    parts = []
    for r in sessions.itertuples():
        text = getattr(r, "splits_json", None)
        splits = json.loads(text) if isinstance(text, str) and text else []
        if not splits:
            continue
        rows = [
            [fmt(sp.get("km")), fmt(sp.get("distance_km"), 2), esc(pace(sp.get("speed_mps"))),
             fmt(sp.get("speed_mps"), 2), fmt(sp.get("cadence_spm"), 0), fmt(sp.get("peak_g_median"), 2),
             fmt(sp.get("contact_ms_median"), 0), fmt(sp.get("start_s"), 0)]
            for sp in splits
        ]
        when = esc(pd.Timestamp(r.start_utc).strftime("%Y-%m-%d %H:%M"))
        parts.append(f"<h3>{when} &middot; {esc(r.source)}</h3>"
                     + table(["km", "distance km", "pace min:ss/km", "speed m/s", "cadence spm", "median peak g",
                              "contact ms", "start s"], rows))
    if not parts:
        return ""
    return (f"<section><h2>Splits (per watch km)</h2>{''.join(parts)}"
            '<p class="note">From the watch track added with the session (<code>--track</code>); partial '
            "kilometres at the ends of the recording are shown with their distance.</p></section>")


def compare_section(cmp: Comparison | None, png: bytes | None, error: str | None) -> str:
    """Surfaces side by side: plain-words verdicts first, then the table, the runs and the method."""
    if cmp is None:
        return f'<section><h2>Surfaces side by side</h2><p class="warn">{esc(error)}</p></section>'
    rows = []
    for g in cmp.groups:
        ci = g.ratio_ci95
        rows.append(
            [
                esc(g.name),
                esc(g.status.replace("_", " ")),
                fmt(g.steps),
                fmt(g.runs),
                fmt((g.running_s or 0) / 60.0, 1),
                fmt(g.cadence_spm, 0),
                fmt(g.peak_g_median, 2),
                fmt(g.impact_index, 2),
                fmt(g.ratio, 3),
                "-" if ci is None else f"{fmt(ci[0], 3)} - {fmt(ci[1], 3)}",
            ]
        )
    headers = ["surface", "status", "steps", "runs", "run min", "cadence spm", "median peak g",
               "impact index g", "ratio", "95% range"]
    common = cmp.common_speed_mps
    at = f"{common:g} m/s" if common is not None else f"{cmp.common_cadence_spm:g} steps/min"
    verdicts = "".join(f'<p class="verdict">{esc(g.verdict)}</p>' for g in cmp.groups if g.status != "reference")
    notes = "".join(f"<li>{esc(n)}</li>" for n in cmp.notes)
    run_rows = [
        [
            esc(r.session),
            esc(r.surface),
            esc(r.shoe or "-"),
            fmt(r.speed_mps, 2),
            fmt(r.strikes),
            fmt((r.running_s or 0) / 60.0, 1),
            fmt(r.cadence_spm, 0),
            fmt(r.peak_g_geomean, 2),
        ]
        for r in cmp.runs
    ]
    run_headers = ["session", "surface", "shoe", "speed m/s", "strikes", "run min", "cadence spm", "geo-mean peak g"]
    runs_html = (
        f"<details><summary>Within each run: {len(run_rows)} runs (one surface at one speed in one shoe), "
        f"measured, not adjusted</summary>{table(run_headers, run_rows, left=3)}</details>"
    )
    return (
        "<section><h2>Surfaces side by side</h2>"
        f"<p>Compared with <b>{esc(cmp.reference)}</b> at the same {esc(', '.join(cmp.adjusted_for))} "
        f"({esc(at)}).</p>{verdicts}"
        f"{table(headers, rows, left=2)}"
        f"{img(png, 'surfaces') if png else ''}{runs_html}"
        f"{f'<ul class=note>{notes}</ul>' if notes else ''}"
        f'<p class="note">How: {esc(cmp.method)}.</p></section>'
    )


def shoes_section(rep: ShoeReport, png: bytes | None) -> str:
    """Shoe trends: sessions, km, % per 100 km with CI, status, verdict, retirement hint; the plot; the rule."""
    rows = []
    for s in rep.shoes:
        ci = s.pct_per_100km_ci95
        rows.append(
            [
                esc(s.shoe),
                esc(s.status_words),
                fmt(s.sessions),
                fmt(s.km_first, 0),
                fmt(s.km_last, 0),
                fmt(s.km_now, 0),
                fmt(s.pct_per_100km, 1),
                "-" if ci is None else f"{fmt(ci[0], 1)} to {fmt(ci[1], 1)}",
                esc(s.hint),
            ]
        )
    headers = ["shoe", "trend", "sessions", "km first", "km last", "km now", "% per 100 km", "likely % per 100 km",
               "hint"]
    verdicts = "".join(f'<p class="verdict">{esc(s.verdict)}</p>' for s in rep.shoes)
    notes = "".join(f"<li>{esc(n)}</li>" for n in rep.notes)
    return (
        "<section><h2>Shoe trends</h2>"
        f"{verdicts}{table(headers, rows, left=2, wrap=len(headers) - 1)}{img(png, 'shoes') if png else ''}"
        f'<p class="note">Rule: {esc(rep.rule)}</p>'
        f"{f'<ul class=note>{notes}</ul>' if notes else ''}</section>"
    )


def load_section(weekly: pd.DataFrame, png: bytes | None) -> str:
    """Load over time: weekly strikes, cumulative impact and bone stimulus; the formula and its source."""
    rows = [
        [
            esc(pd.Timestamp(r.week).strftime("%Y-%m-%d")),
            esc(r.placement),
            fmt(int(r.sessions)),
            fmt(int(r.strikes)),
            fmt(r.cumulative_impact_g, 0),
            fmt(r.bone_stimulus_g, 1),
        ]
        for r in weekly.itertuples()
    ]
    headers = ["week of", "placement", "sessions", "strikes", "cumulative impact g", "bone stimulus g"]
    return (
        "<section><h2>Load over time</h2>"
        f"{table(headers, rows, left=2)}{img(png, 'load') if png else ''}"
        '<p class="note">Left plot: bars are the bone stimulus index of each week, the orange line and '
        "dots its strikes (right axis). Right plot: the index of each session.</p>"
        f'<p class="note">Bone stimulus index = (sum over strikes of peak_g^{load_mod.BONE_STIMULUS_M:g})'
        f"^(1/{load_mod.BONE_STIMULUS_M:g}): Carter's daily stress stimulus "
        "(Carter, Fyhrie &amp; Whalen 1987, "
        "J Biomech 20:785-794; Whalen, Carter &amp; Steele 1988, J Biomech 21:825-837) with each strike as "
        "one loading cycle and its peak impact standing in for stress. Relative, per runner and placement."
        "</p></section>"
    )


def render_report(
    *,
    library: str,
    since: datetime | None,
    sessions: pd.DataFrame,
    weekly: pd.DataFrame,
    comparison: Comparison | None,
    compare_error: str | None,
    shoe_report: ShoeReport,
    pngs: dict[str, bytes | None],
) -> str:
    """The whole report as one HTML string (no external resources); the library is named by its file name."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    span = ""
    if len(sessions):
        t = pd.to_datetime(sessions["start_utc"], utc=True)
        span = f"{t.min():%Y-%m-%d} to {t.max():%Y-%m-%d}"
    cards = [
        (len(sessions), "sessions"),
        (int(sessions["strikes"].sum()) if len(sessions) else 0, "strikes"),
        (f"{sessions['distance_km'].sum():.1f}" if len(sessions) else "0", "km"),
        (f"{sessions['running_s'].sum() / 3600:.1f}" if len(sessions) else "0", "running hours"),
    ]
    card_html = "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for v, k in cards)
    since_txt = f" since {since:%Y-%m-%d}" if since else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>gaitimpact report{esc(since_txt)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>gaitimpact report{esc(since_txt)}</h1>"
        f"<p>{esc(span)} &middot; library {esc(Path(library).name)} &middot; generated {esc(now)} "
        f"&middot; gaitimpact {esc(__version__)}</p></header><main>"
        f'<section><div class="cards">{card_html}</div></section>'
        f"{sessions_section(sessions)}"
        f"{splits_section(sessions)}"
        f"{compare_section(comparison, pngs.get('compare'), compare_error)}"
        f"{shoes_section(shoe_report, pngs.get('shoes'))}"
        f"{load_section(weekly, pngs.get('load'))}"
        "</main></body></html>"
    )
