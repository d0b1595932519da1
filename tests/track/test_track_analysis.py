"""A watch track applied to a simulated run: alignment, filled speeds, splits, distance, date; drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from track_helpers import PLAN, WATCH_LEAD_S

from gaitimpact.analysis.service import analyze_path
from gaitimpact.cli.main import main
from gaitimpact.core.drift import impact_drift
from gaitimpact.errors import InputError

SPLIT_KEYS = {"km", "start_s", "end_s", "distance_km", "speed_mps", "pace_s_per_km", "cadence_spm",
              "peak_g_median", "contact_ms_median"}


def test_wall_clock_alignment_fills_every_segment_speed_and_gives_km_splits(run_dir: Path) -> None:
    res = analyze_path(run_dir / "run.csv", track=run_dir / "run.fit")
    track = res.summary["track"]
    assert track["offset_s"] == pytest.approx(WATCH_LEAD_S, abs=1.0)
    assert track["offset_source"].startswith("wall clock")
    assert track["distance_km"] == pytest.approx(1.288, abs=0.002)
    speeds = [seg["speed_mps"] for seg in res.summary["segments"]]
    assert speeds == pytest.approx([v for act, _, v in PLAN if act != "stand"], abs=0.05)
    splits = res.summary["splits"]
    assert [s["km"] for s in splits] == [1, 2] and set(splits[0]) == SPLIT_KEYS
    assert splits[0]["distance_km"] == pytest.approx(1.0, abs=0.01)
    assert splits[1]["distance_km"] == pytest.approx(0.288, abs=0.01)
    for s in splits:
        assert s["pace_s_per_km"] == pytest.approx(1000.0 / s["speed_mps"], rel=0.01)
        assert 150 < s["cadence_spm"] < 200 and s["peak_g_median"] > 1.0
    # the steps table carries the watch's speed per segment, so compare can adjust for it
    table = res.steps_table()
    assert table["speed_mps"].notna().all()


def test_without_a_wall_clock_start_the_offset_must_be_given_and_cadence_refines_it(run_dir: Path) -> None:
    with pytest.raises(InputError, match="--track-offset") as info:
        analyze_path(run_dir / "run_nostart.csv", track=run_dir / "run.gpx")
    assert "no wall-clock start" in str(info.value)
    res = analyze_path(run_dir / "run_nostart.csv", track=run_dir / "run.gpx", track_offset_s=WATCH_LEAD_S + 15)
    track = res.summary["track"]
    assert track["offset_s"] == pytest.approx(WATCH_LEAD_S, abs=1.0)
    assert track["offset_source"] == "given (--track-offset), refined by cadence"
    assert any("watch cadence matches the sensor" in n for n in track["notes"])


def test_a_speed_given_for_the_file_is_not_replaced_by_the_watch(run_dir: Path) -> None:
    res = analyze_path(run_dir / "run.csv", track=run_dir / "run.tcx", overrides={"speed_mps": 3.2})
    assert res.summary["track"]["segments_speed_filled"] == 0
    assert res.steps_table()["speed_mps"].eq(3.2).all()


def test_drift_recovers_a_known_rise_per_10_minutes_at_changing_speed() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 40 * 60, 0.35)
    speed = 3.0 + 0.5 * np.sin(t / 300.0)
    ln = np.log(4.0) + np.log(1.03) * t / 600.0 + 0.2 * (speed - 3.0) + rng.normal(0, 0.08, t.size)
    d = impact_drift(t, np.exp(ln), np.ones(t.size, bool), np.full(t.size, "asphalt"), speed)
    lo, hi = d["pct_per_10min_ci95"]
    assert d["adjusted_for"] == ["speed"] and lo < 3.0 < hi and hi - lo < 2.0
    assert d["pct_per_10min"] == pytest.approx(3.0, abs=1.0) and d["speed_known"]
    blind = impact_drift(t, np.exp(ln), np.ones(t.size, bool), np.full(t.size, "asphalt"), np.full(t.size, np.nan))
    assert not blind["speed_known"] and blind["adjusted_for"] == []  # pace changes then show as drift too
    short = impact_drift(t[:600], np.exp(ln[:600]), np.ones(600, bool), np.full(600, "asphalt"), speed[:600])
    assert short["pct_per_10min"] is None and "need at least" in short["reason"]


def test_analyze_cli_prints_splits_with_pace_and_writes_them_to_json(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.json"
    assert main(["analyze", str(run_dir / "run.csv"), "--track", str(run_dir / "run.fit"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Splits (per watch km)" in text and "wall clock" in text
    assert re.search(r"\b4:4\d\b|\b4:5\d\b", text), text  # km 1 at ~3.5 m/s: pace min:ss per km
    doc = json.loads(out.read_text())
    assert len(doc["splits"]) == 2 and doc["track"]["format"] == "FIT" and "drift" in doc


def test_add_with_a_track_takes_distance_and_date_from_the_watch(run_dir: Path, tmp_path: Path, capsys) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(run_dir / "run_nostart.csv"), "--track", str(run_dir / "run.gpx"),
                 "--track-offset", str(WATCH_LEAD_S), *lib]) == 0
    out = capsys.readouterr().out
    assert "of 2026-11-03 (watch track)" in out and "1.29 km (watch track)" in out
    assert main(["shoe", "list", *lib]) == 0
    assert re.search(r"sim-shoe\s+1\b", capsys.readouterr().out)  # 0 km + the watch's 1.29 km
    html = tmp_path / "r.html"
    assert main(["report", "--html", str(html), *lib]) == 0
    page = html.read_text()
    assert "impact drift % per 10 min" in page
    assert re.search(r"<td[^>]*>[+-]\d+\.\d \([+-]\d+\.\d to [+-]\d+\.\d\)</td>", page)  # 6 min: estimated
    # the session's km splits from the watch: km 1 (1.00 km) and the partial km 2 (0.29 km), pace min:ss
    splits = page[page.index("Splits (per watch km)"):]
    assert re.search(r"<td[^>]*>1</td><td[^>]*>1\.00</td><td[^>]*>\d:\d\d</td>", splits)
    assert re.search(r"<td[^>]*>2</td><td[^>]*>0\.29</td><td[^>]*>\d:\d\d</td>", splits)


def test_add_without_any_date_says_it_used_the_file_time_and_date_sets_it(run_dir: Path, tmp_path: Path,
                                                                        capsys) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["add", str(run_dir / "run_nostart.csv"), *lib]) == 0
    assert "modification time" in capsys.readouterr().out
    assert main(["sessions", *lib]) == 0
    assert re.search(r"\d{4}-\d\d-\d\d~", capsys.readouterr().out)  # the listing marks that date too
    lib2 = ["--library", str(tmp_path / "lib2.sqlite")]
    assert main(["add", str(run_dir / "run_nostart.csv"), "--date", "2026-10-30T06:30", *lib2]) == 0
    assert "of 2026-10-30 (given (--date))" in capsys.readouterr().out


def test_track_count_must_match_the_recordings(run_dir: Path, tmp_path: Path, capsys) -> None:
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    code = main(["add", str(run_dir / "run.csv"), str(run_dir / "run_nostart.csv"), "--track",
                 str(run_dir / "run.gpx"), *lib])
    assert code == 2
    assert "1 --track file(s) for 2 recording(s)" in capsys.readouterr().err
