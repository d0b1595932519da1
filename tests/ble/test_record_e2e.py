"""End to end: the real `gaitimpact scan` / `gaitimpact record` (real bleak, real D-Bus) against simulated
sensors on the fake BlueZ, one test per fault the recorder must survive."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from ble_helpers import SimBench, assert_file_matches_sent, lost_runs, read_run, wait_for_rows

GI_ADDR = "C0:FF:EE:00:10:01"
pytestmark = pytest.mark.e2e  # every test here runs the real CLI in a process


# ------------------------------------------------------------------------------------------- scan


@pytest.mark.sim(devices="gaitimpact,polar,other")
def test_scan_lists_supported_sensors_with_profile_and_skips_others(sim_bench: SimBench) -> None:
    res = sim_bench.run("scan", "--timeout", "1")
    assert res.returncode == 0, res.stderr
    assert "GI-Sensor" in res.stdout and "gaitimpact" in res.stdout
    assert "Polar H10" in res.stdout and "polar" in res.stdout
    assert "HR-Strap" not in res.stdout


@pytest.mark.sim(devices="other")
def test_scan_without_supported_sensor_says_so_and_exits_1(sim_bench: SimBench) -> None:
    res = sim_bench.run("scan", "--timeout", "1")
    assert res.returncode == 1
    assert "no sensor" in res.stdout


# ------------------------------------------------------------------------------------------ record


@pytest.mark.sim(devices="gaitimpact", fs_hz="1000", placement="shoe")
def test_record_writes_every_received_sample_and_live_agrees_with_offline(sim_bench: SimBench) -> None:
    from gaitimpact.analysis.service import analyze_path

    csv = sim_bench.tmp / "run.csv"
    res = sim_bench.run(
        "record",
        "--device",
        "GI-Sensor",
        "--out",
        str(csv),
        "--duration",
        "9",
        "--range",
        "16",
        "--placement",
        "shoe",
        "--surface",
        "track",
        "--shoe",
        "Pegasus",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    side = assert_file_matches_sent(sim_bench, csv, "gaitimpact", 16.0, duration_s=9)
    assert side["device"]["profile"] == "gaitimpact" and side["device"]["firmware"] == "1.2.0"
    assert side["fs_hz"] == 1000.0 and side["range_g"] == 16.0 and side["surface"] == "track"
    assert side["shoe"]["name"] == "Pegasus" and side["start_utc"]
    assert side["packets_lost"] == 0 and side["gaps"] == []
    t, _acc, _ = read_run(csv)
    assert abs(np.median(np.diff(t)) - 1e-3) < 2e-6
    result = analyze_path(csv)
    analysis, summary = result.analysis, result.summary
    live = side["live"]
    assert len(analysis.strikes) >= 8
    assert abs(live["cadence_spm"] - summary["cadence_spm"]) <= 1.0
    assert abs(live["peak_g_median"] / summary["peak_g"]["median"] - 1.0) <= 0.02
    # the closing summary is the `analyze` summary of the file: same tables, same warnings
    from clirun import run_cli

    analyze = run_cli("analyze", str(csv))  # in process: the same tables as `gaitimpact analyze`
    assert "steps (both feet)" in res.stdout and "placement: shoe" not in res.stdout
    assert analyze.stdout.strip() in res.stdout and analyze.stderr.strip() in res.stderr


@pytest.mark.sim(devices="polar")
def test_record_polar_h10_starts_on_its_real_start_answer_and_writes_raw_frames(sim_bench: SimBench) -> None:
    # the simulated H10 answers the start with F0 02 02 00 00 01 (one reserved byte after "more")
    csv = sim_bench.tmp / "polar.csv"
    res = sim_bench.run("record", "--profile", "polar", "--out", str(csv), "--duration", "3", "--quiet")
    assert res.returncode == 0, res.stderr
    side = assert_file_matches_sent(sim_bench, csv, "polar", 8.0, lsb_g=0.5e-3, duration_s=3)  # raw int16 mG frames
    assert side["device"]["profile"] == "polar" and side["device"]["firmware"] == "3.1.1"
    assert side["fs_hz"] == 200.0 and side["range_g"] == 8.0
    t, _acc, _ = read_run(csv)
    assert abs(np.median(np.diff(t)) - 5e-3) < 5e-5


@pytest.mark.sim(devices="polar", polar_model="verity")
def test_record_polar_verity_sense_decodes_g_scaled_delta_frames_with_its_factor(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "verity.csv"
    res = sim_bench.run("record", "--profile", "polar", "--out", str(csv), "--duration", "3", "--quiet")
    assert res.returncode == 0, res.stderr
    side = assert_file_matches_sent(sim_bench, csv, "polar", 8.0, lsb_g=0.000244, duration_s=3)
    assert side["fs_hz"] == 52.0 and side["device"]["model"] == "Verity Sense"


@pytest.mark.sim(devices="gaitimpact")
def test_device_not_found_is_one_line_exit_1_and_leaves_no_file(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "none.csv"
    res = sim_bench.run(
        "record", "--device", "NoSuchSensor", "--out", str(csv), "--scan-timeout", "1", "--quiet"
    )
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "not found" in res.stderr and "Traceback" not in res.stderr
    assert not csv.exists() and not csv.with_suffix(".json").exists()


@pytest.mark.sim(devices="other")
def test_device_without_the_profile_is_one_line_exit_1(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "hr.csv"
    res = sim_bench.run("record", "--device", "HR-Strap", "--out", str(csv), "--scan-timeout", "5", "--quiet")
    assert res.returncode == 1
    assert "speaks no supported profile" in res.stderr and res.stderr.strip().count("\n") == 0
    assert not csv.exists()


@pytest.mark.sim(devices="gaitimpact")
def test_unwritable_path_fails_before_connecting_exit_2(sim_bench: SimBench) -> None:
    res = sim_bench.run("record", "--out", str(sim_bench.tmp / "no" / "such" / "dir" / "x.csv"), "--quiet")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0
    assert sim_bench.control("Stats")[GI_ADDR].get("connects", 0) == 0


@pytest.mark.sim(devices="gaitimpact")
def test_full_disk_fails_before_connecting_exit_2(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "full.csv"
    os.symlink("/dev/full", csv)  # every write: ENOSPC
    res = sim_bench.run("record", "--out", str(csv), "--quiet")
    assert res.returncode == 2 and "disk full" in res.stderr and "Traceback" not in res.stderr
    assert sim_bench.control("Stats")[GI_ADDR].get("connects", 0) == 0


# ------------------------------------------------------------------------------------------ faults


@pytest.mark.sim(devices="gaitimpact", fs_hz="500")
def test_dropped_packets_are_counted_and_recorded_as_gaps(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "drop.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "4", "--range", "16", "--quiet")
    wait_for_rows(csv, 500)
    sim_bench.control("DropNext", GI_ADDR, 3)
    time.sleep(0.5)
    sim_bench.control("DropNext", GI_ADDR, 1)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    side = assert_file_matches_sent(sim_bench, csv, "gaitimpact", 16.0, duration_s=4)
    runs = lost_runs(sim_bench.sent("gaitimpact"), side["samples_received"])
    assert runs == [3, 1]
    assert side["packets_lost"] == 4 and len(side["gaps"]) == 2
    n = sim_bench.sent("gaitimpact")[0]["n"]
    for gap, lost in zip(side["gaps"], runs):
        assert abs((gap["end_s"] - gap["start_s"]) - (lost * n + 1) / 500.0) < 1e-3


@pytest.mark.sim(devices="gaitimpact", fs_hz="500")
def test_corrupted_packet_is_counted_skipped_and_reported(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "bad.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "3", "--quiet")
    wait_for_rows(csv, 300)
    sim_bench.control("CorruptNext", GI_ADDR, 1)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    _t, acc, side = read_run(csv)
    assert side["malformed_packets"] == 1 and side["packets_lost"] == 1 and len(side["gaps"]) == 1
    assert "malformed packet" in out and "1 malformed" in out
    delivered = sum(p["n"] for p in sim_bench.sent("gaitimpact") if p["delivered"])
    n = sim_bench.sent("gaitimpact")[0]["n"]
    assert 3 * 500 - n - 4 * n <= acc.shape[0] <= min(delivered, 3 * 500 + 2) - n  # one packet skipped


@pytest.mark.sim(devices="gaitimpact", fs_hz="500")
def test_connection_lost_and_back_reconnects_and_appends_to_same_file(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "reconnect.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "6", "--range", "16", "--quiet")
    wait_for_rows(csv, 500)
    sim_bench.control("Disconnect", GI_ADDR, 1.0)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    side = assert_file_matches_sent(sim_bench, csv, "gaitimpact", 16.0, duration_s=6)
    assert side["reconnects"] == 1
    assert len(side["gaps"]) == 1 and side["gaps"][0]["reason"] == "disconnected"
    gap = side["gaps"][0]
    assert 0.9 < gap["end_s"] - gap["start_s"] < 6.0
    t, _acc, _ = read_run(csv)
    assert t[-1] > gap["end_s"] + 1.0  # it kept recording after the reconnect
    assert sim_bench.control("Stats")[GI_ADDR].get("connects") == 2


@pytest.mark.sim(devices="gaitimpact", fs_hz="500")
def test_connection_lost_for_good_closes_file_prints_summary_exit_1(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "lost.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--reconnect-timeout", "1", "--quiet")
    wait_for_rows(csv, 600)
    sim_bench.control("Vanish", GI_ADDR)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 1
    # the analysis warnings come first (as `analyze` prints them), then one line for the loss
    assert "lost for good" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert "recorded" in out and "samples" in out
    _t, acc, side = read_run(csv)
    assert side["recording"] == "lost" and side["samples_received"] == acc.shape[0] >= 600


@pytest.mark.sim(devices="gaitimpact", fs_hz="1000", seq_start="65480", clock_start_s="4293.5")
def test_sequence_and_device_clock_wraparound_are_not_losses(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "wrap.csv"
    res = sim_bench.run("record", "--out", str(csv), "--duration", "4", "--range", "16", "--quiet")
    assert res.returncode == 0, res.stderr
    side = assert_file_matches_sent(sim_bench, csv, "gaitimpact", 16.0, duration_s=4)
    seqs = [p["seq"] for p in sim_bench.sent("gaitimpact")]
    assert max(seqs) == 65535 and 0 in seqs  # the 16-bit sequence wrapped during the run
    assert side["packets_lost"] == 0 and side["gaps"] == []
    t, _acc, _ = read_run(csv)
    assert np.max(np.diff(t)) < 1.5e-3  # and the 32-bit microsecond clock wrap (at 4294.97 s) was seamless


@pytest.mark.sim(devices="gaitimpact", fs_hz="1000")
def test_sigkill_leaves_a_readable_file_up_to_the_last_second(sim_bench: SimBench) -> None:
    from gaitimpact.io.load import load_recording

    csv = sim_bench.tmp / "killed.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--quiet")
    wait_for_rows(csv, 2000)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    killed_at = time.time()
    sent = [p for p in sim_bench.sent("gaitimpact") if p["delivered"] and p["host_unix_s"] <= killed_at - 1.0]
    rec = load_recording(csv)
    # everything delivered up to one second before the kill is on disk and readable
    assert rec.n_samples >= sum(p["n"] for p in sent)
    assert rec.meta.device.get("profile") == "gaitimpact"  # the sidecar is there too (atomic rewrites)


@pytest.mark.sim(devices="gaitimpact", fs_hz="500")
def test_ctrl_c_stops_cleanly_closes_the_file_and_prints_the_summary(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "ctrlc.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--quiet")
    wait_for_rows(csv, 1200)  # 2.4 s: long enough for the analysis summary
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    # counters, then the analysis of the file: 2.4 s of a simulated run that starts with 2 s standing
    assert "recorded" in out and "no running found" in out
    _t, acc, side = read_run(csv)
    assert side["recording"] == "interrupted" and side["samples_received"] == acc.shape[0] >= 1200
    assert sim_bench.control("Stats")[GI_ADDR].get("connects") == 1


@pytest.mark.sim(devices="gaitimpact", fs_hz="200")
def test_key_press_on_a_terminal_marks_a_surface_change(sim_bench: SimBench) -> None:
    import pty
    import subprocess

    csv = sim_bench.tmp / "keys.csv"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        sim_bench.cmd("record", "--out", str(csv), "--duration", "4", "--surface", "track", "--quiet"),
        env=sim_bench.env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(slave)
    try:
        wait_for_rows(csv, 300)
        os.write(master, b"4")  # 4 = grass
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
    assert proc.returncode == 0, err
    _t, _acc, side = read_run(csv)
    segs = side["segments"]
    assert [s["surface"] for s in segs] == ["track", "grass"]
    assert segs[0]["start_s"] == 0.0 and 1.0 < segs[1]["start_s"] == segs[0]["end_s"] < 4.0


@pytest.mark.sim(devices="polar", polar_fs_hz="200")
def test_polar_link_loss_reconfigures_pmd_and_records_the_gap_from_timestamps(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "polar_reconnect.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "6", "--quiet")
    wait_for_rows(csv, 300)
    sim_bench.control("Disconnect", "A0:9E:1A:00:00:01", 1.0)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    side = assert_file_matches_sent(sim_bench, csv, "polar", 8.0, lsb_g=0.5e-3, duration_s=6)
    assert side["reconnects"] == 1 and len(side["gaps"]) == 1 and side["packets_lost"] >= 5
    gap = side["gaps"][0]
    lost = sum(p["n"] for p in sim_bench.sent("polar") if not p["delivered"])
    skipped_s = (gap["end_s"] - gap["start_s"]) - 1 / 200.0
    assert skipped_s >= max(lost / 200.0 - 0.01, 0.9)  # the link was down >= 1 s: no sample invented


@pytest.mark.sim(devices="gaitimpact,polar", fs_hz="500", polar_fs_hz="200")
def test_two_sensors_at_once_record_one_aligned_file_each(sim_bench: SimBench) -> None:
    from datetime import datetime

    csv = sim_bench.tmp / "both.csv"
    res = sim_bench.run(
        "record",
        "--device",
        "GI-Sensor",
        "--device",
        "Polar H10 1A2B3C4D",
        "--out",
        str(csv),
        "--duration",
        "4",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    gi_csv, polar_csv = sim_bench.tmp / "both_GI-Sensor.csv", sim_bench.tmp / "both_Polar-H10-1A2B3C4D.csv"
    # no --range: 32 g of the offered 16/32/200 for an unknown placement, and the H10 (a chest strap) 8 g
    gi_side = assert_file_matches_sent(sim_bench, gi_csv, "gaitimpact", 32.0, duration_s=4)
    polar_side = assert_file_matches_sent(sim_bench, polar_csv, "polar", 8.0, lsb_g=0.5e-3, duration_s=4)
    assert gi_side["device"]["profile"] == "gaitimpact" and polar_side["device"]["profile"] == "polar"
    starts = [datetime.fromisoformat(s["start_utc"].replace("Z", "+00:00")) for s in (gi_side, polar_side)]
    assert abs((starts[0] - starts[1]).total_seconds()) < 3.0  # both on the host clock
    assert res.stdout.count("recorded") == 2
    assert gi_side["range_g"] == 32.0 and "range: +-32 g (the smallest offered range of at least 32 g" in res.stdout
    assert polar_side["range_g"] == 8.0 and polar_side["placement"] == "waist" and "placement: waist" in res.stdout
    assert "time base:" in res.stdout


@pytest.mark.sim(devices="polar")
def test_polar_lost_frames_are_found_from_timestamps_without_a_sequence_number(sim_bench: SimBench) -> None:
    csv = sim_bench.tmp / "polar_drop.csv"
    proc = sim_bench.start("record", "--out", str(csv), "--duration", "4", "--quiet")
    wait_for_rows(csv, 200)
    sim_bench.control("DropNext", "A0:9E:1A:00:00:01", 2)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    side = assert_file_matches_sent(sim_bench, csv, "polar", 8.0, lsb_g=0.5e-3, duration_s=4)  # raw mG frames
    assert lost_runs(sim_bench.sent("polar"), side["samples_received"]) == [2]
    assert side["packets_lost"] == 2 and len(side["gaps"]) == 1
    gap = side["gaps"][0]
    assert abs((gap["end_s"] - gap["start_s"]) - (2 * 36 + 1) / 200.0) < 2e-3
