"""The library under attack (issue 15): concurrent `add` from real processes on a real SQLite file, and
damaged files whose header is intact (zeroed page, flipped page byte, missing table or column, garbage
date) refused untouched with one line and exit 2.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from gaitimpact.cli.main import main
from gaitimpact.report.library import Library
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

N_PROCS = 4


def _runs(folder: Path, n: int) -> list[Path]:
    """n different 20 s waist runs (different seeds) whose sidecars all name the shoe 'racer'."""
    out = []
    for i in range(n):
        cfg = SimConfig(placement="waist", fs_hz=100.0, shoe="racer", shoe_km=10.0, seed=100 + i,
                        segments=[SimSegment(20.0, "run", 3.0, "asphalt")])
        csv, _, _ = write_simulation(simulate(cfg), folder / f"run{i}.csv")
        out.append(csv)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    return _runs(tmp_path_factory.mktemp("runs"), N_PROCS + 1)


def _add_worker(barrier, argv: list[str]) -> None:
    """Child process: wait for the others, then run `gaitimpact add` and exit with its code."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    barrier.wait(timeout=60)
    sys.exit(main(argv))


def _run_at_once(argvs: list[list[str]]) -> list[int | None]:
    """Run one `gaitimpact` command per argv in its own process, all released together; their exit codes."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(argvs))
    procs = [ctx.Process(target=_add_worker, args=(barrier, argv)) for argv in argvs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    return [p.exitcode for p in procs]


def test_concurrent_add_to_a_new_library_stores_every_session_once(runs, tmp_path):
    """4 processes create the library at once, each adds its own run plus one run they all share."""
    lib = tmp_path / "new" / "lib.sqlite"
    shared = runs[-1]
    codes = _run_at_once([["add", str(runs[i]), str(shared), "--library", str(lib)] for i in range(N_PROCS)])
    assert codes == [0] * N_PROCS
    with Library.open(lib) as opened:
        sessions = opened.sessions()
        assert sorted(sessions["source"]) == sorted(r.name for r in runs)  # 5 sessions, none twice
        assert [s.name for s in opened.shoes()] == ["racer"]


def test_a_duplicate_is_a_note_and_the_other_files_are_stored(runs, tmp_path, capsys):
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(runs[0]), *lib]) == 0
    assert f"created library {tmp_path / 'lib.sqlite'}" in capsys.readouterr().out
    assert main(["add", str(runs[0]), str(runs[1]), *lib]) == 0
    out = capsys.readouterr().out
    assert "already in the library" in out and "created library" not in out
    with Library.open(tmp_path / "lib.sqlite") as opened:
        assert opened.count_sessions() == 2


def test_library_created_twice_at_once_by_shoe_add_is_not_refused(tmp_path):
    """The loser of a creation race used to see 'table shoes already exists'."""
    lib = tmp_path / "lib.sqlite"
    assert _run_at_once([["shoe", "add", f"s{i}", "--library", str(lib)] for i in range(N_PROCS)]) == [0] * N_PROCS
    with Library.open(lib) as opened:
        assert sorted(s.name for s in opened.shoes()) == [f"s{i}" for i in range(N_PROCS)]


# ---- damaged libraries ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_library(runs, tmp_path_factory) -> Path:
    """A library with two sessions and the shoe 'racer'."""
    lib = tmp_path_factory.mktemp("lib") / "lib.sqlite"
    assert main(["add", str(runs[0]), str(runs[1]), "--library", str(lib)]) == 0
    return lib


def _page(lib: Path, table: str) -> tuple[int, int]:
    """(page size, root page number) of a table."""
    with sqlite3.connect(lib) as c:
        size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    return size, root


def zero_page(lib: Path) -> None:
    size, root = _page(lib, "strikes")
    data = bytearray(lib.read_bytes())
    data[(root - 1) * size:root * size] = bytes(size)
    lib.write_bytes(bytes(data))


def flip_page_type(lib: Path) -> None:
    size, root = _page(lib, "sessions")
    data = bytearray(lib.read_bytes())
    data[(root - 1) * size] ^= 0xFF  # the b-tree page type byte
    lib.write_bytes(bytes(data))


def _sql(statement: str):
    def damage(lib: Path) -> None:
        with sqlite3.connect(lib) as c:
            c.execute(statement)
        c.close()
    return damage


DAMAGE = {
    "zeroed page": (zero_page, "damaged"),
    "flipped page byte": (flip_page_type, "damaged"),
    "missing table": (_sql("DROP TABLE segments"), "table 'segments' is missing"),
    "missing column": (_sql("ALTER TABLE sessions DROP COLUMN speed_mps"), "lacks column(s) speed_mps"),
    "garbage date": (_sql("UPDATE sessions SET start_utc = 'garbage' WHERE id = 2"), "unreadable start date"),
}
COMMANDS = {
    "sessions": ["sessions"],
    "shoes": ["shoes"],
    "shoe list": ["shoe", "list"],
    "compare": ["compare"],
    "report": ["report", "--html", "REPORT"],
    "shoe add": ["shoe", "add", "new-shoe"],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_damaged_library_is_refused_untouched(good_library, tmp_path, capsys, damage, command):
    lib = tmp_path / "lib.sqlite"
    shutil.copy(good_library, lib)
    damage_fn, needle = DAMAGE[damage]
    damage_fn(lib)
    before = lib.read_bytes()
    argv = [a.replace("REPORT", str(tmp_path / "r.html")) for a in COMMANDS[command]]
    code = main([*argv, "--library", str(lib)])
    err = capsys.readouterr().err
    if damage == "garbage date" and command in ("shoe list", "shoe add"):
        assert code == 0  # these do not read session dates; the file is otherwise sound
        return
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert needle in lines[0] and "rolled back" not in lines[0], lines[0]
    assert lib.read_bytes() == before
    assert not (tmp_path / "r.html").exists()


def test_shoe_add_on_a_zeroed_page_stores_nothing(good_library, tmp_path, capsys):
    lib = tmp_path / "lib.sqlite"
    shutil.copy(good_library, lib)
    zero_page(lib)
    before = lib.read_bytes()
    assert main(["shoe", "add", "x", "--library", str(lib)]) == 2
    assert "untouched" in capsys.readouterr().err and lib.read_bytes() == before


def test_sidecar_named_shoe_is_created_once(runs, tmp_path):
    """The shoe named by a sidecar is created with INSERT OR IGNORE: adding it again is a no-op."""
    lib = tmp_path / "lib.sqlite"
    with Library.open(lib, create=True) as opened:
        assert opened.ensure_shoe("racer", 5.0) is True
        assert opened.ensure_shoe("racer", 7.0) is False
        assert [(s.name, s.start_km) for s in opened.shoes()] == [("racer", 5.0)]
    assert json.loads(runs[0].with_suffix(".json").read_text())["shoe"]["name"] == "racer"
