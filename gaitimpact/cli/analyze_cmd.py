"""`gaitimpact analyze FILE`: summary table, JSON, steps CSV and plot for one recording."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gaitimpact.errors import InputError
from gaitimpact.recording import PLACEMENTS
from gaitimpact.usertext import pace

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
    track_options(p)


def track_options(p: argparse.ArgumentParser) -> None:
    """--track FILE (repeatable, one per recording in order) and --track-offset S."""
    p.add_argument("--track", action="append", metavar="FILE",
                   help="the watch's GPX, TCX or FIT file of the run: speed per segment, distance, date and "
                        "km splits (repeat once per recording, in order)")
    p.add_argument("--track-offset", type=float, metavar="S",
                   help="seconds from the watch's start to the sensor's first sample (needed when the "
                        "recording has no wall-clock start)")


def tracks_for(args: argparse.Namespace, files: list[str]) -> list[str | None]:
    """The --track file of each recording (None without); usage error when the counts do not match."""
    tracks = list(getattr(args, "track", None) or [])
    if not tracks:
        if getattr(args, "track_offset", None) is not None:
            raise InputError("--track-offset needs --track FILE", field="--track-offset")
        return [None] * len(files)
    if len(tracks) != len(files):
        raise InputError(f"{len(tracks)} --track file(s) for {len(files)} recording(s): give one per recording, "
                         "in the same order", field="--track")
    return tracks


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
    p.add_argument("--wide", action="store_true",
                   help="show every table column even if wider than the terminal")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output that looks like a recording (never the input itself)")
    p.add_argument("--chunked", action="store_true",
                   help="analyse in overlapping chunks with bounded memory (automatic for plain canonical CSV "
                        "or Parquet files, and for any such file of 256 MB or more; not with --plot)")
    p.set_defaults(func=run)


def _fmt(x: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "—" if x is None else f"{x:{spec}}{unit}"


def print_summary(summary: dict, console: Console | None = None, err_console: Console | None = None,
                  wide: bool = False) -> None:
    """Print the analysis summary as tables (totals, per segment, per bout); warnings go to stderr."""
    from rich.table import Table
    from rich.text import Text

    from gaitimpact.analysis.summary import NO_RUNNING_HIDES, no_running_line
    from gaitimpact.cli.tables import Col, print_table
    from gaitimpact.usertext import MESSAGE_CHARS, plain_console, shown

    console = console or plain_console()
    err_console = err_console or plain_console(stderr=True)
    if summary.get("status") == "no_running":  # a result, said in one line as add, batch and compare say it
        console.print(Text(no_running_line(shown(summary["file"], 200), f"nothing to measure in "
                                           f"{_fmt(summary['duration_s'] / 60, '.1f')} min")), soft_wrap=True)
        hidden = set(NO_RUNNING_HIDES)
        for w, code in zip(summary["warnings"], summary.get("warning_codes", [None] * len(summary["warnings"]))):
            if code not in hidden:
                err_console.print(Text.assemble(("warning:", "yellow"), " ", shown(w, MESSAGE_CHARS)))
        return
    # user text (file and surface names) is data: Text objects are never read as markup
    t = Table(title=Text(f"gaitimpact: {shown(summary['file'], 200)}"), show_header=False, title_justify="left")
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
    track = summary.get("track")
    if track:
        rows.append(("watch track", f"{track['format']}, {track['distance_km']:.2f} km, aligned "
                     f"{track['offset_s']:+.1f} s ({track['offset_source']})"))
        if track["cadence_mismatch_spm"] is not None:
            rows.append(("watch vs sensor cadence", f"within {track['cadence_mismatch_spm']:.1f} steps/min on average"))
    drift = summary.get("drift") or {}
    if drift.get("pct_per_10min") is not None:
        lo, hi = drift["pct_per_10min_ci95"]
        rows.append(("impact drift", f"{drift['pct_per_10min']:+.1f}% per 10 min ({lo:+.1f} to {hi:+.1f})"
                     + (" at equal speed" if "speed" in drift["adjusted_for"] else "")
                     + ("" if drift.get("speed_known", True) else "; speed unknown: a change of pace shows here too")))
    for r in rows:
        t.add_row(*r)
    console.print(t)
    for key, title in (("segments", "Surface segments"), ("bouts", "Running bouts")):
        items = summary[key]
        if not items:
            continue
        first = "surface" if key == "segments" else "bout"
        speed = key == "segments" and any(it["speed_mps"] is not None for it in items)
        cols = [Col(first, right=False, fold=True), *((Col("m/s", drop=3),) if speed else ()),
                Col("start s", drop=4), Col("run\nmin"), Col("steps", drop=2), Col("spm", drop=1),
                Col("peak g\nmedian"), Col("peak g\np95", drop=5), Col("LR g/s\nmedian"),
                Col("contact\nms", drop=1), Col("flight\nms", drop=6), Col("duty", drop=7)]
        rows = [(shown(it[first]), *((_fmt(it["speed_mps"], ".1f"),) if speed else ()),
                 _fmt(it["start_s"], ".0f"), _fmt(it["running_s"] / 60, ".1f"),
                 str(it["steps"]), _fmt(it["cadence_spm"], ".1f"), _fmt(it["peak_g_median"]),
                 _fmt(it["peak_g_p95"]), _fmt(it["loading_rate_gps_median"], ".0f"),
                 _fmt(it.get("contact_ms_median"), ".0f"), _fmt(it.get("flight_ms_median"), ".0f"),
                 _fmt(it.get("duty_factor"), ".2f"))
                for it in items if it["strikes"]]  # a stretch with no running (a walk) has no row
        if rows:
            print_table(console, title, cols, rows, wide=wide)
    splits = summary.get("splits") or []
    if splits:
        cols = [Col("km"), Col("dist\nkm", drop=3), Col("pace\n/km"), Col("m/s", drop=2), Col("spm", drop=1),
                Col("peak g\nmedian"), Col("start s", drop=4)]
        rows = [(str(sp["km"]), _fmt(sp["distance_km"], ".2f"), pace(sp["speed_mps"]), _fmt(sp["speed_mps"]),
                 _fmt(sp["cadence_spm"], ".0f"), _fmt(sp["peak_g_median"]), _fmt(sp["start_s"], ".0f"))
                for sp in splits]
        print_table(console, "Splits (per watch km)", cols, rows, wide=wide)
    if track:
        for n in track["notes"]:
            console.print(shown(f"note: {n}", MESSAGE_CHARS))
    for w in summary["warnings"]:
        err_console.print(Text.assemble(("warning:", "yellow"), " ", shown(w, MESSAGE_CHARS)))


def check_outputs(args: argparse.Namespace, inputs: list[str]) -> None:
    """Refuse bad --json/--steps-csv/--plot paths before any work (input, device, folder, recording)."""
    from gaitimpact.io.fsutil import check_output

    outs = [(flag, val) for flag, val in (("--json", args.json), ("--steps-csv", args.steps_csv),
                                          ("--plot", args.plot)) if val]
    if args.json == "-" and args.steps_csv == "-":
        raise InputError("only one of --json and --steps-csv can go to standard output ('-')", field="--json")
    if args.plot == "-":
        raise InputError("--plot needs a file name (a PNG)", field="--plot")
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        raise InputError(f"plots are written as PNG: give a file name ending in .png, got {Path(args.plot).name!r}",
                         path=args.plot, field="--plot")
    seen: dict[str, str] = {}
    for flag, val in outs:
        check_output(val, inputs=inputs, force=getattr(args, "force", False), field=flag)
        key = "-" if val == "-" else str(Path(val).resolve())
        if key != "-" and key in seen:
            raise InputError(f"same file as {seen[key]}", path=val, field=flag)
        seen[key] = flag


def write_output(path: str, data: bytes, console: Console) -> None:
    """Write `data` to `path` atomically ('-' = standard output) and say so: "wrote PATH"."""
    from gaitimpact.io.fsutil import atomic_write_bytes

    if path == "-":
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    atomic_write_bytes(path, data)
    console.print(f"wrote {path}", highlight=False, markup=False)


def run(args: argparse.Namespace) -> int:
    """Analyse args.file and write the requested outputs; returns the exit code."""
    from gaitimpact.analysis.service import analyze_path
    from gaitimpact.io.fsutil import check_input_file

    overrides = overrides_from_args(args)
    if args.chunked and args.plot:
        raise InputError("--plot needs every sample in memory: leave out --chunked", field="--chunked")
    check_input_file(args.file)
    check_outputs(args, [args.file])
    # big canonical CSV / Parquet: bounded memory, same strikes (the plot needs every sample in memory)
    (track,) = tracks_for(args, [args.file])
    result = analyze_path(args.file, chunked=False if args.plot else (True if args.chunked else "auto"),
                          rate_hz=args.rate, overrides=overrides, track=track, track_offset_s=args.track_offset)
    rec, analysis, summary = result.recording, result.analysis, result.summary
    to_stdout = "-" in (args.json, args.steps_csv)
    # tables go to stdout unless stdout carries data; then they go to stderr with the warnings
    from gaitimpact.usertext import plain_console

    console = plain_console(stderr=to_stdout)
    print_summary(summary, console=console, wide=args.wide)
    if args.json:
        write_output(args.json, (json.dumps(summary, indent=2) + "\n").encode("utf-8"), console)
    if args.steps_csv:
        write_output(args.steps_csv, result.steps_table().to_csv(index=False).encode("utf-8"), console)
    if args.plot:
        from gaitimpact.report.run_plot import plot_run

        plot_run(rec, analysis, args.plot)
        console.print(f"wrote {args.plot}", highlight=False, markup=False)
    return 0
