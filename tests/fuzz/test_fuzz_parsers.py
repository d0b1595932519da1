"""Fuzzed inputs (hypothesis): the CSV reader, the sidecar parser and both BLE packet decoders.

Property: every input gives a valid result (Recording / Metadata / decoded Block) or the project's own
error with a clear one-line message; never another exception, never a hang. Small profile here
(FUZZ_EXAMPLES per target); benchmarks/fuzz.py runs 10,000+ per target.
"""

from __future__ import annotations

import math

import pytest
from fuzzkit import (
    CSV_INPUTS,
    JSON_VALUES,
    SIDECAR_INPUTS,
    check_csv,
    check_gaitimpact_info,
    check_gaitimpact_packets,
    check_polar_packets,
    check_polar_settings,
    check_sidecar,
    check_sidecar_object,
    gaitimpact_packet_sequences,
    module_available,
    polar_packet_sequences,
    sidecar_objects,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = 60
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=4000, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

needs_reader = pytest.mark.skipif(not module_available("gaitimpact.io.load"), reason="CSV reader not landed")
needs_ble = pytest.mark.skipif(not module_available("gaitimpact.ble.profiles.polar_pmd"),
                               reason="BLE profiles not landed")
RATES = st.one_of(st.none(), st.sampled_from([100.0, 1000.0, 0.0, -5.0, math.nan, math.inf, 1e12]))


@needs_reader
@FUZZ
@given(CSV_INPUTS, RATES)
def test_csv_reader_gives_a_valid_recording_or_a_clear_input_error(data, rate_hz):
    assert check_csv(data, rate_hz) is None


@FUZZ
@given(SIDECAR_INPUTS)
def test_sidecar_file_gives_metadata_or_a_clear_input_error(data):
    assert check_sidecar(data) is None


@FUZZ
@given(st.one_of(sidecar_objects(), JSON_VALUES))
def test_sidecar_object_gives_writable_metadata_or_a_clear_input_error(obj):
    assert check_sidecar_object(obj) is None


@needs_ble
@FUZZ
@given(gaitimpact_packet_sequences(), st.sampled_from([100.0, 500.0, 1000.0]))
def test_gaitimpact_profile_decoder_gives_finite_blocks_or_packet_errors(packets, fs_hz):
    assert check_gaitimpact_packets(packets, fs_hz=fs_hz) is None


@needs_ble
@FUZZ
@given(polar_packet_sequences(), st.sampled_from([25.0, 100.0, 200.0]))
def test_polar_pmd_decoder_gives_finite_blocks_or_packet_errors(packets, fs_hz):
    assert check_polar_packets(packets, fs_hz=fs_hz) is None


@needs_ble
@FUZZ
@given(st.binary(max_size=64))
def test_ble_settings_and_info_parsers_give_values_or_packet_errors(data):
    assert check_polar_settings(data) is None
    assert check_gaitimpact_info(data) is None


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
