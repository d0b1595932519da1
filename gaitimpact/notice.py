"""Structured warnings: what a reader or the analysis noticed, as a stable code, a message and its numbers.

Code decides on `Notice.code` (never on the message text); people read `Notice.message`. The `analyze
--json` summary keeps `warnings` as the list of messages and adds `warning_codes` (same order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

CODES = {
    "layout": "how the table was read (preamble lines skipped, no header: columns taken by position)",
    "timestamp_gaps": "gaps in the timestamps (kept as gaps, never filled)",
    "irregular_sampling": "time steps vary by more than 10 % (std)",
    "gaps": "gaps the analysis saw; strikes next to them are flagged near_gap",
    "dropped_rows": "rows with missing/non-finite values or time that did not increase were dropped",
    "missing_values": "samples without a value left out of the analysis",
    "rate_mismatch": "the timestamps' rate differs from the nominal, declared or sidecar rate",
    "no_time_column": "no time column: evenly spaced samples at the given rate assumed",
    "time_unit": "the time column's unit or epoch was inferred",
    "time_zone": "a date-time without a time zone",
    "units_inferred": "acceleration or gyro units were inferred, or the stated unit looks wrong",
    "gyro_missing": "gyro values missing (kept as NaN)",
    "placement_auto": "placement decided from the signal",
    "placement_mismatch": "the declared placement does not look like the signal",
    "low_rate": "sampling rate below what an impact at this placement needs",
    "range_inferred": "sensor range inferred from flat-topped maxima",
    "clipped": "strikes reached the sensor range: their peak is a lower bound",
    "no_running": "no running bout found",
    "short_recording": "a recording under 10 s: figures rest on few strides",
    "unknown_surface": "a surface name outside the known list",
    "implausible_speed": "a running speed outside 1.5-7 m/s (likely km/h or another unit)",
    "sidecar": "a sidecar key or value the program did not use as given",
    "not_streamed": "a long file read whole instead of block by block",
    "note": "another note (free text)",
}
"""Every notice code and what it means."""


@dataclass(frozen=True)
class Notice:
    """A structured warning: `code` (one of CODES), a one-line `message`, the `numbers` in it (units in names)."""

    code: str
    message: str
    numbers: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return self.message


def as_notice(item: Notice | str) -> Notice:
    """A Notice as is; a plain string becomes a Notice with code "note"."""
    return item if isinstance(item, Notice) else Notice("note", str(item))


def unique(items: Iterable[Notice | str]) -> list[Notice]:
    """Notices in first-seen order without repeats (same code and message)."""
    return list(dict.fromkeys(as_notice(i) for i in items))


def messages(items: Iterable[Notice | str]) -> list[str]:
    """The messages of notices (or strings), in order."""
    return [str(i) for i in items]


def fold_gap_notices(items: Iterable[Notice | str]) -> list[Notice]:
    """The same gaps said once: a reader's "timestamp_gaps" and the analysis' "gaps" notice become one.

    Same count: the reader's numbers (count, longest, total in s) with what the analysis does with them;
    different counts (gaps also from the sidecar): the analysis' notice, which covers every gap it saw.
    """
    notices = [as_notice(i) for i in items]
    reader = next((n for n in notices if n.code == "timestamp_gaps"), None)
    core = next((n for n in notices if n.code == "gaps"), None)
    if reader is None or core is None:
        return notices
    if reader.numbers.get("gaps") != core.numbers.get("gaps") or "longest_s" not in reader.numbers:
        return [n for n in notices if n is not reader]
    k = reader.numbers
    one = Notice("gaps", f"{int(k['gaps'])} gap(s) in the timestamps (longest {k['longest_s']:.3g} s, total "
                 f"{k['total_s']:.3g} s): kept as gaps, never filled; strikes next to them are flagged near_gap",
                 dict(k))
    return [one if n is reader else n for n in notices if n is not core]
