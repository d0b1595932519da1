"""Output a person reads: tables fit 80 columns without cutting values, `--wide`, `$COLUMNS`; help text."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gaitimpact.cli.main import build_parser, main
from gaitimpact.cli.tables import FOLD_WIDTH
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

LONG_NAME = "morning_run_with_a_long_watch_export_name_2026-11-29.csv"


def _write(path: Path, segments: list[tuple[float, float, str]], seed: int) -> Path:
    cfg = SimConfig(placement="waist", fs_hz=200.0, segments=[SimSegment(d, "run", v, s) for d, v, s in segments],
                    seed=seed, noise_g=0.02, shoe=None)
    write_simulation(simulate(cfg), path)
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library with three asphalt+grass sessions (one with a long file name) on shoe 'Pegasus 40'."""
    folder = tmp_path_factory.mktemp("ux_tables")
    lib = folder / "lib.sqlite"
    files = [_write(folder / (LONG_NAME if k == 0 else f"r{k}.csv"),
                    [(35.0, 3.0 + 0.2 * k, "asphalt"), (35.0, 3.2 + 0.2 * k, "grass")], seed=k) for k in range(3)]
    assert main(["shoe", "add", "Pegasus 40", "--km", "120", "--library", str(lib)]) == 0
    assert main(["add", *map(str, files), "--shoe", "Pegasus 40", "--library", str(lib)]) == 0
    return lib


def _assert_fits(out: str, width: int = 80) -> None:
    """No value cut with an ellipsis and no line wider than `width`."""
    assert "…" not in out and "..." not in out, out
    too_long = [line for line in out.splitlines() if len(line) > width]
    assert not too_long, too_long


@pytest.mark.parametrize("command", [["sessions"], ["compare"], ["shoes"], ["shoe", "list"],
                                     ["compare", "--by", "session"]])
def test_library_tables_fit_80_columns_without_ellipsis(command, library, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*command, "--library", str(library)]) == 0
    out = capsys.readouterr().out
    _assert_fits(out)
    assert "Pegasus 40" in out or command[0] == "compare"


def test_sessions_at_80_columns_keeps_file_names_whole_and_says_what_it_left_out(library, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["sessions", "--library", str(library)])
    out = capsys.readouterr().out
    # the long file name is folded over lines, never cut: the file column's pieces joined give the whole name
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if " file " in line)
    col = lines[header].index(" file ") + 1
    rows = lines[header + 2:lines.index(next(line for line in lines if line.startswith("(not shown")))]
    assert LONG_NAME in "".join(line[col:col + FOLD_WIDTH].strip() for line in rows), out
    assert "--wide shows every column" in out
    assert "median" in out and "bone" in out  # the impact columns stay


def test_shoes_hint_is_a_sentence_below_the_table_not_one_word_per_line(library, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["shoes", "--library", str(library)])
    out = capsys.readouterr().out
    hint_lines = [line for line in out.splitlines() if line.startswith("Pegasus 40: ")]
    assert len(hint_lines) == 1 and len(hint_lines[0].split()) > 5, out


def test_columns_env_is_honoured_when_piped(library, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["sessions", "--library", str(library)])
    narrow = capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "200")
    main(["sessions", "--library", str(library)])
    broad = capsys.readouterr().out
    assert "not shown at 80 columns" in narrow
    assert "not shown" not in broad and "speed" in broad and "speed" not in narrow.split("not shown")[0]
    _assert_fits(broad, 200)


def test_wide_shows_every_column(library, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["sessions", "--wide", "--library", str(library)])
    out = capsys.readouterr().out
    for header in ("place", "shoe", "speed", "cadence", "cum.", "impact g", "bone"):
        assert header in out
    assert "not shown" not in out and "…" not in out
    main(["compare", "--wide", "--library", str(library)])
    out = capsys.readouterr().out
    assert "p95 g" in out and "…" not in out


def test_analyze_tables_fit_80_columns(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    f = _write(tmp_path / LONG_NAME, [(30.0, 3.0, "asphalt"), (30.0, 3.4, "grass")], seed=5)
    assert main(["analyze", str(f)]) == 0
    cap = capsys.readouterr()
    _assert_fits(cap.out)
    _assert_fits(cap.err)
    assert "Surface segments" in cap.out and "grass" in cap.out


# ---- help ---------------------------------------------------------------------------------------------
def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name))


def test_every_argument_and_command_has_one_line_of_help():
    missing = []
    for path, parser in _walk(build_parser()):
        if path and not parser.description:
            missing.append((path, "description"))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {c.dest: c.help for c in action._choices_actions}
                missing += [((*path, name), "help") for name in action.choices if not helps.get(name)]
            elif not action.help:
                missing.append((path, action.option_strings or action.dest))
    assert not missing, missing


def test_top_level_help_is_for_users_with_examples(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "foot strike" in out and "Each module registers" not in out and "exit codes" not in out
    for example in ("gaitimpact analyze run.csv", "gaitimpact add run.csv", "gaitimpact compare"):
        assert example in out
    assert max(map(len, out.splitlines())) <= 80
