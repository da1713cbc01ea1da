"""The capture reader sees through TURN framing: a payload in clear is found, ciphertext is not.

The NAT test's "no plaintext" verdict is only as good as this reader, so it is checked on captures
built byte by byte: RTP inside ChannelData, DTLS inside a Send indication, both as tcpdump writes
them for ``-i any`` (Linux cooked capture v2).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from tests.doorbell.relaycap import (
    headers_seen,
    leaked_payloads,
    read_relay,
    unwrap_turn,
)

COOKIE = b"\x21\x12\xa4\x42"


def _udp(payload: bytes) -> bytes:
    """An IPv4 UDP packet behind a Linux cooked v2 header."""
    udp = struct.pack(">HHHH", 40000, 3478, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), bytes(4))
    cooked = struct.pack(">HHIHBB8s", 0x0800, 0, 1, 1, 0, 6, bytes(8))
    return cooked + ip + udp


def _pcap(path: Path, payloads: list[bytes]) -> Path:
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 276)
    for payload in payloads:
        frame = _udp(payload)
        data += struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame
    path.write_bytes(data)
    return path


def _channel_data(inner: bytes) -> bytes:
    return struct.pack(">HH", 0x4001, len(inner)) + inner + bytes(-len(inner) % 4)


def _send_indication(inner: bytes) -> bytes:
    attribute = struct.pack(">HH", 0x0013, len(inner)) + inner + bytes(-len(inner) % 4)
    return struct.pack(">HH", 0x0016, len(attribute)) + COOKIE + os.urandom(12) + attribute


RTP_HEADER = struct.pack(">BBHII", 0x80, 96, 7, 90000, 0x1234ABCD)
DTLS_APPLICATION_DATA = b"\x17\xfe\xfd" + b"\x00\x01" + bytes(6) + struct.pack(">H", 32) + bytes(32)


def test_a_media_payload_in_clear_is_found_inside_turn_framing(tmp_path: Path) -> None:
    payload = bytes(range(200))  # a payload that should have been encrypted, in clear
    packet = RTP_HEADER + payload
    capture = _pcap(tmp_path / "clear.pcap", [_channel_data(packet)])

    assert leaked_payloads(capture, [packet]) == [packet]
    assert headers_seen(capture, [packet]) == 1


def test_encrypted_media_and_dtls_are_counted_and_not_reported(tmp_path: Path) -> None:
    sent = RTP_HEADER + bytes(range(200))
    on_the_wire = RTP_HEADER + os.urandom(200) + os.urandom(10)  # SRTP: same header, ciphertext
    capture = _pcap(
        tmp_path / "ciphertext.pcap",
        [_channel_data(on_the_wire), _send_indication(DTLS_APPLICATION_DATA)],
    )

    assert leaked_payloads(capture, [sent]) == []
    assert headers_seen(capture, [sent]) == 1
    view = read_relay(capture)
    assert (view.datagrams, view.turn_wrapped, view.srtp) == (2, 2, 1)
    assert view.dtls_application_records == 1
    assert view.unknown == []


def test_turn_control_messages_carry_no_peer_data() -> None:
    allocate = struct.pack(">HH", 0x0003, 0) + COOKIE + os.urandom(12)
    assert unwrap_turn(allocate) == (None, False)
    assert unwrap_turn(_send_indication(b"\x17abc")) == (b"\x17abc", True)
