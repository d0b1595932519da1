"""User text (shoe, surface and file names, notes) shown as data, never as markup or control codes.

Terminal output goes through rich with markup off (`plain_console`), so `[/]` in a shoe name is text;
`clean` drops bidirectional overrides (U+202A-202E, U+2066-2069, which can reverse what a reader sees)
and control characters (ANSI escapes); `shown` also shortens very long names with an ellipsis for
tables (JSON keeps the full text); `plot_text` makes a name safe for matplotlib (no mathtext `$`).
"""

from __future__ import annotations

import re
from typing import Any

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Bidirectional embedding/override/isolate controls stripped from names before display."""

_STRIP = re.compile(f"[{BIDI_CONTROLS}\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]")
_SPACE = re.compile(r"[\t\n\r]+")

SHOWN_CHARS = 60
"""Names longer than this are shortened for tables and plots (full text kept in JSON and the library)."""

MESSAGE_CHARS = 2000
"""Messages (verdicts, notes, warnings) longer than this are shortened on the terminal."""


def clean(text: Any) -> str:
    """`text` as a string without bidi overrides or control characters (tabs/newlines become spaces)."""
    return _STRIP.sub("", _SPACE.sub(" ", str(text)))


def shown(text: Any, limit: int = SHOWN_CHARS) -> str:
    """`clean(text)`, cut to `limit` characters with an ellipsis when longer."""
    s = str(text)
    cut = len(s) > 4 * limit  # do not scan megabytes to show sixty characters
    s = clean(s[: 4 * limit])
    return s[: limit - 1] + "…" if cut or len(s) > limit else s


def plot_text(text: Any, limit: int = SHOWN_CHARS) -> str:
    """A name for a matplotlib label: `shown`, with `$` escaped so it is never read as mathtext."""
    return shown(text, limit).replace("$", r"\$")


def plain_console(**kwargs: Any) -> Any:
    """A rich Console that prints strings as they are: no markup, no emoji codes, no highlighting."""
    from rich.console import Console

    return Console(markup=False, emoji=False, highlight=False, **kwargs)


def pace(speed_mps: float | None) -> str:
    """Pace as min:ss per km ('—' for none or standing)."""
    if speed_mps is None or not speed_mps > 0:
        return "—"
    total = int(round(1000.0 / speed_mps))
    return f"{total // 60}:{total % 60:02d}"
