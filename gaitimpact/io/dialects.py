"""Column names, units and app export layouts: how a CSV header maps onto time, acceleration and gyro.

Two layers:
- `parse_column(name)`: one header cell -> what it holds (time/acc/gyro, axis, unit), for any of the
  common styles (`ax`, `x`, `acc_x`, `Acc X (g)`, `X [mg]`, `Acceleration x (m/s^2)`, `x-axis (deg/s)`).
- `APP_DIALECTS`: exact layouts of app exports (verified from their public code/docs, see
  tests/fixtures/apps/README.md) that fix what the header alone cannot say (Sensor Logger's bare
  `x,y,z` are m/s^2; Polar's sensor clock counts ns from 2000-01-01; ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from gaitimpact.units import MG_PER_G, STANDARD_GRAVITY_MPS2

# Multiply a value in the unit by this factor to get g / deg/s / s.
ACC_UNITS: dict[str, float] = {"g": 1.0, "mg": 1.0 / MG_PER_G, "m/s^2": 1.0 / STANDARD_GRAVITY_MPS2}
GYRO_UNITS: dict[str, float] = {"deg/s": 1.0, "rad/s": 57.29577951308232}
TIME_UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}

EPOCH_1970 = datetime(1970, 1, 1, tzinfo=timezone.utc)
EPOCH_2000 = datetime(2000, 1, 1, tzinfo=timezone.utc)

_UNIT_ALIASES: dict[str, tuple[str, str]] = {
    # acceleration
    "g": ("acc", "g"),
    "gs": ("acc", "g"),
    "g0": ("acc", "g"),
    "mg": ("acc", "mg"),
    "milli-g": ("acc", "mg"),
    "millig": ("acc", "mg"),
    "m/s^2": ("acc", "m/s^2"),
    "m/s2": ("acc", "m/s^2"),
    "m/s²": ("acc", "m/s^2"),
    "m/s/s": ("acc", "m/s^2"),
    "m*s^-2": ("acc", "m/s^2"),
    "ms^-2": ("acc", "m/s^2"),
    "ms-2": ("acc", "m/s^2"),
    "m s^-2": ("acc", "m/s^2"),
    "m s-2": ("acc", "m/s^2"),
    "mps2": ("acc", "m/s^2"),
    "mps^2": ("acc", "m/s^2"),
    # angular rate
    "deg/s": ("gyro", "deg/s"),
    "°/s": ("gyro", "deg/s"),
    "dps": ("gyro", "deg/s"),
    "degps": ("gyro", "deg/s"),
    "deg s^-1": ("gyro", "deg/s"),
    "rad/s": ("gyro", "rad/s"),
    "rads": ("gyro", "rad/s"),
    "rad s^-1": ("gyro", "rad/s"),
    "radps": ("gyro", "rad/s"),
    # time
    "s": ("time", "s"),
    "sec": ("time", "s"),
    "secs": ("time", "s"),
    "seconds": ("time", "s"),
    "ms": ("time", "ms"),
    "msec": ("time", "ms"),
    "millis": ("time", "ms"),
    "milliseconds": ("time", "ms"),
    "us": ("time", "us"),
    "µs": ("time", "us"),
    "μs": ("time", "us"),
    "usec": ("time", "us"),
    "microseconds": ("time", "us"),
    "ns": ("time", "ns"),
    "nsec": ("time", "ns"),
    "nanoseconds": ("time", "ns"),
}

# Suffix units written without brackets: `ax_g`, `gx_dps`, `time_ms`, `acc_x_mps2`.
_SUFFIX_UNITS = {
    "g": "g", "mg": "mg", "mps2": "m/s^2", "ms2": "m/s^2", "dps": "deg/s", "degps": "deg/s",
    "rads": "rad/s", "radps": "rad/s", "s": "s", "sec": "s", "ms": "ms", "us": "us", "ns": "ns",
}

_TIME_WORDS = {
    "time", "t", "timestamp", "ts", "epoch", "epoc", "elapsed", "seconds", "secs", "sec", "datetime",
    "date", "clock", "unix", "utc", "millis", "micros", "nanos", "tick", "ticks",
}
_SKIP_WORDS = {
    "linear", "user", "gravity", "grav", "abs", "absolute", "norm", "magnitude", "resultant", "total_norm",
    "filtered", "mag", "magn", "magnetic", "magnetometer", "field", "orientation", "euler", "quaternion",
    "pitch", "roll", "yaw", "heading", "temp", "temperature", "pressure", "light", "lux", "ppg", "ecg",
    "hr", "rr", "bpm", "uncalibrated", "bias", "step", "steps",
}
_GYRO_WORDS = {
    "gyr", "gyro", "gyros", "gyroscope", "rotation", "rot", "angular", "omega", "rotationrate", "w",
}
# Units in brackets that mean the column is not acceleration/gyro (magnetic field, temperature, ...).
# "G" (capital) is Gauss in Polar's magnetometer export; "g" (small) is gravity.
_OTHER_UNITS = {"t", "ut", "µt", "μt", "nt", "gauss", "lx", "pa", "hpa", "kpa", "c", "°c", "deg", "rad", "%",
                "number", "v", "mv", "uv", "bpm"}
_ACC_WORDS = {"acc", "accel", "accl", "acceleration", "accelerometer", "accelerations", "a", "specific",
              "force", "totalacceleration", "total"}

_BRACKET_RE = re.compile(r"[\(\[\{]\s*([^\)\]\}]*)\s*[\)\]\}]")
_SPLIT_RE = re.compile(r"[\s_\-\.:/,]+")


@dataclass(frozen=True)
class Column:
    """What one header cell holds: kind "time" | "acc" | "gyro" | "other", axis 0..2, unit or None."""

    kind: str
    axis: int | None = None
    unit: str | None = None


def clean_header_cell(name: str) -> str:
    """A header cell without quotes, surrounding spaces and stray BOM characters."""
    return name.strip().strip("\"'").strip().replace("\ufeff", "")


def _unit_of(text: str) -> tuple[str, str] | None:
    key = text.strip().lower()
    return _UNIT_ALIASES.get(key) or _UNIT_ALIASES.get(key.replace(" ", ""))


def parse_column(name: str) -> Column:
    """Classify a header cell: time/acc/gyro with axis and unit (unit None when the name does not say)."""
    raw = clean_header_cell(name)
    low = raw.lower()
    unit: tuple[str, str] | None = None
    for m in _BRACKET_RE.finditer(raw):
        inside = m.group(1).strip()
        if inside == "G" or inside.lower() in _OTHER_UNITS:
            return Column("other")
        u = _unit_of(inside)
        if u is not None:
            unit = u
    base = _BRACKET_RE.sub(" ", low).strip()
    tokens = [t for t in _SPLIT_RE.split(base) if t]
    if not tokens:
        return Column("other")
    # Unit written as the last token: "ax_g", "gx_dps", "time_ms", "acc x mg".
    if unit is None and len(tokens) >= 2 and tokens[-1] in _SUFFIX_UNITS:
        suffix_unit = _SUFFIX_UNITS[tokens[-1]]
        unit = next(v for v in _UNIT_ALIASES.values() if v[1] == suffix_unit)
        tokens = tokens[:-1]
    unit_kind, unit_name = unit if unit else (None, None)

    if any(t in _SKIP_WORDS for t in tokens) or "linear" in base or "gravity" in base:
        return Column("other")

    words = set(tokens)
    if words & _TIME_WORDS and not (words & (_ACC_WORDS - {"a", "total"}) or words & (_GYRO_WORDS - {"w"})):
        if unit_kind not in (None, "time"):
            return Column("other")
        return Column("time", None, unit_name)
    if unit_kind == "time":
        return Column("time", None, unit_name)

    axis, rest = _axis_of(tokens)
    if axis is None:
        return Column("other")
    rest_words = set(rest)
    if rest_words & _GYRO_WORDS or unit_kind == "gyro":
        kind = "gyro"
    elif rest_words & _ACC_WORDS or unit_kind == "acc" or not rest_words or rest_words <= {"axis"}:
        kind = "acc"
    else:
        return Column("other")
    if kind == "acc" and unit_kind == "gyro":
        return Column("other")
    if kind == "gyro" and unit_kind == "acc":
        return Column("other")
    return Column(kind, axis, unit_name if unit_kind == kind else None)


def _axis_of(tokens: list[str]) -> tuple[int | None, list[str]]:
    """Find the x/y/z axis in tokens: a lone letter, `x-axis`, or glued (`ax`, `accx`, `gyrz`)."""
    axes = {"x": 0, "y": 1, "z": 2}
    for i, tok in enumerate(tokens):
        if tok in axes:
            return axes[tok], tokens[:i] + tokens[i + 1 :]
    for i, tok in enumerate(tokens):
        if tok == "axis" and i > 0 and tokens[i - 1] in axes:
            return axes[tokens[i - 1]], tokens[: i - 1] + tokens[i + 1 :]
    # glued forms: prefix + axis letter ("ax", "accx", "gyroz", "wx") or axis + suffix ("xacc").
    last = tokens[-1]
    if len(last) >= 2 and last[-1] in axes and last[:-1] in (_ACC_WORDS | _GYRO_WORDS | {"g"}):
        prefix = last[:-1]
        prefix = "gyro" if prefix == "g" else prefix
        return axes[last[-1]], tokens[:-1] + [prefix]
    first = tokens[0]
    if len(first) >= 2 and first[0] in axes and first[1:] in (_ACC_WORDS | _GYRO_WORDS):
        return axes[first[0]], [first[1:]] + tokens[1:]
    return None, tokens


# ------------------------------------------------------------------------------------------ apps


@dataclass(frozen=True)
class AppDialect:
    """Exact layout of one app's export: which columns to use and in which units."""

    name: str
    header: tuple[str, ...]
    """Header cells (lower-case, stripped) that identify the export, in order, at the start of the row."""
    time_col: str
    time_unit: str
    time_epoch: datetime | None
    acc_cols: tuple[str, str, str]
    acc_unit: str
    gyro_cols: tuple[str, str, str] | None = None
    gyro_unit: str | None = None
    start_col: str | None = None
    """A text date-time column giving the wall-clock start (local time, no zone) when the time column
    is not an epoch."""
    source: str = ""
    rejects: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(file stem, reason) pairs: files of this layout that must not be read as acceleration incl. gravity."""

    def matches(self, header: list[str]) -> bool:
        """True if `header` (cleaned, lower-case cells) starts with this dialect's header."""
        return tuple(header[: len(self.header)]) == self.header


POLAR_SENSOR_LOGGER = AppDialect(
    name="Polar Sensor Logger (ACC)",
    header=("phone timestamp", "sensor timestamp [ns]", "x [mg]", "y [mg]", "z [mg]"),
    time_col="sensor timestamp [ns]",
    time_unit="ns",
    time_epoch=None,  # ns since 2000-01-01 on the sensor's clock; wall clock taken from the phone column
    acc_cols=("x [mg]", "y [mg]", "z [mg]"),
    acc_unit="mg",
    start_col="phone timestamp",
    source="obss/BIOBSS sample_data Polar_Sense_*_ACC.txt; app FAQ: ns since 1.1.2000",
)

PHYPHOX_ACCELERATION_WITH_G = AppDialect(
    name="phyphox (Acceleration with g)",
    header=("time (s)", "acceleration x (m/s^2)", "acceleration y (m/s^2)", "acceleration z (m/s^2)"),
    time_col="time (s)",
    time_unit="s",
    time_epoch=None,
    acc_cols=("acceleration x (m/s^2)", "acceleration y (m/s^2)", "acceleration z (m/s^2)"),
    acc_unit="m/s^2",
    source="phyphox/phyphox-android DataExport.java + assets/experiments/accelerometer.phyphox",
)

SENSOR_LOGGER_TOTAL_ACCELERATION = AppDialect(
    name="Sensor Logger (TotalAcceleration)",
    header=("time", "seconds_elapsed", "z", "y", "x"),
    time_col="time",
    time_unit="ns",
    time_epoch=EPOCH_1970,
    acc_cols=("x", "y", "z"),
    acc_unit="m/s^2",
    source="tszheichoi/awesome-sensor-logger README.md + UNITS.md",
    rejects=(
        ("accelerometer", "Sensor Logger's Accelerometer.csv has gravity removed; use TotalAcceleration.csv "
         "(Android) or combine Accelerometer + Gravity (iOS)"),
        ("gravity", "Sensor Logger's Gravity.csv holds only the gravity vector; use TotalAcceleration.csv"),
        ("gyroscope", "this is Sensor Logger's Gyroscope.csv (rad/s), not acceleration"),
        ("magnetometer", "this is Sensor Logger's Magnetometer.csv, not acceleration"),
    ),
)

METABASE_ACCELEROMETER = AppDialect(
    name="MbientLab MetaBase (accelerometer)",
    header=("epoch (ms)",),
    time_col="epoch (ms)",
    time_unit="ms",
    time_epoch=EPOCH_1970,
    acc_cols=("x-axis (g)", "y-axis (g)", "z-axis (g)"),
    acc_unit="g",
    source="mbientlab/MetaWear-Android-MetaBase-App DataHandler.java",
)

METABASE_ACCELEROMETER_EPOC = AppDialect(
    name="MbientLab MetaBase (accelerometer, 'epoc' header)",
    header=("epoc (ms)",),
    time_col="epoc (ms)",
    time_unit="ms",
    time_epoch=EPOCH_1970,
    acc_cols=("x-axis (g)", "y-axis (g)", "z-axis (g)"),
    acc_unit="g",
    source="MetaBase exports with the 'epoc (ms),timestamp (+hh:mm)' header",
)

GAITIMPACT_CANONICAL = AppDialect(
    name="gaitimpact canonical CSV",
    header=("time_s", "ax_g", "ay_g", "az_g"),
    time_col="time_s",
    time_unit="s",
    time_epoch=None,
    acc_cols=("ax_g", "ay_g", "az_g"),
    acc_unit="g",
    gyro_cols=("gx_dps", "gy_dps", "gz_dps"),
    gyro_unit="deg/s",
    source="gaitimpact.io.csv_writer",
)

APP_DIALECTS: tuple[AppDialect, ...] = (
    GAITIMPACT_CANONICAL,
    POLAR_SENSOR_LOGGER,
    PHYPHOX_ACCELERATION_WITH_G,
    SENSOR_LOGGER_TOTAL_ACCELERATION,
    METABASE_ACCELEROMETER,
    METABASE_ACCELEROMETER_EPOC,
)


def find_app_dialect(header: list[str]) -> AppDialect | None:
    """The app export whose header `header` (raw cells) starts with, or None."""
    cells = [clean_header_cell(c).lower() for c in header]
    for dialect in APP_DIALECTS:
        if dialect.matches(cells) and all(c in cells for c in dialect.acc_cols):
            return dialect
    return None
