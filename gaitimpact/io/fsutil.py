"""File-system helpers shared by readers and writers: input and output guards, atomic replace, one-line errors.

Guards (used by every command before any work): `check_input_file` refuses what is not a regular file
(FIFO, device, folder, symlink loop) before it is opened; `check_output` refuses to write over an input
(the recording or its sidecar), over anything that is not a regular file (device, FIFO, symlink,
folder), into a missing or unwritable folder, and over an existing recording-like file without `--force`.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from gaitimpact.errors import GaitImpactError, InputError

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}

RECORDING_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
"""Suffixes of files that may hold a recording."""

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISLNK, "a symbolic link"))


FOLDER_MESSAGE = ("is a folder, not a recording: `gaitimpact batch FOLDER` analyses every recording in it "
                  "(or name the files, e.g. FOLDER/*.csv)")
"""What a command that reads one recording says when given a folder."""

def file_kind(mode: int) -> str:
    """What a stat mode is, for messages: "a regular file", "a named pipe (FIFO)", "a folder", ..."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_input_file(path: str | os.PathLike) -> Path:
    """Refuse an input that is not a regular file, before opening it (a FIFO would block for ever).

    One-line InputError for: no such file, dangling symlink, symlink loop, permission, folder, FIFO,
    device, socket. Returns the path.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if os.path.lexists(p):
            raise InputError("broken symbolic link (its target does not exist)", path=str(p)) from None
        raise InputError("file not found", path=str(p)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("symbolic link loop (the link points back to itself)", path=str(p)) from None
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(FOLDER_MESSAGE, path=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is {file_kind(st.st_mode)}, not a regular file: not read", path=str(p))
    return p


def _same_file(a: Path, b: Path) -> bool:
    """True when a and b name the same file (same inode, or the same resolved path)."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def looks_like_recording(path: str | os.PathLike) -> bool:
    """True when an existing file looks like a recording or a recording's sidecar (replace only with --force).

    CSV/TSV/TXT: a header with x, y, z acceleration columns, or a first data line of >= 3 numbers.
    Parquet: acceleration columns in its schema (unreadable -> True, to be safe). JSON: a recording
    with the same stem lies next to it (it is that recording's sidecar). Anything else: False.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return any(p.with_suffix(s).is_file() for s in RECORDING_SUFFIXES)
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            names = pq.read_schema(p).names
        except Exception:  # noqa: BLE001 - unreadable Parquet: treat as a recording, ask for --force
            return True
        return _has_acc_columns(names)
    if suffix not in RECORDING_SUFFIXES:
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return False
    for raw in head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:50]:
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        cells = [c.strip().strip('"') for c in re.split(r"[,;\t|]|\s+", line) if c.strip()]
        if len(cells) >= 3 and all(_NUMBER.match(c) for c in cells):
            return True
        if _has_acc_columns(cells):
            return True
    return False


_NUMBER = re.compile(r"^[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?$")


def _has_acc_columns(names: list[str]) -> bool:
    """True when header cells include x, y and z acceleration columns."""
    from gaitimpact.io.dialects import parse_column

    axes = set()
    for name in names[:64]:
        col = parse_column(str(name))
        if col.kind == "acc" and col.axis is not None:
            axes.add(col.axis)
    return len(axes) == 3


def check_output(path: str | os.PathLike, *, inputs: tuple | list = (), force: bool = False,
                 field: str | None = None, create_parents: bool = False) -> Path | None:
    """Refuse an output path before any work; None for '-' (standard output), else the path.

    Refused (one-line InputError naming the path and `field`): an input file or a sidecar of one
    (`inputs`, compared by inode and resolved path), anything that is not a regular file (device,
    FIFO, socket, folder, symlink: writing would replace it), a missing or unwritable folder, and an
    existing recording-like file (`looks_like_recording`) unless `force`. With `create_parents` the
    folder may be missing (the writer creates it); its nearest existing ancestor must be a folder.
    """
    if str(path) == "-":
        return None
    p = Path(path)
    where: dict[str, Any] = {"path": str(p), "field": field}
    try:
        st = os.lstat(p)
    except (FileNotFoundError, NotADirectoryError):
        st = None  # the folder checks below say why
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", **where) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InputError(f"is {file_kind(st.st_mode)}: not replaced (gaitimpact writes regular files only)",
                         **where)
    for inp in inputs:
        for candidate in (Path(inp), Path(inp).with_suffix(".json")):
            if (st is not None or candidate.exists()) and _same_file(p, candidate):
                what = "sidecar" if candidate.suffix.lower() == ".json" and candidate != Path(inp) else "recording"
                raise InputError(f"is the input {what} ({candidate}): refusing to write over it", **where)
    parent = p.parent
    if create_parents:
        while not os.path.lexists(parent) and parent != parent.parent:
            parent = parent.parent
    if not parent.is_dir():
        reason = "is not a folder" if parent.exists() else "folder does not exist"
        raise InputError(f"cannot write: {reason} ({parent})", **where)
    if not os.access(parent, os.W_OK | os.X_OK) or (st is not None and not os.access(p, os.W_OK)):
        raise InputError("cannot write: permission denied", **where)
    if st is not None and not force and looks_like_recording(p):
        raise InputError("already exists and looks like a recording (or its sidecar): "
                         "use --force to replace it", **where)
    return p


def check_output_dir(path: str | os.PathLike, *, field: str | None = None) -> Path:
    """Refuse an output folder that is a file (or under one) or not writable, before any work."""
    p = Path(path)
    probe = p
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "is not a folder" if probe == p else f"cannot create it: {probe} is not a folder"
        raise InputError(what, path=str(p), field=field)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError("cannot write: permission denied", path=str(p), field=field)
    return p


def refuse_non_regular_target(target: Path) -> None:
    """Raise InputError when `target` exists and is not a regular file (never replace a device or FIFO)."""
    try:
        st = os.lstat(target)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is {file_kind(st.st_mode)}: not replaced (gaitimpact writes regular files only)",
                         path=str(target))


def write_error(exc: OSError, path: str | os.PathLike, action: str = "cannot write") -> GaitImpactError:
    """Turn an OSError from writing `path` into the project's one-line error.

    A full disk (ENOSPC/EDQUOT) is a runtime failure (exit 1); anything else about the path
    (missing folder, permission, not a directory) is an input error (exit 2).
    """
    reason = exc.strerror or str(exc)
    if exc.errno in _NO_SPACE:
        return GaitImpactError(f"{path}: {action}: disk full ({reason}); data up to the last flush is kept")
    return InputError(f"{action}: {reason}", path=str(path))


def _new_file_mode(target: Path) -> int:
    """Permission bits for `target`: those of the file it replaces, else 0o666 minus the umask (like open())."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically: temp file in the same folder, fsync, then os.replace.

    The file gets ordinary permissions (umask, or those of the file it replaces), not mkstemp's 0o600.
    A device, FIFO, folder or symlink at `path` is refused (InputError), never replaced.
    """
    target = Path(path)
    refuse_non_regular_target(target)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _new_file_mode(target))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise write_error(exc, target) from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
