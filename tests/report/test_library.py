"""The SQLite session/shoe library: schema, migration, atomic writes, dedup, corrupt files, shoes, distance."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gaitimpact.errors import InputError
from gaitimpact.report import library as libmod
from gaitimpact.report.library import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Library

T0 = datetime(2026, 11, 2, 7, 30, tzinfo=timezone.utc)


def strikes_table(n: int = 50, speed: float | None = 3.0, surface: str = "asphalt") -> pd.DataFrame:
    """A small per-strike table with the steps_table columns."""
    return pd.DataFrame(
        {
            "time_s": np.arange(n) * 0.35,
            "foot": ["L", "R"] * (n // 2) + ["L"] * (n % 2),
            "peak_g": np.linspace(3.0, 4.0, n),
            "loading_rate_gps": np.full(n, 120.0),
            "clipped": np.zeros(n, bool),
            "near_gap": np.zeros(n, bool),
            "surface": surface,
            "speed_mps": np.nan if speed is None else speed,
            "bout": 0,
        }
    )


def add(lib: Library, digest: str, *, distance_km: float | None = 5.0, shoe: str | None = None, **kw) -> object:
    n = kw.pop("n", 50)
    summary = {"placement": "waist", "duration_s": 60.0, "running_s": 60.0, "steps": n, "cadence_spm": 170.0}
    return lib.add_session(
        content_hash=digest,
        source=f"{digest}.csv",
        summary=summary,
        strikes=kw.pop("strikes", strikes_table(n, kw.pop("speed", 3.0))),
        segments=[{"start_s": 0.0, "end_s": 60.0, "surface": "asphalt", "speed_mps": 3.0}],
        start_utc=kw.pop("start_utc", T0),
        date_source="recording",
        distance_km=distance_km,
        shoe=shoe,
        **kw,
    )


def test_new_library_has_current_schema_and_application_id(lib_path: Path) -> None:
    with Library.open(lib_path, create=True) as lib:
        assert lib.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    con = sqlite3.connect(lib_path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert {"shoes", "sessions", "strikes", "segments"} <= tables


def test_read_only_open_of_missing_library_says_empty_and_creates_nothing(lib_path: Path) -> None:
    with pytest.raises(InputError, match="library is empty"):
        Library.open(lib_path)
    assert not lib_path.exists()


def test_v1_library_is_migrated_and_keeps_its_sessions(lib_path: Path) -> None:
    con = sqlite3.connect(lib_path)
    con.executescript(MIGRATIONS[0])
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.execute("INSERT INTO shoes(name, start_km, added_utc) VALUES ('Old', 120, '2026-01-01')")
    con.execute(
        "INSERT INTO sessions(content_hash, source, added_utc, start_utc, placement, shoe_id, shoe_km, distance_km,"
        " duration_s, running_s, strikes, cadence_spm, speed_mps, summary_json)"
        " VALUES ('abc', 'old.csv', '2026-01-02', '2026-01-02T08:00:00+00:00', 'waist', 1, 120, 10, 3600,"
        " 3500, 0, 170, 3.0, '{}')"
    )
    con.commit()
    con.close()
    with Library.open(lib_path) as lib:
        assert lib.schema_version == SCHEMA_VERSION
        sessions = lib.sessions()
        assert list(sessions["source"]) == ["old.csv"]
        assert sessions.loc[0, "distance_source"] == "given"
        assert lib.shoe("Old").km == pytest.approx(130.0)


def test_newer_schema_is_refused_and_file_left_untouched(lib_path: Path) -> None:
    with Library.open(lib_path, create=True):
        pass
    con = sqlite3.connect(lib_path)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    before = lib_path.read_bytes()
    with pytest.raises(InputError, match="newer than this gaitimpact"):
        Library.open(lib_path)
    assert lib_path.read_bytes() == before


def test_corrupt_library_file_gives_one_line_error_and_is_not_modified(lib_path: Path) -> None:
    garbage = b"this is not sqlite\n" + bytes(range(256)) * 8
    lib_path.write_bytes(garbage)
    with pytest.raises(InputError) as err:
        Library.open(lib_path, create=True)
    assert "left untouched" in str(err.value) and "\n" not in str(err.value)
    assert lib_path.read_bytes() == garbage


def test_foreign_sqlite_database_is_refused_without_writing(lib_path: Path) -> None:
    con = sqlite3.connect(lib_path)
    con.execute("CREATE TABLE photos(id INTEGER)")
    con.commit()
    con.close()
    before = lib_path.read_bytes()
    with pytest.raises(InputError, match="not a gaitimpact library"):
        Library.open(lib_path, create=True)
    assert lib_path.read_bytes() == before


def test_same_content_hash_is_stored_once(lib_path: Path) -> None:
    with Library.open(lib_path, create=True) as lib:
        first = add(lib, "h1")
        second = add(lib, "h1")
        assert first.added and not second.added
        assert second.session_id == first.session_id
        assert lib.count_sessions() == 1
        assert len(lib.strikes()) == 50


def test_failed_write_rolls_back_the_whole_session(lib_path: Path) -> None:
    broken = strikes_table(20).drop(columns=["peak_g"])
    with Library.open(lib_path, create=True) as lib:
        add(lib, "ok")
        with pytest.raises(KeyError):
            add(lib, "bad", strikes=broken)
        assert lib.count_sessions() == 1
        assert lib.find_hash("bad") is None
        assert len(lib.strikes()) == 50


def test_shoe_km_grows_with_session_distance_and_session_records_km_at_start(lib_path: Path) -> None:
    with Library.open(lib_path, create=True) as lib:
        lib.add_shoe("Pegasus", 100.0)
        r1 = add(lib, "a", distance_km=10.0, shoe="Pegasus")
        r2 = add(lib, "b", distance_km=12.5, shoe="Pegasus")
        assert (r1.shoe_km, r2.shoe_km) == (100.0, 110.0)
        shoe = lib.shoe("Pegasus")
        assert shoe.km == pytest.approx(122.5) and shoe.sessions == 2


def test_unknown_duplicate_and_retired_shoes_are_clear_errors(lib_path: Path) -> None:
    with Library.open(lib_path, create=True) as lib:
        lib.add_shoe("Clifton")
        with pytest.raises(InputError, match="unknown shoe 'Cliftn'.*Clifton"):
            lib.shoe("Cliftn")
        with pytest.raises(InputError, match="already exists"):
            lib.add_shoe("Clifton")
        with pytest.raises(InputError, match=">= 0"):
            lib.add_shoe("Neg", -5)
        retired = lib.retire_shoe("Clifton")
        assert retired.retired_utc
        with pytest.raises(InputError, match="already retired"):
            lib.retire_shoe("Clifton")
        with pytest.raises(InputError, match="unknown shoe"):
            add(lib, "x", shoe="Nope")
        assert lib.count_sessions() == 0


def test_distance_is_given_or_estimated_from_speed_or_steps(lib_path: Path) -> None:
    with Library.open(lib_path, create=True) as lib:
        given = add(lib, "g", distance_km=7.0)
        by_speed = add(lib, "v", distance_km=None, speed=3.0)
        by_steps = add(lib, "s", distance_km=None, speed=None, n=60)
    assert (given.distance_km, given.distance_source) == (7.0, "given")
    assert by_speed.distance_km == pytest.approx(3.0 * 60.0 / 1000.0)
    assert "speed" in by_speed.distance_source
    assert by_steps.distance_km == pytest.approx(60 * libmod.STEP_LENGTH_M / 1000.0)
    assert "steps" in by_steps.distance_source


def test_since_filters_sessions_and_strikes(lib_path: Path) -> None:
    with Library.open(lib_path, create=True) as lib:
        add(lib, "old", start_utc=datetime(2026, 10, 1, tzinfo=timezone.utc))
        add(lib, "new", start_utc=datetime(2026, 11, 10, tzinfo=timezone.utc))
        since = datetime(2026, 11, 1, tzinfo=timezone.utc)
        assert list(lib.sessions(since)["source"]) == ["new.csv"]
        assert lib.strikes(since)["session"].nunique() == 1


def test_library_path_from_flag_then_env_then_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(libmod.ENV_VAR, str(tmp_path / "env.sqlite"))
    assert libmod.resolve_library_path(str(tmp_path / "flag.sqlite")) == tmp_path / "flag.sqlite"
    assert libmod.resolve_library_path(None) == tmp_path / "env.sqlite"
    monkeypatch.delenv(libmod.ENV_VAR)
    default = libmod.resolve_library_path(None)
    assert default.name == "library.sqlite" and "gaitimpact" in str(default)
