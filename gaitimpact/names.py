"""Matching names people type: a "did you mean" suggestion for a near miss, and case-insensitive lookup."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_match(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to `word` (ignoring case) if it is similar enough, else None."""
    options = {c.casefold(): c for c in choices}
    if len(word) > 4 * max(map(len, options), default=0) + 16:
        return None  # far longer than any choice: no near miss (and difflib would take minutes on megabytes)
    found = difflib.get_close_matches(word.strip().casefold(), list(options), n=1, cutoff=cutoff)
    return options[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'grass'?)' for a near miss of one of `choices`, else ''."""
    match = close_match(word, choices)
    return f" (did you mean {match!r}?)" if match is not None and match != word else ""


def same_name(a: str, b: str) -> bool:
    """True when two names are the same ignoring case and surrounding spaces ('pegasus 40' is 'Pegasus 40')."""
    return a.strip().casefold() == b.strip().casefold()
