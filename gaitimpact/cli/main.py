"""`gaitimpact` entry point: builds the sub-command parser and turns project errors into exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from gaitimpact import __version__
from gaitimpact.errors import EXIT_USAGE, GaitImpactError

# Each module registers its own sub-commands with `register(subparsers)`; add a new command by
# adding its module here.
COMMAND_MODULES = [
    "gaitimpact.cli.analyze_cmd",
    "gaitimpact.cli.simulate_cmd",
    "gaitimpact.cli.batch_cmd",
    "gaitimpact.cli.report_cmd",
    "gaitimpact.cli.record_cmd",
]


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


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = _Parser(prog="gaitimpact", description=DESCRIPTION, epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gaitimpact {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 1 runtime failure, 2 usage/input error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
