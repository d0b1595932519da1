"""From decoded blocks to recording samples: device clock -> time_s mapping, lost packets, gaps.

`ClockMap` maps device-clock seconds to recording seconds (time_s, 0 at the first sample), corrected for
the device crystal's drift against the host clock. Drift is the slope of the *lower envelope* of
(host arrival - device time): per `window_s` of device time the minimum offset is kept (the packets that
met the least radio/scheduling delay), and a line through the last minima gives the drift. The mapping is
piecewise linear and continuous: a new drift estimate applies from the newest mapped device time on, so
time_s never jumps or runs backwards.

`Assembler` turns blocks into monotonic samples. Lost packets are found from the sequence number (mod
2^16, so wrap-around is not a loss) and from the device timestamps (which also catch losses that span a
whole sequence cycle, disconnects, and profiles without a sequence number). A loss becomes a `Gap` from
the last sample before it to the first after; no sample is ever invented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gaitimpact.ble.profiles.base import Block
from gaitimpact.recording import Gap

MAX_DRIFT_PPM = 2000.0
"""Drift estimates beyond this are ignored (not a crystal: a clock jump or a host suspend)."""


class ClockMap:
    """Device time (s) -> recording time_s (s from the first sample), drift corrected and continuous."""

    def __init__(self, window_s: float = 5.0, min_span_s: float = 20.0, max_windows: int = 120) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.max_windows = max_windows
        self.drift = 0.0  # host seconds per device second minus 1
        self._anchor_dev: float | None = None
        self._anchor_ts = 0.0
        self._win_start: float | None = None
        self._win_min = math.inf
        self._win_dev = 0.0
        self._minima: list[tuple[float, float]] = []

    @property
    def drift_ppm(self) -> float:
        """Estimated device clock drift against the host in parts per million (host faster > 0)."""
        return self.drift * 1e6

    def start(self, t_dev_s: float, host_s: float) -> None:
        """Anchor: device time `t_dev_s` is time_s 0 (first sample, received at host time `host_s`)."""
        self._anchor_dev = t_dev_s
        self._anchor_ts = 0.0

    def reanchor(self, t_dev_s: float, time_s: float) -> None:
        """After a device clock reset: device time `t_dev_s` maps to `time_s`; drift history restarts."""
        self._anchor_dev = t_dev_s
        self._anchor_ts = time_s
        self._win_start = None
        self._win_min = math.inf
        self._minima.clear()

    def map(self, t_dev_s: np.ndarray | float) -> np.ndarray:
        """Recording time_s (s) of device times (s)."""
        assert self._anchor_dev is not None, "ClockMap.start() first"
        return self._anchor_ts + (np.asarray(t_dev_s, dtype=np.float64) - self._anchor_dev) * (
            1.0 + self.drift
        )

    def map_packets(self, t_dev_s: np.ndarray, per_packet: int, arrivals_s: Sequence[float]) -> np.ndarray:
        """Recording time_s (s) of contiguous packets' device times (s), `per_packet` samples each, observing
        each packet's arrival (host s) after mapping it: the same times as packets mapped one by one."""
        out = np.empty(t_dev_s.shape)
        done = 0  # samples mapped so far
        for i, host_s in enumerate(arrivals_s):
            end = (i + 1) * per_packet
            t_last = float(t_dev_s[end - 1])
            if self._win_start is not None and t_last - self._win_start >= self.window_s:  # may refit
                out[done:end] = self.map(t_dev_s[done:end])
                done = end
            self.observe(t_last, host_s)
        out[done:] = self.map(t_dev_s[done:])
        return out

    def observe(self, t_dev_last_s: float, host_s: float) -> None:
        """Feed one arrival: device time of a block's last sample and host receive time (s)."""
        offset = host_s - t_dev_last_s
        if self._win_start is None:
            self._win_start = t_dev_last_s
        if offset < self._win_min:
            self._win_min, self._win_dev = offset, t_dev_last_s
        if t_dev_last_s - self._win_start >= self.window_s:
            self._minima.append((self._win_dev, self._win_min))
            del self._minima[: -self.max_windows]
            self._win_start, self._win_min = t_dev_last_s, math.inf
            self._refit(t_dev_last_s)

    def _refit(self, t_now_dev: float) -> None:
        if len(self._minima) < 3 or self._minima[-1][0] - self._minima[0][0] < self.min_span_s:
            return
        d = np.array(self._minima)
        slope = float(np.polyfit(d[:, 0] - d[0, 0], d[:, 1], 1)[0])
        if abs(slope) * 1e6 > MAX_DRIFT_PPM:
            return
        ts_now = float(self.map(t_now_dev))
        self._anchor_dev, self._anchor_ts = t_now_dev, ts_now
        self.drift = slope


@dataclass
class Chunk:
    """Samples ready for the file: time_s (n,) and acc_g (n, 3); `gap` if a loss precedes them."""

    time_s: np.ndarray
    acc_g: np.ndarray
    gap: Gap | None = None
    packets_lost: int = 0


class Assembler:
    """Blocks -> monotonic samples, with lost-packet accounting and gaps (never invents samples)."""

    def __init__(self, clock: ClockMap | None = None) -> None:
        self.clock = clock or ClockMap()
        self.last_seq: int | None = None
        self.last_dev_end: float | None = None  # device time of the last sample taken
        self.last_period: float = 0.0
        self.last_time_s: float | None = None
        self.last_host_s: float | None = None
        self.packets_received = 0
        self.packets_lost = 0
        self.duplicates = 0
        self.samples = 0
        self.gaps: list[Gap] = []
        self._reconnected = False

    def mark_reconnect(self) -> None:
        """The link dropped and came back: the next loss is a disconnect and the seq may restart."""
        self._reconnected = True

    def push(self, block: Block, host_s: float, arrivals_s: Sequence[float] | None = None) -> Chunk | None:
        """Add one decoded block received at host time `host_s` (s); None if it is a duplicate/stale.

        A block of several contiguous packets (`block.packets`) comes with each packet's arrival time in
        `arrivals_s` (host_s is the first): every packet feeds the drift estimate, as if pushed alone."""
        t_dev = block.t_first_s + np.arange(block.n) * block.period_s
        n = block.n // block.packets  # samples per packet
        reconnected, self._reconnected = self._reconnected, False
        if self.last_dev_end is None:
            self.clock.start(block.t_first_s, host_s - (n - 1) * block.period_s)
            return self._take(block, t_dev, host_s, None, 0, arrivals_s)
        period = self.last_period
        lost_seq = 0
        if block.seq is not None and self.last_seq is not None and not reconnected:
            d = (block.seq - self.last_seq) % block.seq_modulus
            if d == 0 or d > block.seq_modulus // 2:
                self.duplicates += 1
                return None
            lost_seq = d - 1
        dt = block.t_first_s - (self.last_dev_end + period)
        host_gap = host_s - (self.last_host_s or host_s)
        if dt < -0.5 * period:
            # device time went backwards: a repeat of old data, or a device clock reset after reconnect
            if reconnected or dt < -2.0:
                assert self.last_time_s is not None
                t0 = self.last_time_s + max(host_gap - n * block.period_s, period)
                self.clock.reanchor(block.t_first_s, t0)
                lost = max(lost_seq, 1)
                return self._take(
                    block, t_dev, host_s, "device clock reset" if not reconnected else "disconnected", lost,
                    arrivals_s,
                )
            keep = t_dev > self.last_dev_end + 0.5 * period
            if not keep.any():
                self.duplicates += 1
                return None
            block = Block(
                block.seq, float(t_dev[keep][0]), block.period_s, block.acc_g[keep], block.seq_modulus,
                block.packets,
            )
            return self._take(block, t_dev[keep], host_s, None, 0, arrivals_s)
        missing = int(round(dt / period)) if dt > 0.5 * period else 0
        lost_time = int(math.ceil(missing / n)) if missing else 0
        lost = lost_time if (reconnected or block.seq is None or lost_time > lost_seq + 1) else lost_seq
        if missing == 0:
            lost = 0 if reconnected or block.seq is None else lost_seq
        reason = None
        if missing:
            reason = "disconnected" if reconnected else f"{lost} packet(s) lost"
        return self._take(block, t_dev, host_s, reason, lost, arrivals_s)

    def _take(
        self, block: Block, t_dev: np.ndarray, host_s: float, reason: str | None, lost: int,
        arrivals_s: Sequence[float] | None = None,
    ) -> Chunk:
        observed = arrivals_s is not None and len(arrivals_s) == block.packets > 1
        if observed:  # several packets: each feeds the drift estimate, as if pushed alone
            assert arrivals_s is not None
            time_s = self.clock.map_packets(t_dev, t_dev.size // block.packets, arrivals_s)
        else:
            time_s = self.clock.map(t_dev)
        gap = None
        if self.last_time_s is not None:
            if time_s.size and time_s[0] <= self.last_time_s:  # time_s increases: only its head can be old
                keep = time_s > self.last_time_s
                time_s, t_dev = time_s[keep], t_dev[keep]
                block = Block(
                    block.seq, block.t_first_s, block.period_s, block.acc_g[keep], block.seq_modulus, block.packets
                )
            if reason is not None and time_s.size:
                gap = Gap(float(self.last_time_s), float(time_s[0]), reason)
                self.gaps.append(gap)
        self.packets_received += block.packets
        self.packets_lost += lost
        if block.seq is not None:
            self.last_seq = (block.seq + block.packets - 1) % block.seq_modulus
        if time_s.size:
            self.last_dev_end = float(t_dev[-1])
            self.last_time_s = float(time_s[-1])
            self.samples += int(time_s.size)
        self.last_period = block.period_s
        self.last_host_s = float(arrivals_s[-1]) if arrivals_s else host_s
        if not observed:
            self.clock.observe(float(t_dev[-1]) if t_dev.size else block.t_first_s, self.last_host_s)
        return Chunk(time_s, block.acc_g, gap, lost)
