"""Library and report commands: add, sessions, shoe {add,list,retire}, compare, shoes, report."""

from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from gaitimpact.cli.tables import Col, print_table
from gaitimpact.errors import GaitImpactError, InputError
from gaitimpact.io.fsutil import atomic_write_bytes
from gaitimpact.report.location import ENV_VAR, resolve_library_path, unwritable_reason
from gaitimpact.usertext import MESSAGE_CHARS, shown

if TYPE_CHECKING:  # the parsers are registered without importing pandas, rich or the library
    import pandas as pd
    from rich.console import Console

    from gaitimpact.report.library import Library


def _console() -> Console:
    """Rich console: the terminal's width, else `$COLUMNS`, else 80 columns (pipes, files, tests)."""
    from gaitimpact.cli.tables import console

    return console()


def _wide_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wide", action="store_true",
                   help="show every column even if the table is wider than the terminal")


def _library_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library", metavar="PATH", help=f"library file (default: ${ENV_VAR}, else the user data folder)")


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn SQLite failures on an open library into one-line input errors."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except sqlite3.DatabaseError as exc:
            path = resolve_library_path(getattr(args, "library", None))
            # honest: writes that completed before the failure are kept; only an unfinished one is rolled back
            raise InputError(
                f"library access failed ({exc}); an unfinished write was rolled back, writes completed before "
                f"it are kept{unwritable_reason(path, exc)}",
                path=str(path),
            ) from None

    return run


def _say_created(lib: Library) -> None:
    """Tell where a new library file was created (once, when this command created it)."""
    if lib.created:
        _console().print(f"created library {lib.path}", soft_wrap=True)


def _parse_date(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--{flag} expects a date like 2026-11-01, got {text!r}", field=flag) from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _parse_since(text: str | None) -> datetime | None:
    return _parse_date(text, "since")


def _open(args: argparse.Namespace, create: bool = False) -> Library:
    from gaitimpact.report.library import Library

    return Library.open(resolve_library_path(args.library), create=create)


def _force_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="replace an existing output that looks like a recording")


def _check_outputs(args: argparse.Namespace, *outs: tuple[str, str | None], inputs: list[str] = ()) -> None:
    """Refuse bad output paths before any work: an input (recording, sidecar, the library), a device or
    FIFO, a missing folder, a recording without --force; plots must end in .png."""
    from gaitimpact.io.fsutil import check_output

    lib = resolve_library_path(getattr(args, "library", None))
    for flag, val in outs:
        if not val:
            continue
        if flag == "--plot" and Path(val).suffix.lower() != ".png":
            raise InputError(f"plots are written as PNG: give a file name ending in .png, got {Path(val).name!r}",
                             path=str(val), field=flag)
        check_output(val, inputs=[*inputs, lib], force=getattr(args, "force", False), field=flag)


def _wrote(path: str, to_stderr: bool = False) -> None:
    """Say which file was written (on stderr when standard output carries data)."""
    from rich.console import Console

    Console(stderr=to_stderr).print(f"wrote {path}", highlight=False, markup=False)


def _write_json(doc: dict, out: str) -> None:
    data = (json.dumps(doc, indent=2, default=str) + "\n").encode()
    if out == "-":
        sys.stdout.write(data.decode())
    else:
        atomic_write_bytes(out, data)
        _wrote(out)


def _nonempty(lib: Library) -> None:
    if lib.count_sessions() == 0:
        raise InputError("library is empty: add sessions with `gaitimpact add FILE`", path=str(lib.path))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the add, sessions, shoe, compare, shoes and report sub-commands."""
    from gaitimpact.cli.analyze_cmd import add_recording_options, track_options

    p = sub.add_parser(
        "add",
        help="analyse recordings and store them in the library",
        description="Analyse recordings and store each session (summary + strikes) in the library.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings to store (.csv, .tsv, .txt, .parquet)")
    add_recording_options(p)
    p.add_argument(
        "--distance-km",
        type=float,
        metavar="KM",
        help="distance of this run (default: sidecar, else the watch track, else estimated from speed or steps)",
    )
    p.add_argument("--date", metavar="DATE", help="date (and time) of the run, e.g. 2026-11-03T07:00, when neither "
                   "the file nor a watch track gives one (UTC unless an offset is given)")
    _library_option(p)
    p.set_defaults(func=_guard(cmd_add))

    p = sub.add_parser("sessions", help="list stored sessions with their impact load",
                       description="List stored sessions (date, shoe, km, strikes, cadence in steps/min, median "
                                   "peak in g, bone stimulus) and the weekly load per placement.")
    p.add_argument("--since", metavar="DATE", help="only sessions from this date (YYYY-MM-DD, UTC)")
    p.add_argument("--json", metavar="OUT", help="write sessions and weekly load as JSON ('-' for stdout)")
    _wide_option(p)
    _force_option(p)
    _library_option(p)
    p.set_defaults(func=_guard(cmd_sessions))

    p = sub.add_parser("shoe", help="manage shoes: add, list, retire",
                       description="Manage the shoes of the library: add one (with km already on it), list them "
                                   "with their km, retire one.")
    shoe_sub = p.add_subparsers(dest="shoe_command", metavar="ACTION", parser_class=type(p))
    shoe_sub.required = True
    q = shoe_sub.add_parser("add", help="add a shoe",
                            description="Add a shoe to the library, with the km already on it.")
    q.add_argument("name", metavar="NAME", help="shoe name, e.g. 'Pegasus 40' (matched ignoring case)")
    q.add_argument("--km", type=float, default=0.0, metavar="START", help="km already on the shoe (default 0)")
    _library_option(q)
    q.set_defaults(func=_guard(cmd_shoe_add))
    q = shoe_sub.add_parser("list", help="list shoes with their km",
                            description="List the shoes: km now, km when added, sessions, active or retired.")
    _wide_option(q)
    _library_option(q)
    q.set_defaults(func=_guard(cmd_shoe_list))
    q = shoe_sub.add_parser("retire", help="retire a shoe (its sessions stay)",
                            description="Mark a shoe retired; its sessions stay in the library.")
    q.add_argument("name", metavar="NAME", help="shoe to retire (matched ignoring case)")
    _library_option(q)
    q.set_defaults(func=_guard(cmd_shoe_retire))

    p = sub.add_parser(
        "compare",
        help="surfaces (or shoes, sessions) side by side, speed-adjusted, with 95%% CI",
        description="Compare impact between surfaces/shoes/sessions, adjusted to a common speed.",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="recordings to compare (default: the library)")
    p.add_argument("--by", choices=("surface", "shoe", "session"), default="surface",
                   help="what to compare: surfaces, shoes or single sessions (default: surface)")
    p.add_argument("--reference", help="reference group (default: concrete, then asphalt)")
    p.add_argument("--placement", choices=("waist", "shoe", "shank"), help="placement to compare")
    p.add_argument("--min-strikes", type=int, default=30, metavar="N", help="fewest strikes per group (30)")
    p.add_argument("--since", metavar="DATE", help="library sessions from this date only")
    p.add_argument("--rate", type=float, metavar="HZ", help="sampling rate for files without a time column")
    p.add_argument("--json", metavar="OUT", help="write the comparison as JSON ('-' for stdout)")
    p.add_argument("--plot", metavar="OUT.png", help="write distributions and adjusted ratios as PNG")
    _wide_option(p)
    _force_option(p)
    track_options(p)
    _library_option(p)
    p.set_defaults(func=_guard(cmd_compare))

    p = sub.add_parser("shoes", help="impact vs km per shoe, %% per 100 km with 95%% CI, retirement hint",
                       description="Speed- and surface-adjusted impact against the km on each shoe: trend in % "
                                   "per 100 km with its 95% CI and a retirement hint.")
    p.add_argument("--json", metavar="OUT", help="write the shoe trends as JSON ('-' for stdout)")
    p.add_argument("--plot", metavar="OUT.png", help="write impact vs km as PNG")
    p.add_argument("--placement", choices=("waist", "shoe", "shank"), help="placement to use (default: most strikes)")
    _wide_option(p)
    _force_option(p)
    _library_option(p)
    p.set_defaults(func=_guard(cmd_shoes))

    p = sub.add_parser("report", help="one self-contained HTML report of the library",
                       description="Write one self-contained HTML file (sessions, surfaces side by side, shoe "
                                   "trends, weekly load; plots embedded) from the library.")
    p.add_argument("--html", metavar="OUT", required=True, help="HTML file to write")
    p.add_argument("--since", metavar="DATE", help="only sessions from this date (YYYY-MM-DD, UTC)")
    _force_option(p)
    _library_option(p)
    p.set_defaults(func=_guard(cmd_report))


# ---- add -------------------------------------------------------------------------------------------
def cmd_add(args: argparse.Namespace) -> int:
    """Analyse each FILE and store it; one line per file; exit 2 if any file failed (others are kept)."""
    from gaitimpact.cli.analyze_cmd import overrides_from_args, tracks_for
    from gaitimpact.report.ingest import ingest_file

    console = _console()
    failed = 0
    overrides = overrides_from_args(args)
    tracks = tracks_for(args, args.files)
    date = _parse_date(args.date, "date")
    with _open(args, create=True) as lib:
        _say_created(lib)
        if args.shoe:
            lib.shoe(args.shoe)  # unknown shoe named on the command line: stop before any work
        for name, track in zip(args.files, tracks):
            try:
                done = ingest_file(lib, name, rate_hz=args.rate, overrides=overrides, distance_km=args.distance_km,
                                   track=track, track_offset_s=args.track_offset, date=date)
            except (GaitImpactError, sqlite3.OperationalError) as exc:  # e.g. locked for too long: next file
                failed += 1
                sys.stderr.write(f"gaitimpact: error: {shown(exc, MESSAGE_CHARS)}\n")
                continue
            for note in done.notes:
                console.print(shown(f"{name}: {note}", MESSAGE_CHARS), soft_wrap=True)
            res = done.result
            if res is None or not res.added:
                continue
            km = f", shoe {shown(done.shoe)} at {res.shoe_km:.0f} km" if done.shoe and res.shoe_km is not None else ""
            dist = "" if res.distance_source == "given" else f" ({res.distance_source})"
            console.print(
                f"{name}: session {res.session_id} of {done.date}: {done.strikes} strikes, "
                f"{res.distance_km:.2f} km{dist}{km}",
                highlight=False, soft_wrap=True,
            )
    return 2 if failed else 0


# ---- sessions ----------------------------------------------------------------------------------------
def cmd_sessions(args: argparse.Namespace) -> int:
    """Print the sessions with load, and weekly load."""
    from gaitimpact.report.load import weekly_load
    from gaitimpact.report.overview import session_overview

    since = _parse_since(args.since)
    _check_outputs(args, ("--json", args.json))
    with _open(args) as lib:
        _nonempty(lib)
        sessions, strikes = session_overview(lib, since)
    if len(sessions) == 0:
        raise InputError(f"no sessions since {args.since}", field="since")
    weekly = weekly_load(strikes)
    if args.json:
        _write_json({"sessions": _records(sessions), "weeks": _records(weekly)}, args.json)
        if args.json == "-":
            return 0
    console = _console()
    cols = [Col("id"), Col("date", right=False), Col("UTC", right=False, drop=8), Col("file", right=False, fold=True),
            Col("place", right=False, drop=4), Col("shoe", right=False, drop=1, fold=True),
            Col("shoe\nkm", drop=5), Col("km"), Col("strikes", drop=2), Col("cadence\nspm", drop=3),
            Col("speed\nm/s", drop=6), Col("median\npeak g"), Col("cum.\nimpact g", drop=7), Col("bone\nstim. g")]
    rows = [
        (
            str(r.session),
            f"{r.start_utc:%Y-%m-%d}" + ("~" if r.date_source == "file time" else ""),
            f"{r.start_utc:%H:%M}",
            shown(r.source),
            str(r.placement),
            shown(r.shoe) if isinstance(r.shoe, str) else "-",
            _f(r.shoe_km, 0),
            _f(r.distance_km, 2) + ("*" if str(r.distance_source).startswith("estimated") else ""),
            str(r.strikes),
            _f(r.cadence_spm, 0),
            _f(r.speed_mps, 2),
            _f(r.peak_g_median, 2),
            _f(r.cumulative_impact_g, 0),
            _f(r.bone_stimulus_g, 1),
        )
        for r in sessions.itertuples()
    ]
    print_table(console, "Sessions", cols, rows, wide=args.wide)
    cols = [Col("week of", right=False), Col("placement", right=False), Col("sessions", drop=1), Col("strikes"),
            Col("cum.\nimpact g", drop=2), Col("bone\nstim. g")]
    rows = [
        (
            f"{r.week:%Y-%m-%d}",
            str(r.placement),
            str(r.sessions),
            str(r.strikes),
            _f(r.cumulative_impact_g, 0),
            _f(r.bone_stimulus_g, 1),
        )
        for r in weekly.itertuples()
    ]
    print_table(console, "Weekly load", cols, rows, wide=args.wide)
    console.print(
        "* distance estimated.  ~ date from the file's modification time (set it with add --date).  "
        "bone stim. = (sum peak_g^4)^(1/4), Carter's daily stress stimulus "
        "(Carter et al. 1987); relative index per runner and placement.",
        highlight=False,
    )
    return 0


def _f(x: object, nd: int) -> str:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return "-" if v != v else f"{v:.{nd}f}"


def _records(df: pd.DataFrame) -> list[dict]:
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(lambda t: t.isoformat() if pd.notna(t) else None)
    return json.loads(out.to_json(orient="records"))


# ---- shoes -------------------------------------------------------------------------------------------
def cmd_shoe_add(args: argparse.Namespace) -> int:
    """Add a shoe."""
    with _open(args, create=True) as lib:
        _say_created(lib)
        s = lib.add_shoe(args.name, args.km)
    _console().print(f"shoe {shown(s.name)!r} added at {s.km:.0f} km")
    return 0


def cmd_shoe_list(args: argparse.Namespace) -> int:
    """List shoes with km and status."""
    with _open(args) as lib:
        shoes = lib.shoes()
    if not shoes:
        _console().print("no shoes yet: add one with `gaitimpact shoe add NAME --km START`")
        return 0
    cols = [Col("shoe", right=False, fold=True), Col("km\nnow"), Col("start\nkm", drop=1), Col("sessions"),
            Col("status", right=False)]
    rows = [
        (
            shown(s.name),
            f"{s.km:.0f}",
            f"{s.start_km:.0f}",
            str(s.sessions),
            f"retired {s.retired_utc[:10]}" if s.retired_utc else "active",
        )
        for s in shoes
    ]
    print_table(_console(), "Shoes", cols, rows, wide=args.wide)
    return 0


def cmd_shoe_retire(args: argparse.Namespace) -> int:
    """Retire a shoe."""
    with _open(args) as lib:
        s = lib.retire_shoe(args.name)
    _console().print(f"shoe {shown(s.name)!r} retired at {s.km:.0f} km")
    return 0


def cmd_shoes(args: argparse.Namespace) -> int:
    """Shoe trends: table and plain-words verdicts, optional JSON and PNG."""
    from gaitimpact.report.plots import save_png, shoes_png
    from gaitimpact.report.shoes import shoe_trends

    _check_outputs(args, ("--json", args.json), ("--plot", args.plot))
    with _open(args) as lib:
        _nonempty(lib)
        strikes = lib.strikes()
        shoes = lib.shoes()
    rep = shoe_trends(strikes, shoes=shoes, placement=args.placement)
    if args.json:
        _write_json(rep.to_dict(), args.json)
    if args.plot:
        save_png(shoes_png(rep), args.plot)
        _wrote(args.plot, to_stderr=args.json == "-")
    if args.json == "-":
        return 0
    if not rep.shoes:
        _console().print(
            "no shoes yet: add one with `gaitimpact shoe add NAME --km START` and name it when "
            "adding sessions (--shoe NAME or the sidecar's shoe)",
            highlight=False,
        )
        return 0
    cols = [Col("shoe", right=False, fold=True), Col("trend", right=False), Col("sessions", drop=2),
            Col("km\nfirst", drop=1), Col("km\nlast"), Col("% per\n100 km"), Col("likely %\nper 100 km")]
    rows = []
    for s in rep.shoes:
        ci = s.pct_per_100km_ci95
        rows.append((
            shown(s.shoe),
            s.status_words,
            str(s.sessions),
            _f(s.km_first, 0),
            _f(s.km_last, 0),
            _f(s.pct_per_100km, 1),
            "-" if ci is None else f"{ci[0]:+.1f} to {ci[1]:+.1f}",
        ))
    console = _console()
    print_table(console, "Shoes: speed-adjusted impact vs km", cols, rows, wide=args.wide)
    for s in rep.shoes:  # verdict and hint are sentences: below the table, wrapped at the console width
        console.print(shown(f"{s.verdict}; {s.hint}", MESSAGE_CHARS))
    for n in rep.notes:
        console.print(shown(f"note: {n}", MESSAGE_CHARS))
    console.print(f"rule: {rep.rule}")
    return 0


# ---- compare -----------------------------------------------------------------------------------------
def cmd_compare(args: argparse.Namespace) -> int:
    """Compare surfaces/shoes/sessions; print table and plain-words verdicts; optional JSON and PNG."""
    from gaitimpact.report.compare import compare
    from gaitimpact.report.ingest import strikes_from_files
    from gaitimpact.report.plots import compare_png, save_png

    _check_outputs(args, ("--json", args.json), ("--plot", args.plot), inputs=list(args.files))
    from gaitimpact.cli.analyze_cmd import tracks_for

    tracks = tracks_for(args, list(args.files))
    if args.files:
        from gaitimpact.usertext import plain_console

        # a file without running is named in one line, on stdout like add's (stderr when stdout carries JSON)
        said = plain_console(stderr=args.json == "-")
        strikes = strikes_from_files(args.files, args.rate, say=lambda line: said.print(line, soft_wrap=True),
                                     tracks=tracks, track_offset_s=args.track_offset)
    else:
        with _open(args) as lib:
            _nonempty(lib)
            strikes = lib.strikes(_parse_since(args.since))
        if len(strikes) == 0 and args.since:
            raise InputError(f"no sessions since {args.since}", field="since")
    cmp = compare(strikes, by=args.by, reference=args.reference, placement=args.placement,
                  min_strikes=args.min_strikes)
    if args.json:
        _write_json(cmp.to_dict(), args.json)
    if args.plot:
        save_png(compare_png(cmp, strikes), args.plot)
        _wrote(args.plot, to_stderr=args.json == "-")
    if args.json == "-":
        return 0
    common = cmp.common_speed_mps if cmp.covariate == "speed" else cmp.common_cadence_spm
    unit = "m/s" if cmp.covariate == "speed" else "steps/min"
    title = (f"Impact by {cmp.by} ({cmp.placement}) at the same {', '.join(cmp.adjusted_for)} "
             f"({common:g} {unit}), compared with {shown(cmp.reference)}")
    cols = [Col(cmp.by, right=False, fold=True), Col("status", right=False), Col("steps", drop=3),
            Col("runs", drop=2), Col("run\nmin", drop=4), Col("cadence\nspm", drop=5), Col("median\ng", drop=6),
            Col("p95 g", drop=7), Col("index\ng", drop=1), Col("ratio"), Col("95% range")]
    rows = []
    for g in cmp.groups:
        ci = g.ratio_ci95
        rows.append((
            shown(g.name),
            g.status.replace("_", " "),
            str(g.steps),
            str(g.runs),
            _f((g.running_s or 0) / 60, 1),
            _f(g.cadence_spm, 0),
            _f(g.peak_g_median, 2),
            _f(g.peak_g_p95, 2),
            _f(g.impact_index, 2),
            _f(g.ratio, 3),
            "-" if ci is None else f"{ci[0]:.3f}-{ci[1]:.3f}",
        ))
    console = _console()
    print_table(console, title, cols, rows, wide=args.wide)
    for g in cmp.groups:
        if g.status != "reference":
            console.print(shown(g.verdict, MESSAGE_CHARS))
    for n in cmp.notes:
        console.print(shown(f"note: {n}", MESSAGE_CHARS))
    return 0


# ---- report ------------------------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace) -> int:
    """Write the self-contained HTML report."""
    from gaitimpact.report.build import build_html_report

    since = _parse_since(args.since)
    _check_outputs(args, ("--html", args.html))
    with _open(args) as lib:
        page, n = build_html_report(lib, since)
    atomic_write_bytes(args.html, page.encode("utf-8"))
    _console().print(f"wrote {args.html} ({n} sessions)", highlight=False, markup=False)
    return 0
