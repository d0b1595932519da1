"""Terminal tables that fit the reader's width: drop the least important columns instead of truncating.

Width: the terminal's, else `$COLUMNS`, else 80 (pipes, files, tests). With `wide=True` every column is
shown and the console grows to the table's natural width (lines may then exceed the terminal).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported on first use: registering the parsers stays cheap
    from rich.console import Console
    from rich.table import Table

FOLD_WIDTH = 20
"""Room a folded column (file, shoe, surface) keeps before other columns are dropped, in characters."""


@dataclass(frozen=True)
class Col:
    """One table column: header, alignment, importance (0 = always shown; higher = dropped first)."""

    header: str
    """Header text; a newline splits it over two lines (values never wrap, headers only where given)."""
    right: bool = True
    drop: int = 0
    fold: bool = False
    """Fold long values (file names, shoe names) over several lines instead of cutting them."""


def console(*, stderr: bool = False) -> Console:
    """Rich console whose width is the terminal's, else `$COLUMNS`, else 80; markup off (names are data)."""
    from gaitimpact.usertext import plain_console

    return plain_console(stderr=stderr)


def _natural_width(table: Table) -> int:
    """Width of the table when nothing has to be squeezed, in characters (rich's measure: the width it
    renders at, without rendering it)."""
    from rich.console import Console

    return Console(file=io.StringIO(), width=10_000, color_system=None, legacy_windows=False).measure(table).maximum


def _build(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], keep: list[int],
           show_header: bool, fold_width: int | None) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # cells and title are Text: user text ([/] in a shoe or file name) is never read as markup
    t = Table(title=None if title is None else Text(title), title_justify="left", box=box.SIMPLE_HEAD,
              show_header=show_header, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for i in keep:
        c = cols[i]
        # a folded column (file, shoe, surface) wraps long values at fold_width; every other value keeps
        # its full width, so a table that is too wide loses whole columns, never characters
        longest = max((len(str(r[i])) for r in rows), default=0)
        limit = None if fold_width is None else max(min(longest, fold_width), *map(len, c.header.split("\n")))
        t.add_column(c.header, justify="right" if c.right else "left",
                     overflow="fold" if c.fold else "ellipsis", no_wrap=not c.fold,
                     min_width=limit if c.fold else None, max_width=limit if c.fold else None)
    for r in rows:
        t.add_row(*(Text(str(r[i])) for i in keep))
    return t


def fit_table(con: Console, title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], *,
              wide: bool = False, show_header: bool = True) -> tuple[Table, list[str]]:
    """Table of `rows` that fits `con`'s width without cutting a value; returns it and the dropped headers.

    Columns are dropped highest `drop` first (ties: rightmost first). With `wide`, every column is kept
    and `con` is widened to the table's natural width.
    """
    keep = list(range(len(cols)))
    if wide:
        table = _build(title, cols, rows, keep, show_header, None)
        con.width = max(con.width, _natural_width(table))
        return table, []
    table = _build(title, cols, rows, keep, show_header, FOLD_WIDTH)
    order = sorted((i for i, c in enumerate(cols) if c.drop > 0), key=lambda i: (-cols[i].drop, -i))
    dropped: list[str] = []
    while _natural_width(table) > con.width and order:
        i = order.pop(0)
        keep.remove(i)
        dropped.append(cols[i].header.replace("\n", " "))
        table = _build(title, cols, rows, keep, show_header, FOLD_WIDTH)
    return table, dropped


def print_table(con: Console, title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], *,
                wide: bool = False, show_header: bool = True) -> list[str]:
    """Print a fitted table (see `fit_table`) and, if columns were left out, one line saying so."""
    table, dropped = fit_table(con, title, cols, rows, wide=wide, show_header=show_header)
    con.print(table)
    if dropped:
        con.print(f"(not shown at {con.width} columns: {', '.join(dropped)}; --wide shows every column)",
                  highlight=False, style="dim")
    return dropped
