"""Shared check for in-process commands that must fail with one clear line (issue 15 safety tests)."""

from __future__ import annotations


def one_error(capsys, *needles: str) -> str:
    """The single stderr line of a failed command (no traceback), checked to contain each needle."""
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]
