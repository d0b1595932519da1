"""File-system helpers shared by the writers: atomic replace and one-line errors for OS failures."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from gaitimpact.errors import GaitImpactError, InputError

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


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
    """
    target = Path(path)
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
