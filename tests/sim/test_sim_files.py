"""Simulator output files and the `gaitimpact simulate` command, through real files and the command line."""

from __future__ import annotations

import json

import numpy as np
from clirun import run_cli

from gaitimpact.cli.main import main
from gaitimpact.io.load import load_recording
from gaitimpact.io.sidecar import read_sidecar
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


def test_write_simulation_round_trips_through_the_project_reader(tmp_path):
    segs = [SimSegment(20, "run", 3.2, "asphalt"), SimSegment(8, "walk"), SimSegment(20, "run", 3.8, "grass")]
    res = simulate(SimConfig(placement="waist", fs_hz=200, segments=segs, shoe_km=250, gaps=[(10.0, 0.3)],
                             noise_g=0.01, range_g=16, seed=3))
    csv, side, truth = write_simulation(res, tmp_path / "run.csv")
    assert csv.read_text().splitlines()[0] == "time_s,ax_g,ay_g,az_g"
    assert side.name == "run.json" and truth.name == "run.truth.json"
    meta = read_sidecar(side)
    assert meta.simulated and meta.placement == "waist" and meta.shoe_km == 250 and meta.range_g == 16
    assert [s.surface for s in meta.segments] == ["asphalt", "asphalt", "grass"]
    assert meta.segments[2].speed_mps == 3.8
    rec = load_recording(csv)
    assert rec.n_samples == res.recording.n_samples
    assert np.allclose(rec.acc_g, res.recording.acc_g, atol=1e-5)
    assert np.allclose(rec.time_s, res.recording.time_s, atol=1e-6)
    assert any(abs(g.start_s - res.recording.gaps[0].start_s) < 1e-5 for g in rec.gaps)
    tj = json.loads(truth.read_text())
    assert tj["simulated"] is True
    assert len(tj["strikes"]["ic_time_s"]) == len(res.truth.ic_time_s)
    assert np.allclose(tj["strikes"]["peak_g"], res.truth.peak_g)
    assert tj["cadence_spm"] == res.truth.cadence_spm
    assert tj["factors"]["surface"]["grass"] == res.truth.surface_factor("grass")
    assert set(tj["strikes"]["surface"]) == {"asphalt", "grass"}


def test_simulate_command_takes_gaps_at_given_times(tmp_path, capsys):
    out = tmp_path / "g.csv"
    assert main(["simulate", "--duration", "20", "--gaps", "5:0.5,12:0.3", "--seed", "2", "--out", str(out)]) == 0
    truth = json.loads((tmp_path / "g.truth.json").read_text())
    starts = [g["start_s"] for g in truth["gaps"]]
    assert len(starts) == 2 and abs(starts[0] - 5.0) < 0.01 and abs(starts[1] - 12.0) < 0.01
    assert "2 gaps" in capsys.readouterr().out


def test_simulate_command_writes_recording_sidecar_and_truth(tmp_path):
    out = tmp_path / "shoe.csv"
    p = run_cli("simulate", "--placement", "shoe", "--rate", "500", "--segments",
             "run:15:3.5:asphalt,stand:3,run:15:4:grass", "--shoe-km", "400", "--mount-error", "10",
             "--jitter", "0.0003", "--gaps", "1", "--range", "16", "--seed", "4", "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "running strikes" in p.stdout
    truth = json.loads((tmp_path / "shoe.truth.json").read_text())
    side = json.loads((tmp_path / "shoe.json").read_text())
    assert truth["placement"] == "shoe" and truth["config"]["seed"] == 4 and truth["mount_error_deg"] == 10
    assert side["simulated"] is True and side["shoe"]["km"] == 400 and side["range_g"] == 16
    rec = load_recording(out)
    assert abs(rec.fs_hz - 500) < 1
    # the same command again gives the same file (seeded); replacing the recording needs --force
    first = out.read_bytes()
    args = ("simulate", "--placement", "shoe", "--rate", "500", "--segments",
            "run:15:3.5:asphalt,stand:3,run:15:4:grass", "--shoe-km", "400", "--mount-error", "10",
            "--jitter", "0.0003", "--gaps", "1", "--range", "16", "--seed", "4", "--out", str(out))
    refused = run_cli(*args, cwd=tmp_path)
    assert refused.returncode == 2 and "--force" in refused.stderr and out.read_bytes() == first
    assert run_cli(*args, "--force", cwd=tmp_path).returncode == 0
    assert out.read_bytes() == first


def test_simulate_command_rejects_bad_input_with_one_line_and_exit_2(tmp_path, capsys):
    p = run_cli("simulate", "--segments", "run:abc", "--out", str(tmp_path / "x.csv"), cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == ["gaitimpact: error: [segments] segment 1 'run:abc': duration and "
                                             "speed must be numbers"]
    for args in (["--segments", "swim:10"], ["--segments", "run:10:12"], ["--out", str(tmp_path / "x.txt")],
                 ["--out", str(tmp_path / "missing" / "x.csv")], ["--rate", "1"], ["--placement", "hip"],
                 ["--gaps", "-1"], ["--gaps", "5:x"]):
        argv = ["simulate", *args]
        if "--out" not in args:
            argv += ["--out", str(tmp_path / "x.csv")]
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_simulate_command_rejects_rate_zero_instead_of_using_the_default(tmp_path, capsys):
    code = main(["simulate", "--rate", "0", "--duration", "10", "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "rate must be 10-10000 Hz, got 0" in err
    assert not (tmp_path / "x.csv").exists()


def test_simulate_command_rejects_an_empty_segment_spec(tmp_path, capsys):
    code = main(["simulate", "--segments", "", "--out", str(tmp_path / "x.csv")])
    assert code == 2 and "empty segment spec" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_simulate_command_rejects_an_unknown_surface_with_the_known_ones(tmp_path, capsys):
    for args in (["--segments", "run:10:3:lava"], ["--duration", "10", "--surface", "lava"]):
        code = main(["simulate", *args, "--out", str(tmp_path / "x.csv")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, args
        assert "unknown surface 'lava'" in err[0] and "asphalt" in err[0] and "treadmill" in err[0]
    assert not (tmp_path / "x.csv").exists()
    assert SimSegment(10, "run", 3.0, "treadmill").surface == "treadmill"
