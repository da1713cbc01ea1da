"""Session descriptions as browsers and aiortc write them, for the doorbell's tests."""

from __future__ import annotations

HOST = "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0"
MDNS = (
    "a=candidate:2 1 udp 2122194687 4f3c1a6e-7d2b-4a8e-9c1f-0b2d3e4f5a6b.local 50000 typ host "
    "generation 0 network-id 1"
)
SRFLX = (
    "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx "
    "raddr 0.0.0.0 rport 0 generation 0 ufrag abcd network-cost 999"
)
RELAY = "a=candidate:3 1 udp 41885439 198.51.100.9 49152 typ relay raddr 203.0.113.7 rport 61000"
TCP = "a=candidate:4 1 tcp 1518280447 2001:db8::5 9 typ host tcptype active generation 0"


def offer(*candidates: str, media: tuple[str, ...] = ("video", "audio", "application")) -> str:
    """A non-trickle offer: each media section with its candidates, lines ending CRLF."""
    lines = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE " + " ".join(str(n) for n in range(len(media))),
        "a=msid-semantic: WMS",
    ]
    for index, kind in enumerate(media):
        proto = (
            "UDP/DTLS/SCTP webrtc-datachannel" if kind == "application" else "UDP/TLS/RTP/SAVPF 96"
        )
        lines += [
            f"m={kind} 9 {proto}",
            "c=IN IP4 0.0.0.0",
            f"a=mid:{index}",
            "a=ice-ufrag:abcd",
            "a=ice-pwd:0123456789abcdefghijklmn",
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
            "a=setup:actpass",
            *candidates,
        ]
        if kind != "application":
            lines += ["a=recvonly", "a=rtpmap:96 VP8/90000"]
    return "\r\n".join(lines) + "\r\n"


def answer(*candidates: str) -> str:
    """The agent's answer, its candidates inside."""
    return (
        offer(*candidates)
        .replace("a=setup:actpass", "a=setup:active")
        .replace("a=recvonly", "a=sendonly")
    )


GOOD_OFFER = offer(HOST, MDNS, SRFLX, RELAY, TCP)
GOOD_ANSWER = answer(HOST)
