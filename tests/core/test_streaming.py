"""Streaming form of the core: live strikes, cadence and peaks agree with the offline analysis."""

from __future__ import annotations

from pathlib import Path

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


def _run_signal(placement: str, fs_hz: float, run_s: float):
    return simulate(
        SimConfig(
            placement=placement,
            fs_hz=fs_hz,
            seed=5,
            noise_g=0.02,
            segments=[SimSegment(2.0, "stand", 0.0, "asphalt"), SimSegment(run_s, "run", 3.2, "asphalt")],
        )
    ).recording


def test_auto_placement_is_decided_once_then_the_core_skips_placement_detection(monkeypatch) -> None:
    import gaitimpact.core.pipeline as pipeline

    calls: list[float] = []
    real = pipeline.decide_placement

    def counting(*args, **kwargs):
        calls.append(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "decide_placement", counting)
    rec = _run_signal("shoe", 500.0, 20.0)
    live = StreamingAnalyzer(rec.fs_hz, placement="auto")
    calls_when_decided = None
    for i in range(0, rec.n_samples, 10):
        live.append(rec.time_s[i : i + 10], rec.acc_g[i : i + 10])
        live.update()
        if calls_when_decided is None and live.placement != "auto":
            calls_when_decided = len(calls)
    live.finish()
    assert live.placement == "shoe"
    assert calls_when_decided is not None and len(calls) == calls_when_decided  # none after the decision
    assert live.analyses > calls_when_decided
    monkeypatch.setattr(pipeline, "decide_placement", real)
    offline = analyze_recording(rec, "shoe")
    assert abs(len(live.strike_time_s) - len(offline.strikes)) <= 1


def test_unchecked_declared_placement_gives_the_same_strikes_without_the_mismatch_notice() -> None:
    from gaitimpact.core.pipeline import analyze_signal

    rec = _run_signal("shoe", 500.0, 10.0)
    checked = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement="waist")
    unchecked = analyze_signal(rec.time_s, rec.acc_g, rec.fs_hz, placement="waist", check_placement=False)
    assert "placement_mismatch" in [w.code for w in checked.warnings]
    assert "placement_mismatch" not in [w.code for w in unchecked.warnings]
    np.testing.assert_array_equal(checked.strikes.time_s, unchecked.strikes.time_s)
    np.testing.assert_array_equal(checked.strikes.peak_g, unchecked.strikes.peak_g)
    assert unchecked.placement == "waist" and unchecked.placement_source == "declared"


def _feed(live: StreamingAnalyzer, t: np.ndarray, res_g: np.ndarray, tick: int = 100) -> list[bool]:
    """Resultant `res_g` as vertical acceleration, in 0.1 s ticks at 1000 Hz; update() after each tick."""
    acc = np.zeros((res_g.size, 3))
    acc[:, 2] = res_g
    ran = []
    for i in range(0, t.size, tick):
        live.append(t[i : i + tick], acc[i : i + tick])
        ran.append(live.update())
    return ran


def test_a_slow_swing_peak_above_the_impact_level_starts_no_analysis_but_a_sharp_impact_does() -> None:
    fs = 1000.0
    live = StreamingAnalyzer(fs, placement="shoe", max_hop_s=30.0)
    t = np.arange(int(4.0 * fs)) / fs
    assert any(_feed(live, t, np.ones(t.size)))  # the first full window is analysed
    n_before = live.analyses
    # a late-swing-like hump: up to 2 g (above the 1.5 g impact level) and down again over 0.6 s
    t = t[-1] + (1 + np.arange(int(0.6 * fs))) / fs
    hump = 1.0 + np.sin(np.pi * np.arange(t.size) / t.size)
    assert not any(_feed(live, t, hump)) and live.analyses == n_before
    # an impact transient: 1 g -> 5 g within 5 ms, then ringing down
    t = t[-1] + (1 + np.arange(int(0.3 * fs))) / fs
    spike = np.ones(t.size)
    spike[50:55] = np.linspace(1.0, 5.0, 5)
    spike[55:80] = np.linspace(5.0, 1.0, 25)
    assert any(_feed(live, t, spike)) and live.analyses > n_before


@pytest.mark.parametrize(("fs", "waits"), [(1000.0, True), (100.0, False)])
def test_an_impact_at_the_end_of_a_tick_waits_for_some_fall_only_when_that_spans_several_samples(
    fs: float, waits: bool
) -> None:
    live = StreamingAnalyzer(fs, placement="shoe", max_hop_s=30.0)
    tick = int(round(0.1 * fs))
    t = np.arange(40 * tick) / fs
    assert any(_feed(live, t, np.ones(t.size), tick))  # the first full window is analysed
    n_before = live.analyses
    # a tick whose last sample is an impact's top: 1 g -> 5 g within 5 ms (at 100 Hz: one sample)
    t = t[-1] + (1 + np.arange(tick)) / fs
    spike = np.ones(t.size)
    rise = max(1, int(round(0.005 * fs)))
    spike[-rise:] = np.linspace(1.0 + 4.0 / rise, 5.0, rise)
    ran = _feed(live, t, spike, tick)
    # 1000 Hz: the run waits for the next tick (5 ms of the fall); 100 Hz: no wait (one sample would be 10 ms)
    assert ran == [not waits]
    t = t[-1] + (1 + np.arange(tick)) / fs
    ran = _feed(live, t, np.linspace(5.0, 1.0, t.size), tick)
    assert ran == [waits] and live.analyses == n_before + 1


def test_a_run_costs_about_one_analysis_per_strike() -> None:
    rec = _run_signal("shoe", 1000.0, 30.0)
    live = StreamingAnalyzer(rec.fs_hz, placement="shoe", hop_s=0.1)
    for i in range(0, rec.n_samples, 100):  # the recorder hands over samples every 0.1 s tick
        live.append(rec.time_s[i : i + 100], rec.acc_g[i : i + 100])
        live.update()
    live.finish()
    # each strike's impact starts one analysis (a retry when it came too late in a tick), not its swing peak
    assert len(live.strike_time_s) >= 40
    assert live.analyses <= 1.5 * len(live.strike_time_s)


def test_live_figures_kept_between_changes_equal_freshly_computed_ones() -> None:
    import copy
    import dataclasses

    rec = _run_signal("shoe", 500.0, 30.0)
    live = StreamingAnalyzer(rec.fs_hz, placement="shoe", hop_s=0.1, rolling_s=5.0)  # strikes leave the window
    reused, previous = 0, None
    for i in range(0, rec.n_samples, 50):
        live.append(rec.time_s[i : i + 50], rec.acc_g[i : i + 50])
        live.update()
        shown = live.figures()
        reused += shown is previous
        previous = shown
        fresh = copy.copy(live)
        fresh._figures_key = ()  # forget the kept figures: computed again from the strikes
        np.testing.assert_equal(dataclasses.astuple(shown), dataclasses.astuple(fresh.figures()))
    assert reused > 0 and len(live.strike_time_s) > 20


REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"


def _assert_same_but_contact(full, live) -> None:
    """Every strike field equal (contact_ms NaN in `live`), and the same bouts and cadence."""
    a, b = full.strikes, live.strikes
    for name in ("time_s", "foot", "peak_g", "loading_rate_gps", "clipped", "near_gap", "bout"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    assert np.isnan(b.contact_ms).all() and b.contact_ms.shape == a.contact_ms.shape
    assert [(x.start_s, x.end_s) for x in live.bouts] == [(x.start_s, x.end_s) for x in full.bouts]
    assert live.cadence_spm == full.cadence_spm or (np.isnan(live.cadence_spm) and np.isnan(full.cadence_spm))


def _live_windows(t: np.ndarray, a: np.ndarray, gaps=(), step_s: float = 2.3):
    """(window times from 0 s, acc, gaps) of 12 s windows every step_s s, as the live re-runs see them."""
    for t_end in np.arange(t[0] + 12.0, t[-1], step_s):
        i0, i1 = np.searchsorted(t, [t_end - 12.0, t_end])
        t0 = float(t[i0])
        yield t[i0:i1] - t0, a[i0:i1], [(g.start_s - t0, g.end_s - t0) for g in gaps if g.end_s > t0]


@pytest.mark.parametrize(("placement", "fs_hz"), [("shoe", 1000.0), ("shoe", 500.0), ("shank", 500.0),
                                                  ("waist", 200.0), ("waist", 100.0)])
def test_live_windows_without_toe_off_give_the_full_cores_strikes_feet_and_peaks(placement: str, fs_hz: float) -> None:
    from gaitimpact.core.pipeline import analyze_signal

    rec = simulate(SimConfig(placement=placement, fs_hz=fs_hz, seed=7, noise_g=0.02, gaps=[(20.0, 0.3)],
                             segments=[SimSegment(3.0, "stand"), SimSegment(36.0, "run", 3.4, "asphalt"),
                                       SimSegment(4.0, "walk")])).recording
    n_strikes = 0
    for t, a, gaps in _live_windows(rec.time_s, rec.acc_g, rec.gaps):
        kw = dict(placement=placement, range_g=16.0, gaps=gaps, check_placement=False)
        full = analyze_signal(t, a, rec.fs_hz, **kw)
        _assert_same_but_contact(full, analyze_signal(t, a, rec.fs_hz, contact=False, **kw))
        n_strikes += len(full.strikes)
        assert np.isfinite(full.strikes.contact_ms).any() or len(full.strikes) == 0
    assert n_strikes > 100


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata not present")
@pytest.mark.parametrize(("name", "placement"), [("adept_shoe_b2", "shoe"), ("adept_hip_b2", "waist"),
                                                 ("bach2022_trial07_S2_run", "shank")])
def test_live_windows_of_real_runs_without_toe_off_give_the_full_cores_strikes(name: str, placement: str) -> None:
    from gaitimpact.core.pipeline import analyze_signal
    from gaitimpact.io.load import load_recording

    rec = load_recording(REALDATA / f"{name}.csv")
    n_strikes = 0
    step_s = 7.1 if rec.duration_s > 100.0 else 1.3
    for t, a, gaps in _live_windows(rec.time_s, rec.acc_g, rec.gaps, step_s):
        kw = dict(placement=placement, gaps=gaps, check_placement=False)
        full = analyze_signal(t, a, rec.fs_hz, **kw)
        _assert_same_but_contact(full, analyze_signal(t, a, rec.fs_hz, contact=False, **kw))
        n_strikes += len(full.strikes)
    assert n_strikes > 40


def test_the_live_runs_time_no_toe_off_and_commit_what_the_full_core_would(monkeypatch) -> None:
    import gaitimpact.core.pipeline as pipeline

    rec = _run_signal("shoe", 1000.0, 25.0)
    asked = []

    def replay() -> StreamingAnalyzer:
        live = StreamingAnalyzer(rec.fs_hz, placement="shoe", range_g=16.0, hop_s=0.1)
        for i in range(0, rec.n_samples, 100):
            live.append(rec.time_s[i : i + 100], rec.acc_g[i : i + 100])
            live.update()
        live.finish()
        return live

    real = pipeline.analyze_signal

    def spy(*args, **kw):
        asked.append(kw.get("contact", True))
        return real(*args, **kw)

    monkeypatch.setattr(pipeline, "analyze_signal", spy)
    lean = replay()
    assert asked and not any(asked)  # every live run skips the toe-off
    monkeypatch.setattr(pipeline, "analyze_signal", lambda *args, **kw: real(*args, **{**kw, "contact": True}))
    full = replay()
    assert len(lean.strike_time_s) > 30 and lean.analyses == full.analyses
    assert lean.strike_time_s == full.strike_time_s and lean.strike_foot == full.strike_foot
    assert lean.strike_peak_g == full.strike_peak_g and lean.provisional == full.provisional
