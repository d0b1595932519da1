"""Result types of the signal core: per-strike arrays, running bouts, whole-recording analysis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitimpact.notice import Notice


@dataclass
class Strikes:
    """One entry per detected foot strike (initial contact), all arrays of equal length.

    time_s: IC time in s since the first sample.
    foot: "L", "R" or "?" (unknown).
    peak_g: peak resultant specific force in g (incl. gravity) in the impact window after IC.
    loading_rate_gps: loading rate in g/s (definition in `Analysis.params`).
    clipped: a sample in the impact window reached the sensor range: peak_g is a lower bound.
    near_gap: the impact window touches a gap in the samples: timing/peak less certain.
    bout: index into `Analysis.bouts` of the running bout the strike belongs to.
    contact_ms: ground contact time in ms (IC to toe-off, `gaitimpact.core.contact`); NaN where not timed.
    """

    time_s: np.ndarray
    foot: np.ndarray
    peak_g: np.ndarray
    loading_rate_gps: np.ndarray
    clipped: np.ndarray
    near_gap: np.ndarray
    bout: np.ndarray
    contact_ms: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.contact_ms is None:
            self.contact_ms = np.full(np.shape(self.time_s)[0], np.nan)

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @classmethod
    def empty(cls) -> Strikes:
        """No strikes."""
        return cls(
            time_s=np.zeros(0),
            foot=np.zeros(0, dtype="<U1"),
            peak_g=np.zeros(0),
            loading_rate_gps=np.zeros(0),
            clipped=np.zeros(0, dtype=bool),
            near_gap=np.zeros(0, dtype=bool),
            bout=np.zeros(0, dtype=np.int64),
            contact_ms=np.zeros(0),
        )


@dataclass(frozen=True)
class Bout:
    """A continuous stretch of one activity ("running", "walking", "standing"), times in s."""

    start_s: float
    end_s: float
    activity: str = "running"

    @property
    def duration_s(self) -> float:
        """Length of the bout in s."""
        return self.end_s - self.start_s


@dataclass
class Analysis:
    """Everything the signal core found in one recording.

    placement: the placement used ("waist", "shoe", "shank").
    placement_source: "declared" or "auto" (decided from the signal).
    bouts: running bouts only (strikes are detected only inside them).
    cadence_spm: steps per minute over running time, both feet counted.
    params: the windows/filters/definitions used, for the report and docstrings.
    """

    placement: str
    placement_source: str
    fs_hz: float
    duration_s: float
    running_s: float
    strikes: Strikes
    bouts: list[Bout]
    cadence_spm: float
    warnings: list[Notice] = field(default_factory=list)
    params: dict = field(default_factory=dict)
