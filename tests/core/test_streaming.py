"""Streaming form of the core: live strikes, cadence and peaks agree with the offline analysis."""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.core.pipeline import analyze_recording
from gaitimpact.core.streaming import StreamingAnalyzer
from gaitimpact.sim import SimConfig, SimSegment, simulate


@pytest.mark.parametrize(("placement", "fs_hz"), [("shoe", 500.0), ("waist", 200.0)])
def test_streaming_cadence_and_median_peak_agree_with_offline(placement: str, fs_hz: float) -> None:
    res = simulate(
        SimConfig(
            placement=placement,
            fs_hz=fs_hz,
            seed=3,
            noise_g=0.02,
            segments=[SimSegment(3.0, "stand", 0.0, "asphalt"), SimSegment(40.0, "run", 3.2, "asphalt")],
        )
    )
    rec = res.recording
    offline = analyze_recording(rec, placement)
    live = StreamingAnalyzer(rec.fs_hz, placement=placement)
    block = int(fs_hz / 50)  # packet-sized pieces, as they arrive over BLE
    for i in range(0, rec.n_samples, block):
        live.append(rec.time_s[i : i + block], rec.acc_g[i : i + block])
        live.update()
    live.finish()
    assert abs(live.cadence_spm() - offline.cadence_spm) <= 1.0
    assert np.median(live.strike_peak_g) == pytest.approx(np.median(offline.strikes.peak_g), rel=0.02)
    assert abs(len(live.strike_time_s) - len(offline.strikes)) <= 2
    figures = live.figures()
    assert figures.n_strikes == len(live.strike_time_s) and np.isfinite(figures.rolling_peak_g)


def test_streaming_waits_for_enough_data_before_analysing() -> None:
    live = StreamingAnalyzer(100.0, placement="waist")
    live.append(np.arange(100) / 100.0, np.tile([0.0, 0.0, 1.0], (100, 1)))
    assert live.update() is False and live.analyses == 0
    assert np.isnan(live.figures().last_peak_g)
