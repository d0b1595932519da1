"""From a recording file to a library session: hash, analyse, label, store (one transaction)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from gaitimpact.errors import InputError
from gaitimpact.io.fsutil import check_input_file
from gaitimpact.names import did_you_mean, same_name
from gaitimpact.recording import Recording
from gaitimpact.report.library import AddResult, Library, file_hash

STORED_METADATA_CODES = ("unknown_surface", "implausible_speed", "sidecar")
"""Warnings about metadata `add` stores with the session: repeated in its per-file lines."""


@dataclass
class IngestResult:
    """What `ingest_file` did: the stored (or already known) session, None for a recording without running
    (not stored), strikes, and notes for the user."""

    result: AddResult | None
    strikes: int = 0
    shoe: str | None = None
    notes: list[str] = field(default_factory=list)
    date: str = ""
    """The session's date and where it came from, e.g. "2026-11-03 (watch track)"."""


def session_date(rec: Recording, path: Path, track_start: datetime | None = None,
                 given: datetime | None = None) -> tuple[datetime, str]:
    """Session start (UTC) and its source: --date, the recording's start_utc, the watch track, else the
    file's modification time (the caller says so: it is often the copy time, not the run's)."""
    if given is not None:
        return (given if given.tzinfo else given.replace(tzinfo=timezone.utc)), "given (--date)"
    if rec.meta.start_utc is not None:
        t = rec.meta.start_utc
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)), "recording"
    if track_start is not None:
        return track_start, "watch track"
    return datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc), "file time"


def ingest_file(
    lib: Library,
    path: str | os.PathLike,
    *,
    rate_hz: float | None = None,
    overrides: dict | None = None,
    distance_km: float | None = None,
    track: str | os.PathLike | None = None,
    track_offset_s: float | None = None,
    date: datetime | None = None,
) -> IngestResult:
    """Analyse one recording and store it; a file already stored (same SHA-256) is not analysed again.

    A recording without running is a normal result, not stored (`IngestResult.result` None).
    A shoe named by `overrides["shoe"]` must exist in the library (InputError otherwise); a shoe named
    only by the sidecar is added to the library with the sidecar's km as its start km. A watch `track`
    gives segment speeds, the run's distance (added to the shoe's km) and the date when the recording
    has none; `date` overrides both.
    """
    from gaitimpact.analysis.service import analyze_path
    from gaitimpact.analysis.summary import NO_RUNNING_TEXT

    path = Path(path)
    overrides = dict(overrides or {})
    if overrides.get("shoe"):
        overrides["shoe"] = lib.shoe(overrides["shoe"]).name  # the stored spelling ('pegasus 40' -> 'Pegasus 40')
    check_input_file(path)  # one line naming what it is instead: missing, a folder, a device, ...
    digest = file_hash(path)
    known = lib.existing(digest)
    if known is not None:
        note = f"already in the library as session {known.session_id} (same content), skipped"
        return IngestResult(known, notes=[note])
    result = analyze_path(path, rate_hz=rate_hz, overrides=overrides, track=track, track_offset_s=track_offset_s)
    if not result.running_found:
        return IngestResult(None, notes=[f"{NO_RUNNING_TEXT}: not stored in the library"])
    rec, summary, table = result.recording, result.summary, result.steps_table()
    # what was said about the metadata the library stores (a misspelt surface, a speed in km/h) is shown
    notes: list[str] = [f"warning: {w}" for w in rec.warnings if getattr(w, "code", "") in STORED_METADATA_CODES]
    shoe = rec.meta.shoe
    stored = lib.find_shoe(shoe) if shoe else None
    if stored is not None:
        shoe = stored.name  # names match ignoring case
    elif shoe:
        start = rec.meta.shoe_km or 0.0
        hint = did_you_mean(shoe, [s.name for s in lib.shoes()])  # a typo would split one shoe in two
        if lib.ensure_shoe(shoe, start):  # another process may add the same shoe at the same moment
            notes.append(f"new shoe {shoe!r} from the sidecar, {start:.0f} km{hint}")
        else:
            shoe = lib.shoe(shoe).name
    shoe_km = rec.meta.shoe_km
    if overrides.get("shoe") and overrides.get("shoe_km") is None and shoe_km is not None:
        # The sidecar's km belongs to the sidecar's shoe; a different shoe from the flag uses the library's km.
        if not same_name(_sidecar_shoe(path) or "", shoe):
            shoe_km = None
    fitted = result.track
    start_utc, date_source = session_date(rec, path, None if fitted is None else fitted.start_utc, date)
    if date_source == "file time":
        notes.append(f"date {start_utc:%Y-%m-%d %H:%M} UTC taken from the file's modification time (the file has "
                     "no start time): give --date or --track to set it")
    dist_by = None
    if distance_km is None and fitted is not None:
        distance_km, dist_by = fitted.distance_km, "watch track"
    res = lib.add_session(
        content_hash=digest,
        source=path.name,
        summary=summary,
        strikes=table,
        segments=[
            {k: s.get(k) for k in ("start_s", "end_s", "surface", "speed_mps")}
            for s in summary.get("segments", [])
        ],
        start_utc=start_utc,
        date_source=date_source,
        distance_km=distance_km if distance_km is not None else rec.meta.distance_km,
        distance_given_by=dist_by,
        shoe=shoe,
        shoe_km=shoe_km,
    )
    if not res.added:  # another process stored the same recording while this one analysed it
        notes.append(f"already in the library as session {res.session_id} (same content), skipped")
    return IngestResult(res, strikes=len(table), shoe=shoe, notes=notes,
                        date=f"{start_utc:%Y-%m-%d} ({date_source})")


def _sidecar_shoe(path: Path) -> str | None:
    """Shoe named by the recording's sidecar (None without a sidecar or shoe)."""
    from gaitimpact.io.sidecar import read_sidecar, sidecar_path

    side = sidecar_path(path)
    return read_sidecar(side).shoe if side.is_file() else None


def strikes_from_files(files: list[str], rate_hz: float | None = None,
                       say: Callable[[str], None] | None = None, tracks: list | None = None,
                       track_offset_s: float | None = None) -> pd.DataFrame:
    """Analyse recordings and stack their strike tables with session, placement, shoe and shoe_km columns;
    a recording without running adds no strikes and is named in one line through `say` (default stderr).
    tracks: one watch track (or None) per file, giving the segments' speeds."""
    import sys

    from gaitimpact.analysis.service import analyze_path
    from gaitimpact.analysis.summary import no_running_line

    say = say or (lambda line: sys.stderr.write(line + "\n"))

    frames = []
    for i, (name, track) in enumerate(zip(files, tracks or [None] * len(files))):
        result = analyze_path(name, rate_hz=rate_hz, track=track, track_offset_s=track_offset_s)
        if not result.running_found:
            say(no_running_line(name, "left out of the comparison"))
            continue
        rec, analysis, t = result.recording, result.analysis, result.steps_table()
        t["session"] = i + 1
        t["source"] = Path(name).name
        t["placement"] = analysis.placement
        t["shoe"] = rec.meta.shoe
        t["shoe_km"] = rec.meta.shoe_km
        frames.append(t)
    if not frames:
        raise InputError("no strikes to compare: no running found in " + ", ".join(files))
    return pd.concat(frames, ignore_index=True)
