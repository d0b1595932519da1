"""The shipped sample recordings in data/ are small, labelled simulated, and exactly what the script makes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "data"


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_samples_are_small_and_labelled_simulated():
    mod = _make_samples()
    placements = set()
    for name in mod.SAMPLES:
        csv = DATA / f"{name}.csv"
        assert csv.stat().st_size < 2_000_000
        side = json.loads((DATA / f"{name}.json").read_text())
        assert side["simulated"] is True
        placements.add(side["placement"])
        truth = json.loads((DATA / f"{name}.truth.json").read_text())
        assert truth["simulated"] is True and len(truth["strikes"]["ic_time_s"]) > 50
    assert {"waist", "shoe"} <= placements
    waist = json.loads((DATA / "sim_waist_asphalt_grass_200hz.json").read_text())
    assert {s["surface"] for s in waist["segments"]} >= {"asphalt", "grass"}
    assert "simulated" in (DATA / "README.md").read_text().lower()


def test_samples_are_what_the_script_makes(tmp_path, capsys):
    mod = _make_samples()
    mod.main(tmp_path)
    stale = "is stale: run python data/make_samples.py"
    for name in mod.SAMPLES:
        new = np.loadtxt(tmp_path / f"{name}.csv", delimiter=",", skiprows=1)
        old = np.loadtxt(DATA / f"{name}.csv", delimiter=",", skiprows=1)
        assert new.shape == old.shape and np.allclose(new, old, rtol=0, atol=2e-5), f"data/{name}.csv {stale}"
        tn = json.loads((tmp_path / f"{name}.truth.json").read_text())["strikes"]
        to = json.loads((DATA / f"{name}.truth.json").read_text())["strikes"]
        for key in ("ic_time_s", "peak_g"):
            assert np.allclose(tn[key], to[key], rtol=1e-9), f"data/{name}.truth.json {stale}"
        assert json.loads((tmp_path / f"{name}.json").read_text()).keys() == \
            json.loads((DATA / f"{name}.json").read_text()).keys()
