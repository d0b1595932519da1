"""The session and shoe library: one SQLite file with a versioned, migrated schema.

Where: `--library PATH`, else the environment variable `GAITIMPACT_LIBRARY`, else
`<user data dir>/gaitimpact/library.sqlite` (platformdirs). Every write is one SQLite transaction
(all or nothing, `BEGIN IMMEDIATE`, waiting up to `BUSY_TIMEOUT_S` for another writer); a recording
already stored (same SHA-256 of its data file) is recognised and not stored twice, also when several
processes add it at once. Creation and migration are idempotent under concurrency. A file that is not
a gaitimpact library, or fails `PRAGMA quick_check` or the schema check, is refused and never written to.

Tables: `shoes` (name, km at purchase/start, retired), `sessions` (one analysed recording: summary,
distance and how it was obtained, shoe and the shoe's km at that session), `strikes` (one row per
detected foot strike), `segments` (surface segments of the recording).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from gaitimpact.errors import InputError
from gaitimpact.names import did_you_mean, same_name
from gaitimpact.report.location import (  # noqa: F401
    ENV_VAR,
    default_library_path,
    resolve_library_path,
    unwritable_reason,
)

APPLICATION_ID = 0x47414954
"""SQLite `application_id` of a gaitimpact library ("GAIT")."""

MIGRATIONS: list[str] = [
    # v1: shoes, sessions, strikes.
    """
    CREATE TABLE shoes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        start_km REAL NOT NULL DEFAULT 0,
        added_utc TEXT NOT NULL,
        retired_utc TEXT
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        added_utc TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        placement TEXT NOT NULL,
        shoe_id INTEGER REFERENCES shoes(id),
        shoe_km REAL,
        distance_km REAL NOT NULL,
        duration_s REAL NOT NULL,
        running_s REAL NOT NULL,
        strikes INTEGER NOT NULL,
        cadence_spm REAL,
        speed_mps REAL,
        summary_json TEXT NOT NULL
    );
    CREATE TABLE strikes (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        time_s REAL NOT NULL,
        foot TEXT NOT NULL,
        peak_g REAL NOT NULL,
        loading_rate_gps REAL,
        clipped INTEGER NOT NULL,
        near_gap INTEGER NOT NULL,
        surface TEXT NOT NULL,
        speed_mps REAL,
        bout INTEGER NOT NULL
    );
    CREATE INDEX strikes_session ON strikes(session_id);
    """,
    # v2: surface segments per session; where distance, date and shoe km came from.
    """
    CREATE TABLE segments (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        surface TEXT NOT NULL,
        speed_mps REAL
    );
    ALTER TABLE sessions ADD COLUMN distance_source TEXT NOT NULL DEFAULT 'given';
    ALTER TABLE sessions ADD COLUMN date_source TEXT NOT NULL DEFAULT 'recording';
    ALTER TABLE sessions ADD COLUMN shoe_km_source TEXT;
    """,
]
"""Schema migrations; `MIGRATIONS[i]` takes a library from version i to i + 1."""

SCHEMA_VERSION = len(MIGRATIONS)
"""Schema version this code writes (`PRAGMA user_version`)."""

BUSY_TIMEOUT_S = 60.0
"""How long a command waits for another process's write transaction to finish, s."""


def _expected_schema() -> dict[str, set[str]]:
    """Table -> column names a library at `SCHEMA_VERSION` has (built by running the migrations in memory)."""
    mem = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS:
            for statement in migration.split(";"):
                if statement.strip():
                    mem.execute(statement)
        return _schema_of(mem)
    finally:
        mem.close()


def _schema_of(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Table -> column names of an open database."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({_quote(t)})")} for t in tables}


def _quote(name: str) -> str:
    """SQL identifier quoting."""
    return '"' + name.replace('"', '""') + '"'

STEP_LENGTH_M = 1.0
"""Distance model when neither distance nor speed is known: steps x 1.0 m (a typical recreational
running step at ~3 m/s and ~170 steps/min is 1.0-1.1 m; expect +-20 %)."""


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes: the identity of a recording in the library."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Shoe:
    """A shoe: km when added, km run in stored sessions, the latest km known from a session, retirement."""

    id: int
    name: str
    start_km: float
    run_km: float
    sessions: int
    retired_utc: str | None
    last_known_km: float = 0.0

    @property
    def km(self) -> float:
        """Current km: start km + km of its sessions, or the km after its latest session if that is more."""
        return max(self.start_km + self.run_km, self.last_known_km)


@dataclass(frozen=True)
class AddResult:
    """Outcome of `Library.add_session`: the session id and whether it was new."""

    session_id: int
    added: bool
    shoe_km: float | None
    distance_km: float
    distance_source: str


class Library:
    """A gaitimpact library file. Open with `Library.open(path, create=...)`; use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.created = False
        """True when this call created the library (a new, empty file)."""

    # ---- opening and migrating -------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = False) -> Library:
        """Open (and migrate) a library; create it only when `create`. Raises InputError otherwise."""
        path = Path(path)
        if not path.exists():
            if not create:
                raise InputError(
                    "library is empty (no such file); add sessions with `gaitimpact add FILE`", path=str(path)
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create library folder: {exc.strerror}", path=str(path)) from None
        elif path.is_dir():
            raise InputError("library path is a directory, expected a file", path=str(path))
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open library: {exc}{unwritable_reason(path, exc)}", path=str(path)) from None
        lib = cls(path, conn)
        try:
            lib._check_quick()
            lib._check_and_migrate()
            lib._check_integrity()
        except sqlite3.DatabaseError as exc:
            conn.close()
            why = unwritable_reason(path, exc)
            if why:
                raise InputError(f"cannot open library: {exc}{why}", path=str(path)) from None
            raise InputError(
                f"not a readable gaitimpact library ({exc}); the file was left untouched", path=str(path)
            ) from None
        except InputError:
            conn.close()
            raise
        conn.execute("PRAGMA foreign_keys = ON")
        return lib

    def _state(self) -> tuple[int, int]:
        """(schema version, application id) of the file; InputError for a foreign or newer file."""
        c = self.conn
        app_id = c.execute("PRAGMA application_id").fetchone()[0]
        version = c.execute("PRAGMA user_version").fetchone()[0]
        n_tables = c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (n_tables > 0 or version != 0):
            raise InputError(
                "SQLite file is not a gaitimpact library; the file was left untouched", path=str(self.path)
            )
        if version > SCHEMA_VERSION:
            raise InputError(
                f"library schema v{version} is newer than this gaitimpact (v{SCHEMA_VERSION}); "
                "upgrade gaitimpact",
                path=str(self.path),
            )
        return version, app_id

    def _check_and_migrate(self) -> None:
        """Refuse foreign/newer files; bring older libraries up to `SCHEMA_VERSION` in one transaction.

        Safe when several processes open (or create) the same file at once: the version is read again
        under the write lock, so only one of them runs each migration.
        """
        c = self.conn
        if self._state()[0] == SCHEMA_VERSION:
            return
        c.execute("BEGIN IMMEDIATE")
        try:
            version, _ = self._state()  # another process may have created/migrated it while this one waited
            if version == SCHEMA_VERSION:
                c.execute("ROLLBACK")
                return
            self.created = version == 0
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        c.execute(statement)
            c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def _check_quick(self) -> None:
        """Refuse a damaged file before any write: `PRAGMA quick_check` (pages, records, indexes)."""
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(3)")]
        if rows != ["ok"]:
            raise InputError(f"library file is damaged (SQLite quick_check: {'; '.join(map(str, rows))[:200]}); "
                             "the file was left untouched: restore a backup", path=str(self.path))

    def _check_integrity(self) -> None:
        """Refuse a library that lacks a table or column of the schema (hand-edited or damaged)."""
        have = _schema_of(self.conn)
        for table, cols in _expected_schema().items():
            if table not in have:
                raise InputError(f"library file is damaged: table {table!r} is missing; the file was left "
                                 "untouched: restore a backup", path=str(self.path))
            missing = sorted(cols - have[table])
            if missing:
                raise InputError(f"library file is damaged: table {table!r} lacks column(s) {', '.join(missing)}; "
                                 "the file was left untouched: restore a backup", path=str(self.path))

    @property
    def schema_version(self) -> int:
        """Schema version of the open file."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # ---- shoes ------------------------------------------------------------------------------
    def add_shoe(self, name: str, start_km: float = 0.0) -> Shoe:
        """Add a shoe with its km so far; InputError if the name exists or km < 0."""
        name = name.strip()
        if not name:
            raise InputError("shoe name is empty", field="name")
        if not np.isfinite(start_km) or start_km < 0:
            raise InputError(f"shoe km must be >= 0, got {start_km}", field="km")
        if not self.ensure_shoe(name, start_km):  # names match ignoring case: 'pegasus 40' is 'Pegasus 40'
            raise InputError(f"shoe {self.shoe(name).name!r} already exists", field="name")
        return self.shoe(name)

    def ensure_shoe(self, name: str, start_km: float = 0.0) -> bool:
        """Add the shoe unless one of that name exists, ignoring case (atomic, race-safe); True if added."""
        name = name.strip()
        if not name:
            raise InputError("shoe name is empty", field="name")
        if not np.isfinite(start_km) or start_km < 0:
            raise InputError(f"shoe km must be >= 0, got {start_km}", field="km")
        with self.transaction() as c:  # BEGIN IMMEDIATE: no other writer between the look-up and the insert
            if any(same_name(row[0], name) for row in c.execute("SELECT name FROM shoes")):
                return False
            cur = c.execute(
                "INSERT OR IGNORE INTO shoes(name, start_km, added_utc) VALUES (?, ?, ?)",
                (name, float(start_km), _now_utc()),
            )
            return cur.rowcount == 1

    def shoes(self) -> list[Shoe]:
        """All shoes with their current km, in the order they were added."""
        rows = self.conn.execute(
            """SELECT s.id, s.name, s.start_km, COALESCE(SUM(x.distance_km), 0), COUNT(x.id), s.retired_utc,
                      COALESCE(MAX(x.shoe_km + x.distance_km), 0)
               FROM shoes s LEFT JOIN sessions x ON x.shoe_id = s.id GROUP BY s.id ORDER BY s.id"""
        ).fetchall()
        return [Shoe(r[0], r[1], float(r[2]), float(r[3]), int(r[4]), r[5], float(r[6])) for r in rows]

    def find_shoe(self, name: str) -> Shoe | None:
        """The shoe with this name ignoring case ('pegasus 40' finds 'Pegasus 40'), or None."""
        return next((s for s in self.shoes() if same_name(s.name, name)), None)

    def shoe(self, name: str) -> Shoe:
        """One shoe by name (ignoring case); InputError naming the closest or the known shoes if there is none."""
        found = self.find_shoe(name)
        if found is not None:
            return found
        names = [s.name for s in self.shoes()]
        hint = did_you_mean(name, names)
        known = hint or f" (known: {', '.join(map(repr, names)) or 'none yet'})"
        raise InputError(
            f"unknown shoe {name!r}{known}; add it with `gaitimpact shoe add NAME`", field="shoe"
        )

    def retire_shoe(self, name: str) -> Shoe:
        """Mark a shoe retired now (its sessions stay)."""
        shoe = self.shoe(name)
        if shoe.retired_utc:
            raise InputError(f"shoe {shoe.name!r} was already retired on {shoe.retired_utc}", field="shoe")
        with self.transaction() as c:
            c.execute("UPDATE shoes SET retired_utc = ? WHERE id = ?", (_now_utc(), shoe.id))
        return self.shoe(name)

    # ---- sessions ---------------------------------------------------------------------------
    def find_hash(self, content_hash: str) -> int | None:
        """Session id stored for this content hash, or None."""
        row = self.conn.execute("SELECT id FROM sessions WHERE content_hash = ?", (content_hash,)).fetchone()
        return int(row[0]) if row else None

    def existing(self, content_hash: str) -> AddResult | None:
        """The stored session with this content hash as an `AddResult(added=False)`, or None."""
        row = self.conn.execute(
            "SELECT id, shoe_km, distance_km, distance_source FROM sessions WHERE content_hash = ?",
            (content_hash,),
        ).fetchone()
        if row is None:
            return None
        return AddResult(int(row[0]), False, row[1], float(row[2]), row[3])

    def add_session(
        self,
        *,
        content_hash: str,
        source: str,
        summary: dict,
        strikes: pd.DataFrame,
        segments: list[dict],
        start_utc: datetime,
        date_source: str,
        distance_km: float | None,
        distance_given_by: str | None = None,
        shoe: str | None = None,
        shoe_km: float | None = None,
    ) -> AddResult:
        """Store one analysed recording atomically; an already stored hash returns `added=False`.

        distance_km: given distance (km) or None to estimate it: speed x running time when the speed is
        known for every strike, else strikes x steps-per-strike x `STEP_LENGTH_M`.
        shoe_km: the shoe's km at this session when given (sidecar/flag), else the shoe's current km.
        """
        existing = self.existing(content_hash)
        if existing is not None:
            return existing
        shoe_obj = self.shoe(shoe) if shoe else None
        distance_km, distance_source = _distance(summary, strikes, distance_km)
        if distance_source == "given" and distance_given_by:
            distance_source = distance_given_by
        shoe_km_source = None
        if shoe_obj is not None:
            if shoe_km is None:
                shoe_km, shoe_km_source = shoe_obj.km, "library"
            else:
                shoe_km_source = "given"
        speeds = (
            pd.to_numeric(strikes["speed_mps"], errors="coerce")
            if len(strikes)
            else pd.Series([], dtype=float)
        )
        session_speed = float(speeds.median()) if len(speeds) and speeds.notna().all() else None
        cols = [
            "time_s",
            "foot",
            "peak_g",
            "loading_rate_gps",
            "clipped",
            "near_gap",
            "surface",
            "speed_mps",
            "bout",
        ]
        with self.transaction() as c:
            existing = self.existing(content_hash)  # stored by another process since the check above
            if existing is not None:
                return existing
            cur = c.execute(
                """INSERT INTO sessions(content_hash, source, added_utc, start_utc, placement, shoe_id,
                   shoe_km,
                   distance_km, duration_s, running_s, strikes, cadence_spm, speed_mps, summary_json,
                   distance_source, date_source, shoe_km_source)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    content_hash,
                    source,
                    _now_utc(),
                    start_utc.astimezone(timezone.utc).isoformat(timespec="seconds"),
                    str(summary.get("placement", "auto")),
                    shoe_obj.id if shoe_obj else None,
                    None if shoe_km is None else float(shoe_km),
                    float(distance_km),
                    float(summary.get("duration_s") or 0.0),
                    float(summary.get("running_s") or 0.0),
                    int(len(strikes)),
                    summary.get("cadence_spm"),
                    session_speed,
                    json.dumps(summary, default=str),
                    distance_source,
                    date_source,
                    shoe_km_source,
                ),
            )
            sid = int(cur.lastrowid)
            table = strikes[cols]
            rows = zip(
                [sid] * len(table),
                table["time_s"].astype(float),
                table["foot"].astype(str),
                table["peak_g"].astype(float),
                table["loading_rate_gps"].astype(float).where(table["loading_rate_gps"].notna(), None),
                table["clipped"].astype(bool).astype(int),
                table["near_gap"].astype(bool).astype(int),
                table["surface"].fillna("").astype(str),
                table["speed_mps"].astype(float).where(table["speed_mps"].notna(), None),
                table["bout"].astype(int),
            )
            c.executemany("INSERT INTO strikes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            c.executemany(
                "INSERT INTO segments VALUES (?, ?, ?, ?, ?)",
                [(sid, s["start_s"], s["end_s"], s["surface"], s.get("speed_mps")) for s in segments],
            )
        return AddResult(sid, True, shoe_km, distance_km, distance_source)

    def sessions(self, since: datetime | None = None) -> pd.DataFrame:
        """One row per session (id, start_utc, source, placement, shoe, shoe_km, distance_km, ..., splits_json:
        the km splits from a watch track as JSON text, or None)."""
        df = pd.read_sql_query(
            """SELECT x.id AS session, x.start_utc, x.source, x.placement, s.name AS shoe, x.shoe_km,
                      x.distance_km, x.distance_source, x.duration_s, x.running_s, x.strikes,
                      x.cadence_spm, x.speed_mps, x.date_source,
                      COALESCE(json_extract(x.summary_json, '$.simulated'), 0) AS simulated,
                      json_extract(x.summary_json, '$.splits') AS splits_json
               FROM sessions x LEFT JOIN shoes s ON s.id = x.shoe_id ORDER BY x.start_utc, x.id""",
            self.conn,
        )
        df["simulated"] = df["simulated"].astype(bool)  # made by `gaitimpact simulate` (from the sidecar)
        df["start_utc"] = self._dates(df["start_utc"], df["session"])
        if since is not None:
            df = df[df["start_utc"] >= pd.Timestamp(since)]
        return df.reset_index(drop=True)

    def strikes(self, since: datetime | None = None) -> pd.DataFrame:
        """Every stored strike joined with its session's placement, shoe, shoe km and start time."""
        df = pd.read_sql_query(
            """SELECT t.session_id AS session, t.time_s, t.foot, t.peak_g, t.loading_rate_gps, t.clipped,
                      t.near_gap, t.surface, t.speed_mps, t.bout, x.placement, s.name AS shoe, x.shoe_km,
                      x.start_utc
               FROM strikes t JOIN sessions x ON x.id = t.session_id LEFT JOIN shoes s ON s.id = x.shoe_id
               ORDER BY x.start_utc, t.session_id, t.time_s""",
            self.conn,
        )
        df["clipped"] = df["clipped"].astype(bool)
        df["near_gap"] = df["near_gap"].astype(bool)
        df["speed_mps"] = pd.to_numeric(df["speed_mps"], errors="coerce")
        df["shoe_km"] = pd.to_numeric(df["shoe_km"], errors="coerce")
        df["start_utc"] = self._dates(df["start_utc"], df["session"])
        if since is not None:
            df = df[df["start_utc"] >= pd.Timestamp(since)]
        return df.reset_index(drop=True)

    def _dates(self, text: pd.Series, session: pd.Series) -> pd.Series:
        """Stored ISO 8601 start times as UTC datetimes; InputError naming the first unreadable one."""
        dates = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        bad = dates.isna() & text.notna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"library file is damaged: session {session.iloc[i]} has an unreadable start date "
                             f"{str(text.iloc[i])[:40]!r}; the file was left untouched", path=str(self.path))
        return dates

    def count_sessions(self) -> int:
        """Number of stored sessions."""
        return int(self.conn.execute("SELECT count(*) FROM sessions").fetchone()[0])


def _distance(summary: dict, strikes: pd.DataFrame, given_km: float | None) -> tuple[float, str]:
    """Session distance in km and how it was obtained ("given", "speed x running time", "steps x 1.0 m")."""
    if given_km is not None:
        if not np.isfinite(given_km) or given_km < 0:
            raise InputError(f"distance must be >= 0 km, got {given_km}", field="distance_km")
        return float(given_km), "given"
    running_s = float(summary.get("running_s") or 0.0)
    speed = (
        pd.to_numeric(strikes["speed_mps"], errors="coerce") if len(strikes) else pd.Series([], dtype=float)
    )
    if len(speed) and speed.notna().all() and running_s > 0:
        return float(speed.mean()) * running_s / 1000.0, "estimated: speed x running time"
    steps = int(summary.get("steps") or 0)
    return steps * STEP_LENGTH_M / 1000.0, f"estimated: steps x {STEP_LENGTH_M:.1f} m"
