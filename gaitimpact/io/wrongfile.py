"""Recognise files people pass by mistake (a folder, a sidecar, simulator truth, a workbook) and say so."""

from __future__ import annotations

import zipfile
from pathlib import Path

from gaitimpact.errors import InputError
from gaitimpact.io.fsutil import FOLDER_MESSAGE

RECORDING_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
"""File endings of recordings gaitimpact reads."""

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""First 8 bytes of an OLE2 compound file: an Excel 97-2003 .xls workbook (MS-CFB spec, section 2.2)."""

ZIP_MAGIC = b"PK\x03\x04"
"""First 4 bytes of a ZIP archive (PKWARE APPNOTE 4.3.7): .xlsx and .ods workbooks are ZIP archives."""


def _recording_beside(p: Path, stem: str) -> Path | None:
    """The recording `stem.<csv|tsv|txt|parquet>` in p's folder, if there is one."""
    return next((c for c in (p.with_name(stem + s) for s in RECORDING_SUFFIXES) if c.is_file()), None)


def _spreadsheet_kind(p: Path, head: bytes) -> str | None:
    """'an Excel workbook' / 'an OpenDocument spreadsheet' / 'a ZIP archive' from the file's first bytes."""
    if head.startswith(OLE2_MAGIC):
        return "an Excel workbook (.xls)"
    if not head.startswith(ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return "a ZIP archive"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (.xlsx)"
    if "content.xml" in names and "mimetype" in names:
        return "an OpenDocument spreadsheet (.ods)"
    return "a ZIP archive"


def refuse_non_recording(p: Path) -> None:
    """Raise InputError with a hint when `p` is a folder, a sidecar or truth JSON, or a spreadsheet/archive."""
    if p.is_dir():
        raise InputError(FOLDER_MESSAGE, path=str(p))
    name = p.name.lower()
    if name.endswith(".truth.json"):
        rec = _recording_beside(p, p.name[: -len(".truth.json")])
        target = f"analyse {rec.name}" if rec else "give the recording (.csv or .parquet) instead"
        raise InputError(f"is the simulator's truth (the true strike times, for testing), not a recording: {target}",
                         path=str(p))
    if name.endswith(".json"):
        rec = _recording_beside(p, p.stem)
        target = f"analyse {rec.name} (its sidecar is read with it)" if rec else \
            "give the recording it describes (.csv or .parquet); the sidecar next to it is read automatically"
        raise InputError(f"is a sidecar (the metadata of a recording), not a recording: {target}", path=str(p))
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return  # the reader reports unreadable files
    kind = _spreadsheet_kind(p, head)
    if kind is not None:
        what = "unzip it and give the recording inside" if kind == "a ZIP archive" else \
            "open it and export the sheet as CSV (File > Save As > CSV)"
        raise InputError(f"looks like {kind}, not a CSV text file: {what}", path=str(p))
