"""Real PNGs from matplotlib and the self-contained, escaped HTML report."""

from __future__ import annotations

import base64
import io
import re
import struct

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from report_helpers import synthetic_strikes

from gaitimpact.errors import InputError
from gaitimpact.report.compare import compare
from gaitimpact.report.html import render_report
from gaitimpact.report.load import session_load, weekly_load
from gaitimpact.report.plots import compare_png, load_png, save_png, shoes_png
from gaitimpact.report.shoes import shoe_trends

EVIL = '<script>alert("x")</script>&'


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR; asserts the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_real_plot(data: bytes) -> None:
    w, h = png_size(data)
    assert 600 <= w <= 2000 and 300 <= h <= 1200
    assert 10_000 < len(data) < 1_000_000
    pixels = mpimg.imread(io.BytesIO(data), format="png")
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def shoe_strikes() -> pd.DataFrame:
    frames = []
    for k, km in enumerate([0, 150, 300, 450]):
        df = synthetic_strikes({"asphalt": [3.0 + 0.2 * (k % 2)]}, seed=k)
        df["session"] = k + 1
        df["shoe_km"] = float(km)
        df["shoe"] = EVIL
        df["start_utc"] = pd.Timestamp("2026-11-02", tz="UTC") + pd.Timedelta(days=3 * k)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_compare_shoes_and_load_plots_are_valid_pngs(tmp_path) -> None:
    strikes = synthetic_strikes({"concrete": [3.0, 3.4, 3.2], "grass": [3.2, 3.6, 3.4]})
    assert_real_plot(compare_png(compare(strikes, n_rep=200), strikes))
    shoes = shoe_strikes()
    doc = shoe_trends(shoes)
    assert_real_plot(shoes_png(doc))
    sessions = session_load(shoes).reset_index()
    sessions["start_utc"] = shoes.groupby("session")["start_utc"].first().to_numpy()
    sessions["placement"] = "waist"
    data = load_png(weekly_load(shoes), sessions)
    assert_real_plot(data)
    save_png(data, tmp_path / "load.png")
    assert (tmp_path / "load.png").read_bytes() == data


def test_html_report_is_self_contained_and_escapes_user_strings() -> None:
    shoes = shoe_strikes()
    strikes = shoes.copy()
    sessions = pd.DataFrame(
        {
            "session": [1, 2, 3, 4],
            "start_utc": shoes.groupby("session")["start_utc"].first().to_numpy(),
            "source": [EVIL + ".csv"] * 4,
            "placement": "waist",
            "shoe": EVIL,
            "shoe_km": [0, 150, 300, 450],
            "distance_km": 5.0,
            "distance_source": "given",
            "running_s": 42.0,
            "strikes": 120,
            "cadence_spm": 171.0,
            "speed_mps": 3.0,
            "peak_g_median": 4.0,
            "bone_stimulus_g": 13.0,
        }
    )
    shoes_doc = shoe_trends(strikes)
    pngs = {"shoes": shoes_png(shoes_doc), "load": load_png(weekly_load(strikes), sessions)}
    page = render_report(
        library=f"/tmp/{EVIL}.sqlite",
        since=None,
        sessions=sessions,
        weekly=weekly_load(strikes),
        comparison=None,
        compare_error=f"only one surface ({EVIL!r})",
        shoe_report=shoes_doc,
        pngs=pngs,
    )
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2
    for b64 in images:
        png_size(base64.b64decode(b64))
    assert np.all([s in page for s in ("Sessions (4)", "Shoe trends", "Load over time", "Carter")])


def test_plot_to_a_non_png_name_is_a_one_line_input_error_and_writes_nothing(tmp_path):
    # Regression: `compare/shoes --plot out.xyz` silently wrote PNG bytes under a .xyz name (exit 0).
    data = shoes_png(shoe_trends(shoe_strikes()))
    for name in ("out.xyz", "out.pdf", "out"):
        with pytest.raises(InputError, match="ending in .png") as info:
            save_png(data, tmp_path / name)
        assert info.value.field == "--plot" and not (tmp_path / name).exists()
    save_png(data, tmp_path / "OUT.PNG")
    assert (tmp_path / "OUT.PNG").read_bytes() == data
