"""The parts of `doorstep doctor` that reach other machines: MQTT, the task queue, SMTP, TURN.

Each speaks just enough of its protocol to know the part is there and answers (an MQTT CONNECT,
a Redis PING, an SMTP EHLO and login, a STUN Binding request) and sends nothing else; a
``Finding`` is what each says, with every URL printed without its secrets.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import smtplib
import socket
import ssl
import struct
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from doorstep.errors import ConfigurationError
from doorstep.platform import mail
from doorstep.platform.bus import broker as mqtt_broker
from doorstep.settings import Settings

#: Seconds each network check waits before it calls a part unreachable.
TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One part of the machine: ``ok``, ``warn``, ``fail`` or ``off``, what was seen, the fix."""

    part: str
    state: str
    seen: str
    fix: str = ""

    def line(self) -> str:
        """The finding as one line of the report."""
        fix = f" — {self.fix}" if self.fix else ""
        return f"{self.state.upper():<5} {self.part:<15} {self.seen}{fix}"


_SECRET_PARAMETER = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def shown(url: str) -> str:
    """``url`` as the report prints it: no password, nor any parameter that looks like one."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a URL that cannot be read)"
    user = f"{parts.username}@" if parts.username else ""
    query = urlencode(
        [
            (name, "***" if _SECRET_PARAMETER.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    if not parts.netloc:
        # A file URL (sqlite:////srv/doorstep.db): urlunsplit would drop the path's slashes.
        return f"{parts.scheme}://{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, query, ""))


def _tcp(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=TIMEOUT):
        pass


def mqtt(settings: Settings) -> Finding:
    """The MQTT broker: an MQTT CONNECT it accepts, or off when none is set."""
    if not settings.mqtt_url:
        return Finding(
            "mqtt", "off", "events stay in this process", "set DOORSTEP_MQTT_URL to share them"
        )
    try:
        broker = mqtt_broker.parse(settings.mqtt_url)
        tls = (
            mqtt_broker.tls_context(settings.mqtt_ca_file, settings.mqtt_cert_file)
            if broker.tls
            else None
        )
        _mqtt_connect(broker, tls)
    except ConfigurationError as err:
        return Finding("mqtt", "fail", str(err), "fix DOORSTEP_MQTT_URL or its CA and certificate")
    except MqttRefused as err:
        return Finding(
            "mqtt", "fail", f"{broker.shown}: {err}", "check the user and password in it"
        )
    except ssl.SSLError as err:
        return Finding(
            "mqtt",
            "fail",
            f"{broker.shown}: TLS failed ({err.reason or err})",
            "is the port a TLS listener, and DOORSTEP_MQTT_CA_FILE the broker's CA?",
        )
    except OSError as err:
        return Finding(
            "mqtt", "fail", f"{broker.shown}: {err.strerror or err}", "is the broker running?"
        )
    how = "over TLS, " if broker.tls else ""
    return Finding("mqtt", "ok", f"{broker.host}:{broker.port} accepted a connection {how}".strip())


class MqttRefused(OSError):
    """The broker answered, and refused this client's user name or password."""


def _field(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        length, digit = divmod(length, 128)
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _mqtt_connect(broker: mqtt_broker.Broker, tls: ssl.SSLContext | None = None) -> None:
    """An MQTT 3.1.1 CONNECT with a clean session; OSError unless the broker accepts it."""
    client_id = f"doorstep-doctor-{secrets.token_hex(4)}".encode()
    user, password = broker.username, broker.password
    flags = 0x02 | (0x80 if user else 0) | (0x40 if user and password else 0)
    variable = b"\x00\x04MQTT\x04" + bytes([flags]) + b"\x00\x0a"
    payload = _field(client_id)
    if user:
        payload += _field(user.encode())
        if password:
            payload += _field(password.encode())
    body = variable + payload
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(
            socket.create_connection((broker.host, broker.port), timeout=TIMEOUT)
        )
        if tls is not None:
            sock = stack.enter_context(tls.wrap_socket(sock, server_hostname=broker.host))
        sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        answer = sock.recv(4)
        if len(answer) < 4 or answer[0] != 0x20:
            raise OSError("the broker did not answer as MQTT does")
        if answer[3] in (4, 5):
            raise MqttRefused(f"the broker refused the user name or password (code {answer[3]})")
        if answer[3] != 0:
            raise OSError(f"the broker refused the connection (code {answer[3]})")
        sock.sendall(b"\xe0\x00")


def queue(settings: Settings) -> Finding:
    """The task queue's Redis: a PING it answers, or off when none is set."""
    if not settings.queue_url:
        return Finding(
            "task queue", "off", "jobs run on threads in `doorstep serve`", "set DOORSTEP_QUEUE_URL"
        )
    where = shown(settings.queue_url)
    try:
        parts = urlsplit(settings.queue_url)
        address = (parts.hostname or "127.0.0.1", parts.port or 6379)
    except ValueError:
        return Finding("task queue", "fail", f"{where}: not a URL", "fix DOORSTEP_QUEUE_URL")
    try:
        with socket.create_connection(address, timeout=TIMEOUT) as sock:
            sock.sendall(b"PING\r\n")
            answer = sock.recv(64)
    except OSError as err:
        return Finding("task queue", "fail", f"{where}: {err.strerror or err}", "is Redis running?")
    if not answer.startswith((b"+PONG", b"-NOAUTH")):
        return Finding("task queue", "fail", f"{where}: not a Redis server")
    return Finding("task queue", "ok", f"{where} answers")


def smtp(settings: Settings) -> Finding:
    """The SMTP relay: a connection and the login a letter would make, or off."""
    if not mail.enabled(settings):
        return Finding("email", "off", "no notices by email", "set DOORSTEP_SMTP_HOST")
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        mail.probe(settings)
    except smtplib.SMTPAuthenticationError:
        return Finding(
            "email",
            "fail",
            f"{where} refused the user and password",
            "check DOORSTEP_SMTP_USER/PASSWORD",
        )
    except (smtplib.SMTPException, OSError) as err:
        return Finding("email", "fail", f"{where}: {err}", "check DOORSTEP_SMTP_* and the relay")
    return Finding(
        "email",
        "ok",
        f"{where} accepts a connection" + (" and the login" if settings.smtp_user else ""),
    )


def _stun_request() -> tuple[bytes, bytes]:
    transaction = secrets.token_bytes(12)
    return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction, transaction


def turn(settings: Settings) -> Finding:
    """Each TURN URL: a STUN answer over UDP, a connection over TCP/TLS, or off."""
    urls = settings.turn_url_list
    if not urls:
        return Finding(
            "turn",
            "off",
            "live view only where browser and camera reach each other",
            "set DOORSTEP_TURN_URLS",
        )
    found = []
    for url in urls:
        scheme, _, rest = url.partition(":")
        address, _, query = rest.partition("?")
        host, _, port_text = address.rpartition(":") if ":" in address else (address, "", "")
        port = int(port_text) if port_text.isdigit() else (5349 if scheme == "turns" else 3478)
        tcp = scheme == "turns" or "transport=tcp" in query
        try:
            if tcp:
                _tcp(host, port)
            else:
                _stun_udp(host, port)
        except OSError as err:
            return Finding(
                "turn",
                "fail",
                f"{url}: {err.strerror or err}",
                "is the relay running and reachable?",
            )
        found.append(url)
    return Finding("turn", "ok", ", ".join(found) + " answer")


def _stun_udp(host: str, port: int) -> None:
    """A STUN Binding request; OSError unless a STUN answer of the same transaction comes back."""
    request, transaction = _stun_request()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(request, (socket.gethostbyname(host), port))
        try:
            answer, _ = sock.recvfrom(2048)
        except TimeoutError as err:
            raise OSError(f"no STUN answer in {TIMEOUT:.0f} s") from err
    if len(answer) < 20 or answer[8:20] != transaction:
        raise OSError("the answer is not STUN")
