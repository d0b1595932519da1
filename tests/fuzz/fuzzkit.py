"""Fuzz targets and input strategies shared by tests/fuzz (small profile) and benchmarks/fuzz.py (long run).

Each target takes one generated input and returns None when the outcome is acceptable, else a one-line
description of the failure (exception type, message, file:line). Acceptable outcomes:
- a valid result (a Recording that honours its contract, a decoded Block with finite samples, Metadata), or
- the project's own error with a clear one-line message: `GaitImpactError` subclasses for files and
  sidecars; for BLE packets the profiles' documented `PacketError` (counted and skipped by the recorder).
Anything else (another exception, a hang past HANG_S, an invalid result) is a failure.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import struct
import tempfile
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gaitimpact.errors import GaitImpactError

HANG_S = 8.0
"""An input that takes longer than this (s) to be accepted or rejected counts as a hang."""


class Hang(Exception):
    """Raised by the alarm when a target runs past HANG_S."""


@contextmanager
def time_limit(seconds: float = HANG_S) -> Iterator[None]:
    """Raise Hang inside the block after `seconds` of wall time (SIGALRM; main thread only)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no result after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def where(exc: BaseException) -> str:
    """file:line of the innermost project frame of an exception (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "gaitimpact" in f.filename and "/tests/" not in f.filename]
    f = (ours or frames)[-1] if frames else None
    if f is None:
        return "?"
    name = f.filename.split("/gaitimpact/", 1)[-1]
    return f"gaitimpact/{name}:{f.lineno}" if "/gaitimpact/" in f.filename else f"{f.filename}:{f.lineno}"


def describe(exc: BaseException) -> str:
    """One line: exception type, message (shortened) and where it was raised."""
    msg = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {msg} @ {where(exc)}"


def _message_problem(exc: BaseException) -> str | None:
    """A project error must carry a non-empty one-line message."""
    text = str(exc)
    if not text.strip():
        return f"{type(exc).__name__} with an empty message @ {where(exc)}"
    if "\n" in text:
        return f"{type(exc).__name__} with a multi-line message @ {where(exc)}"
    return None


# ---------------------------------------------------------------------------------------- mutations

MUTATIONS = ("flip", "truncate", "insert", "delete", "replace", "junk", "duplicate")


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes], max_ops: int = 4) -> bytes:
    """Bytes from `base` with 0..max_ops mutations: bit flips, truncation, inserted/deleted/replaced bytes,
    appended binary junk, a duplicated slice."""
    data = bytearray(draw(base))
    for op in draw(st.lists(st.sampled_from(MUTATIONS), max_size=max_ops)):
        n = len(data)
        if op == "flip" and n:
            i = draw(st.integers(0, n - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate" and n:
            del data[draw(st.integers(0, n - 1)):]
        elif op == "insert":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and n:
            i = draw(st.integers(0, n - 1))
            del data[i:i + draw(st.integers(1, 16))]
        elif op == "replace" and n:
            i = draw(st.integers(0, n - 1))
            data[i] = draw(st.integers(0, 255))
        elif op == "junk":
            data += draw(st.binary(min_size=1, max_size=64))
        elif op == "duplicate" and n:
            i = draw(st.integers(0, n - 1))
            j = draw(st.integers(i, min(n, i + 64)))
            data[j:j] = data[i:j]
    return bytes(data)


# -------------------------------------------------------------------------------------- CSV inputs

HEADERS = [
    ("time_s", "ax_g", "ay_g", "az_g"),
    ("time_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps"),
    ("t", "ax", "ay", "az"),
    ("timestamp", "x", "y", "z"),
    ("time_ms", "acc_x", "acc_y", "acc_z"),
    ("Time (s)", "Acc X (g)", "Acc Y (g)", "Acc Z (g)"),
    ("Phone timestamp", "sensor timestamp [ns]", "X [mg]", "Y [mg]", "Z [mg]"),
    ("Time (s)", "Acceleration x (m/s^2)", "Acceleration y (m/s^2)", "Acceleration z (m/s^2)"),
    ("epoc (ms)", "timestamp (+0000)", "elapsed (s)", "x-axis (g)", "y-axis (g)", "z-axis (g)"),
    ("time", "seconds_elapsed", "z", "y", "x"),
    ("ax_g", "ay_g", "az_g"),
    ("x", "y", "z"),
    ("foo", "bar"),
    (),
]

FLOATS = st.one_of(
    st.floats(-20, 20, allow_nan=False, width=32),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, -1.0, 9.81, 1000.0, 1e308, -1e308, 1e-320, float("nan"), float("inf"),
                     -float("inf")]),
)
TIMES = st.one_of(
    st.floats(0, 1e4, allow_nan=False),
    st.sampled_from([0.0, -1.0, 1.7e9, 1.7e12, 1.7e15, 1.7e18, 1e300, -1e300, float("nan"), float("inf"), 2**63]),
)
CELL_TEXT = st.sampled_from(["", "NaN", "nan", "inf", "-", "abc", "1e999", "0x10", "1,5", "1.5.5", "\"1\"",
                             "2026-05-01T07:30:00Z", "2026-05-01 07:30:00.123", "1.0e-5", " 3 ", "true",
                             "١٢٣", "\x00"])


def _cell(draw: st.DrawFn, value_kind: str, decimal: str, time: bool) -> str:
    if value_kind == "text":
        return draw(CELL_TEXT)
    x = draw(TIMES if time else FLOATS)
    s = repr(float(x)) if draw(st.booleans()) else f"{x:.6g}"
    return s.replace(".", decimal) if decimal != "." else s


@st.composite
def csv_documents(draw: st.DrawFn) -> bytes:
    """A CSV-like document: some header style, separator, decimal mark, line ending, odd values and rows."""
    header = list(draw(st.sampled_from(HEADERS)))
    sep = draw(st.sampled_from([",", ";", "\t", " ", "|", ", "]))
    decimal = draw(st.sampled_from([".", ".", ","]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    ncols = len(header) or draw(st.integers(1, 7))
    nrows = draw(st.integers(0, 60))
    regular = draw(st.booleans())
    rows = []
    t = draw(st.floats(0, 1e3, allow_nan=False))
    step = draw(st.sampled_from([0.01, 0.005, 0.001, 0.0, -0.01, 10.0, 1e-9]))
    for _ in range(nrows):
        t += step
        if regular:
            cells = [repr(t)] + [repr(float(draw(st.floats(-3, 3, allow_nan=False, width=16))))
                                 for _ in range(ncols - 1)]
            if decimal == ",":
                cells = [c.replace(".", ",") for c in cells]
        else:
            width = draw(st.sampled_from([ncols, ncols, ncols - 1, ncols + 1, 1]))
            cells = [_cell(draw, draw(st.sampled_from(["num", "num", "text"])), decimal, i == 0)
                     for i in range(max(0, width))]
        rows.append(sep.join(cells))
    quote = draw(st.booleans())
    head = sep.join(f'"{h}"' if quote else h for h in header)
    lines = ([head] if header else []) + rows
    if draw(st.booleans()):
        lines.insert(0, "# " + draw(st.sampled_from(["exported by app", "device: X", "rate: 100 Hz", ""])))
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    if draw(st.booleans()) and text:
        text = text[: draw(st.integers(0, len(text)))]  # truncated file
    data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


def valid_canonical_csv(n: int = 400, fs_hz: float = 100.0, seed: int = 0) -> bytes:
    """A small valid canonical CSV (seeded) to mutate."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs_hz
    acc = rng.normal(0, 0.5, (n, 3)) + [0, 0, 1]
    lines = ["time_s,ax_g,ay_g,az_g"] + [f"{a:.6f},{b:.5f},{c:.5f},{d:.5f}" for a, (b, c, d) in zip(t, acc)]
    return ("\n".join(lines) + "\n").encode()


@st.composite
def damaged_ends(draw: st.DrawFn) -> bytes:
    """A valid recording whose end is what a crash or a full card leaves: a zero tail, a last line cut
    mid-number, or both; or a line far over the reader's bound (`FUZZ_LINE_BYTES`) somewhere."""
    data = valid_canonical_csv(draw(st.integers(20, 400)), draw(st.sampled_from([50.0, 100.0])),
                               draw(st.integers(0, 3)))
    kind = draw(st.sampled_from(["zero tail", "cut", "cut + zero tail", "long line"]))
    if kind.startswith("cut"):
        data = data[: len(data) - draw(st.integers(1, 30))]
    if kind.endswith("zero tail"):
        data += b"\x00" * draw(st.integers(1, 20_000))
    if kind == "long line":
        lines = data.split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        filler = draw(st.sampled_from([b"7", b"1,", b"x", b"\x00", b";"]))
        lines[i] = filler * (FUZZ_LINE_BYTES // len(filler) + draw(st.integers(1, 5000)))
        data = b"\n".join(lines)
    return data


FUZZ_LINE_BYTES = 4096
"""Line bound the CSV targets run with (small, so over-long lines are cheap to generate)."""


CSV_INPUTS = st.one_of(
    csv_documents(),
    damaged_ends(),
    mutated(st.builds(valid_canonical_csv, st.integers(0, 400), st.sampled_from([50.0, 100.0, 1000.0]),
                      st.integers(0, 3)), max_ops=6),
    st.binary(max_size=2048),
    st.sampled_from([b"", b"\n", b" ", b"\x00" * 64, b"time_s,ax_g,ay_g,az_g\n",
                     b"\xff\xfe" + "t,x\n".encode("utf-16-le")]),
)
"""Everything the CSV target is fed: structured documents, mutated valid files, binary junk, degenerate files."""


def valid_parquet(n: int = 300, fs_hz: float = 100.0, seed: int = 0, gyro: bool = False) -> bytes:
    """A small valid gaitimpact Parquet recording (bytes) to mutate."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    cols = {"time_s": np.arange(n) / fs_hz}
    for name in ("ax_g", "ay_g", "az_g") + (("gx_dps", "gy_dps", "gz_dps") if gyro else ()):
        cols[name] = rng.normal(0, 1, n)
    meta = {b"gaitimpact.sidecar": json.dumps({"placement": "waist", "fs_hz": fs_hz,
                                               "gaps": [{"start_s": 0.5, "end_s": 0.6}]}).encode()}
    sink = io.BytesIO()
    pq.write_table(pa.table(cols).replace_schema_metadata(meta), sink, row_group_size=max(1, n // 3))
    return sink.getvalue()


PARQUET_INPUTS = st.one_of(
    mutated(st.builds(valid_parquet, st.integers(0, 300), st.sampled_from([50.0, 1000.0]), st.integers(0, 3),
                      st.booleans()), max_ops=3),
    st.binary(max_size=512).map(lambda b: b"PAR1" + b + b"PAR1"),
)
"""Parquet recordings with flipped bits, truncation and junk; PAR1-framed binary junk."""


# ------------------------------------------------------------------------------------ sidecar inputs

HOSTILE_NAMES = st.one_of(
    st.sampled_from(["[/]", "[bold]x[/bold]", "[/red]", "[link=file:///etc/passwd]x[/link]", ":smile:",
                     "$x^$", r"$\frac{1}{0}$", "<script>alert(1)</script>", "a\u202eb", "\u2066x\u2069",
                     "\x1b[31mred", "tab\tnew\nline", "\x00", "'\"", "Ω" * 300, "🏃‍♂️", "路面"]),
    st.text(alphabet=st.sampled_from("[]/\\$<>&\"'\u202a\u202e\u2066\u2069\x1b\x00 ab:"), max_size=30),
)
"""Names (shoe, surface, file) written to break terminals, markup, mathtext or HTML."""

HUGE_INTEGERS = st.one_of(st.integers(10**300, 10**320), st.sampled_from([10**400, -10**400, 10**4000, 2**1024]))
"""Integers no float can hold (JSON allows them): every numeric sidecar field must refuse them in one line.
At most 4,300 digits: Python's JSON reader refuses longer literals itself (a file-level case below)."""

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                         st.text(max_size=20), st.sampled_from(["waist", "shoe", "AUTO", "grass", "", "1e3"]),
                         HUGE_INTEGERS, HOSTILE_NAMES)


def _json_containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    """Lists and objects of `inner` JSON values."""
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4))


JSON_VALUES = st.recursive(JSON_SCALARS, _json_containers, max_leaves=12)
SIDECAR_KEYS = ["schema_version", "placement", "surface", "segments", "speed_mps", "shoe", "shoe_km",
                "distance_km", "device", "fs_hz", "range_g", "start_utc", "gaps", "packets_lost",
                "samples_received", "simulated", "notes"]


@st.composite
def span_objects(draw: st.DrawFn) -> dict:
    """A segment/gap-like object with plausible, absurd or wrong-typed fields."""
    num = st.one_of(st.floats(-1e3, 1e4, allow_nan=False), st.sampled_from([math.inf, -math.inf, 1e308, 0]),
                    JSON_SCALARS)
    obj = {"start_s": draw(num), "end_s": draw(num)}
    if draw(st.booleans()):
        obj["surface"] = draw(st.one_of(st.sampled_from(["grass", "asphalt", "", " Track "]), JSON_SCALARS))
    if draw(st.booleans()):
        obj["speed_mps"] = draw(num)
    if draw(st.booleans()):
        obj["reason"] = draw(JSON_SCALARS)
    if draw(st.booleans()):
        del obj[draw(st.sampled_from(["start_s", "end_s"]))]
    return obj


@st.composite
def sidecar_objects(draw: st.DrawFn) -> Any:
    """A sidecar-like JSON value: known keys with right, wrong or absurd values, unknown keys, non-objects."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    obj: dict = {}
    for key in draw(st.lists(st.sampled_from(SIDECAR_KEYS), max_size=8, unique=True)):
        if key in ("segments", "gaps"):
            obj[key] = draw(st.one_of(st.lists(span_objects(), max_size=4), JSON_VALUES))
        elif key == "start_utc":
            obj[key] = draw(st.one_of(st.sampled_from(["2026-05-01T07:30:00Z", "2026-13-01", "0001-01-01T00:00:00",
                                                       "9999-12-31T23:59:59-23:59", "yesterday", ""]),
                                      JSON_SCALARS))
        elif key == "shoe":
            obj[key] = draw(st.one_of(st.fixed_dictionaries({"name": JSON_SCALARS, "km": JSON_SCALARS}),
                                      JSON_SCALARS))
        else:
            obj[key] = draw(JSON_VALUES)
    for key, value in draw(st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=2)).items():
        obj.setdefault(key, value)
    return obj


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


SIDECAR_INPUTS = st.one_of(
    sidecar_objects().map(_dumps),
    mutated(sidecar_objects().map(_dumps), max_ops=3),
    st.sampled_from([b"", b"{", b"[]", b"null", b"{\"placement\": NaN}", b"{\"speed_mps\": Infinity}",
                     b"{\"fs_hz\": 1e400}", b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"{\"a\":" * 5000,
                     b"{\"schema_version\": 1" + b"0" * 5000 + b"}", b"{\"speed_mps\": 1" + b"0" * 400 + b"}"]),
    st.binary(max_size=512),
)


# ------------------------------------------------------------------------------------- BLE packets

@st.composite
def sample_arrays(draw: st.DrawFn, max_n: int = 40) -> np.ndarray:
    n = draw(st.integers(1, max_n))
    vals = draw(st.lists(st.floats(-40, 40, allow_nan=False), min_size=3 * n, max_size=3 * n))
    return np.array(vals, dtype=np.float64).reshape(n, 3)


def _gaitimpact_packets() -> st.SearchStrategy[bytes]:
    from gaitimpact.ble.profiles import gaitimpact_open as gi

    valid = st.builds(lambda seq, t, acc, rng: gi.encode_packet(seq, t, acc, rng),
                      st.integers(0, 2**16 - 1), st.integers(0, 2**32 - 1), sample_arrays(38),
                      st.sampled_from([2.0, 16.0, 32.0, 200.0]))
    header = st.builds(lambda v, seq, t, n, scale, body: struct.pack("<BHIBf", v, seq, t, n, scale) + body,
                       st.integers(0, 255), st.integers(0, 2**16 - 1), st.integers(0, 2**32 - 1),
                       st.integers(0, 255), st.floats(width=32), st.binary(max_size=240))
    return st.one_of(valid, mutated(valid), header, st.binary(max_size=300))


def _polar_packets() -> st.SearchStrategy[bytes]:
    from gaitimpact.ble.profiles import polar_pmd as pp

    valid = st.builds(lambda ts, acc, rng, comp: pp.encode_frame(ts, acc, rng, compressed=comp),
                      st.integers(0, 2**64 - 1), sample_arrays(36), st.sampled_from([2.0, 4.0, 8.0]),
                      st.booleans())
    raw = st.builds(lambda mt, ts, ft, body: bytes((mt,)) + ts.to_bytes(8, "little") + bytes((ft,)) + body,
                    st.sampled_from([2, 2, 0x42, 1, 0xFF]), st.integers(0, 2**64 - 1),
                    st.sampled_from([0, 1, 2, 3, 0x80, 0x81, 0x82, 0xFF]), st.binary(max_size=240))
    return st.one_of(valid, mutated(valid), raw, st.binary(max_size=300))


def gaitimpact_packet_sequences() -> st.SearchStrategy[list[bytes]]:
    """1-6 notifications for one gaitimpact-profile decoder (stateful clock unwrapping)."""
    return st.lists(_gaitimpact_packets(), min_size=1, max_size=6)


def polar_packet_sequences() -> st.SearchStrategy[list[bytes]]:
    """1-6 notifications for one Polar PMD decoder (stateful period estimate)."""
    return st.lists(_polar_packets(), min_size=1, max_size=6)


# ------------------------------------------------------------------------------------------ targets


def warm_imports() -> None:
    """Import the heavy modules the targets load lazily, so import time never counts towards a hang
    (an import that fails is a failure, never a skip)."""
    import importlib

    for name in ("pandas", "pyarrow.parquet", "scipy.signal", "scipy.ndimage", "gaitimpact.io.load",
                 "gaitimpact.io.csv_reader", "gaitimpact.core.pipeline", "gaitimpact.analysis.service"):
        importlib.import_module(name)


@contextmanager
def line_bound(max_line_bytes: int) -> Iterator[None]:
    """Run the readers with a smaller line-length bound (io/textscan.MAX_LINE_BYTES) inside the block."""
    from gaitimpact.io import textscan

    old = textscan.MAX_LINE_BYTES
    textscan.MAX_LINE_BYTES = max_line_bytes
    try:
        yield
    finally:
        textscan.MAX_LINE_BYTES = old


class FileTarget:
    """Writes each input to the same temp file name and hands the path to a reader."""

    def __init__(self, suffix: str) -> None:
        warm_imports()
        self.dir = Path(tempfile.mkdtemp(prefix="gaitimpact-fuzz-"))
        self.path = self.dir / f"run{suffix}"
        weakref.finalize(self, shutil.rmtree, self.dir, True)

    def write(self, data: bytes) -> Path:
        for stale in self.dir.iterdir():
            stale.unlink()
        self.path.write_bytes(data)
        return self.path


def recording_problem(rec: Any) -> str | None:
    """Why a Recording breaks its contract (None when it honours it)."""
    from gaitimpact.recording import Recording

    if not isinstance(rec, Recording):
        return f"returned {type(rec).__name__}, not a Recording"
    t, a = rec.time_s, rec.acc_g
    if t.dtype != np.float64 or a.dtype != np.float64:
        return f"dtypes {t.dtype}/{a.dtype}, expected float64"
    if a.ndim != 2 or a.shape[1] != 3 or t.shape != (a.shape[0],):
        return f"shapes {t.shape} / {a.shape}"
    if t.size == 0:
        return "a Recording with no samples"
    if not (np.isfinite(t).all() and np.isfinite(a).all()):
        return "non-finite time or acceleration in the Recording"
    if t[0] != 0.0:
        return f"time_s[0] = {t[0]!r}, expected 0"
    if t.size > 1 and not (np.diff(t) > 0).all():
        return "time_s not strictly increasing"
    if not (np.isfinite(rec.fs_hz) and rec.fs_hz > 0):
        return f"fs_hz = {rec.fs_hz!r}"
    if rec.gyro_dps is not None and not np.isfinite(rec.gyro_dps).all():
        return "non-finite gyro in the Recording"
    return None


def run_guarded(fn: Callable[[], Any], accept: tuple[type[BaseException], ...]) -> tuple[Any, str | None]:
    """Call fn under the hang alarm: (result, None), (None, None) for an accepted error, or (None, failure)."""
    try:
        with time_limit():
            return fn(), None
    except Hang as exc:
        return None, f"hang: {exc}"
    except accept as exc:
        return None, _message_problem(exc) or ""
    except RecursionError as exc:
        return None, describe(exc)
    except Exception as exc:  # noqa: BLE001 - that is what the fuzzer looks for
        return None, describe(exc)


_CSV_TARGET: FileTarget | None = None


def check_csv(data: bytes, rate_hz: float | None = None) -> str | None:
    """CSV reader (`load_recording` on a .csv): a valid Recording or a GaitImpactError; else the failure."""
    global _CSV_TARGET
    from gaitimpact.io.load import load_recording

    _CSV_TARGET = _CSV_TARGET or FileTarget(".csv")
    path = _CSV_TARGET.write(data)
    with line_bound(FUZZ_LINE_BYTES):
        rec, problem = run_guarded(lambda: load_recording(path, rate_hz=rate_hz), (GaitImpactError,))
    if problem is not None:
        return problem or None
    return recording_problem(rec)


_PARQUET_TARGET: FileTarget | None = None


def check_parquet(data: bytes) -> str | None:
    """Parquet reader (`load_recording` on a .parquet): a valid Recording or a GaitImpactError."""
    global _PARQUET_TARGET
    from gaitimpact.io.load import load_recording

    _PARQUET_TARGET = _PARQUET_TARGET or FileTarget(".parquet")
    path = _PARQUET_TARGET.write(data)
    rec, problem = run_guarded(lambda: load_recording(path), (GaitImpactError,))
    if problem is not None:
        return problem or None
    return recording_problem(rec)


_CHUNKED_TARGET: FileTarget | None = None


def check_chunked(data: bytes) -> str | None:
    """Chunked analysis of a canonical-CSV-like file: a summary or a GaitImpactError; else the failure."""
    global _CHUNKED_TARGET
    from gaitimpact.analysis.service import analyze_path

    _CHUNKED_TARGET = _CHUNKED_TARGET or FileTarget(".csv")
    path = _CHUNKED_TARGET.write(data)
    with line_bound(FUZZ_LINE_BYTES):
        result, problem = run_guarded(lambda: analyze_path(path, chunked=True, chunk_s=3.0, overlap_s=1.0, rows=97),
                                      (GaitImpactError,))
    if problem is not None:
        return problem or None
    summary = result.summary
    if not (isinstance(summary, dict) and summary["n_samples"] >= 2 and summary["duration_s"] is not None):
        return f"implausible summary {str(summary)[:120]}"
    return None


@st.composite
def canonical_with_odd_rows(draw: st.DrawFn) -> bytes:
    """A canonical CSV with a few rows replaced by absurd times or values (1e9 s, -1, NaN, 1e300, text)."""
    lines = valid_canonical_csv(draw(st.integers(50, 1500)), draw(st.sampled_from([50.0, 200.0])),
                                draw(st.integers(0, 3))).decode().splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(1, len(lines) - 1))
        cells = lines[i].split(",")
        col = draw(st.integers(0, 3))
        cells[col] = draw(st.sampled_from(["1e9", "-1", "nan", "1e300", "inf", "abc", "", "1.7e9", "0"]))
        lines[i] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


CHUNKED_INPUTS = st.one_of(
    canonical_with_odd_rows(),
    damaged_ends(),
    mutated(st.builds(valid_canonical_csv, st.integers(0, 1500), st.sampled_from([50.0, 200.0]),
                      st.integers(0, 3)), max_ops=6),
    csv_documents(),
)
"""Canonical CSVs (mutated) and CSV-like documents for the chunked reader."""


_SIDECAR_TARGET: FileTarget | None = None


def check_sidecar(data: bytes) -> str | None:
    """Sidecar parser (`read_sidecar`): Metadata or a GaitImpactError; else the failure."""
    global _SIDECAR_TARGET
    from gaitimpact.io.sidecar import read_sidecar
    from gaitimpact.recording import Metadata

    _SIDECAR_TARGET = _SIDECAR_TARGET or FileTarget(".json")
    path = _SIDECAR_TARGET.write(data)
    meta, problem = run_guarded(lambda: read_sidecar(path), (GaitImpactError,))
    if problem is not None:
        return problem or None
    if not isinstance(meta, Metadata):
        return f"read_sidecar returned {type(meta).__name__}"
    return None


def check_sidecar_object(obj: Any) -> str | None:
    """Sidecar validation (`metadata_from_dict`) on a JSON value: Metadata or a GaitImpactError."""
    from gaitimpact.io.sidecar import metadata_from_dict, write_sidecar

    meta, problem = run_guarded(lambda: metadata_from_dict(obj, "fuzz.json"), (GaitImpactError,))
    if problem is not None:
        return problem or None
    # what was accepted must also be writable back (the recorder and `convert` write sidecars)
    global _SIDECAR_OUT
    _SIDECAR_OUT = _SIDECAR_OUT or FileTarget(".json")
    _, problem = run_guarded(lambda: write_sidecar(_SIDECAR_OUT.path, meta), (GaitImpactError,))
    return problem or None


_SIDECAR_OUT: FileTarget | None = None


def _block_problem(block: Any) -> str | None:
    from gaitimpact.ble.profiles.base import Block

    if not isinstance(block, Block):
        return f"decode returned {type(block).__name__}"
    acc = np.asarray(block.acc_g)
    if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape[0] < 1:
        return f"block acc_g shape {acc.shape}"
    if not np.isfinite(acc).all():
        return "non-finite acceleration in a decoded block"
    if not (math.isfinite(block.t_first_s) and math.isfinite(block.period_s) and block.period_s > 0):
        return f"block time t_first_s={block.t_first_s!r} period_s={block.period_s!r}"
    return None


def _check_packets(decoder: Any, packets: list[bytes]) -> str | None:
    from gaitimpact.ble.profiles.base import PacketError

    for data in packets:
        block, problem = run_guarded(lambda d=data: decoder.decode(d), (PacketError, GaitImpactError))
        if problem is not None:
            if problem:
                return problem
            continue
        problem = _block_problem(block)
        if problem:
            return f"{problem} (input {data[:24].hex()}...)"
    return None


def check_gaitimpact_packets(packets: list[bytes], fs_hz: float = 500.0, range_g: float = 16.0) -> str | None:
    """gaitimpact-profile decoder: every notification gives a valid Block or PacketError."""
    from gaitimpact.ble.profiles.gaitimpact_open import Decoder

    return _check_packets(Decoder(fs_hz, range_g), packets)


def check_polar_packets(packets: list[bytes], fs_hz: float = 200.0, range_g: float = 8.0) -> str | None:
    """Polar PMD decoder: every notification gives a valid Block or PacketError."""
    from gaitimpact.ble.profiles.polar_pmd import Decoder

    return _check_packets(Decoder(fs_hz, range_g), packets)


def check_polar_settings(data: bytes) -> str | None:
    """Polar settings TLV parser: a dict or PacketError."""
    from gaitimpact.ble.profiles.base import PacketError
    from gaitimpact.ble.profiles.polar_pmd import parse_settings

    _, problem = run_guarded(lambda: parse_settings(data), (PacketError,))
    return problem or None


def check_gaitimpact_info(data: bytes) -> str | None:
    """gaitimpact info characteristic parser: a dict or PacketError."""
    from gaitimpact.ble.profiles.base import PacketError
    from gaitimpact.ble.profiles.gaitimpact_open import parse_info

    _, problem = run_guarded(lambda: parse_info(data), (PacketError,))
    return problem or None


# ------------------------------------------------------------------------------------- special files

SPECIAL_KINDS = ("fifo", "symlink loop", "dangling symlink", "folder", "socket", "/dev/zero", "/dev/null",
                 "unreadable", "symlink to fifo")
SPECIAL_INPUTS = st.tuples(st.sampled_from(SPECIAL_KINDS), st.sampled_from([".csv", ".parquet", ".txt"]))
"""What can sit at a recording's path besides a regular file: the readers must refuse it, never block."""


def check_special_file(case: tuple[str, str]) -> str | None:
    """`load_recording` and `analyze_path` on a special file: a one-line GaitImpactError within HANG_S."""
    import os
    import socket

    from gaitimpact.analysis.service import analyze_path
    from gaitimpact.io.load import load_recording

    kind, suffix = case
    folder = Path(tempfile.mkdtemp(prefix="gaitimpact-fuzz-special-"))
    path = folder / f"run{suffix}"
    sock = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink to fifo":
        os.mkfifo(folder / "pipe")
        path.symlink_to(folder / "pipe")
    elif kind == "symlink loop":
        path.symlink_to(path)
    elif kind == "dangling symlink":
        path.symlink_to(folder / "nowhere")
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    elif kind == "unreadable":
        path.write_bytes(valid_canonical_csv(50))
        path.chmod(0)
    else:
        path = Path(kind)
    try:
        for fn in (lambda: load_recording(path), lambda: analyze_path(path)):
            result, problem = run_guarded(fn, (GaitImpactError,))
            if problem:
                return problem
            if result is not None and not (kind == "unreadable" and os.geteuid() == 0):  # root reads mode 0
                return f"{kind}: read as a recording instead of refused"
        return None
    finally:
        if sock is not None:
            sock.close()
        shutil.rmtree(folder, ignore_errors=True)


def check_hostile_name(name: str) -> str | None:
    """A hostile shoe/surface/file name through the terminal tables, the HTML escape and a plot label:
    printed as text (no markup error), no bidi control or raw '<' in HTML, mathtext never parsed."""
    import io

    from rich.console import Console

    from gaitimpact.cli.analyze_cmd import print_summary
    from gaitimpact.cli.tables import Col, print_table
    from gaitimpact.report.html import esc
    from gaitimpact.usertext import BIDI_CONTROLS, plot_text

    summary = _hostile_summary(name)

    def render() -> str:
        buf = io.StringIO()
        con = Console(file=buf, width=100, color_system=None)
        print_summary(summary, console=con, err_console=con)
        print_table(con, name, [Col("shoe", right=False, fold=True), Col("km")], [(name, "3")])
        return buf.getvalue()

    out, problem = run_guarded(render, ())
    if problem is not None:
        return problem or "rendering raised"
    html = esc(name)
    if any(c in html for c in BIDI_CONTROLS) or "<" in html:
        return f"HTML escape let through a control or '<': {html!r}"
    label = plot_text(name)
    if label.replace(r"\$", "").count("$"):
        return f"plot label keeps an unescaped '$': {label!r}"
    return None


def _hostile_summary(name: str) -> dict:
    """A small analyze summary whose file, surface and warning carry `name`."""
    seg = {"surface": name, "speed_mps": None, "start_s": 0.0, "end_s": 10.0, "running_s": 10.0, "strikes": 10,
           "steps": 10, "cadence_spm": 170.0, "peak_g_median": 3.0, "peak_g_p95": 4.0,
           "loading_rate_gps_median": 200.0, "contact_ms_median": None, "flight_ms_median": None,
           "duty_factor_median": None}
    return {"file": name, "status": "ok", "placement": "waist", "placement_source": "auto", "fs_hz": 100.0,
            "duration_s": 10.0, "running_s": 10.0, "steps": 10, "strikes": 10, "cadence_spm": 170.0,
            "peak_g": {"median": 3.0, "p95": 4.0, "clipped": 0},
            "loading_rate_gps": {"median": 200.0, "p95": 250.0},
            "feet": {}, "segments": [seg], "bouts": [], "warnings": [f"surface {name!r} is odd"]}
