"""Heap settings for a process that analyses recordings: freed memory stays in the process (glibc).

The signal core works in passes that each allocate and free MBs of temporaries (per-sample and
per-strike arrays). glibc's malloc returns freed memory at the top of its heap to the system once a few
MB are free (the threshold follows the largest block it has freed) and gives blocks above that their own
mapping, so the next pass faults the same memory in again, page by page. Measured here (2026-11-29, 1 h
at 100 Hz, in process): shoe 87-91 ms with about 7000 page faults per analysis, 67-68 ms with none;
waist 82-94 ms vs 77-79 ms. `keep_freed_memory` raises both thresholds, so freed memory is reused; the
process keeps its peak heap until it exits (`analyze` of 1 h at 1000 Hz: peak RSS 265-278 MiB, was
264-273 MiB). Blocks from MMAP_MAX_BYTES on (a long recording's raw arrays) are still mapped on their own.
"""

from __future__ import annotations

import sys

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
