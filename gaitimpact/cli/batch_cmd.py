"""`gaitimpact batch PATH...` (many recordings, one row each) and `gaitimpact convert IN OUT` (CSV <-> Parquet)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from gaitimpact.errors import InputError

NO_RUNNING_SHOWN = 20
"""At most this many recordings without running are named after the batch summary (all are in the table)."""

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `batch` and `convert` sub-commands."""
    from gaitimpact.cli.analyze_cmd import add_recording_options

    p = sub.add_parser(
        "batch",
        help="analyse every recording under the given paths (parallel, resumable), one row per file",
        description=(
            "Analyse every recording (.csv, .tsv, .txt, .parquet, each with its sidecar JSON) under the "
            "given files/folders, in parallel, one summary row per file with the `analyze --json` names "
            "(nested keys joined with '.', lists as JSON text). Re-running with the same --out skips files "
            "already done (content hash), so an interrupted batch continues. Exit code 0 when every file "
            "was analysed, 1 when some failed (each listed with its reason), 2 for bad arguments."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="recording files or folders (searched recursively)")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: one per core)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on an existing dask.distributed scheduler, e.g. tcp://host:8786 "
                        "(needs: pip install gaitimpact[dask]; workers must see the same files)")
    p.add_argument("--out", metavar="FILE", default="gaitimpact-batch.csv",
                   help="result table, .csv or .parquet (default: %(default)s); its journal "
                        "FILE.journal.jsonl makes re-runs resume")
    p.add_argument("--steps-dir", metavar="DIR", help="also write one per-strike table per file into DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="replace an --out file that looks like a recording")
    add_recording_options(p)
    p.set_defaults(func=run_batch_cmd)

    c = sub.add_parser(
        "convert",
        help="convert a recording between CSV and Parquet (metadata kept)",
        description=(
            "Convert a recording: any readable CSV -> Parquet (metadata from the sidecar embedded in the "
            "file), or Parquet -> canonical CSV plus its sidecar JSON. Times in s, acceleration in g."
        ),
    )
    c.add_argument("input", metavar="IN", help="recording to read (.csv, .tsv, .txt, .parquet)")
    c.add_argument("output", metavar="OUT", help="file to write (.csv or .parquet)")
    c.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    c.add_argument("--stream", action="store_true",
                   help="convert block by block in bounded memory (automatic for canonical CSV / Parquet "
                        "files of 256 MB and more)")
    add_recording_options(c)
    c.set_defaults(func=run_convert_cmd)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Inside: SIGTERM raises KeyboardInterrupt (clean stop, exit 130) instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_batch_cmd(args: argparse.Namespace) -> int:
    """Run `gaitimpact batch`; exit code 0 all ok, 1 some files failed."""
    from rich.table import Table
    from rich.text import Text

    from gaitimpact.batch.runner import run_batch
    from gaitimpact.cli.analyze_cmd import overrides_from_args

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError("must end in .csv or .parquet", field="--out")
    if args.jobs is not None and args.jobs < 1:
        raise InputError("must be at least 1", field="--jobs")
    from gaitimpact.batch.state import journal_path
    from gaitimpact.io.fsutil import check_output, check_output_dir

    inputs = [p for p in args.paths if Path(p).is_file()]
    check_output(out, inputs=inputs, force=args.force, field="--out", create_parents=True)
    check_output(journal_path(out), inputs=inputs, force=args.force, field="--out", create_parents=True)
    if args.steps_dir:
        check_output_dir(args.steps_dir, field="--steps-dir")
    if args.dask is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            from gaitimpact.batch.runner import DASK_HINT

            raise InputError(DASK_HINT, field="--dask") from None

    from gaitimpact.usertext import plain_console

    console = plain_console(stderr=True)  # file names and reasons are data, never markup
    with _sigterm_as_interrupt():  # `kill PID` stops the workers and keeps the journal, like Ctrl-C
        report = run_batch(args.paths, jobs=args.jobs, dask_address=args.dask, out=out, steps_dir=args.steps_dir,
                           rate_hz=args.rate, overrides=overrides_from_args(args), progress=not args.no_progress,
                           console=console)
    ok = sum(1 for r in report.rows if r["status"] == "ok")
    no_running = sum(1 for r in report.rows if r["status"] == "no_running")
    table = Table(title="gaitimpact batch", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("files", str(len(report.rows)))
    table.add_row("analysed now", f"{report.analysed} in {report.analysis_s:.1f} s ({report.files_per_s:.2f} files/s)")
    table.add_row("already done (skipped)", str(report.reused))
    table.add_row("ok / failed", f"{ok} / {len(report.failures)}")
    if no_running:
        table.add_row("without running (not failed)", str(no_running))
    table.add_row("results", str(report.out))
    if args.steps_dir:
        table.add_row("per-strike tables", str(args.steps_dir))
    out_console = plain_console()
    out_console.print(table)
    out_console.print(f"wrote {report.out}")
    from gaitimpact.analysis.summary import no_running_line

    walks = [r["file"] for r in report.rows if r["status"] == "no_running"]
    for name in walks[:NO_RUNNING_SHOWN]:  # named as analyze, add and compare name them
        out_console.print(no_running_line(name, "its row has status no_running"), soft_wrap=True)
    if len(walks) > NO_RUNNING_SHOWN:
        out_console.print(f"... and {len(walks) - NO_RUNNING_SHOWN} more without running (status no_running)")
    if report.failures:
        # each failure was named once, as it happened ("failed PATH: reason"); the results' error column keeps them
        console.print(Text.assemble((f"{len(report.failures)} file(s) failed", "red"),
                                    f" (named above; reasons also in the error column of {report.out})"))
        return 1
    return 0


def run_convert_cmd(args: argparse.Namespace) -> int:
    """Run `gaitimpact convert IN OUT` (CSV <-> Parquet, metadata kept)."""
    from rich.console import Console

    from gaitimpact.cli.analyze_cmd import overrides_from_args
    from gaitimpact.io.load import load_recording

    src, dst = Path(args.input), Path(args.output)
    fmt = FORMATS.get(dst.suffix.lower())
    if fmt is None:
        raise InputError("output must end in .csv or .parquet", path=str(dst))
    if src.suffix.lower() not in FORMATS:
        raise InputError("input must be .csv, .tsv, .txt or .parquet", path=str(src))
    from gaitimpact.io.fsutil import check_input_file, check_output

    check_input_file(src)
    targets = [dst] if fmt == "parquet" else [dst, dst.with_suffix(".json")]
    for target in targets:
        check_output(target, inputs=[src], force=args.force, field="OUT")
        if target.exists() and not args.force:
            raise InputError("already exists (use --force to overwrite)", path=str(target))
    from gaitimpact.analysis.service import wants_chunked
    from gaitimpact.io.blocks import is_streamable

    streamable = is_streamable(src)
    if streamable and (args.stream or wants_chunked(src)):
        from gaitimpact.batch.convert import stream_convert

        n, duration_s, fs_hz = stream_convert(src, dst, rate_hz=args.rate,
                                              overrides=overrides_from_args(args) or None)
        console = Console(stderr=True)
        console.print(f"converted {src} -> {dst} block by block: {n} samples, {duration_s:.1f} s "
                      f"at {fs_hz:.0f} Hz", highlight=False, markup=False)
        for target in targets:
            console.print(f"wrote {target}", highlight=False, markup=False)
        return 0
    if args.stream:
        raise InputError("--stream needs a canonical CSV (time_s,ax_g,ay_g,az_g) or a Parquet file; convert "
                         "this one without --stream", path=str(src))
    rec = load_recording(src, rate_hz=args.rate, overrides=overrides_from_args(args) or None)
    if fmt == "parquet":
        from gaitimpact.io.parquet import write_parquet

        write_parquet(dst, rec)
        written = [dst]
    else:
        from gaitimpact.io.csv_writer import write_csv
        from gaitimpact.io.sidecar import write_sidecar

        write_csv(dst, rec)
        written = [dst, write_sidecar(dst, rec.meta, gaps=list(rec.gaps), fs_hz=float(rec.fs_hz))]
    console = Console(stderr=True)
    console.print(
        f"converted {src} -> {', '.join(map(str, written))}: {rec.n_samples} samples, "
        f"{rec.duration_s:.1f} s at {rec.fs_hz:.0f} Hz", highlight=False, markup=False)
    for target in written:
        console.print(f"wrote {target}", highlight=False, markup=False)
    return 0
