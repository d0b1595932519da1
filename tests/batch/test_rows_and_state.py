"""Row flattening rule, recording discovery and the resume journal of `gaitimpact batch`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gaitimpact.batch.discover import find_recordings
from gaitimpact.batch.flatten import flatten_summary, rows_equal
from gaitimpact.batch.runner import read_results, steps_file_name, write_results
from gaitimpact.batch.state import Journal, content_hash, journal_path
from gaitimpact.errors import InputError


def test_nested_keys_join_with_dot_and_lists_become_json_text():
    summary = {"file": "a.csv", "steps": np.int64(300), "cadence_spm": np.float64(171.5),
               "peak_g": {"median": 7.1, "p95": 9.0, "clipped": 0}, "feet": {"L": {"strikes": 3}},
               "segments": [{"surface": "grass", "start_s": 0.0}], "warnings": [], "shoe": None, "extra": {}}
    row = flatten_summary(summary)
    assert row == {"file": "a.csv", "steps": 300, "cadence_spm": 171.5, "peak_g.median": 7.1, "peak_g.p95": 9.0,
                   "peak_g.clipped": 0, "feet.L.strikes": 3,
                   "segments": '[{"surface": "grass", "start_s": 0.0}]', "warnings": "[]", "shoe": None,
                   "extra": "{}"}
    assert type(row["steps"]) is int and json.loads(row["segments"])[0]["surface"] == "grass"


def test_rows_equal_treats_nan_as_equal():
    assert rows_equal({"a": math.nan, "b": 1}, {"a": math.nan, "b": 1})
    assert not rows_equal({"a": 1.0}, {"a": 1.5})
    assert not rows_equal({"a": 1.0}, {"b": 1.0})


def test_discovery_finds_recordings_recursively_and_skips_sidecars_outputs_and_hidden(tmp_path):
    for name in ["b/run2.csv", "a.csv", "b/run2.json", "b/c/x.parquet", "notes.md", ".hidden.csv",
                 "old/a.steps.csv", "res.csv", "res.csv.journal.jsonl", "steps/a.steps.csv", "t.tsv"]:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    (tmp_path / "old_results.csv").write_text("file,status,error,sha256,steps\na.csv,ok,,x,3\n")
    found = find_recordings([tmp_path], exclude=[tmp_path / "res.csv", tmp_path / "steps"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.csv", "b/c/x.parquet", "b/run2.csv", "t.tsv"]
    again = find_recordings([tmp_path / "a.csv", tmp_path, tmp_path / "notes.md"])  # files given: taken as is
    assert again[0] == tmp_path / "a.csv" and again[-1].name == "notes.md" and len(set(again)) == len(again) == 6


def test_discovery_of_a_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        find_recordings([tmp_path / "nope"])


def test_content_hash_follows_recording_sidecar_and_settings(tmp_path):
    rec = tmp_path / "run.csv"
    rec.write_text("time_s,ax_g,ay_g,az_g\n0,0,0,1\n")
    h0 = content_hash(rec)
    assert content_hash(rec) == h0 and len(h0) == 64
    (tmp_path / "run.json").write_text('{"surface": "grass"}')
    h1 = content_hash(rec)
    assert h1 != h0
    assert content_hash(rec, settings={"rate_hz": 100}) != h1
    copy = tmp_path / "sub" / "run.csv"
    copy.parent.mkdir()
    copy.write_bytes(rec.read_bytes())
    assert content_hash(copy) == h0  # same bytes, no sidecar there


def test_journal_keeps_successful_rows_and_ignores_a_torn_last_line(tmp_path):
    path = journal_path(tmp_path / "out.csv")
    assert path.name == "out.csv.journal.jsonl"
    j = Journal(path)
    j.record({"file": "a", "status": "ok", "sha256": "h1", "steps": 3})
    j.record({"file": "b", "status": "failed", "sha256": "h2", "error": "bad"})
    j.close()
    with open(path, "a") as fh:
        fh.write('{"file": "c", "status": "ok", "sha2')  # killed mid-write
    again = Journal(path)
    assert again.lookup("h1")["steps"] == 3
    assert again.lookup("h2") is None and len(again.done) == 1


def test_results_round_trip_as_csv_and_parquet_with_mixed_columns(tmp_path):
    rows = [{"file": "a.csv", "status": "ok", "error": "", "sha256": "x", "steps": 10, "shoe.name": "P"},
            {"file": "b.csv", "status": "failed", "error": "b.csv: too short", "sha256": "y"},
            {"file": "c.csv", "status": "ok", "error": "", "sha256": "z", "steps": 12, "shoe": None}]
    for suffix in (".csv", ".parquet"):
        frame = read_results(write_results(rows, tmp_path / f"r{suffix}"))
        assert list(frame.columns) == ["file", "status", "error", "sha256", "steps", "shoe.name", "shoe"]
        assert list(frame["file"]) == ["a.csv", "b.csv", "c.csv"]
        assert frame["steps"].iloc[2] == 12 and math.isnan(frame["steps"].iloc[1])


def test_steps_table_names_keep_the_folder_structure(tmp_path):
    (tmp_path / "club" / "ann").mkdir(parents=True)
    f = tmp_path / "club" / "ann" / "run.csv"
    assert steps_file_name(f, [tmp_path]) == "club__ann__run.steps.csv"
    assert steps_file_name(f, [f]) == "run.steps.csv"
