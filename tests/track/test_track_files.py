"""Reading real GPX, TCX and FIT files (written by gpxpy, by hand per the TCX v2 schema, by fit-tool)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from track_helpers import START, WATCH_LEAD_S

from gaitimpact.errors import InputError
from gaitimpact.io.track import read_track
from gaitimpact.sim import cadence_model_spm


@pytest.mark.parametrize("ext", ["gpx", "tcx", "fit"])
def test_each_format_gives_time_distance_and_cadence_in_steps_per_minute(run_dir: Path, ext: str) -> None:
    tr = read_track(run_dir / f"run.{ext}")
    assert tr.format == ext.upper()
    assert tr.start_utc.timestamp() == pytest.approx(START.timestamp() - WATCH_LEAD_S)
    # 120 s at 3.5 + 20 s at 1.4 + 120 s at 4.0 + 120 s at 3.0 m/s (GPX: from positions, so ~1 m off)
    assert tr.distance_m[-1] == pytest.approx(1288.0, abs=2.0)
    assert np.all(np.diff(tr.distance_m) >= 0)
    # watches store strides/min; the reader doubles it: 3.5 m/s running is the model's 176 steps/min
    running = (tr.time_s > WATCH_LEAD_S + 10) & (tr.time_s < WATCH_LEAD_S + 120)
    assert np.nanmedian(tr.cadence_spm[running]) == pytest.approx(cadence_model_spm(3.5), abs=1.0)


def test_unreadable_or_unknown_track_files_are_one_line_input_errors(tmp_path: Path) -> None:
    bad = {"x.gpx": "<gpx><trk>", "x.tcx": "<TrainingCenterDatabase><Trackpoint>", "x.fit": "not a fit file",
           "x.kml": "<kml/>"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError) as info:
            read_track(tmp_path / name)
        assert "\n" not in str(info.value) and name in str(info.value)
    with pytest.raises(InputError, match="track file not found"):
        read_track(tmp_path / "missing.gpx")


def test_a_track_with_one_timed_point_is_refused(tmp_path: Path) -> None:
    (tmp_path / "one.tcx").write_text(
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
        "<Activity><Lap><Track><Trackpoint><Time>2026-11-03T07:00:00Z</Time><DistanceMeters>0</DistanceMeters>"
        "</Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>")
    with pytest.raises(InputError, match="1 timed point"):
        read_track(tmp_path / "one.tcx")
