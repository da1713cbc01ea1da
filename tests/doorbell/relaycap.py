"""Read what the TURN relay saw: UDP in a pcap, unwrapped from TURN, sorted into DTLS, SRTP, STUN.

The relay carries each peer's datagrams inside TURN ChannelData messages or Send/Data indications
(RFC 8656) on the client legs, and bare on the relayed legs. Unwrapped, a datagram is STUN (ICE
checks), DTLS (the handshake, then application-data records: the data channel's SCTP) or SRTP/SRTCP
(media), told apart by their first byte (RFC 7983). Media and data must be there as ciphertext only.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

STUN_COOKIE = b"\x21\x12\xa4\x42"
SEND_INDICATION, DATA_INDICATION, DATA_ATTRIBUTE = 0x0016, 0x0017, 0x0013
DTLS_APPLICATION_DATA = 23
# Link types tcpdump writes for "-i any": Linux cooked capture v1 and v2.
LINUX_SLL, LINUX_SLL2 = 113, 276
ETHERTYPE_IPV4 = 0x0800


@dataclass
class RelayView:
    """What crossed the relay, counted by kind once TURN framing is taken off."""

    datagrams: int = 0
    turn_wrapped: int = 0
    stun: int = 0
    srtp: int = 0
    dtls_application_records: int = 0
    dtls_other_records: int = 0
    unknown: list[bytes] = field(default_factory=list)


def udp_payloads(capture: Path) -> Iterator[bytes]:
    """Every IPv4 UDP payload in a pcap written by ``tcpdump -i any``."""
    data = capture.read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    (linktype,) = struct.unpack(endian + "I", data[20:24])
    offset = 24
    while offset + 16 <= len(data):
        _, _, included, _ = struct.unpack(endian + "IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + included]
        offset += 16 + included
        if linktype == LINUX_SLL2:
            protocol, packet = struct.unpack(">H", frame[0:2])[0], frame[20:]
        elif linktype == LINUX_SLL:
            protocol, packet = struct.unpack(">H", frame[14:16])[0], frame[16:]
        else:
            raise ValueError(f"unexpected pcap link type {linktype}")
        if protocol != ETHERTYPE_IPV4 or len(packet) < 28 or packet[9] != 17:
            continue
        header = (packet[0] & 0x0F) * 4
        (length,) = struct.unpack(">H", packet[header + 4 : header + 6])
        yield packet[header + 8 : header + length]


def unwrap_turn(payload: bytes) -> tuple[bytes | None, bool]:
    """The peer datagram inside a TURN message (or the payload itself), and whether it was wrapped.

    None when the payload is a TURN control message (allocate, permission, refresh, binding).
    """
    if len(payload) >= 4 and 0x40 <= payload[0] <= 0x7F:  # ChannelData
        (length,) = struct.unpack(">H", payload[2:4])
        return payload[4 : 4 + length], True
    if len(payload) >= 20 and payload[4:8] == STUN_COOKIE and payload[0] < 4:
        (kind,) = struct.unpack(">H", payload[0:2])
        if kind not in (SEND_INDICATION, DATA_INDICATION):
            return None, False
        offset = 20
        while offset + 4 <= len(payload):
            attribute, size = struct.unpack(">HH", payload[offset : offset + 4])
            if attribute == DATA_ATTRIBUTE:
                return payload[offset + 4 : offset + 4 + size], True
            offset += 4 + size + (-size % 4)
        return None, False
    return payload, False


def read_relay(capture: Path) -> RelayView:
    """Sort every datagram the relay saw; anything that is none of STUN, DTLS, SRTP is kept."""
    view = RelayView()
    for payload in udp_payloads(capture):
        view.datagrams += 1
        inner, wrapped = unwrap_turn(payload)
        view.turn_wrapped += wrapped
        if inner is None or not inner:
            continue
        first = inner[0]
        if first < 4:
            view.stun += 1
        elif 20 <= first <= 63:
            _count_dtls(inner, view)
        elif 128 <= first <= 191:
            view.srtp += 1
        else:
            view.unknown.append(inner)
    return view


def _count_dtls(datagram: bytes, view: RelayView) -> None:
    offset = 0
    while offset + 13 <= len(datagram):
        kind = datagram[offset]
        (length,) = struct.unpack(">H", datagram[offset + 11 : offset + 13])
        if kind == DTLS_APPLICATION_DATA:
            view.dtls_application_records += 1
        else:
            view.dtls_other_records += 1
        offset += 13 + length


def leaked_payloads(capture: Path, packets: list[bytes], window: int = 24) -> list[bytes]:
    """Plaintext RTP packets whose payload shows in the capture (a slice from its middle).

    SRTP leaves the 12-byte RTP header in the clear and encrypts the payload, so a packet that
    crossed the relay encrypted has its header in the capture and not its payload.
    """
    raw = capture.read_bytes()
    leaked = []
    for packet in packets:
        payload = packet[12:]
        if len(payload) >= 2 * window:
            middle = len(payload) // 2
            if payload[middle : middle + window] in raw:
                leaked.append(packet)
    return leaked


def headers_seen(capture: Path, packets: list[bytes]) -> int:
    """How many of these RTP packets' clear headers are in the capture: they crossed the relay."""
    raw = capture.read_bytes()
    return sum(1 for packet in packets if packet[:12] in raw)
