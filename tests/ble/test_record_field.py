"""End to end, what real radios do in the field: a sensor back in an odd state, a link down while the view
must keep refreshing, a recorder killed with the sensor still connected, a sensor that never streams."""

from __future__ import annotations

import signal
import time

import pytest
from ble_helpers import SimBench, assert_file_matches_sent, read_run, wait_for_rows

GI_ADDR = "C0:FF:EE:00:10:01"
POLAR_ADDR = "A0:9E:1A:00:00:01"
pytestmark = pytest.mark.e2e  # every test here runs the real CLI in a process


@pytest.mark.sim(devices="polar")
def test_profile_error_while_reconnecting_is_retried_with_backoff_and_recording_goes_on(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "odd_state.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "6", "--reconnect-timeout", "10", "--quiet")
    wait_for_rows(csv, 200)
    sim_bench.control("Command", POLAR_ADDR, "refuse_start", "2")  # back from the outage refusing to start
    sim_bench.control("Disconnect", POLAR_ADDR, 0.5)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    side = assert_file_matches_sent(sim_bench, csv, "polar", 8.0, lsb_g=0.5e-3, duration_s=6)
    assert side["reconnects"] == 1 and len(side["gaps"]) == 1
    assert sim_bench.control("Stats")[POLAR_ADDR]["connects"] == 4  # first, two refused starts, then streaming
    t, _acc, _ = read_run(csv)
    assert t[-1] > side["gaps"][0]["end_s"] + 1.0


@pytest.mark.sim(devices="gaitimpact", fs_hz="200")
def test_no_live_prints_status_lines_also_while_reconnecting(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "status.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "5", "--no-live")
    wait_for_rows(csv, 200)
    sim_bench.control("Disconnect", GI_ADDR, 1.5)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert any("status=recording" in line and "samples=" in line for line in lines)
    reconnecting = [line for line in lines if "status=reconnecting..." in line]
    assert reconnecting and "samples on disk" in reconnecting[0]
    assert "range: +-32 g" in out  # no --range: chosen for the (unknown) placement, and said


@pytest.mark.sim(devices="polar")
def test_sensor_left_connected_by_a_killed_recorder_is_reused(sim_bench: SimBench) -> None:
    first = sim_bench.tmp / "killed.csv"
    proc = sim_bench.start("record", "--out", str(first), "--quiet")
    wait_for_rows(first, 200)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert sim_bench.control("Stats")[POLAR_ADDR]["connects"] == 1
    csv = sim_bench.tmp / "again.csv"
    res = sim_bench.run(
        "record", "--device", "Polar H10 1A2B3C4D", "--out", str(csv), "--duration", "2", "--scan-timeout", "2",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "was still connected" in res.stdout
    _t, acc, side = read_run(csv)
    assert side["recording"] == "duration" and acc.shape[0] > 250  # the still-running H10 stream was restarted


@pytest.mark.sim(devices="gaitimpact", fs_hz="200")
def test_sensor_that_accepts_the_start_but_sends_nothing_times_out_clearly(sim_bench: SimBench) -> None:
    sim_bench.control("Command", GI_ADDR, "mute", "1")
    csv = sim_bench.tmp / "silent.csv"
    res = sim_bench.run("record", "--out", str(csv), "--data-timeout", "1.5", "--no-live")
    assert res.returncode == 1
    assert "waiting for the first samples" in res.stderr  # it said what it waits for
    assert "sent no samples within 1.5 s" in res.stderr.splitlines()[-1] and "Traceback" not in res.stderr
    assert not csv.exists() and not csv.with_suffix(".json").exists()


@pytest.mark.sim(devices="gaitimpact", fs_hz="200")
def test_link_up_but_silent_is_dropped_and_reconnected(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "stalled.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "7", "--data-timeout", "1", "--quiet")
    wait_for_rows(csv, 300)
    sim_bench.control("Command", GI_ADDR, "mute", "1")  # connected, notifying, but nothing arrives
    time.sleep(2.0)
    sim_bench.control("Command", GI_ADDR, "mute", "0")
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    assert "no samples for" in out and "on a live link: reconnected" in out
    t, _acc, side = read_run(csv)
    assert side["reconnects"] >= 1 and side["gaps"] and t[-1] > side["gaps"][-1]["end_s"] + 0.5
