"""The parser is built from only the modules a command line needs (what `--help` and a command import)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from gaitimpact.cli.main import COMMAND_MODULES, COMMANDS, build_parser


def _imported_after(argv: list[str], modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter holds after building (not running) the parser for argv."""
    code = ("import sys; from gaitimpact.cli.main import build_parser; "
            f"build_parser({argv!r}); print(' '.join(m for m in {modules!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.split()


def test_each_command_is_registered_by_the_module_the_command_map_names():
    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        assert set(sub.choices) == {name for name, mod in COMMANDS.items() if mod == module}, module


def test_a_named_command_builds_only_its_own_parsers_and_help_builds_all():
    only = build_parser(["analyze", "run.csv"])
    sub = next(a for a in only._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == ["analyze"]
    for argv in (["--help"], ["analyse", "run.csv"], []):  # top-level help, a misspelt command: every command
        every = build_parser(argv)
        sub = next(a for a in every._actions if isinstance(a, argparse._SubParsersAction))
        assert list(sub.choices) == list(COMMANDS), argv


def test_help_imports_no_event_loop_ble_or_numerics_libraries():
    heavy = ("asyncio", "bleak", "gaitimpact.ble.profiles", "scipy", "pandas", "rich", "pyarrow")
    assert _imported_after(["--help"], heavy) == []
    assert _imported_after(["analyze", "run.csv"], heavy + ("gaitimpact.cli.report_cmd", "sqlite3")) == []


def test_the_cli_asks_for_one_blas_thread_before_numpy_is_loaded():
    code = ("import os, sys; os.environ.pop('OPENBLAS_NUM_THREADS', None); import gaitimpact.cli.main; "
            "print('numpy' in sys.modules, os.environ['OPENBLAS_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "1"]
