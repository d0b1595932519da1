"""Live terminal view of a recording (rich) and optional single-key surface marking from a TTY."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rich.table import Table

from gaitimpact.recording import SURFACES

SURFACE_KEYS = {str(i + 1): s for i, s in enumerate(SURFACES)}
"""Key -> surface: 1 asphalt, 2 concrete, 3 track, 4 grass, 5 trail, 6 treadmill."""


@dataclass
class LiveState:
    """Numbers shown live: elapsed s, samples/s, packets lost, battery %, cadence spm, peaks g."""

    device: str = ""
    status: str = "connecting"
    elapsed_s: float = 0.0
    samples: int = 0
    samples_per_s: float = 0.0
    packets_lost: int = 0
    malformed: int = 0
    gaps: int = 0
    battery_pct: int | None = None
    cadence_spm: float = math.nan
    last_peak_g: float = math.nan
    rolling_peak_g: float = math.nan
    strikes: int = 0
    surface: str | None = None


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, fmt)


def render(state: LiveState) -> Table:
    """A rich table of the live state."""
    t = Table(title=f"gaitimpact record - {state.device} [{state.status}]", show_header=False, expand=False)
    t.add_column("what", style="bold")
    t.add_column("value", justify="right")
    m, s = divmod(int(state.elapsed_s), 60)
    t.add_row("elapsed", f"{m:d}:{s:02d}")
    t.add_row("samples/s", _num(state.samples_per_s, ".0f"))
    t.add_row("samples", str(state.samples))
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
    """One plain line of the live state (for logs when stdout is not a terminal)."""
    return (
        f"t={state.elapsed_s:.0f}s samples/s={state.samples_per_s:.0f} lost={state.packets_lost} "
        f"battery={state.battery_pct} cadence_spm={_num(state.cadence_spm, '.0f')} "
        f"last_peak_g={_num(state.last_peak_g, '.2f')} status={state.status}"
    )


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
