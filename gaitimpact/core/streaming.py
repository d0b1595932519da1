"""Streaming form of the signal core for live recording.

`StreamingAnalyzer` keeps the last `window_s` seconds of samples and re-runs the offline core
(`gaitimpact.core.pipeline.analyze_signal`) on that window when it can change what is shown: each block of new
samples is checked for an impact (a resultant above `impact_fraction` of the recent strike peaks, at least
`min_impact_g`, that rose by at least `rise_fraction` of that level within `rise_s`: an impact transient is
fast, while a foot's late-swing deceleration reaches the level too, but slowly). The window is analysed once
`impact_after_s` of samples follow the impact (the core sees a peak only with some of its fall: 5 ms saves a
tenth of the runs at 1000 Hz; a wait shorter than `MIN_AFTER_SAMPLES` samples is none, since at 100 Hz one
sample of waiting moved which marginal strikes a window finds on the real adept bouts, 8 hip and 6 shoe
strikes fewer matched) and again until a strike at it shows (for at most `impact_wait_s`), never more often
than every `hop_s` and at least every `max_hop_s` seconds of data. Re-running the core ten times a second cost
~5 % of a core at 1000 Hz; running it on impacts keeps the latency and costs about a third of that, and
ignoring the slow swing peaks halves it again (benchmarks/record.py). A strike is *committed* once it is at
least `settle_s` older than the newest sample (its impact window, the filters' edge effects and the bout
decision are then settled) and later than the last committed strike; the newest uncommitted strike is shown as
*provisional*. Placement is declared, or decided once (from the first window holding `placement_strikes`
strikes: enough impacts for the shoe/shank timing feature) and then held; the core is told not to re-derive or
check it, which saves a third of each run's cost. Nor does a run time toe-offs (`contact=False`: the view shows
no contact time; strikes, feet and peaks are the full core's, tests/core/test_streaming.py), a fifth of the rest.
Cadence uses the core's own `cadence_spm` on the committed strikes, so live and offline agree.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gaitimpact.core.cadence import cadence_spm
from gaitimpact.core.filters import squared_resultant_g2
from gaitimpact.errors import GaitImpactError
from gaitimpact.recording import steps_per_strike

MIN_AFTER_SAMPLES = 2
"""`impact_after_s` applies only when it spans at least this many samples (>= 400 Hz for 5 ms)."""


def load_core() -> None:
    """Import the offline signal core now (`pipeline` and its modules; 0.3-0.5 s where Python compiles them
    because their bytecode is not cached). A recorder does it before it connects: left to the first live
    analysis, about 3 s into the stream, the import held up the event loop (notifications waited meanwhile)."""
    import gaitimpact.core.pipeline  # noqa: F401


@dataclass
class LiveFigures:
    """What the live view shows; times in s of the recording, peaks in g, cadence in steps/min."""

    n_strikes: int
    cadence_spm: float
    last_peak_g: float
    last_strike_time_s: float
    rolling_peak_g: float
    placement: str


class StreamingAnalyzer:
    """Re-run the offline core on a rolling window; commit strikes once older than `settle_s` (s)."""

    def __init__(
        self,
        fs_hz: float,
        *,
        placement: str = "auto",
        range_g: float | None = None,
        window_s: float = 12.0,
        hop_s: float = 0.5,
        settle_s: float = 2.0,
        rolling_s: float = 30.0,
        min_separation_s: float = 0.12,
        max_hop_s: float = 2.0,
        impact_wait_s: float = 0.2,
        refractory_s: float = 0.25,
        min_impact_g: float = 1.5,
        impact_fraction: float = 0.7,
        placement_strikes: int = 8,
        rise_s: float = 0.03,
        rise_fraction: float = 0.5,
        impact_after_s: float = 0.005,
    ) -> None:
        self.fs_hz = float(fs_hz)
        self.placement = placement
        self.range_g = range_g
        self.window_s = window_s
        self.hop_s = hop_s
        self.settle_s = settle_s
        self.rolling_s = rolling_s
        self.min_separation_s = min_separation_s
        self.max_hop_s = max_hop_s
        self.impact_wait_s = impact_wait_s
        self.refractory_s = refractory_s
        self.min_impact_g = min_impact_g
        self.impact_fraction = impact_fraction
        self.placement_strikes = placement_strikes
        self.rise_s = rise_s
        self.rise_fraction = rise_fraction
        self.impact_after_s = impact_after_s if impact_after_s * self.fs_hz >= MIN_AFTER_SAMPLES else 0.0
        self._rise_n = max(1, int(round(rise_s * self.fs_hz)))  # samples looked back for the rise
        self._impact_t = -np.inf  # time (s) of the newest impact seen in the samples
        self._impact_done_t = -np.inf  # newest impact whose strike was found (or given up on)
        self._level, self._level_n = self.min_impact_g, 0  # impact level (g) for that many strikes
        cap = int(np.ceil((window_s + 2 * hop_s + 1.0) * self.fs_hz)) + 64
        self._t = np.zeros(2 * cap)
        self._a = np.zeros((2 * cap, 3))
        self._cap = cap
        self._start = 0
        self._end = 0
        self._gaps: list[tuple[float, float]] = []
        self._last_run_t = -np.inf
        self.strike_time_s: list[float] = []
        self.strike_peak_g: list[float] = []
        self.strike_foot: list[str] = []
        self.provisional: tuple[float, float] | None = None
        self.analyses = 0
        self._figures: LiveFigures | None = None
        self._figures_key: tuple = ()
        self.warnings: list[str] = []

    # ---------------------------------------------------------------- input
    def append(self, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        """Add samples (time in s of the recording, acc (n, 3) in g) to the rolling window."""
        n = int(np.asarray(time_s).shape[0])
        if n == 0:
            return
        if self._end + n > self._t.shape[0]:
            keep_from = max(self._start, self._end - self._cap)
            k = self._end - keep_from
            self._t[:k] = self._t[keep_from : self._end]
            self._a[:k] = self._a[keep_from : self._end]
            self._start, self._end = 0, k
            if self._end + n > self._t.shape[0]:  # a block larger than the whole buffer
                grow = self._end + n
                self._t = np.resize(self._t, grow)
                self._a = np.resize(self._a, (grow, 3))
        self._t[self._end : self._end + n] = time_s
        self._a[self._end : self._end + n] = acc_g
        self._note_impact(self._end, self._end + n)
        self._end += n
        newest = self._t[self._end - 1]
        lo = np.searchsorted(self._t[self._start : self._end], newest - self.window_s)
        self._start += int(lo)

    def _note_impact(self, lo: int, hi: int) -> None:
        """Remember the newest impact in [lo, hi): the highest sample above the impact level whose resultant
        rose by `rise_fraction` of that level within the `rise_s` before it (cheap: one resultant)."""
        level = self._impact_level()
        a = self._a[lo:hi]
        res2 = squared_resultant_g2(a)
        if res2.max() < level * level:
            return
        lo_back = max(self._start, lo - self._rise_n)
        before = self._a[lo_back:lo]
        pad = np.full(self._rise_n - (lo - lo_back), np.inf)  # no history yet: never the low point
        res = np.sqrt(np.concatenate((pad, squared_resultant_g2(before), res2)))
        low = sliding_window_view(res, self._rise_n + 1).min(axis=1)  # lowest in the rise_s up to each sample
        rise = res[self._rise_n :] - low
        ok = (res2 >= level * level) & (rise >= self.rise_fraction * level)
        if not ok.any():
            return
        k = int(np.argmax(np.where(ok, res2, -1.0)))
        t = float(self._t[lo + k])
        if t > self._impact_t + self.refractory_s:  # ringing is no new impact
            self._impact_t = t

    def _impact_level(self) -> float:
        """Resultant (g) an impact reaches: `impact_fraction` of the median of the last 8 strike peaks,
        at least `min_impact_g`; recomputed only when a strike was committed."""
        n = len(self.strike_peak_g)
        if n != self._level_n:
            recent = self.strike_peak_g[-8:]
            self._level = max(self.min_impact_g, self.impact_fraction * float(np.median(recent)))
            self._level_n = n
        return self._level

    def add_gap(self, start_s: float, end_s: float) -> None:
        """Tell the analyzer about a stretch without samples (s)."""
        self._gaps.append((float(start_s), float(end_s)))

    @property
    def newest_time_s(self) -> float:
        """Time of the newest sample in s (-inf before any)."""
        return float(self._t[self._end - 1]) if self._end > self._start else -np.inf

    # ---------------------------------------------------------------- analysis
    def update(self, *, final: bool = False) -> bool:
        """Analyse the window when an impact's window completed, or `max_hop_s` passed (or `final`).

        True when it ran. Never more often than every `hop_s` seconds of data.
        """
        newest = self.newest_time_s
        since = newest - self._last_run_t
        impact_ready = self._impact_t > self._impact_done_t and newest >= self._impact_t + self.impact_after_s
        if not final and (since < self.hop_s - 0.5 / self.fs_hz or not (impact_ready or since >= self.max_hop_s)):
            return False
        if self._end - self._start < int(3.0 * self.fs_hz):
            return False
        self._last_run_t = newest
        self._run(final)
        self._settle_impact(newest)
        return True

    def _settle_impact(self, newest: float) -> None:
        """The newest impact is done once a strike shows near it (0.2 s before to 0.15 s after), or after
        `impact_wait_s` (a swing peak that was no impact)."""
        t = self._impact_t
        shown = [self.provisional[0]] if self.provisional is not None else []
        shown += self.strike_time_s[-2:]
        if any(t - 0.2 <= s <= t + 0.15 for s in shown) or newest >= t + self.impact_wait_s:
            self._impact_done_t = t

    def _run(self, final: bool) -> None:
        from gaitimpact.core.pipeline import analyze_signal

        t = self._t[self._start : self._end]
        a = self._a[self._start : self._end]
        t0 = float(t[0])
        gaps = [(s - t0, e - t0) for s, e in self._gaps if e > t0]
        try:
            # a placement declared or already decided is used as is: no placement features per run
            # nor toe-off: the live view shows no contact time (strikes, feet and peaks are the same without)
            an = analyze_signal(t - t0, a, self.fs_hz, placement=self.placement, range_g=self.range_g, gaps=gaps,
                                check_placement=False, contact=False)
        except GaitImpactError as exc:  # a window the core refuses (e.g. too short) is skipped, noted once
            msg = f"window analysis skipped: {exc}"
            if msg not in self.warnings:
                self.warnings.append(msg)
            return
        self.analyses += 1
        if self.placement == "auto" and len(an.strikes) >= self.placement_strikes:
            self.placement = an.placement  # fixed for the session: later runs skip the placement features
        st = an.strikes
        times = np.asarray(st.time_s, dtype=float) + t0
        limit = np.inf if final else self.newest_time_s - self.settle_s
        last = self.strike_time_s[-1] if self.strike_time_s else -np.inf
        # strikes near the window start lack context (filters, bout start): left to the earlier windows
        lead_ok = times >= t0 + (0.0 if t0 <= 0.0 else self.settle_s)
        sel = (times <= limit) & (times > last + self.min_separation_s) & lead_ok
        for i in np.flatnonzero(sel):
            self.strike_time_s.append(float(times[i]))
            self.strike_peak_g.append(float(st.peak_g[i]))
            self.strike_foot.append(str(st.foot[i]))
        newer = np.flatnonzero(times > limit)
        self.provisional = (float(times[newer[-1]]), float(st.peak_g[newer[-1]])) if newer.size else None

    # ---------------------------------------------------------------- output
    def steps_per_strike(self) -> int:
        """Steps per detected strike for the current placement (2 for a foot sensor)."""
        return steps_per_strike(self.placement)

    def cadence_spm(self, since_s: float | None = None) -> float:
        """Cadence in steps/min from committed strikes (all, or those after `since_s`); NaN if too few."""
        t = np.asarray(self.strike_time_s)
        if since_s is not None:
            t = t[t >= since_s]
        gap_iv = np.asarray(self._gaps, dtype=float).reshape(-1, 2)
        return cadence_spm(t, self.steps_per_strike(), None, gap_iv)

    def figures(self) -> LiveFigures:
        """Current live numbers: rolling cadence and peaks over `rolling_s`, last strike (maybe provisional).

        Recomputed only when they can change: a strike committed or shown, one leaving the rolling window,
        a gap, the placement decided (the view asks every tick; the strikes change about once a step)."""
        newest = self.newest_time_s
        i0 = bisect_left(self.strike_time_s, newest - self.rolling_s)  # first strike in the rolling window
        key = (len(self.strike_time_s), i0, self.provisional, len(self._gaps), self.placement)
        if key == self._figures_key and self._figures is not None:
            return self._figures
        t = np.asarray(self.strike_time_s)
        p = np.asarray(self.strike_peak_g)
        last_t, last_p = (float(t[-1]), float(p[-1])) if t.size else (float("nan"), float("nan"))
        if self.provisional is not None and (not t.size or self.provisional[0] > last_t):
            last_t, last_p = self.provisional
        self._figures_key = key
        self._figures = LiveFigures(
            n_strikes=int(t.size),
            cadence_spm=self.cadence_spm(newest - self.rolling_s),
            last_peak_g=last_p,
            last_strike_time_s=last_t,
            rolling_peak_g=float(np.median(p[i0:])) if i0 < p.size else float("nan"),
            placement=self.placement,
        )
        return self._figures

    def finish(self) -> None:
        """Commit the strikes of the last window (end of recording)."""
        self.update(final=True)
