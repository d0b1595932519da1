"""Sidecar schema: round trip through real JSON files, accepted spellings, and one-line validation errors."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import pytest

from gaitimpact.errors import GaitImpactError, InputError
from gaitimpact.io.sidecar import load_sidecar, read_sidecar, sidecar_path, write_sidecar
from gaitimpact.recording import Gap, Metadata, SurfaceSegment
from gaitimpact.sidecar_schema import FIELDS, schema_doc


def _write(tmp_path, data) -> str:
    p = tmp_path / "run.json"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(p)


def test_sidecar_path_replaces_csv_suffix_with_json(tmp_path):
    assert sidecar_path(tmp_path / "run.csv") == tmp_path / "run.json"
    assert sidecar_path("a/b.tsv").name == "b.json"


def test_full_metadata_round_trips_through_file(tmp_path):
    meta = Metadata(
        placement="shoe",
        segments=[SurfaceSegment(0.0, 600.0, "asphalt", 3.2), SurfaceSegment(600.0, 1200.0, "grass")],
        speed_mps=3.0,
        shoe="Pegasus 40",
        shoe_km=420.0,
        distance_km=7.5,
        device={"name": "Polar H10", "address": "AA:BB", "profile": "polar_pmd", "firmware": "3.1"},
        range_g=16.0,
        start_utc=datetime(2026, 5, 1, 7, 30, tzinfo=timezone.utc),
        simulated=True,
        notes="easy run",
        extra={"weather": "rain"},
    )
    path = write_sidecar(tmp_path / "run.csv", meta, gaps=[Gap(10.0, 10.5, "ble")], fs_hz=200.0,
                         packets_lost=3, samples_received=240000)
    assert path == tmp_path / "run.json"
    side = load_sidecar(path)
    back = side.meta
    assert back.placement == "shoe"
    assert back.segments == meta.segments
    assert (back.speed_mps, back.shoe, back.shoe_km, back.distance_km) == (3.0, "Pegasus 40", 420.0, 7.5)
    assert back.device == meta.device
    assert back.range_g == 16.0
    assert back.start_utc == meta.start_utc
    assert back.simulated is True and back.notes == "easy run"
    assert side.gaps == [Gap(10.0, 10.5, "ble")] and "gaps" not in back.extra  # gaps live in one place
    assert side.fs_hz == 200.0 and side.schema_version == 1
    assert [w.code for w in side.warnings] == ["sidecar"] and "'weather'" in side.warnings[0].message
    assert back.extra["packets_lost"] == 3 and back.extra["samples_received"] == 240000
    assert back.extra["weather"] == "rain"
    # Writing what was read gives the same file content.
    first = path.read_text()
    write_sidecar(path, back, gaps=side.gaps, fs_hz=side.fs_hz)
    assert json.loads(path.read_text()) == json.loads(first)


def test_single_surface_becomes_whole_run_segment_and_writes_back_as_surface(tmp_path):
    meta = read_sidecar(_write(tmp_path, {"surface": "Track", "speed_mps": 4.0}))
    assert meta.segments == [SurfaceSegment(0.0, math.inf, "track", 4.0)]
    out = write_sidecar(tmp_path / "again.json", meta)
    data = json.loads(out.read_text())
    assert data["surface"] == "track" and "segments" not in data


def test_shoe_as_name_with_shoe_km_is_accepted(tmp_path):
    meta = read_sidecar(_write(tmp_path, {"shoe": "Clifton 9", "shoe_km": 120}))
    assert (meta.shoe, meta.shoe_km) == ("Clifton 9", 120.0)


def test_unknown_keys_are_kept_in_extra(tmp_path):
    meta = read_sidecar(_write(tmp_path, {"placement": "waist", "temperature_c": 12, "tags": ["a"]}))
    assert meta.extra["temperature_c"] == 12 and meta.extra["tags"] == ["a"]


def test_misspelt_keys_warn_with_the_field_they_probably_mean(tmp_path):
    side = load_sidecar(_write(tmp_path, {"surfce": "grass", "sped_mps": 3.0, "weather": "rain"}))
    text = [w.message for w in side.warnings]
    assert [w.code for w in side.warnings] == ["sidecar"] * 3
    assert any("'surfce'" in t and "did you mean 'surface'" in t for t in text)
    assert any("'sped_mps'" in t and "did you mean 'speed_mps'" in t for t in text)
    assert any("'weather'" in t and "did you mean" not in t for t in text)
    assert side.meta.segments == [] and side.meta.speed_mps is None  # a typo is not silently used


def test_side_of_a_one_foot_sensor_is_a_typed_field(tmp_path):
    side = load_sidecar(_write(tmp_path, {"placement": "shoe", "side": "l"}))
    assert side.meta.side == "L" and side.warnings == []


def test_a_newer_schema_version_is_read_with_a_warning(tmp_path):
    side = load_sidecar(_write(tmp_path, {"schema_version": 99, "placement": "shoe"}))
    assert side.meta.placement == "shoe" and side.schema_version == 99
    assert [w.code for w in side.warnings] == ["sidecar"] and "newer" in side.warnings[0].message


@pytest.mark.parametrize("key", ["speed_mps", "shoe_km", "distance_km", "range_g", "fs_hz"])
def test_a_huge_integer_in_a_numeric_field_is_one_input_error(tmp_path, key):
    path = _write(tmp_path, f'{{"{key}": {"9" * 401}}}')
    with pytest.raises(InputError) as info:
        read_sidecar(path)
    assert info.value.field == key and "\n" not in str(info.value) and "401 digits" in str(info.value)


def test_a_5000_digit_schema_version_is_one_input_error(tmp_path):
    with pytest.raises(InputError, match="not valid sidecar JSON") as info:
        read_sidecar(_write(tmp_path, f'{{"schema_version": {"9" * 5000}}}'))
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_the_recorder_and_simulator_keys_are_declared():
    known = {f.name for f in FIELDS}
    assert {"packets_lost", "packets_received", "samples_received", "malformed_packets", "reconnects",
            "clock_drift_ppm", "recording", "live", "simulation", "gaps", "fs_hz"} <= known


def test_readme_sidecar_table_is_the_generated_one():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert schema_doc() in readme


def test_start_utc_with_offset_or_naive_is_utc(tmp_path):
    meta = read_sidecar(_write(tmp_path, {"start_utc": "2026-05-01T09:30:00+02:00"}))
    assert meta.start_utc == datetime(2026, 5, 1, 7, 30, tzinfo=timezone.utc)
    meta = read_sidecar(_write(tmp_path, {"start_utc": "2026-05-01T07:30:00"}))
    assert meta.start_utc == datetime(2026, 5, 1, 7, 30, tzinfo=timezone.utc)


def test_bom_in_sidecar_is_tolerated(tmp_path):
    p = tmp_path / "run.json"
    p.write_bytes(b"\xef\xbb\xbf" + b'{"placement": "shank"}')
    assert read_sidecar(p).placement == "shank"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"placement": "head"}, "placement", "must be one of"),
        ({"speed_mps": "fast"}, "speed_mps", "must be a number"),
        ({"speed_mps": -1}, "speed_mps", "must be > 0"),
        ({"segments": {"start_s": 0}}, "segments", "must be a list"),
        ({"segments": [{"start_s": 0, "surface": "grass"}]}, "segments[0].end_s", "is missing"),
        ({"segments": [{"start_s": 10, "end_s": 5, "surface": "grass"}]}, "segments[0].end_s", ">= start_s"),
        ({"segments": [{"start_s": 0, "end_s": 5, "surface": 3}]}, "segments[0].surface", "must be a string"),
        (
            {"segments": [{"start_s": 0, "end_s": 5, "surface": "a"},
                          {"start_s": 4, "end_s": 9, "surface": "b"}]},
            "segments",
            "overlap",
        ),
        ({"shoe": {"name": "x", "km": "old"}}, "shoe.km", "must be a number"),
        ({"shoe_km": -5}, "shoe_km", ">= 0"),
        ({"device": "polar"}, "device", "must be an object"),
        ({"device": {"address": 12}}, "device.address", "must be a string"),
        ({"fs_hz": 0}, "fs_hz", "> 0"),
        ({"start_utc": "yesterday"}, "start_utc", "ISO 8601"),
        ({"gaps": [{"start_s": 1, "end_s": 0.5}]}, "gaps[0].end_s", ">= start_s"),
        ({"packets_lost": 1.5}, "packets_lost", "whole number"),
        ({"simulated": "yes"}, "simulated", "true or false"),
        ({"notes": 5}, "notes", "must be a string"),
        ({"side": "left"}, "side", "must be"),
    ],
)
def test_bad_field_raises_input_error_naming_file_and_field(tmp_path, data, field, words):
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as info:
        read_sidecar(path)
    msg = str(info.value)
    assert info.value.field == field
    assert msg.startswith(path) and f"[{field}]" in msg and words in msg
    assert "\n" not in msg and info.value.exit_code == 2


def test_invalid_json_names_file_and_line(tmp_path):
    path = _write(tmp_path, '{\n "placement": "waist",\n oops\n}')
    with pytest.raises(InputError) as info:
        read_sidecar(path)
    assert info.value.line == 3 and "not valid JSON" in str(info.value)


def test_top_level_must_be_object(tmp_path):
    with pytest.raises(InputError, match="JSON object"):
        read_sidecar(_write(tmp_path, [1, 2]))


def test_missing_sidecar_is_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_sidecar(tmp_path / "nope.json")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    write_sidecar(tmp_path / "run.json", Metadata(placement="waist"))
    write_sidecar(tmp_path / "run.json", Metadata(placement="shoe"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
    assert read_sidecar(tmp_path / "run.json").placement == "shoe"


def test_write_into_missing_folder_is_input_error(tmp_path):
    with pytest.raises(InputError) as info:
        write_sidecar(tmp_path / "no" / "such" / "run.json", Metadata())
    assert "no/such" in str(info.value)


def test_write_under_a_regular_file_is_input_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(GaitImpactError):
        write_sidecar(tmp_path / "afile" / "run.json", Metadata())


def test_schema_doc_lists_every_field():
    for name in ("placement", "segments", "speed_mps", "shoe", "shoe_km", "distance_km", "device", "fs_hz",
                 "range_g", "start_utc", "gaps", "packets_lost", "simulated", "notes", "schema_version"):
        assert f"`{name}`" in schema_doc()


def test_nan_or_infinity_in_sidecar_is_input_error(tmp_path):
    with pytest.raises(InputError, match="NaN is not a JSON number"):
        read_sidecar(_write(tmp_path, '{"speed_mps": NaN}'))


def test_deeply_nested_sidecar_is_input_error(tmp_path):
    with pytest.raises(InputError, match="nested too deeply"):
        read_sidecar(_write(tmp_path, '{"a":' * 100000 + "1" + "}" * 100000))


def test_non_finite_extra_values_are_written_as_null(tmp_path):
    meta = Metadata(extra={"calibration": [1.0, float("inf")]})
    out = write_sidecar(tmp_path / "x.json", meta)
    assert json.loads(out.read_text())["calibration"] == [1.0, None]


@pytest.mark.parametrize("field", [f.name for f in FIELDS])
def test_every_declared_field_refuses_a_wrong_type_naming_itself(tmp_path, field):
    with pytest.raises(InputError) as info:
        read_sidecar(_write(tmp_path, {field: [["not", "this"]]}))
    assert (info.value.field or "").startswith(field) and info.value.exit_code == 2


@pytest.mark.parametrize("field", [f.name for f in FIELDS if f.write is not None])
def test_every_written_field_is_in_the_readme_table_with_its_writer(field):
    row = next(line for line in schema_doc().splitlines() if line.startswith(f"| `{field}` |"))
    assert row.count("|") == 5
