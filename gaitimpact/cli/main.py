"""`gaitimpact` entry point: builds the sub-command parser and turns project errors into exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from gaitimpact import __version__
from gaitimpact.errors import EXIT_USAGE, GaitImpactError

# One OpenBLAS thread, set before anything loads numpy (a value the user set is kept): the core's matrix
# products are small, and OpenBLAS's extra threads spin on the CPU the CSV read-ahead thread and batch
# workers need (analyze 1 h at 1000 Hz: 0.7 CPU s less, same wall time and the same bits in every result).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Each module registers its own sub-commands with `register(subparsers)`; add a new command by adding
# its name and module here. A command line naming a command first builds only that module's parsers
# (`gaitimpact analyze FILE` does not import what `record` or `report` need at parse time).
COMMANDS = {
    "analyze": "gaitimpact.cli.analyze_cmd",
    "simulate": "gaitimpact.cli.simulate_cmd",
    "batch": "gaitimpact.cli.batch_cmd",
    "convert": "gaitimpact.cli.batch_cmd",
    "add": "gaitimpact.cli.report_cmd",
    "sessions": "gaitimpact.cli.report_cmd",
    "shoe": "gaitimpact.cli.report_cmd",
    "compare": "gaitimpact.cli.report_cmd",
    "shoes": "gaitimpact.cli.report_cmd",
    "report": "gaitimpact.cli.report_cmd",
    "scan": "gaitimpact.cli.record_cmd",
    "record": "gaitimpact.cli.record_cmd",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))
"""The command modules in the order `gaitimpact --help` lists their commands."""

GC_PAUSED = frozenset({"analyze", "simulate", "sessions", "shoe", "shoes"})
"""Commands whose work is bounded (one file, one library query): they run with the cyclic garbage
collector paused (`gaitimpact.analysis.heap`). The others may run for hours (record, batch) or over many
files and figures (add, compare, report) and keep it on."""


DESCRIPTION = """\
How hard does each foot strike hit you? gaitimpact reads a running recording
from an accelerometer on your waist, shoe or shank, finds every foot strike and
reports its peak impact (g), loading rate (g/s) and your cadence (steps/min).
A library of your runs then compares surfaces and follows your shoes' wear."""

EXAMPLES = """\
common commands:
  gaitimpact analyze run.csv --plot run.png  one run: summary table and figure
  gaitimpact add run.csv                     store a run in your library
  gaitimpact compare                         impact per surface at equal speed

`gaitimpact COMMAND --help` describes each command and its options."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"gaitimpact: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser: with only the module of the command `argv` starts with, else with every
    registered sub-command (top-level help, a misspelt command)."""
    parser = _Parser(prog="gaitimpact", description=DESCRIPTION, epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gaitimpact {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    first = argv[0] if argv else None
    for name in [COMMANDS[first]] if first in COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 1 runtime failure, 2 usage/input error)."""
    argv = sys.argv[1:] if argv is None else argv
    from gaitimpact.analysis.heap import paused_gc

    with paused_gc(_bounded(argv)):  # from the first import the command needs
        return _run(argv)


def _bounded(argv: list[str]) -> bool:
    """True when argv names a command of GC_PAUSED."""
    return bool(argv) and argv[0] in GC_PAUSED


def _run(argv: list[str]) -> int:
    """Parse `argv` and run its command; the exit code."""
    args = build_parser(argv).parse_args(argv)
    from gaitimpact.analysis.heap import keep_freed_memory

    keep_freed_memory()  # the core's passes reuse freed memory instead of faulting it in again
    try:
        with warnings.catch_warnings():
            # what the user needs to know comes as the project's own warnings; library noise does not:
            # numpy's RuntimeWarnings on NaN-only slices (results are checked for finiteness) and
            # matplotlib's missing-glyph warnings for names in scripts its font lacks (drawn as boxes)
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
            return int(args.func(args) or 0)
    except GaitImpactError as exc:
        from gaitimpact.usertext import MESSAGE_CHARS, shown

        sys.stderr.write(f"gaitimpact: error: {shown(exc, MESSAGE_CHARS)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("gaitimpact: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


def entry() -> None:
    """The `gaitimpact` script and `python -m gaitimpact`: run `main` and exit with its code, the objects
    left frozen so the interpreter's exit does not walk them (`heap.freeze_for_exit`)."""
    from gaitimpact.analysis.heap import freeze_for_exit, pause_gc_to_exit

    argv = sys.argv[1:]
    if _bounded(argv):
        pause_gc_to_exit()  # main's pause then stays on after the command: nothing is left to collect
    code = main(argv)
    freeze_for_exit()
    sys.exit(code)


if __name__ == "__main__":
    entry()
