"""The metadata sidecar file: `run.csv` -> `run.json`, read and written atomically.

The schema (fields, validation, writing, documentation) is `gaitimpact.sidecar_schema`; this module
reads the JSON file (`load_sidecar` -> Sidecar, `read_sidecar` -> Metadata) and writes it (`write_sidecar`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gaitimpact.errors import InputError
from gaitimpact.io.fsutil import atomic_write_bytes
from gaitimpact.recording import Metadata
from gaitimpact.sidecar_schema import (
    SCHEMA_VERSION,
    Sidecar,
    schema_doc,
    sidecar_from_dict,
    sidecar_to_dict,
    whole_run_segment,
)

__all__ = ["SCHEMA_VERSION", "Sidecar", "load_sidecar", "metadata_from_dict", "metadata_to_dict", "read_sidecar",
           "schema_doc", "sidecar_from_dict", "sidecar_path", "whole_run_segment", "write_sidecar"]


def sidecar_path(csv_path: str | os.PathLike) -> Path:
    """The sidecar JSON path of a recording: `run.csv` -> `run.json` (any suffix replaced)."""
    p = Path(csv_path)
    return p.with_suffix(".json")


def metadata_from_dict(data: Any, path: str = "<sidecar>") -> Metadata:
    """Validate a sidecar JSON object into `Metadata` (`gaitimpact.sidecar_schema.sidecar_from_dict`)."""
    return sidecar_from_dict(data, path).meta


class _NonFiniteConstant(ValueError):
    """NaN/Infinity in a JSON file (Python accepts them; JSON does not)."""


def _reject_constant(name: str) -> None:
    raise _NonFiniteConstant(name)


def load_sidecar(path: str | os.PathLike) -> Sidecar:
    """Read and validate a sidecar JSON file: metadata, declared gaps (s), nominal rate (Hz), warnings.

    Raises InputError naming the file (and line or field) when it is missing, not JSON or invalid.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("sidecar file not found", path=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("sidecar is not UTF-8 text", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read sidecar: {exc.strerror or exc}", path=str(p)) from None
    return sidecar_from_dict(parse_json(text, str(p)), str(p))


def parse_json(text: str, path: str) -> Any:
    """A sidecar's JSON value; InputError (naming the file and line) for anything that is not plain JSON."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", path=path, line=exc.lineno) from None
    except RecursionError:
        raise InputError("not valid sidecar JSON: nested too deeply", path=path) from None
    except _NonFiniteConstant as exc:
        raise InputError(f"not valid JSON: {exc} is not a JSON number", path=path) from None
    except ValueError as exc:  # an integer of thousands of digits (int max str digits)
        raise InputError(f"not valid sidecar JSON: {' '.join(str(exc).split())[:100]}", path=path) from None


def read_sidecar(path: str | os.PathLike) -> Metadata:
    """The metadata of a sidecar JSON file (`load_sidecar` without the recording facts and warnings)."""
    return load_sidecar(path).meta


# ------------------------------------------------------------------------------------------ writing


def metadata_to_dict(meta: Metadata, **extra: Any) -> dict:
    """The sidecar JSON object for `meta`; keyword `extra` (gaps, fs_hz, packets_lost, ...) added on top."""
    return sidecar_to_dict(Sidecar(meta), **extra)


def write_sidecar(path: str | os.PathLike, meta: Metadata, **extra: Any) -> Path:
    """Write `meta` (plus e.g. gaps=[Gap...], fs_hz=..., packets_lost=...) as the sidecar JSON, atomically.

    `path` may be the sidecar itself (`run.json`) or its recording (`run.csv`). Returns the JSON path.
    Raises InputError (bad folder) or GaitImpactError (disk full); the old sidecar is then untouched.
    """
    p = Path(path)
    target = p if p.suffix.lower() == ".json" else sidecar_path(p)
    data = metadata_to_dict(meta, **extra)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(target, text.encode("utf-8"))
    return target
