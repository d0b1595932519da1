"""The plain-CSV fast path (pyarrow straight into arrays) gives exactly what the pandas parser gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gaitimpact.io.csv_reader as csv_reader
from gaitimpact.io import blocks
from gaitimpact.io.load import load_recording


def _rows(n: int) -> list[str]:
    return ["time_s,ax_g,ay_g,az_g,extra"] + [f"{i / 100:.2f},{0.1 * (i % 30):.3f},0.2,0.98,x" for i in range(n)]


def _both_readers(path: Path, monkeypatch: pytest.MonkeyPatch):
    fast = load_recording(path)
    with monkeypatch.context() as m:
        m.setattr(csv_reader, "_read_plain", lambda p, layout: None)  # the general (pandas) parser only
        general = load_recording(path)
    return fast, general


@pytest.mark.parametrize("edit", [
    None,                                   # plain: read by pyarrow
    (1500, "15.00,,0.2,0.98,x"),            # an empty cell: NaN, the row dropped with the same notice
    (2000, ""),                             # a blank line: the pandas parser decides
    (2500, "25.00,zz,0.2,0.98,x"),          # a word in a number column: the same one-line error
])
def test_fast_and_general_reader_give_the_same_recording_or_error(tmp_path, monkeypatch, edit):
    rows = _rows(3000)
    if edit is not None:
        rows[edit[0]] = edit[1]
    path = tmp_path / "run.csv"
    path.write_text("\n".join(rows) + "\n")
    try:
        fast, general = _both_readers(path, monkeypatch)
    except Exception as exc:  # noqa: BLE001 - the general reader must then fail the same way
        with monkeypatch.context() as m:
            m.setattr(csv_reader, "_read_plain", lambda p, layout: None)
            with pytest.raises(type(exc)) as general_exc:
                load_recording(path)
        assert str(general_exc.value) == str(exc)
        return
    assert np.array_equal(fast.time_s, general.time_s) and np.array_equal(fast.acc_g, general.acc_g)
    assert fast.fs_hz == general.fs_hz and fast.gaps == general.gaps
    assert [str(w) for w in fast.warnings] == [str(w) for w in general.warnings]


def test_streamed_blocks_switch_to_pandas_at_the_first_odd_line_and_keep_every_value(tmp_path, monkeypatch):
    monkeypatch.setattr(blocks, "SLAB_BYTES", 1 << 20)  # ~4.6 MB: the odd line is in the fourth slab
    rows = ["time_s,ax_g,ay_g,az_g"] + [f"{i / 1000:.3f},{(i % 97) / 50:.4f},0.1,0.9" for i in range(200_000)]
    rows[150_000] = "149.999,zz,0.1,0.9"  # after the first fast blocks: the rest goes through pandas
    rows[160_000] = ""
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n")
    fast = blocks.iter_canonical_csv(path, rows=10_000)
    got = [np.concatenate(parts) for parts in zip(*[(t, a) for t, a, _ in fast])]
    header = blocks._csv_header(path)
    want = [np.concatenate(parts) for parts in zip(*[(t, a) for t, a, _ in blocks._iter_canonical_pandas(
        path, header, list(blocks.CANONICAL), 10_000)])]
    assert got[0].shape == want[0].shape
    assert np.array_equal(got[0], want[0], equal_nan=True) and np.array_equal(got[1], want[1], equal_nan=True)


@pytest.mark.parametrize("slab", [7, 64, 1000, 1 << 23])  # shorter than a line, than the header, a few lines, all
def test_streamed_slabs_of_any_size_give_every_row_once_in_blocks_of_at_most_rows(tmp_path, monkeypatch, slab):
    monkeypatch.setattr(blocks, "SLAB_BYTES", slab)
    rows = ["time_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"] + [
        f"{i / 500:.3f},{(i % 89) / 40:.4f},-0.1,0.95,{i % 7}.5,0,-1" for i in range(3_001)]
    path = tmp_path / "gyro.csv"
    path.write_text("\n".join(rows))  # no line end after the last row
    want = np.array([[float(x) for x in r.split(",")] for r in rows[1:]])
    asked = iter([True, True])  # all cores for the first two slabs, then the calling thread alone
    for got in (list(blocks.iter_canonical_csv(path, rows=700)),
                list(blocks.iter_canonical_csv(path, rows=700, all_cores=lambda: next(asked, False)))):
        assert max(t.size for t, _, _ in got) <= 700
        assert np.array_equal(np.concatenate([t for t, _, _ in got]), want[:, 0])
        assert np.array_equal(np.concatenate([a for _, a, _ in got]), want[:, 1:4])
        assert np.array_equal(np.concatenate([g for _, _, g in got]), want[:, 4:7])


def test_streamed_header_with_spaces_around_names_is_a_clear_input_error_not_an_arrow_error(tmp_path):
    from gaitimpact.errors import InputError

    f = tmp_path / "spaced.csv"  # the fuzzer's find: pyarrow raised ArrowKeyError for the names " ax_g", ...
    f.write_text("time_s, ax_g, ay_g, az_g\n" + "".join(f"{i / 100:.2f}, 0.0, 0.0, 1.0\n" for i in range(300)))
    with pytest.raises(InputError, match="spaced.csv"):
        list(blocks.iter_canonical_csv(f))
