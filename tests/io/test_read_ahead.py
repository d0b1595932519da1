"""`io.blocks.ReadAhead`: blocks produced on a thread, in order, bounded, errors and early exits handled."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from gaitimpact.errors import InputError
from gaitimpact.io.blocks import ReadAhead


def _blocks(n: int, rows: int = 10, produced: list[int] | None = None, fail_at: int | None = None):
    """n blocks of `rows` rows; appends each block's number to `produced` as it is made."""
    for i in range(n):
        if i == fail_at:
            raise InputError("bad line", path="x.csv")
        if produced is not None:
            produced.append(i)
        t = np.arange(i * rows, (i + 1) * rows, dtype=float)
        yield t, np.ones((rows, 3)), None


def test_read_ahead_yields_every_block_in_order_from_another_thread():
    seen_in: set[str] = set()

    def source():
        for block in _blocks(7):
            seen_in.add(threading.current_thread().name)
            yield block

    with ReadAhead(max_rows=30, rows=10).start(source()) as queued:
        times = np.concatenate([t for t, _a, _g in queued])
    assert np.array_equal(times, np.arange(70.0))
    assert seen_in == {"gaitimpact-read-ahead"}


def test_read_ahead_holds_at_most_max_rows_ahead_of_the_consumer():
    produced: list[int] = []
    with ReadAhead(max_rows=30, rows=10).start(_blocks(20, produced=produced)) as queued:
        for i, _block in enumerate(queued):
            time.sleep(0.01)  # let the producer run as far ahead as it may
            # 3 blocks queued, plus one made and waiting to be queued, beyond the one being consumed
            assert len(produced) <= i + 1 + 3 + 1
    assert len(produced) == 20


def test_a_producer_error_is_raised_in_the_consumer_after_the_blocks_before_it():
    got = 0
    ahead = ReadAhead(max_rows=100, rows=10)
    with pytest.raises(InputError, match="bad line"), ahead.start(_blocks(5, fail_at=3)) as q:
        for _block in q:
            got += 1
    assert got == 3


def test_leaving_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            yield from _blocks(1000)
        finally:
            closed.set()

    ahead = ReadAhead(max_rows=20, rows=10).start(source())
    with ahead as queued:
        next(iter(queued))
    assert closed.is_set()
    assert not ahead._thread.is_alive()


def test_hungry_while_nothing_is_queued_so_a_source_can_parse_on_every_core_only_then():
    ahead = ReadAhead(max_rows=30, rows=10)
    seen: list[bool] = []

    def source():
        for block in _blocks(8):
            seen.append(ahead.hungry())
            yield block

    with ahead.start(source()) as queued:
        time.sleep(0.05)  # the producer fills the queue (3 blocks) and makes a fourth, then waits
        assert not ahead.hungry()
        times = np.concatenate([t for t, _a, _g in queued])
    assert np.array_equal(times, np.arange(80.0))
    assert seen[:4] == [True, False, False, False]
    assert ahead.hungry()
