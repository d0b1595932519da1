"""Hostile recording files (issue 15): FIFOs and links, over-long lines, zero tails, cut-off last lines.

Each case is one small generated file and one in-process command or reader call: one line naming the
file (and line), exit 2, never a hang or a traceback; what can be analysed is analysed with a warning.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from errorlines import one_error

from gaitimpact.cli.main import main
from gaitimpact.errors import InputError
from gaitimpact.io import textscan
from gaitimpact.io.load import load_recording
from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation


@pytest.fixture(scope="module")
def run_bytes(tmp_path_factory) -> bytes:
    """A 20 s simulated waist run as canonical CSV bytes (ends with a newline)."""
    res = simulate(SimConfig(placement="waist", fs_hz=100.0, segments=[SimSegment(20.0, "run", 3.0, "asphalt")],
                             seed=2))
    csv, _, _ = write_simulation(res, tmp_path_factory.mktemp("src") / "r.csv")
    return csv.read_bytes()


def _no_pandas_parse(monkeypatch) -> None:
    """Fail the test if the file reaches pandas' parser (the check must come first, in bounded memory)."""
    def refuse(*args, **kwargs):
        raise AssertionError("pandas.read_csv was called on a file that should be refused first")
    monkeypatch.setattr(pd, "read_csv", refuse)


# ---- special files ------------------------------------------------------------------------------------
def _opener_unblocks(fifo: Path) -> threading.Thread:
    """If the reader wrongly opens the FIFO, open its write end after 5 s so the test fails, not hangs."""
    def unblock() -> None:
        import time

        time.sleep(5)
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
    t = threading.Thread(target=unblock, daemon=True)
    t.start()
    return t


def test_fifo_recording_is_refused_without_opening_it(tmp_path, capsys):
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    _opener_unblocks(fifo)
    assert main(["analyze", str(fifo)]) == 2
    one_error(capsys, str(fifo), "named pipe")


def test_batch_with_a_fifo_fails_that_file_only(tmp_path, run_bytes, capsys):
    good = tmp_path / "a.csv"
    good.write_bytes(run_bytes)
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    _opener_unblocks(fifo)
    code = main(["batch", str(good), str(fifo), "--out", str(tmp_path / "out.csv"), "--jobs", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "named pipe" in err and "Traceback" not in err
    assert pd.read_csv(tmp_path / "out.csv")["status"].tolist() == ["ok", "failed"]


def test_symlink_loop_is_reported_as_a_loop(tmp_path, capsys):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    assert main(["analyze", str(loop)]) == 2
    one_error(capsys, "symbolic link loop")


def test_dangling_symlink_is_named_as_such(tmp_path, capsys):
    link = tmp_path / "gone.csv"
    link.symlink_to(tmp_path / "nowhere.csv")
    assert main(["analyze", str(link)]) == 2
    one_error(capsys, "broken symbolic link")


def test_device_as_recording_is_refused(capsys):
    assert main(["analyze", "/dev/zero"]) == 2
    one_error(capsys, "character device")


# ---- over-long lines: refused before parsing, bounded memory ------------------------------------------
def test_a_50_mb_line_is_refused_naming_its_line_before_any_parse(tmp_path, run_bytes, capsys, monkeypatch):
    path = tmp_path / "long.csv"
    head, _, rest = run_bytes.partition(b"\n")
    with open(path, "wb") as fh:
        fh.write(head + b"\n" + rest[:2000].rpartition(b"\n")[0] + b"\n")
        n_lines_before = 1 + rest[:2000].rpartition(b"\n")[0].count(b"\n") + 1
        fh.write(b"7" * (50 << 20) + b"\n")
        fh.write(rest)
    monkeypatch.setattr(textscan, "MAX_LINE_BYTES", 64 * 1024)
    _no_pandas_parse(monkeypatch)
    assert main(["analyze", str(path)]) == 2
    one_error(capsys, f"{path}:{n_lines_before + 1}:", "longer than the 65,536 bytes allowed")


def test_chunked_reader_refuses_a_long_line_too(tmp_path, run_bytes, capsys, monkeypatch):
    path = tmp_path / "long.csv"
    path.write_bytes(run_bytes + b"1," * (1 << 20) + b"\n")
    monkeypatch.setattr(textscan, "MAX_LINE_BYTES", 64 * 1024)
    assert main(["analyze", str(path), "--chunked"]) == 2
    one_error(capsys, str(path), "fields in its first 64 KiB")


def test_line_check_finds_a_line_just_over_the_bound_anywhere(tmp_path):
    """The window scan must not miss a line of limit + 1 bytes, whatever its offset."""
    limit = 1000
    for offset in (0, 1, 499, 500, 501, 999, 1777):
        path = tmp_path / f"x{offset}.csv"
        path.write_bytes(b"a\n" * (offset // 2) + b"b" * (limit + 1) + b"\n" + b"c\n" * 3000)
        with pytest.raises(InputError, match="longer than the 1,000 bytes allowed"):
            textscan.scan_text(path, max_line_bytes=limit)
        ok = tmp_path / f"ok{offset}.csv"
        ok.write_bytes(b"a\n" * (offset // 2) + b"b" * limit + b"\n" + b"c\n" * 3000)
        assert textscan.scan_text(ok, max_line_bytes=limit).whole


@pytest.mark.parametrize("content, needle", [
    (b"a," * 200_000 + b"\n1,2,3\n", "fields"),                  # 200,000 columns
    (b"x" * (20 << 20) + b"\n1,2,3\n", "bytes allowed"),          # a 20 MB header line
    (bytes(range(1, 256)).replace(b"\n", b"") * 4000, "binary"),  # binary data without newlines
])
def test_what_is_not_an_empty_file_is_not_called_empty(tmp_path, capsys, content, needle):
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    assert main(["analyze", str(path)]) == 2
    line = one_error(capsys, str(path), needle)
    assert "file is empty" not in line


# ---- zero tails and cut-off last lines ----------------------------------------------------------------
def test_zero_tail_is_dropped_with_a_warning_and_analysed(tmp_path, run_bytes):
    path = tmp_path / "z.csv"
    path.write_bytes(run_bytes + b"\x00" * 16451)
    rec = load_recording(path)
    ref = load_recording(_write(tmp_path / "ref.csv", run_bytes))
    assert rec.n_samples == ref.n_samples
    assert any("16,451 zero bytes" in str(w) for w in rec.warnings)


def test_zero_tail_after_a_cut_line(tmp_path, run_bytes, capsys):
    path = tmp_path / "z.csv"
    path.write_bytes(run_bytes + b"20.31,-0.0" + b"\x00" * 5000)
    assert main(["analyze", str(path), "--json", str(tmp_path / "z.json")]) == 0
    err = capsys.readouterr().err
    assert "zero bytes" in err and "incomplete last line" in err and "\\x00" not in err


def test_only_zero_bytes_says_so(tmp_path, capsys):
    path = tmp_path / "z.csv"
    path.write_bytes(b"\x00" * 4096)
    assert main(["analyze", str(path)]) == 2
    one_error(capsys, "only zero bytes")


def test_last_line_cut_mid_number_is_dropped_not_kept_as_minus_zero(tmp_path, run_bytes):
    ref = load_recording(_write(tmp_path / "ref.csv", run_bytes))
    cut = load_recording(_write(tmp_path / "cut.csv", run_bytes + b"20.30,-0"))
    assert cut.n_samples == ref.n_samples
    assert np.array_equal(cut.acc_g, ref.acc_g)
    assert any("incomplete last line '20.30,-0'" in str(w) for w in cut.warnings)


def test_complete_last_line_without_newline_is_kept(tmp_path, run_bytes):
    ref = load_recording(_write(tmp_path / "ref.csv", run_bytes))
    last = run_bytes.rstrip(b"\n")
    rec = load_recording(_write(tmp_path / "nonl.csv", last))
    assert rec.n_samples == ref.n_samples


def test_too_short_message_names_the_file(tmp_path, capsys):
    path = tmp_path / "short.csv"
    path.write_bytes(b"time_s,ax_g,ay_g,az_g\n")
    assert main(["analyze", str(path)]) == 2
    one_error(capsys, str(path))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_errors_raised_below_the_file_layer_name_the_file(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({c: pa.array([], pa.float64()) for c in ("time_s", "ax_g", "ay_g", "az_g")}), path)
    for extra in ([], ["--chunked"]):
        assert main(["analyze", str(path), *extra]) == 2
        one_error(capsys, str(path))


def test_chunked_path_also_warns_about_a_zero_tail(tmp_path, run_bytes, capsys):
    path = _write(tmp_path / "z.csv", run_bytes + b"\x00" * 3000)
    assert main(["analyze", str(path), "--chunked", "--json", str(tmp_path / "z.json")]) == 0
    assert "3,000 zero bytes" in capsys.readouterr().err
