"""The Polar PMD decoder and the simulated Polar sensor on the exact bytes real sensors send.

Every byte string here is quoted with its source in firmware_notes/polar_pmd.md: Polar's measurement data
specification (polar-ble-sdk technical_documentation/Polar_Measurement_Data_Specification.pdf, v1.0,
sections 5.1-5.4) and a public capture from a worn H10 (settings, features, start, refused stop, frames).
"""

from __future__ import annotations

import numpy as np
import pytest

from gaitimpact.ble.profiles import polar_pmd as pmd

H10_SETTINGS = "f0 01 02 00 00 00 04 19 00 32 00 64 00 c8 00 01 01 10 00 02 03 02 00 04 00 08 00"
H10_START_OK = "f0 02 02 00 00 01"
STOP_OK = "f0 03 02 00 00"
STOP_WHILE_IDLE = "f0 03 02 06 00"
VERITY_SETTINGS = "f0 01 02 00 00 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"
VERITY_START_OK = "f0 02 02 00 00 05 01 40 da 7f 39"
H10_FRAME_SPEC = "02 ea 54 a2 42 8b 45 52 08 01 45 ff e4 ff b5 03 45 ff e4 ff b8 03"
VERITY_FRAME_REF = "02 64 6c 76 c4 3c c6 7f 07 80 d0 ff 65 01 e4 0f"
H10_FRAME_WORN = (
    "02 a2 19 d9 7e 9b 43 52 08 01 be 03 0e 00 b6 fe cd 03 11 00 b6 fe d8 03 12 00 b6 fe dd 03 0e 00 b9 fe "
    "db 03 05 00 b9 fe d4 03 f4 ff bd fe cc 03 e1 ff c4 fe c5 03 d7 ff c7 fe c0 03 d8 ff d8 fe c3 03 e0 ff "
    "e1 fe ce 03 e6 ff e8 fe d7 03 f0 ff f0 fe d7 03 f8 ff ef fe d4 03 00 00 f4 fe d5 03 06 00 f2 fe da 03 "
    "08 00 f1 fe d9 03 07 00 f1 fe d9 03 03 00 f4 fe d4 03 f8 ff f7 fe d6 03 ec ff f9 fe d7 03 e3 ff f9 fe "
    "d8 03 e0 ff fd fe da 03 e6 ff fd fe dd 03 ed ff ff fe de 03 f2 ff 01 ff dd 03 f2 ff 04 ff dd 03 f3 ff "
    "05 ff dd 03 f5 ff 07 ff dd 03 f8 ff 08 ff de 03 f9 ff 06 ff dd 03 f8 ff 07 ff df 03 f5 ff 02 ff e1 03 "
    "fd ff 0b ff e2 03 01 00 0e ff e1 03 00 00 03 ff dd 03 fb ff 01 ff"
)


def _b(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


def test_h10_settings_answer_decodes_to_its_rates_resolution_and_ranges() -> None:
    resp = pmd.parse_cp_response(_b(H10_SETTINGS))
    assert (resp.opcode, resp.mtype, resp.ok, resp.more) == (1, 2, True, False)
    assert pmd.parse_settings(resp.params) == {0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8]}


def test_h10_start_answer_reserved_byte_is_not_a_setting_and_not_fatal() -> None:
    resp = pmd.parse_cp_response(_b(H10_START_OK))
    assert (resp.opcode, resp.mtype, resp.status, resp.more, resp.params) == (2, 2, 0, False, b"\x01")
    factor, ignored = pmd.start_response_factor(resp.params)
    assert factor is None and ignored == b"\x01"  # kept for the log, the stream starts


def test_verity_sense_start_answer_carries_the_compression_factor() -> None:
    resp = pmd.parse_cp_response(_b(VERITY_START_OK))
    factor, ignored = pmd.start_response_factor(resp.params)
    assert factor == pytest.approx(0.000244, rel=1e-6) and ignored == b""


def test_verity_sense_settings_answer_offers_52_hz_8_g_and_3_channels() -> None:
    settings = pmd.parse_settings(pmd.parse_cp_response(_b(VERITY_SETTINGS)).params)
    assert settings == {0: [52], 1: [16], 2: [8], 4: [3]}


def test_stop_answers_success_and_refusal_while_idle_is_already_in_state() -> None:
    assert pmd.parse_cp_response(_b(STOP_OK)).ok
    refused = pmd.parse_cp_response(_b(STOP_WHILE_IDLE))
    assert (refused.opcode, refused.status, refused.status_name, refused.more) == (3, 6, "already in state", False)


def test_spec_h10_frame_decodes_to_mg_and_nanosecond_timestamp_of_last_sample() -> None:
    block = pmd.Decoder(200, 8).decode(_b(H10_FRAME_SPEC))
    np.testing.assert_allclose(block.acc_g, [[-0.187, -0.028, 0.949], [-0.187, -0.028, 0.952]])
    assert block.t_first_s + block.period_s == pytest.approx(599618164814402794 * 1e-9)


def test_worn_h10_frame_is_36_raw_samples_reading_about_1_g() -> None:
    block = pmd.Decoder(50, 2).decode(_b(H10_FRAME_WORN))
    assert block.n == 36
    magnitude = np.linalg.norm(block.acc_g, axis=1)
    assert np.all(np.abs(magnitude - 1.0) < 0.05)  # a strap at rest feels gravity


def test_verity_sense_reference_sample_times_factor_is_g() -> None:
    block = pmd.Decoder(52, 8, factor=0.000244).decode(_b(VERITY_FRAME_REF))
    np.testing.assert_allclose(block.acc_g[0], np.array([-48, 357, 4068]) * 0.000244, rtol=1e-9)
    assert block.t_first_s == pytest.approx(540368444604181604 * 1e-9)


# ------------------------------------------------------------------ the simulated sensor's answers


def _cp(server: pmd.SimServer, command: str) -> bytes:
    reply = server.on_write(pmd.CP_UUID, _b(command))
    assert len(reply.notify) == 1
    return reply.notify[0][1]


def test_simulated_h10_answers_byte_for_byte_like_the_real_one() -> None:
    h10 = pmd.SimServer(model="H10")
    assert h10.gatt()[0][1][0][2] == _b("0f 05" + " 00" * 15)  # features read value
    assert _cp(h10, "01 02") == _b(H10_SETTINGS)
    assert _cp(h10, "02 02 02 01 08 00 00 01 c8 00 01 01 10 00") == _b(H10_START_OK)  # spec's start
    assert _cp(h10, "02 02 00 01 c8 00 01 01 10 00 02 01 08 00") == _b("f0 02 02 06 00")  # second start
    assert _cp(h10, "03 02") == _b(STOP_OK)
    assert _cp(h10, "03 02") == _b(STOP_WHILE_IDLE)
    assert _cp(h10, "02 02 00 01 f4 01 01 01 10 00 02 01 08 00") == _b("f0 02 02 08 00")  # 500 Hz
    assert _cp(h10, "02 02 00 01 c8 00 01 01 10 00 02 01 10 00") == _b("f0 02 02 09 00")  # 16 g
    assert _cp(h10, "02 02 00 01 c8 00 01 01 10 00 02 01 08 00 04 01 03") == _b("f0 02 02 05 00")  # channels


def test_simulated_verity_sense_answers_like_the_spec_and_sends_g_scaled_delta_frames() -> None:
    vs = pmd.SimServer(model="Verity Sense")
    assert vs.gatt()[0][1][0][2] == _b("0f 6e" + " 00" * 15)
    assert _cp(vs, "01 02") == _b(VERITY_SETTINGS)
    assert _cp(vs, "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03") == _b(VERITY_START_OK)
    acc = np.array([[0.0, 0.1, 1.0]] * 36)
    frame = vs.encode(0.0, acc)
    assert frame[9] == 0x80
    block = pmd.Decoder(52, 8, factor=vs.factor).decode(frame)
    np.testing.assert_allclose(block.acc_g, acc, atol=0.000244)


def test_start_request_names_channels_only_when_the_sensor_offers_them() -> None:
    setup = pmd.StreamSetup(pmd.DATA_UUID, 200.0, 8.0, None, extra={"resolution": 16, "channels": None})
    assert pmd.start_request(setup) == _b("02 02 00 01 c8 00 01 01 10 00 02 01 08 00")
    setup = pmd.StreamSetup(pmd.DATA_UUID, 52.0, 8.0, None, extra={"resolution": 16, "channels": [3]})
    assert pmd.start_request(setup) == _b("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")
