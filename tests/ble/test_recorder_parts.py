"""The recorder's parts alone: range choice, the file sink, the live analysis sink, the status lines and the
time offset between two sensors implied by shared contacts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from gaitimpact.ble.alignment import contact_offset
from gaitimpact.ble.live_view import LiveState
from gaitimpact.ble.profiles.base import choose_range
from gaitimpact.ble.sinks import FileSink, LiveAnalysis
from gaitimpact.cli.record_view import RecordView, status_line
from gaitimpact.io.csv_writer import CsvAppender
from gaitimpact.recording import Metadata


@pytest.mark.parametrize(
    ("offered", "placement", "chosen"),
    [
        ([2, 4, 8], "waist", 8.0),  # Polar H10 at the trunk
        ([16, 32, 200], "waist", 16.0),  # smallest at least 8 g, not the widest
        ([16, 32, 200], "shank", 16.0),
        ([16, 32, 200], "shoe", 32.0),
        ([16, 32, 200], "auto", 32.0),
        ([8], "shoe", 8.0),  # Verity Sense on a shoe: only 8 g, and the reason says it may clip
    ],
)
def test_range_without_request_suits_the_placement_and_says_why(offered, placement, chosen) -> None:  # noqa: ANN001
    rng, why = choose_range(None, offered, placement)
    assert rng == chosen
    assert ("may clip" in why) == (chosen < {"waist": 8, "shank": 16}.get(placement, 32))


def test_range_asked_for_is_used_or_refused() -> None:
    assert choose_range(200, [16, 32, 200], "waist") == (200.0, "asked for with --range")
    with pytest.raises(ValueError, match="not supported"):
        choose_range(12, [16, 32, 200], "waist")


def test_file_sink_appends_on_flush_and_counts_what_is_on_disk(tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "run.csv"
    sink = FileSink(CsvAppender(out), out, write_every_s=0.0)
    assert sink.flush() is None
    sink.add(np.array([0.0, 0.01]), np.ones((2, 3)))
    sink.add(np.array([0.02]), np.zeros((1, 3)))
    t, a = sink.flush()
    assert t.tolist() == [0.0, 0.01, 0.02] and a.shape == (3, 3) and sink.samples_written == 3
    sink.write_sidecar(Metadata(placement="waist"), fs_hz=100.0, recording="in progress")
    sink.close()
    df = pd.read_csv(out)
    assert df.shape[0] == 3 and out.with_suffix(".json").exists()


def test_file_sink_batches_disk_writes_but_hands_every_flush_to_the_live_analysis(tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "run.csv"
    sink = FileSink(CsvAppender(out), out, write_every_s=3600.0)
    sink.add(np.array([0.0, 0.01]), np.ones((2, 3)))
    t, _ = sink.flush()
    sink.add(np.array([0.02]), np.zeros((1, 3)))
    t2, _ = sink.flush()
    assert t.tolist() == [0.0, 0.01] and t2.tolist() == [0.02]
    assert sink.samples_written == 0 and pd.read_csv(out).shape[0] == 0  # not due yet: header only
    sink.flush(force=True)
    assert sink.samples_written == 3 and pd.read_csv(out)["time_s"].tolist() == [0.0, 0.01, 0.02]
    sink.add(np.array([0.03]), np.zeros((1, 3)))
    sink.flush()
    sink.close()  # what is still queued is written on close
    assert sink.samples_written == 4 and pd.read_csv(out)["time_s"].tolist() == [0.0, 0.01, 0.02, 0.03]


def test_live_analysis_logs_each_new_strike_once(tmp_path) -> None:  # noqa: ANN001
    from gaitimpact.devtools.sim_sensor import simulated_signal

    acc, truth = simulated_signal("shoe", 500.0, 12.0, 3.5, 1, 32.0)
    events = tmp_path / "events.jsonl"
    live = LiveAnalysis(500.0, "shoe", 32.0, hop_s=0.5, events_path=events)
    t = np.arange(acc.shape[0]) / 500.0
    for i in range(0, acc.shape[0], 500):
        live.add(t[i : i + 500], acc[i : i + 500])
        live.update()
    strikes, cadence, peak = live.finish()
    logged = [line for line in events.read_text().splitlines() if line]
    assert strikes >= 10 and math.isfinite(cadence) and peak > 1.0
    assert 0 < len(logged) <= strikes and len({line.split(",")[1] for line in logged}) == len(logged)
    assert abs(cadence - np.nanmean(truth.cadence_spm)) < 10


def test_status_line_says_reconnecting_for_how_long_and_samples_on_disk() -> None:
    st = LiveState(device="GI-Sensor", status="reconnecting", reconnecting_s=12.3, samples=4500)
    assert "status=reconnecting... 12 s, 4500 samples on disk" in status_line(st)


def test_no_live_view_prints_status_lines_every_5_s_and_on_status_changes() -> None:
    console = Console(record=True, width=200, force_terminal=False)
    st = LiveState(device="S", status="recording")
    with RecordView(console, live=False, quiet=False) as view:
        view.update([st], 0.0)
        view.update([st], 1.0)  # nothing new: no line
        st.status = "reconnecting"
        view.update([st], 2.0)
        view.update([st], 7.5)
    lines = console.export_text().splitlines()
    assert len(lines) == 3 and "status=recording" in lines[0] and "reconnecting" in lines[1]


def test_live_table_redraws_on_each_update_without_a_refresh_thread() -> None:
    import io
    import threading

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    threads = threading.active_count()
    with RecordView(console, live=True, quiet=False) as view:
        assert view.use_live and threading.active_count() == threads  # nothing wakes the process between updates
        view.update([LiveState(device="GI-Sensor", status="recording", samples=1234)], 0.0)
        first = out.getvalue()
        view.update([LiveState(device="GI-Sensor", status="recording", samples=5678)], 0.5)
    assert "GI-Sensor" in first and "1234" in first and "5678" in out.getvalue()[len(first) :]


def test_contact_offset_between_waist_and_shoe_and_its_drift() -> None:
    waist = np.arange(0.0, 120.0, 0.35)  # every step
    shoe = waist[::2] + 0.012  # every other step, 12 ms later
    off = contact_offset(waist, shoe)
    assert off.offset_ms == pytest.approx(12.0, abs=0.01) and abs(off.drift_ms) < 0.01
    drifting = shoe + np.linspace(0.0, 0.06, shoe.size)  # the shoe's clock runs away by 60 ms
    assert contact_offset(waist, drifting).drift_ms == pytest.approx(40.0, abs=2.0)
    assert contact_offset(waist, shoe[:3]) is None
    # the other way round (the denser waist series as `other`): same pairs, sign flipped
    assert contact_offset(shoe, waist).offset_ms == pytest.approx(-12.0, abs=0.01)


def test_the_recording_session_runs_on_uvloop_where_installed_else_on_asyncio(monkeypatch) -> None:  # noqa: ANN001
    import asyncio
    import sys

    import pytest

    from gaitimpact.cli.record_cmd import run_session

    async def loop_module() -> str:
        await asyncio.sleep(0.01)
        return type(asyncio.get_running_loop()).__module__

    with monkeypatch.context() as m:
        m.setitem(sys.modules, "uvloop", None)  # not installed: the import fails
        assert run_session(loop_module()).startswith("asyncio")
    if sys.platform == "linux":  # a dependency there (pyproject)
        pytest.importorskip("uvloop")
        assert run_session(loop_module()).startswith("uvloop")


def test_the_recorder_loads_the_signal_core_before_it_connects(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import asyncio

    import gaitimpact.ble.recorder as recorder_mod
    from gaitimpact.errors import DeviceError

    order: list[str] = []
    monkeypatch.setattr(recorder_mod, "load_core", lambda: order.append("core"))
    (rec,) = recorder_mod.open_recorders([recorder_mod.RecordOptions(out=tmp_path / "run.csv", device="GI-Sensor")])

    async def refuse(find_lock=None) -> None:  # noqa: ANN001
        order.append("connect")
        raise DeviceError("no such sensor")

    monkeypatch.setattr(rec.link, "open", refuse)
    monkeypatch.setattr(rec.link, "close", lambda: asyncio.sleep(0))
    with pytest.raises(DeviceError):
        asyncio.run(rec.run())
    assert order == ["core", "connect"]


def test_the_streaming_core_loads_the_offline_core_only_when_load_core_is_called() -> None:
    import subprocess
    import sys

    code = ("import sys; from gaitimpact.core.streaming import load_core; "
            "before = 'gaitimpact.core.pipeline' in sys.modules; load_core(); "
            "print(before, 'gaitimpact.core.pipeline' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
