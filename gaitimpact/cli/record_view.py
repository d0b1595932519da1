"""The terminal side of `gaitimpact record`: live table (rich), plain status lines, single-key surface marks."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from gaitimpact.ble.live_view import SURFACE_KEYS, LiveState

STATUS_EVERY_S = 5.0
REFRESH_EVERY_S = 0.5
"""The live table is redrawn this often (s), by the caller's updates (no refresh thread): a runner reads no
faster, and each redraw costs (4 redraws a second were ~1 % of a core at 1000 Hz)."""


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, fmt)


def status_text(state: LiveState) -> str:
    """The link status in words: "recording", "reconnecting... 12 s, 4500 samples on disk", ..."""
    if state.status == "reconnecting":
        return f"reconnecting... {state.reconnecting_s:.0f} s, {state.samples} samples on disk"
    return state.status


def render(state: LiveState) -> Table:
    """A rich table of the live state."""
    t = Table(title=f"gaitimpact record - {state.device} [{status_text(state)}]", show_header=False, expand=False)
    t.add_column("what", style="bold")
    t.add_column("value", justify="right")
    m, s = divmod(int(state.elapsed_s), 60)
    t.add_row("elapsed", f"{m:d}:{s:02d}")
    t.add_row("samples/s", _num(state.samples_per_s, ".0f"))
    t.add_row("samples on disk", str(state.samples))
    t.add_row("packets lost", f"{state.packets_lost} ({state.gaps} gaps, {state.malformed} malformed)")
    t.add_row("battery", "-" if state.battery_pct is None else f"{state.battery_pct} %")
    t.add_row("cadence", _num(state.cadence_spm, ".0f") + " spm")
    t.add_row("last peak", _num(state.last_peak_g, ".2f") + " g")
    t.add_row("rolling peak (median 30 s)", _num(state.rolling_peak_g, ".2f") + " g")
    t.add_row("strikes", str(state.strikes))
    keys = " ".join(f"{k}={v}" for k, v in SURFACE_KEYS.items())
    t.add_row("surface", f"{state.surface or '-'}   (keys: {keys})")
    return t


def status_line(state: LiveState) -> str:
    """One plain line of the live state (--no-live, or when stderr is not a terminal)."""
    return (
        f"{state.device}: t={state.elapsed_s:.0f}s samples={state.samples} samples/s={state.samples_per_s:.0f} "
        f"lost={state.packets_lost} battery={state.battery_pct} cadence_spm={_num(state.cadence_spm, '.0f')} "
        f"last_peak_g={_num(state.last_peak_g, '.2f')} status={status_text(state)}"
    )


class RecordView:
    """Shows recorder states: a live table on a terminal, else a status line every 5 s (and on status
    changes); nothing when quiet."""

    def __init__(self, console: Console, *, live: bool, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.use_live = live and not quiet and console.is_terminal
        self._live: Live | None = None
        self._last_line = -math.inf
        self._last_status: list[str] = []

    def __enter__(self) -> RecordView:
        if self.use_live:
            self._live = Live(console=self.console, auto_refresh=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, states: list[LiveState], now: float) -> None:
        """Refresh with the current states (called every tick while recording or reconnecting)."""
        if self._live is not None:
            self._live.update(Group(*(render(s) for s in states)), refresh=True)
            return
        if self.quiet:
            return
        statuses = [s.status.split(" (")[0] for s in states]
        if now - self._last_line >= STATUS_EVERY_S or statuses != self._last_status:
            for s in states:
                self.console.print(status_line(s), highlight=False, soft_wrap=True)
            self._last_line, self._last_status = now, statuses


@contextlib.contextmanager
def key_input(on_key: Callable[[str], None]) -> Iterator[bool]:
    """Deliver single key presses from stdin to `on_key` while inside; yields False if stdin is no TTY."""
    fd = sys.stdin.fileno() if sys.stdin is not None else -1
    if fd < 0 or not os.isatty(fd):
        yield False
        return
    import termios
    import tty

    loop = asyncio.get_running_loop()
    old = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def readable() -> None:
        try:
            data = os.read(fd, 32)
        except OSError:
            return
        for ch in data.decode(errors="ignore"):
            on_key(ch)

    loop.add_reader(fd, readable)
    try:
        yield True
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
