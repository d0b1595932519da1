"""What the run plot and the HTML report show a person: real matplotlib Figures and PNGs, no mocks."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest

from gaitimpact.analysis.service import analyze_path
from gaitimpact.cli.main import main
from gaitimpact.report.plots import load_figure
from gaitimpact.report.run_plot import CADENCE_MIN_SPAN_SPM, plot_run, run_figure
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

WALK_S = (60.0, 80.0)  # the walk on asphalt between the two runs, s (nominal)


@pytest.fixture(scope="module")
def run_with_walk_and_gaps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Waist run: 60 s asphalt, a 20 s walk on asphalt, 60 s grass; two gaps in the samples."""
    path = tmp_path_factory.mktemp("ux_plot") / "walk_gaps.csv"
    cfg = SimConfig(placement="waist", fs_hz=200.0, seed=4, noise_g=0.02, gaps=[(30.0, 0.5), (100.0, 0.4)],
                    segments=[SimSegment(60.0, "run", 3.3, "asphalt"), SimSegment(20.0, "walk", 1.4, "asphalt"),
                              SimSegment(60.0, "run", 3.3, "grass")])
    write_simulation(simulate(cfg), path)
    return path


@pytest.fixture(scope="module")
def figure(run_with_walk_and_gaps):
    result = analyze_path(run_with_walk_and_gaps, chunked=False)
    fig = run_figure(result.recording, result.analysis)
    fig.canvas.draw()
    return fig, result


def test_surfaces_are_labelled_over_running_only_not_over_the_walk(figure):
    fig, _ = figure
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "surface"]
    assert [t.get_text() for t in labels] == ["asphalt", "grass"]
    walk_min = (WALK_S[0] / 60, WALK_S[1] / 60)
    assert not any(walk_min[0] + 0.02 < t.get_position()[0] < walk_min[1] - 0.02 for t in labels)


def test_legends_sit_outside_their_panel_and_cover_no_strike(figure):
    fig, result = figure
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent()
        assert box.x0 >= ax.get_window_extent().x1, ax.get_title()
    ax = fig.axes[0]
    s = result.analysis.strikes
    points = ax.transData.transform(list(zip(s.time_s / 60, s.peak_g)))
    box = ax.get_legend().get_window_extent()
    assert not any(box.contains(x, y) for x, y in points)


def test_cadence_axis_spans_at_least_20_steps_per_minute(figure):
    fig, _ = figure
    lo, hi = fig.axes[1].get_ylim()
    assert hi - lo >= CADENCE_MIN_SPAN_SPM - 1e-9


def test_gaps_are_shaded_where_they_are(figure):
    fig, result = figure
    gaps = result.recording.gaps
    assert len(gaps) == 2
    for ax in fig.axes[:2]:
        spans = [p for p in ax.patches if p.get_gid() == "gap"]
        assert len(spans) == len(gaps)
        assert len([ln for ln in ax.lines if ln.get_gid() == "gap_line"]) == len(gaps)  # visible at any zoom
        for p, g in zip(spans, gaps):
            x0 = p.get_transform().transform(p.get_path().vertices)[:, 0].min()
            assert abs(ax.transData.inverted().transform((x0, 0))[0] - g.start_s / 60) < 1e-3
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels.count("gap in the data") == 1


def test_run_plot_writes_a_real_png(figure, run_with_walk_and_gaps, tmp_path):
    _, result = figure
    out = plot_run(result.recording, result.analysis, tmp_path / "run.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(io.BytesIO(data), format="png")
    assert pixels.shape[1] > 1000 and pixels[..., :3].std() > 0.05


def test_load_plot_explains_its_orange_dots_in_a_legend():
    weekly = pd.DataFrame({"week": [pd.Timestamp("2026-11-23", tz="UTC")], "placement": ["waist"], "sessions": [3],
                           "strikes": [694], "cumulative_impact_g": [2490.0], "bone_stimulus_g": [18.6]})
    sessions = pd.DataFrame({"session": [1, 2, 3], "placement": ["waist"] * 3, "bone_stimulus_g": [13.9, 14.1, 14.4],
                             "start_utc": pd.to_datetime(["2026-11-29"] * 3, utc=True)})
    fig = load_figure(weekly, sessions)
    legend = fig.axes[0].get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert "strikes per week (right axis)" in texts and "bone stimulus (g)" in texts


def test_html_report_marks_simulated_sessions_and_names_the_library_by_file_name(run_with_walk_and_gaps, tmp_path,
                                                                                capsys):
    lib = tmp_path / "deep" / "folder" / "library.sqlite"
    assert main(["add", str(run_with_walk_and_gaps), "--library", str(lib)]) == 0
    out = tmp_path / "report.html"
    assert main(["report", "--html", str(out), "--library", str(lib)]) == 0
    capsys.readouterr()
    page = out.read_text()
    assert 'walk_gaps.csv <span class="sim">simulated</span>' in page
    assert "1 of 1 sessions are <b>simulated</b>" in page
    assert "library library.sqlite" in page and str(lib.parent) not in page
