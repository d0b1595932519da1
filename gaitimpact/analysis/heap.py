"""Heap settings for a process that analyses recordings: freed memory stays in the process (glibc), and
the cyclic garbage collector stays out of a short command's way.

The signal core works in passes that each allocate and free MBs of temporaries (per-sample and
per-strike arrays). glibc's malloc returns freed memory at the top of its heap to the system once a few
MB are free (the threshold follows the largest block it has freed) and gives blocks above that their own
mapping, so the next pass faults the same memory in again, page by page. Measured here (2026-11-29, 1 h
at 100 Hz, in process): shoe 87-91 ms with about 7000 page faults per analysis, 67-68 ms with none;
waist 82-94 ms vs 77-79 ms. `keep_freed_memory` raises both thresholds, so freed memory is reused; the
process keeps its peak heap until it exits (`analyze` of 1 h at 1000 Hz: peak RSS 265-278 MiB, was
264-273 MiB). Blocks from MMAP_MAX_BYTES on (a long recording's raw arrays) are still mapped on their own.

Python's cyclic garbage collector walks every container object it tracks: importing numpy and scipy.signal
leaves about 70 000 of them, walked again by each full collection while the modules load and by the
interpreter's collections at exit, and the analysis makes little cyclic garbage (its data are numpy arrays,
freed by reference counting). `paused_gc` stops the collector for a command whose work is bounded
(`gaitimpact.cli.main.GC_PAUSED`; the `gaitimpact` script keeps it stopped to the end, `pause_gc_to_exit`:
turning it back on collects at once every object made since, 27-45 ms after `analyze`); `freeze_for_exit`
marks every object as permanent once the command has returned, so the exit does not walk them: the process
ends as it would, its files closed and its `atexit` handlers run. Measured (2026-11-29, whole processes,
alternating): `analyze` of 1 min at 100 Hz 0.82 s -> 0.61 s, of 1 h at 1000 Hz 1.31 s -> 1.13 s; not turning
it back on before the exit saved 0.05 s and 0.04 s more (0.62 -> 0.57 s, 1.08 -> 1.05 s, twelve alternating
runs).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD = -1
"""mallopt() parameter: free memory (bytes) at the heap's top kept before it is returned (malloc.h)."""
M_MMAP_THRESHOLD = -3
"""mallopt() parameter: allocations of at least this many bytes get their own mapping (malloc.h)."""
TRIM_KEEP_BYTES = 1 << 30
"""Free heap top kept (bytes): in effect all (a process analysing files reuses it for the next pass)."""
MMAP_MAX_BYTES = 32 << 20
"""Allocations from this size (bytes) on are mapped on their own (and returned when freed)."""

_done: list[bool] = []


def keep_freed_memory() -> bool:
    """Set the glibc heap thresholds above (once per process); True if they are set, False where the C
    library has no mallopt (not Linux/glibc), which changes nothing but speed."""
    if _done:
        return _done[0]
    ok = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_MAX_BYTES)) and bool(
                libc.mallopt(M_TRIM_THRESHOLD, TRIM_KEEP_BYTES))
        except (OSError, AttributeError):
            ok = False
    _done.append(ok)
    return ok


@contextmanager
def paused_gc(pause: bool = True) -> Iterator[None]:
    """The cyclic garbage collector off within the block (if `pause`), and as it was after it."""
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pause_gc_to_exit() -> None:
    """Stop the cyclic garbage collector for the rest of the process (one that ends with its command)."""
    gc.disable()


def freeze_for_exit() -> None:
    """Move every object into the collector's permanent generation: the interpreter's collections at exit
    then skip them (call it only when the process is about to exit)."""
    gc.freeze()
