"""Names and messages a new user meets: "did you mean", shoe names ignoring case, implausible speeds, one
warning per gap, and the hint for a file that is not a recording (sidecar, truth, workbook, folder, library)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import pytest

from gaitimpact.cli.main import main
from gaitimpact.io.wrongfile import OLE2_MAGIC
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


def _sim(path: Path, *, seed: int = 0, gaps: list[tuple[float, float]] | int = 0, shoe: str | None = None) -> Path:
    cfg = SimConfig(placement="waist", fs_hz=200.0, segments=[SimSegment(25.0, "run", 3.2, "asphalt")], seed=seed,
                    noise_g=0.02, gaps=gaps, shoe=shoe)
    write_simulation(simulate(cfg), path)
    return path


@pytest.fixture(scope="module")
def run_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 25 s simulated waist run (CSV + sidecar + truth), no gaps."""
    return _sim(tmp_path_factory.mktemp("ux_names") / "run.csv")


def _one_line_error(err: str, *needles: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


# ---- did you mean, speeds ----------------------------------------------------------------------------
def test_misspelt_surface_gets_did_you_mean(run_csv, capsys):
    assert main(["analyze", str(run_csv), "--surface", "grsas"]) == 0
    err = capsys.readouterr().err
    assert "'grsas'" in err and "did you mean 'grass'?" in err


def test_speed_in_kmh_is_warned_about_in_analyze_add_and_sidecar(run_csv, tmp_path, capsys):
    assert main(["analyze", str(run_csv), "--speed", "12"]) == 0
    err = capsys.readouterr().err.replace("\n", " ")
    assert "speed 12 m/s (43.2 km/h) is outside the usual running range 1.5-7 m/s" in err
    assert main(["add", str(run_csv), "--speed", "12", "--library", str(tmp_path / "lib.sqlite")]) == 0
    assert "43.2 km/h" in capsys.readouterr().out
    # a sidecar segment typed in km/h
    rec = tmp_path / "kmh.csv"
    rec.write_bytes(run_csv.read_bytes())
    side = json.loads(run_csv.with_suffix(".json").read_text())
    side["segments"][0]["speed_mps"] = 11.5
    rec.with_suffix(".json").write_text(json.dumps(side))
    assert main(["analyze", str(rec)]) == 0
    assert "speed 11.5 m/s (41.4 km/h)" in capsys.readouterr().err.replace("\n", " ")


def test_plausible_speeds_and_a_walking_segment_are_not_warned_about(run_csv, capsys):
    assert main(["analyze", str(run_csv), "--speed", "3.4"]) == 0
    assert "running range" not in capsys.readouterr().err
    shipped = Path(__file__).parents[2] / "data" / "sim_waist_asphalt_grass_200hz.csv"  # has a 1.4 m/s walk
    assert main(["analyze", str(shipped)]) == 0
    assert "running range" not in capsys.readouterr().err


# ---- shoe names ---------------------------------------------------------------------------------------
def test_shoe_names_match_ignoring_case_everywhere(run_csv, tmp_path, capsys):
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["shoe", "add", "Pegasus 40", "--km", "50", *lib]) == 0
    assert main(["shoe", "add", "pegasus 40", *lib]) == 2
    _one_line_error(capsys.readouterr().err, "'Pegasus 40' already exists")
    assert main(["add", str(run_csv), "--shoe", "pegasus 40", *lib]) == 0
    assert "shoe Pegasus 40 at 50 km" in capsys.readouterr().out
    # a sidecar naming the shoe in other letters joins the same shoe instead of creating a second one
    other = _sim(tmp_path / "other.csv", seed=3, shoe="PEGASUS 40")
    assert main(["add", str(other), *lib]) == 0
    assert "new shoe" not in capsys.readouterr().out
    assert main(["sessions", "--json", "-", *lib]) == 0
    sessions = json.loads(capsys.readouterr().out)["sessions"]
    assert [s["shoe"] for s in sessions] == ["Pegasus 40", "Pegasus 40"]
    assert main(["shoe", "retire", "PEGASUS 40", *lib]) == 0
    assert "'Pegasus 40' retired" in capsys.readouterr().out


def test_unknown_shoe_gets_did_you_mean(run_csv, tmp_path, capsys):
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert main(["shoe", "add", "Pegasus 40", *lib]) == 0
    capsys.readouterr()
    assert main(["add", str(run_csv), "--shoe", "Pegasus 41", *lib]) == 2
    _one_line_error(capsys.readouterr().err, "unknown shoe 'Pegasus 41'", "did you mean 'Pegasus 40'?")
    assert main(["shoe", "retire", "Pegasis", *lib]) == 2
    _one_line_error(capsys.readouterr().err, "did you mean 'Pegasus 40'?")


# ---- one warning per gap ------------------------------------------------------------------------------
def test_one_gap_is_warned_once(tmp_path, capsys):
    rec = _sim(tmp_path / "gap.csv", seed=1, gaps=[(12.0, 0.4)])
    assert main(["analyze", str(rec)]) == 0
    err = capsys.readouterr().err.replace("\n", " ")
    assert err.count("gap(s)") == 1, err
    assert "1 gap(s) in the timestamps" in err and "near_gap" in err


# ---- files that are not recordings ------------------------------------------------------------------
def test_sidecar_passed_as_recording_names_the_recording(run_csv, capsys):
    assert main(["analyze", str(run_csv.with_suffix(".json"))]) == 2
    _one_line_error(capsys.readouterr().err, "is a sidecar", "analyse run.csv")


def test_truth_file_passed_as_recording_says_it_is_simulator_truth(run_csv, capsys):
    assert main(["analyze", str(run_csv.with_name("run.truth.json"))]) == 2
    _one_line_error(capsys.readouterr().err, "simulator's truth", "analyse run.csv")


def _xlsx(path: Path) -> Path:
    """A workbook with the parts every .xlsx has (ECMA-376 part 1: content types, workbook, one sheet)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet/>')
    return path


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_excel_workbook_renamed_csv_says_export_as_csv(tmp_path, capsys, kind):
    f = tmp_path / "run.csv"
    if kind == "xlsx":
        _xlsx(f)
    else:
        f.write_bytes(OLE2_MAGIC + bytes(504))
    assert main(["analyze", str(f)]) == 2
    _one_line_error(capsys.readouterr().err, "looks like an Excel workbook", "export the sheet as CSV")


def test_folder_given_to_analyze_or_add_points_to_batch(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    _one_line_error(capsys.readouterr().err, "is a folder", "gaitimpact batch")
    assert main(["add", str(tmp_path), "--library", str(tmp_path / "lib.sqlite")]) == 2
    _one_line_error(capsys.readouterr().err, "is a folder", "gaitimpact batch")


def _unwritable_folder() -> Path | None:
    """A folder this process cannot create files in (even as root), or None."""
    for folder in (Path("/sys"), Path("/proc/sys")):
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError:
            return folder
    return None


def test_library_in_a_folder_that_cannot_be_written_says_why(capsys):
    folder = _unwritable_folder()
    if folder is None:
        pytest.skip("no unwritable folder on this machine")
    assert main(["shoe", "add", "X", "--library", str(folder / "lib.sqlite")]) == 2
    _one_line_error(capsys.readouterr().err, "unable to open database file", f"the folder {folder} does not let",
                    "--library")


# ---- a recording without running reads the same in every command ---------------------------------------
def test_walking_only_file_is_one_line_of_the_same_words_in_analyze_add_batch_and_compare(run_csv, tmp_path, capsys):
    walk = tmp_path / "walks" / "walk.csv"
    walk.parent.mkdir()
    write_simulation(simulate(SimConfig(placement="waist", fs_hz=200.0, seed=2, noise_g=0.02,
                                        segments=[SimSegment(30.0, "walk", 1.4, "asphalt")])), walk)
    said = "walk.csv: no running found (standing or walking only): "
    runs = [str(run_csv), str(_sim(tmp_path / "r2.csv", seed=7))]

    outputs = {}
    assert main(["analyze", str(walk)]) == 0
    outputs["analyze"] = capsys.readouterr()
    assert main(["add", str(walk), "--library", str(tmp_path / "lib.sqlite")]) == 0
    outputs["add"] = capsys.readouterr()
    assert main(["batch", str(walk.parent), "--out", str(tmp_path / "rows.csv"), "--no-progress"]) == 0
    outputs["batch"] = capsys.readouterr()
    assert main(["compare", "--by", "session", str(walk), *runs]) == 0
    outputs["compare"] = capsys.readouterr()
    for command, cap in outputs.items():
        lines = [ln for ln in cap.out.splitlines() if "no running" in ln]
        assert len(lines) == 1 and lines[0].endswith(lines[0].split(said)[-1]) and said in lines[0], (command, cap)
        assert "no running" not in cap.err, (command, cap.err)  # said once, not again as a warning
    assert "placement declared" not in outputs["analyze"].err  # a walk says nothing about the sensor
