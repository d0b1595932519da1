"""Fuzzed inputs (hypothesis): the CSV reader, the sidecar parser and both BLE packet decoders.

Property: every input gives a valid result (Recording / Metadata / decoded Block) or the project's own
error with a clear one-line message; never another exception, never a hang. Small profile here
(FUZZ_EXAMPLES per target); benchmarks/fuzz.py runs 10,000+ per target.
"""

from __future__ import annotations

import math

import pytest
from fuzzkit import (
    CHUNKED_INPUTS,
    CSV_INPUTS,
    HOSTILE_NAMES,
    JSON_VALUES,
    PARQUET_INPUTS,
    SIDECAR_INPUTS,
    SPECIAL_KINDS,
    check_chunked,
    check_csv,
    check_gaitimpact_info,
    check_gaitimpact_packets,
    check_hostile_name,
    check_parquet,
    check_polar_packets,
    check_polar_settings,
    check_sidecar,
    check_sidecar_object,
    check_special_file,
    damaged_ends,
    gaitimpact_packet_sequences,
    polar_packet_sequences,
    sidecar_objects,
    warm_imports,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = 60
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=10_000, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

warm_imports()  # import time must not count against the deadline / hang limit

RATES = st.one_of(st.none(), st.sampled_from([100.0, 1000.0, 0.0, -5.0, math.nan, math.inf, 1e12]))


@FUZZ
@given(CSV_INPUTS, RATES)
@example(b"\xef\xbb\xbft;ax;ay;az\rnan;inf;0.005; 3 ", None)  # found by benchmarks/fuzz.py (StopIteration)
@example(b"x,y,z\n" + b"0.1,0.2,0.98\n" * 600, 100.0)
@example(b"time_s,ax_g,ay_g\xef\xbb\xbf,az_g\n" + b"".join(b"%.2f,0.1,0.2,0.98\n" % (i / 100) for i in range(100)),
         None)  # found by benchmarks/fuzz.py: BOM inside a header cell
def test_csv_reader_gives_a_valid_recording_or_a_clear_input_error(data, rate_hz):
    assert check_csv(data, rate_hz) is None


@FUZZ
@given(PARQUET_INPUTS)
def test_parquet_reader_gives_a_valid_recording_or_a_clear_input_error(data):
    assert check_parquet(data) is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 1e300 g reaches the core as inf/NaN (reported)
@FUZZ
@given(CHUNKED_INPUTS)
def test_chunked_reader_gives_a_summary_or_a_clear_input_error(data):
    assert check_chunked(data) is None


@FUZZ
@given(SIDECAR_INPUTS)
@example(b'{"start_utc": "9999-12-31T23:59:59-23:59"}')  # found by benchmarks/fuzz.py
@example(b'{"a":' * 5000)
def test_sidecar_file_gives_metadata_or_a_clear_input_error(data):
    assert check_sidecar(data) is None


@FUZZ
@given(st.one_of(sidecar_objects(), JSON_VALUES))
@example({"placement": "waist", "x": math.inf})  # found by benchmarks/fuzz.py
def test_sidecar_object_gives_writable_metadata_or_a_clear_input_error(obj):
    assert check_sidecar_object(obj) is None


@FUZZ
@given(gaitimpact_packet_sequences(), st.sampled_from([100.0, 500.0, 1000.0]))
def test_gaitimpact_profile_decoder_gives_finite_blocks_or_packet_errors(packets, fs_hz):
    assert check_gaitimpact_packets(packets, fs_hz=fs_hz) is None


@FUZZ
@given(polar_packet_sequences(), st.sampled_from([25.0, 100.0, 200.0]))
def test_polar_pmd_decoder_gives_finite_blocks_or_packet_errors(packets, fs_hz):
    assert check_polar_packets(packets, fs_hz=fs_hz) is None


@FUZZ
@given(st.binary(max_size=64))
def test_ble_settings_and_info_parsers_give_values_or_packet_errors(data):
    assert check_polar_settings(data) is None
    assert check_gaitimpact_info(data) is None


SLOW_TIME_BASE_CSV = b"time_s,ax_g,ay_g,az_g\n" + b"".join(b"%d,0.1,0.2,0.98\n" % (i * 1000) for i in range(40))


def test_csv_with_a_slow_time_base_gives_a_nonzero_rate_or_an_input_error():
    assert check_csv(SLOW_TIME_BASE_CSV) is None


def test_sidecar_object_with_infinity_in_device_is_rejected_or_writable():
    assert check_sidecar_object({"device": {"name": "GI-1", "temp": -math.inf}}) is None


def test_fuzz_harness_reports_foreign_exceptions_and_hangs():
    from fuzzkit import run_guarded

    from gaitimpact.errors import InputError

    def boom():
        raise KeyError("x")

    def bad_message():
        raise InputError("two\nlines")

    _, problem = run_guarded(boom, (InputError,))
    assert problem.startswith("KeyError: 'x' @ ")
    assert "multi-line" in run_guarded(bad_message, (InputError,))[1]
    assert run_guarded(lambda: 3, (InputError,)) == (3, None)


@FUZZ
@given(damaged_ends(), RATES)
def test_zero_tails_cut_lines_and_long_lines_give_a_recording_or_one_line(data, rate_hz):
    assert check_csv(data, rate_hz) is None


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_special_files_are_refused_in_one_line_without_blocking(kind, suffix):
    assert check_special_file((kind, suffix)) is None


@FUZZ
@given(HOSTILE_NAMES)
@example("[/]")
@example("a\u202eb$x^$")
def test_hostile_names_print_as_text_and_stay_escaped(name):
    assert check_hostile_name(name) is None
