"""Where the library file lives: `--library PATH`, else $GAITIMPACT_LIBRARY, else the user data folder.

Kept apart from `library` (which needs numpy and pandas) so the command line can name it in `--help`.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GAITIMPACT_LIBRARY"
"""Environment variable naming the library file (overridden by `--library`)."""


def default_library_path() -> Path:
    """Library file: $GAITIMPACT_LIBRARY, else <user data dir>/gaitimpact/library.sqlite."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("gaitimpact", appauthor=False)) / "library.sqlite"


def resolve_library_path(path: str | os.PathLike | None) -> Path:
    """`--library PATH` if given, else `default_library_path()`."""
    return Path(path).expanduser() if path else default_library_path()


def unwritable_reason(path: Path, error: object) -> str:
    """For SQLite's "unable to open database file" / "readonly database": why, as '; ...' ('' otherwise)."""
    text = str(error).lower()
    if "unable to open" not in text and "readonly" not in text and "read-only" not in text:
        return ""
    import tempfile

    folder = path.parent
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        why = f"the folder {folder} does not let gaitimpact create files ({exc.strerror or exc})"
    else:
        if not path.exists() or os.access(path, os.W_OK):
            return ""
        why = "the library file is read-only"
    return (f"; {why}: SQLite writes a journal next to the library, so it needs a writable folder. "
            f"Use --library PATH (or ${ENV_VAR}) in a folder you can write to")
