"""Device clock -> time_s mapping with drift correction, lost packets from sequence numbers and timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.ble.profiles.base import Block
from gaitimpact.ble.timeline import Assembler, ClockMap


def _blocks(
    n_packets: int,
    n: int = 20,
    fs: float = 1000.0,
    seq0: int = 0,
    t0: float = 5.0,
    drift_ppm: float = 0.0,
    latency_s: float = 0.004,
    seed: int = 0,
):
    """Blocks of a sensor whose crystal is `drift_ppm` off, with host arrival times (random latency)."""
    rng = np.random.default_rng(seed)
    host0 = 100.0
    for k in range(n_packets):
        t_first = t0 + k * n / fs
        host = host0 + (k * n + n - 1) / fs * (1 + drift_ppm * 1e-6) + latency_s + rng.exponential(0.01)
        acc = np.full((n, 3), float(k))
        yield Block(seq=(seq0 + k) % 65536, t_first_s=t_first, period_s=1 / fs, acc_g=acc), host


def test_contiguous_stream_has_no_gap_and_time_starts_at_zero() -> None:
    asm = Assembler()
    chunks = [asm.push(b, h) for b, h in _blocks(100)]
    t = np.concatenate([c.time_s for c in chunks])
    assert t[0] == 0.0 and t.shape == (2000,)
    np.testing.assert_allclose(np.diff(t), 1e-3, rtol=1e-9)
    assert asm.gaps == [] and asm.packets_lost == 0


def test_sequence_wraparound_is_not_a_loss() -> None:
    asm = Assembler()
    for b, h in _blocks(50, seq0=65520):
        asm.push(b, h)
    assert asm.packets_lost == 0 and asm.gaps == [] and asm.last_seq == (65520 + 49) % 65536


def test_lost_packets_across_the_wrap_become_one_gap_between_real_samples() -> None:
    asm = Assembler()
    blocks = list(_blocks(40, seq0=65530))
    for i, (b, h) in enumerate(blocks):
        if i in (5, 6, 7):  # seq 65535, 0, 1 lost on air
            continue
        asm.push(b, h)
    assert asm.packets_lost == 3 and len(asm.gaps) == 1
    gap = asm.gaps[0]
    assert gap.start_s == pytest.approx(0.099) and gap.end_s == pytest.approx(0.160)
    assert asm.samples == 37 * 20  # nothing invented


def test_duplicate_packet_is_dropped() -> None:
    asm = Assembler()
    blocks = list(_blocks(5))
    for b, h in blocks[:3]:
        asm.push(b, h)
    assert asm.push(*blocks[2]) is None
    assert asm.duplicates == 1 and asm.samples == 60


def test_loss_longer_than_a_sequence_cycle_is_counted_from_timestamps() -> None:
    asm = Assembler()
    blocks = list(_blocks(3))
    asm.push(*blocks[0])
    b, h = blocks[1]
    # the same seq as expected, but 65536 packets later on the device clock
    late = Block(seq=b.seq, t_first_s=b.t_first_s + 65536 * 0.02, period_s=b.period_s, acc_g=b.acc_g)
    asm.push(late, h + 65536 * 0.02)
    assert asm.packets_lost == 65536 and len(asm.gaps) == 1


def test_clock_drift_is_estimated_and_mapping_stays_continuous() -> None:
    clock = ClockMap()
    asm = Assembler(clock)
    chunks = [asm.push(b, h) for b, h in _blocks(5000, drift_ppm=80.0)]  # 100 s
    t = np.concatenate([c.time_s for c in chunks])
    assert clock.drift_ppm == pytest.approx(80.0, abs=15.0)
    d = np.diff(t)
    assert d.min() > 0 and np.allclose(d, 1e-3, rtol=5e-4)
    # time_s runs on the host clock: 100 s of device time read 100 s * (1 + drift) at the end
    assert t[-1] - t[-2000] == pytest.approx(1.999 * (1 + 80e-6), abs=2e-5)


def test_device_clock_reset_after_reconnect_is_a_gap_not_a_negative_time() -> None:
    asm = Assembler()
    blocks = list(_blocks(10))
    for b, h in blocks[:5]:
        asm.push(b, h)
    asm.mark_reconnect()
    b, h = blocks[5]
    reset = Block(seq=0, t_first_s=0.001, period_s=b.period_s, acc_g=b.acc_g)
    chunk = asm.push(reset, h + 3.0)
    assert chunk is not None and chunk.gap is not None and chunk.gap.reason == "disconnected"
    assert chunk.time_s[0] > asm.gaps[0].start_s + 2.5


def test_a_block_of_contiguous_packets_gives_the_samples_and_counters_of_the_packets_pushed_alone() -> None:
    blocks = list(_blocks(3000, drift_ppm=60.0, seq0=65500))  # 60 s, seq wraps, drift refits every 5 s
    alone, together = Assembler(), Assembler()
    t_alone = np.concatenate([alone.push(b, h).time_s for b, h in blocks])
    t_together = []
    for i in range(0, len(blocks), 5):  # a 0.1 s tick's packets as one block
        part = blocks[i : i + 5]
        first = part[0][0]
        joined = Block(first.seq, first.t_first_s, first.period_s, np.concatenate([b.acc_g for b, _ in part]),
                       packets=len(part))
        t_together.append(together.push(joined, part[0][1], [h for _, h in part]).time_s)
    t_together = np.concatenate(t_together)
    assert (together.packets_received, together.last_seq, together.packets_lost, together.gaps) == (
        alone.packets_received, alone.last_seq, alone.packets_lost, alone.gaps
    )
    assert together.clock.drift_ppm == pytest.approx(alone.clock.drift_ppm, rel=1e-6)
    assert np.diff(t_together).min() > 0
    np.testing.assert_allclose(t_together, t_alone, rtol=0, atol=1e-6)  # one-by-one times (ns: float rounding)


def test_a_lost_packet_before_a_joined_block_counts_one_packet_not_the_block() -> None:
    blocks = list(_blocks(12))
    asm = Assembler()
    asm.push(*blocks[0])
    part = blocks[2:7]  # packet 1 lost
    joined = Block(part[0][0].seq, part[0][0].t_first_s, 1e-3, np.concatenate([b.acc_g for b, _ in part]),
                   packets=5)
    chunk = asm.push(joined, part[0][1], [h for _, h in part])
    assert chunk.packets_lost == 1 and asm.packets_lost == 1 and len(asm.gaps) == 1
    assert asm.packets_received == 6 and asm.last_seq == 6
