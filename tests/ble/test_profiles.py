"""Decoders of both profiles: round trips, Polar delta-compressed frames, truncated and malformed packets."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from gaitimpact.ble.profiles import all_profiles, get_profile, profile_for_services
from gaitimpact.ble.profiles import gaitimpact_open as gi
from gaitimpact.ble.profiles import polar_pmd as pmd
from gaitimpact.ble.profiles.base import PacketError


def _acc(n: int, seed: int = 0, spread_g: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, spread_g, (n, 3))
    a[:, 2] += 1.0
    return a


def test_registry_finds_both_profiles_by_module_scan_and_service() -> None:
    assert set(all_profiles()) >= {"gaitimpact", "polar"}
    assert profile_for_services([gi.SERVICE_UUID.upper()]) is gi.PROFILE
    assert profile_for_services(["180d"], name="Polar H10 12345678") is pmd.PROFILE
    assert profile_for_services(["180d"], name="HR-Strap") is None
    with pytest.raises(KeyError, match="known"):
        get_profile("nope")


# ------------------------------------------------------------------------------- gaitimpact open


def test_gaitimpact_packet_round_trip_header_and_samples() -> None:
    acc = _acc(20)
    pkt = gi.encode_packet(seq=7, t_first_us=1_234_567, acc_g=acc, range_g=16.0)
    assert len(pkt) == 12 + 6 * 20
    version, seq, t_us, n, scale = struct.unpack_from("<BHIBf", pkt)
    assert (version, seq, t_us, n) == (1, 7, 1_234_567, 20) and scale == pytest.approx(16 / 32768)
    block = gi.Decoder(1000, 16).decode(pkt)
    assert block.seq == 7 and block.t_first_s == pytest.approx(1.234567) and block.period_s == 1e-3
    np.testing.assert_allclose(block.acc_g, np.clip(acc, -16, 16), atol=16 / 32768)


def test_gaitimpact_samples_beyond_range_saturate_like_the_sensor() -> None:
    acc = np.array([[40.0, -40.0, 1.0]])
    block = gi.Decoder(1000, 16).decode(gi.encode_packet(0, 0, acc, 16.0))
    assert block.acc_g[0, 0] == pytest.approx(16.0, abs=1e-3) and block.acc_g[0, 1] == pytest.approx(-16.0)


def test_gaitimpact_device_clock_wrap_is_unwrapped() -> None:
    dec = gi.Decoder(1000, 16)
    a = dec.decode(gi.encode_packet(0, 2**32 - 10_000, _acc(20), 16.0))
    b = dec.decode(gi.encode_packet(1, 10_000, _acc(20), 16.0))
    assert b.t_first_s - a.t_first_s == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda p: p[:11], "truncated packet"),
        (lambda p: p[:-3], "does not match"),
        (lambda p: b"\x02" + p[1:], "version"),
        (lambda p: p[:7] + b"\x00" + p[8:], "zero samples"),
        (lambda p: p[:8] + struct.pack("<f", float("nan")) + p[12:], "scale"),
    ],
)
def test_gaitimpact_malformed_packets_raise_packet_error(mangle, message: str) -> None:  # noqa: ANN001
    pkt = gi.encode_packet(3, 100, _acc(20), 16.0)
    with pytest.raises(PacketError, match=message):
        gi.Decoder(1000, 16).decode(mangle(pkt))


def test_gaitimpact_info_and_config_layouts() -> None:
    info = gi.encode_info((1, 2, 3), [100, 1000], [16, 200], "nRF52 ADXL372")
    assert gi.parse_info(info) == {
        "protocol": 1,
        "firmware": "1.2.3",
        "rates_hz": [100, 1000],
        "ranges_g": [16, 200],
        "model": "nRF52 ADXL372",
    }
    assert gi.encode_config(gi.OP_START, 1000, 200) == bytes([1, 0xE8, 0x03, 200, 0])
    with pytest.raises(PacketError):
        gi.parse_info(info[:6])


# ------------------------------------------------------------------------------------- Polar PMD


def test_polar_raw_int16_frame_decodes_mg_and_timestamps_of_last_sample() -> None:
    acc = _acc(36, spread_g=1.5)
    ts_last = pmd.H10_DEFAULT_TIME_NS + 5_000_000_000
    frame = pmd.encode_frame(ts_last, acc, 8.0, compressed=False)
    assert frame[0] == 2 and frame[9] == 0x01 and len(frame) == 10 + 6 * 36
    block = pmd.Decoder(200, 8).decode(frame)
    np.testing.assert_allclose(block.acc_g, np.round(acc * 1000) / 1000, atol=1e-9)
    assert block.t_first_s + 35 * block.period_s == pytest.approx(ts_last * 1e-9, abs=1e-6)
    assert block.seq is None


def test_polar_delta_compressed_frame_matches_hand_encoded_bits() -> None:
    # reference (100, -200, 1000) then 2 samples of 3-bit deltas (+1, -1, 3), (-4, 0, 2)
    ref = struct.pack("<hhh", 100, -200, 1000)
    deltas = [1, -1, 3, -4, 0, 2]
    bits = "".join(format(d & 0b111, "03b")[::-1] for d in deltas)  # LSB first per value
    packed = int(bits[::-1], 2).to_bytes(3, "little")
    content = ref + bytes([3, 2]) + packed[: (3 * 2 * 3 + 7) // 8]
    values = pmd.parse_delta_frames(content, 3, 16)
    np.testing.assert_array_equal(values, [[100, -200, 1000], [101, -201, 1003], [97, -201, 1005]])


def test_polar_compressed_frame_round_trip_applies_factor() -> None:
    acc = _acc(36, spread_g=2.0)
    frame = pmd.encode_frame(pmd.H10_DEFAULT_TIME_NS, acc, 8.0, compressed=True, factor=0.25)
    assert frame[9] == 0x81
    block = pmd.Decoder(200, 8, factor=0.25).decode(frame)
    np.testing.assert_allclose(block.acc_g, np.clip(acc, -8, 8), atol=0.25e-3)


def test_polar_period_follows_the_device_timestamps_and_lost_frame_keeps_nominal() -> None:
    dec = pmd.Decoder(200, 8)
    t0 = pmd.H10_DEFAULT_TIME_NS
    dec.decode(pmd.encode_frame(t0, _acc(36), 8.0, compressed=False))
    b = dec.decode(pmd.encode_frame(t0 + int(36 * 4.99e6), _acc(36), 8.0, compressed=False))
    assert b.period_s == pytest.approx(4.99e-3)
    c = dec.decode(pmd.encode_frame(t0 + int(36 * 4.99e6) + 72 * 5_000_000, _acc(36), 8.0, compressed=False))
    assert c.period_s == pytest.approx(5e-3)  # a frame was lost: the gap is not smeared over the samples


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (bytes([2]) + bytes(8), "truncated PMD frame"),
        (bytes([0]) + bytes(8) + bytes([1]) + bytes(6), "not ACC"),
        (bytes([2]) + bytes(8) + bytes([1]) + bytes(7), "not a multiple"),
        (bytes([2]) + bytes(8) + bytes([0x05]) + bytes(6), "unsupported raw"),
        (bytes([2]) + bytes(8) + bytes([0x81]) + bytes(4), "reference sample"),
        (bytes([2]) + bytes(8) + bytes([0x81]) + bytes(6) + bytes([8]), "truncated delta block header"),
        (bytes([2]) + bytes(8) + bytes([0x81]) + bytes(6) + bytes([8, 10, 1, 2]), "truncated delta block"),
        (bytes([2]) + bytes(8) + bytes([0x81]) + bytes(6) + bytes([0, 3]), "bit width"),
    ],
)
def test_polar_malformed_frames_raise_packet_error(frame: bytes, message: str) -> None:
    with pytest.raises(PacketError, match=message):
        pmd.Decoder(200, 8).decode(frame)


def test_polar_settings_tlv_and_control_point_response() -> None:
    tlv = pmd.encode_settings({pmd.SET_RATE: [25, 200], pmd.SET_RESOLUTION: [16], pmd.SET_RANGE: [2, 8]})
    assert tlv == bytes([0, 2, 25, 0, 200, 0, 1, 1, 16, 0, 2, 2, 2, 0, 8, 0])
    assert pmd.parse_settings(tlv) == {0: [25, 200], 1: [16], 2: [2, 8]}
    factor = pmd.parse_settings(pmd.encode_settings({pmd.SET_FACTOR: [0.25]}))
    assert factor == {5: [0.25]}
    resp = pmd.parse_cp_response(bytes([0xF0, 1, 2, 0, 0]) + tlv)
    assert (resp.opcode, resp.mtype, resp.status, resp.more, resp.params) == (1, 2, 0, False, tlv)
    with pytest.raises(PacketError):
        pmd.parse_settings(tlv[:-1])
    with pytest.raises(PacketError):
        pmd.parse_cp_response(bytes([0x01, 2, 2]))


def test_documented_byte_examples_in_firmware_notes_are_exact() -> None:
    pkt = gi.encode_packet(7, 1_234_567, np.array([[0.5, -0.25, 1.0]]), 16.0)
    assert pkt == bytes.fromhex("01 07 00 87 d6 12 00 01 00 00 00 3a 00 04 00 fe 00 08")
    start = bytes((pmd.OP_START, pmd.MEAS_ACC)) + pmd.encode_settings(
        {pmd.SET_RATE: [200], pmd.SET_RESOLUTION: [16], pmd.SET_RANGE: [8]}
    )
    assert start == bytes.fromhex("02 02 00 01 c8 00 01 01 10 00 02 01 08 00")


def _stream(n_packets: int, seq0: int = 0, t0_us: int = 12_500_000, n: int = 20) -> list[bytes]:
    return [gi.encode_packet(seq0 + k, t0_us + k * n * 1000, _acc(n, seed=k), 16.0) for k in range(n_packets)]


def test_gaitimpact_packets_decoded_together_equal_one_by_one_and_contiguous_ones_join() -> None:
    packets = _stream(5, seq0=65534, t0_us=2**32 - 40_000)  # seq and device clock wrap inside the batch
    one_dec = gi.Decoder(1000, 16)
    alone = [one_dec.decode(p) for p in packets]
    (joined,) = gi.Decoder(1000, 16).decode_many(packets)
    assert joined.packets == 5 and joined.seq == 65534 and joined.t_first_s == alone[0].t_first_s
    np.testing.assert_array_equal(joined.acc_g, np.concatenate([b.acc_g for b in alone]))
    t_alone = np.concatenate([b.t_first_s + np.arange(b.n) * b.period_s for b in alone])
    np.testing.assert_allclose(joined.t_first_s + np.arange(joined.n) * joined.period_s, t_alone, rtol=0, atol=1e-9)


def test_gaitimpact_batch_splits_at_a_lost_packet_and_keeps_malformed_ones_as_errors() -> None:
    packets = _stream(6)
    lost = packets[:2] + packets[3:]  # seq 2 lost on air
    blocks = gi.Decoder(1000, 16).decode_many(lost)
    assert [(b.seq, b.packets) for b in blocks] == [(0, 2), (3, 3)]
    broken = packets[:2] + [packets[2][:-3]] + packets[3:]  # one truncated: decoded one by one
    out = gi.Decoder(1000, 16).decode_many(broken)
    assert [type(x).__name__ for x in out] == ["Block", "Block", "PacketError", "Block", "Block", "Block"]
    assert "does not match" in str(out[2])
