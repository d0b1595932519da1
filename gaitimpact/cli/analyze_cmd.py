"""`gaitimpact analyze FILE`: summary table, JSON, steps CSV and plot for one recording."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gaitimpact.errors import GaitImpactError, InputError
from gaitimpact.recording import PLACEMENTS

if TYPE_CHECKING:  # the parser is registered without importing rich or the analysis
    from rich.console import Console


def add_recording_options(p: argparse.ArgumentParser) -> None:
    """Options shared by commands that read a recording (placement, rate, surface, speed, shoe)."""
    p.add_argument("--placement", choices=("auto", *PLACEMENTS), default=None,
                   help="sensor placement (default: sidecar, else auto-detected from the signal)")
    p.add_argument("--rate", type=float, metavar="HZ", help="sampling rate for files without a time column")
    p.add_argument("--surface", help="running surface for the whole file (overrides the sidecar)")
    p.add_argument("--speed", type=float, metavar="MPS", help="running speed in m/s (overrides the sidecar)")
    p.add_argument("--shoe", metavar="NAME", help="shoe name")
    p.add_argument("--shoe-km", type=float, metavar="KM", help="km on the shoe at this run")


def overrides_from_args(args: argparse.Namespace) -> dict:
    """CLI flags that override the sidecar, as the overrides dict `load_recording` takes."""
    keys = {"placement": "placement", "surface": "surface", "speed": "speed_mps", "shoe": "shoe",
            "shoe_km": "shoe_km"}
    return {dst: getattr(args, src) for src, dst in keys.items() if getattr(args, src, None) is not None}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `analyze` sub-command."""
    p = sub.add_parser("analyze", help="analyse one recording: strikes, impact, loading rate, cadence",
                       description="Analyse one recording (CSV or Parquet with optional sidecar JSON).")
    p.add_argument("file", help="recording file (.csv, .tsv, .txt, .parquet)")
    add_recording_options(p)
    p.add_argument("--json", metavar="OUT", help="write the summary as JSON ('-' for standard output)")
    p.add_argument("--steps-csv", metavar="OUT", help="write one row per strike as CSV ('-' for standard output)")
    p.add_argument("--plot", metavar="OUT.png", help="write a PNG figure")
    p.add_argument("--chunked", action="store_true",
                   help="analyse in overlapping chunks with bounded memory (automatic for canonical CSV or "
                        "Parquet files of 256 MB or more; not with --plot)")
    p.set_defaults(func=run)


def _fmt(x: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "—" if x is None else f"{x:{spec}}{unit}"


def print_summary(summary: dict, console: Console | None = None, err_console: Console | None = None) -> None:
    """Print the analysis summary as tables (totals, per segment, per bout); warnings go to stderr."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    err_console = err_console or Console(stderr=True)
    t = Table(title=f"gaitimpact: {summary['file']}", show_header=False, title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    pk, lr = summary["peak_g"], summary["loading_rate_gps"]
    rows = [
        ("placement", f"{summary['placement']} ({summary['placement_source']})"),
        ("sampling rate", _fmt(summary["fs_hz"], ".0f", " Hz")),
        ("duration", _fmt(summary["duration_s"] / 60, ".1f", " min")),
        ("running time", _fmt(summary["running_s"] / 60, ".1f", " min")),
        ("steps (both feet)", f"{summary['steps']}" + (
            f"  ({summary['strikes']} strikes of the instrumented foot)"
            if summary["steps"] != summary["strikes"] else "")),
        ("cadence", _fmt(summary["cadence_spm"], ".1f", " steps/min")),
        ("peak impact median / p95", f"{_fmt(pk['median'])} / {_fmt(pk['p95'])} g"),
        ("loading rate median / p95", f"{_fmt(lr['median'], '.0f')} / {_fmt(lr['p95'], '.0f')} g/s"),
        ("contact / flight time median", f"{_fmt(summary.get('contact_ms_median'), '.0f')} / "
                                         f"{_fmt(summary.get('flight_ms_median'), '.0f')} ms"),
        ("duty factor", _fmt(summary.get("duty_factor"), ".2f")),
    ]
    for side, d in summary["feet"].items():
        rows.append((f"{'left' if side == 'L' else 'right'} foot", f"{d['strikes']} strikes, median "
                     f"{_fmt(d['peak_g_median'])} g, contact {_fmt(d.get('contact_ms_median'), '.0f')} ms"))
    for key, what in (("peak_g", "impact"), ("contact_ms", "contact time")):
        a = summary.get("asymmetry", {}).get(key)
        if a:
            rows.append((f"L/R asymmetry, {what}", f"{_fmt(a['pct'], '+.1f')} % (95 % CI "
                         f"{_fmt(a['ci95_pct'][0], '+.1f')} to {_fmt(a['ci95_pct'][1], '+.1f')} %)"))
    if summary["peak_g"]["clipped"]:
        rows.append(("clipped strikes", f"{summary['peak_g']['clipped']} (peak is a lower bound)"))
    for r in rows:
        t.add_row(*r)
    console.print(t)
    for key, title in (("segments", "Surface segments"), ("bouts", "Running bouts")):
        items = summary[key]
        if not items:
            continue
        tb = Table(title=title, title_justify="left")
        first = "surface" if key == "segments" else "bout"
        speed = key == "segments" and any(it["speed_mps"] is not None for it in items)
        cols = (first, *(("m/s",) if speed else ()), "start s", "run min", "steps", "spm",
                "peak g median", "peak g p95", "LR g/s median", "contact ms", "flight ms", "duty")
        for col in cols:
            tb.add_column(col, justify="left" if col == first else "right")
        for it in items:
            if not it["strikes"]:
                continue  # a stretch with no running (e.g. a walk between two surfaces)
            tb.add_row(str(it[first]), *((_fmt(it["speed_mps"], ".1f"),) if speed else ()),
                       _fmt(it["start_s"], ".0f"), _fmt(it["running_s"] / 60, ".1f"),
                       str(it["steps"]), _fmt(it["cadence_spm"], ".1f"), _fmt(it["peak_g_median"]),
                       _fmt(it["peak_g_p95"]), _fmt(it["loading_rate_gps_median"], ".0f"),
                       _fmt(it.get("contact_ms_median"), ".0f"), _fmt(it.get("flight_ms_median"), ".0f"),
                       _fmt(it.get("duty_factor"), ".2f"))
        console.print(tb)
    for w in summary["warnings"]:
        err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


def _write(path: str, writer, what: str) -> None:
    """Write an output file ('-' = standard output), turning OS errors into one-line input errors."""
    if path == "-":
        writer(sys.stdout)
        return
    try:
        writer(Path(path))
    except OSError as exc:
        raise InputError(f"cannot write {what}: {exc.strerror or exc}", path=path) from exc


def run(args: argparse.Namespace) -> int:
    """Analyse args.file and write the requested outputs; returns the exit code."""
    from gaitimpact.analysis.service import analyze_path

    overrides = overrides_from_args(args)
    if args.chunked and args.plot:
        raise InputError("--plot needs every sample in memory: leave out --chunked", field="--chunked")
    # big canonical CSV / Parquet: bounded memory, same strikes (the plot needs every sample in memory)
    result = analyze_path(args.file, chunked=False if args.plot else (True if args.chunked else "auto"),
                          rate_hz=args.rate, overrides=overrides)
    rec, analysis, summary = result.recording, result.analysis, result.summary
    if args.json == "-" and args.steps_csv == "-":
        raise InputError("only one of --json and --steps-csv can go to standard output ('-')", field="--json")
    to_stdout = "-" in (args.json, args.steps_csv)
    # tables go to stdout unless stdout carries data; then they go to stderr with the warnings
    if to_stdout:
        from rich.console import Console

        print_summary(summary, console=Console(stderr=True))
    else:
        print_summary(summary)
    if args.json:
        text = json.dumps(summary, indent=2) + "\n"
        _write(args.json, lambda p: p.write(text) if p is sys.stdout else p.write_text(text), "JSON")
    if args.steps_csv:
        _write(args.steps_csv, lambda p: result.steps_table().to_csv(p, index=False), "steps CSV")
    if args.plot:
        if args.plot == "-":
            raise InputError("--plot needs a file name (a PNG)", field="--plot")
        from gaitimpact.report.run_plot import plot_run

        try:
            _write(args.plot, lambda p: plot_run(rec, analysis, p), "plot")
        except ValueError as exc:  # matplotlib: unknown image format from the suffix
            raise GaitImpactError(f"cannot write plot {args.plot}: {exc}", exit_code=2) from exc
    return 0
