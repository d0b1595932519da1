"""User text is data everywhere (issue 15): rich markup, bidi overrides, `$` and huge names in shoe,
surface and file names never crash a command, never poison the library, never reach the HTML as controls.

In-process commands (`gaitimpact.cli.main.main`) on a real SQLite library and small simulated runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gaitimpact.cli.main import main
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation
from gaitimpact.usertext import clean, shown

MARKUP = "[/]"
BIDI = "evil\u202eshoe\u2066x\u2069"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """A waist run on two surfaces, one named `[/]`, whose sidecar names the shoe `[/]` too."""
    folder = tmp_path_factory.mktemp("hostile")
    cfg = SimConfig(placement="waist", fs_hz=100.0, shoe=MARKUP, shoe_km=12.0, seed=3,
                    segments=[SimSegment(25.0, "run", 3.0, "asphalt"), SimSegment(25.0, "run", 3.0, "grass")])
    (folder / "a[").mkdir()  # the path "a[/]run.csv" holds a closing markup tag
    csv, side, _ = write_simulation(simulate(cfg), folder / "a[" / "]run.csv")
    doc = json.loads(side.read_text())
    doc["segments"][1]["surface"] = MARKUP  # the simulator knows only real surfaces; a user's sidecar may say anything
    side.write_text(json.dumps(doc))
    return csv


def ok(capsys, argv: list[str]) -> str:
    """Run a command that must succeed; returns stdout (stderr must carry no traceback)."""
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0 and "Traceback" not in out.err, out.err
    return out.out


def test_analyze_prints_markup_names_as_text(hostile_run, capsys):
    out = ok(capsys, ["analyze", str(hostile_run)])
    assert MARKUP in out and "a[/]run.csv" in "".join(out.split())  # a long temp path may wrap in the title


def test_analyze_surface_flag_with_markup_and_dollar_plot(hostile_run, capsys, tmp_path):
    png = tmp_path / "p.png"
    out = ok(capsys, ["analyze", str(hostile_run), "--surface", "$x^$ [red]", "--plot", str(png)])
    assert "$x^$" in out and "[red]" in out and png.stat().st_size > 0


def test_shoe_add_with_markup_then_every_listing_works(capsys, tmp_path):
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    assert MARKUP in ok(capsys, ["shoe", "add", MARKUP, "--km", "5", *lib])
    assert MARKUP in ok(capsys, ["shoe", "list", *lib])
    assert MARKUP in ok(capsys, ["shoe", "retire", MARKUP, *lib])


def test_library_with_markup_shoe_and_surface_from_the_sidecar(hostile_run, capsys, tmp_path):
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    out = ok(capsys, ["add", str(hostile_run), *lib])
    assert f"new shoe '{MARKUP}'" in out
    assert MARKUP in ok(capsys, ["sessions", *lib])
    assert MARKUP in ok(capsys, ["shoes", *lib])
    assert MARKUP in ok(capsys, ["shoe", "list", *lib])
    assert MARKUP in ok(capsys, ["compare", "--min-strikes", "5", *lib])
    html = tmp_path / "r.html"
    ok(capsys, ["report", "--html", str(html), *lib])
    assert "[/]" in html.read_text()


def test_bidi_overrides_are_stripped_from_terminal_and_html(hostile_run, capsys, tmp_path):
    lib = ["--library", str(tmp_path / "lib.sqlite")]
    ok(capsys, ["shoe", "add", BIDI, *lib])
    ok(capsys, ["add", str(hostile_run), "--shoe", BIDI, *lib])
    listing = ok(capsys, ["shoe", "list", *lib])
    assert "evilshoex" in listing and "\u202e" not in listing
    html = tmp_path / "r.html"
    ok(capsys, ["report", "--html", str(html), *lib])
    page = html.read_text()
    assert "evilshoex" in page and not any(c in page for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_huge_surface_name_is_shortened_in_the_table_and_kept_in_json(hostile_run, capsys, tmp_path):
    name = "s" * 200_000
    out_json = tmp_path / "s.json"
    out = ok(capsys, ["analyze", str(hostile_run), "--surface", name, "--json", str(out_json)])
    assert "…" in out and name not in out
    assert json.loads(out_json.read_text())["segments"][0]["surface"] == name


def test_clean_and_shown_keep_text_and_drop_only_controls():
    assert clean("a\u202eb\x1b[31mc\td") == "ab[31mc d"
    assert shown("x" * 100, 10) == "x" * 9 + "…" and shown("[/]") == "[/]"


def test_names_in_scripts_the_font_lacks_give_no_stray_warnings(hostile_run, capsys, tmp_path):
    """matplotlib's missing-glyph and numpy's RuntimeWarnings are not printed to the user."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok(capsys, ["analyze", str(hostile_run), "--surface", "路面 \U0001f3c3", "--plot", str(tmp_path / "p.png")])
    assert [str(w.message) for w in caught] == []
