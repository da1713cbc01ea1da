"""How the server and the camera agent reach an MQTT broker: its URL, TLS and a password.

``mqtt://host[:1883]`` is plain TCP; ``mqtts://host[:8883]`` is TLS, and the broker's certificate
is always verified, against the system's CAs or the private CA given as ``ca_file`` (there is no
switch that skips it). A username and password ride in the URL, percent-encoded
(``mqtts://doorstep:s%40cret@broker``); ``shown`` is the URL as logs and errors print it, with
the password replaced by ``***``. A broker that asks for client certificates gets ``cert_file``
(one PEM holding the certificate and its unencrypted key).

``BrokerClient`` remembers why its last attempt to connect failed (paho retries in silence), so
the server can refuse to start with the reason and the agent can log it.
"""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from doorstep.errors import ConfigurationError

log = logging.getLogger(__name__)

PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class Broker:
    """Where a broker is and who to say we are; the password never appears in ``repr``."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The broker as logs print it: scheme, user and address, never the password."""
        user = f"{self.username}:***@" if self.password else f"{self.username}@"
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{user if self.username else ''}{self.host}:{self.port}"


def shown(url: str) -> str:
    """``url`` with its password replaced by ``***``, for a log line or an error."""
    try:
        return parse(url).shown
    except ConfigurationError:
        return "(an MQTT URL that cannot be read)"


def parse(url: str) -> Broker:
    """The broker of an ``mqtt://`` or ``mqtts://[user[:password]@]host[:port]`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in PORTS or not parts.hostname:
        # The URL itself is not repeated: it may hold a password.
        raise ConfigurationError(
            "the MQTT broker must be given as mqtt://host:port or mqtts://user:password@host:port"
        )
    try:
        port = parts.port or PORTS[parts.scheme]
    except ValueError as err:
        raise ConfigurationError("the MQTT broker URL has a bad port") from err
    return Broker(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def tls_context(ca_file: str, cert_file: str) -> ssl.SSLContext:
    """TLS that checks the broker (CERT_REQUIRED, its host name), with our certificate if asked."""
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
        if cert_file:
            context.load_cert_chain(cert_file)
    except (OSError, ssl.SSLError) as err:
        raise ConfigurationError(f"cannot read the MQTT CA or client certificate: {err}") from err
    return context


class BrokerClient(paho.Client):
    """A paho client set up for ``broker``; ``failure`` says why it last failed to connect."""

    def __init__(
        self, broker: Broker, client_id: str, *, ca_file: str = "", cert_file: str = ""
    ) -> None:
        super().__init__(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id)
        self.broker = broker
        self.failure: str | None = None
        #: Whether that failure is one retrying will not mend (TLS, a refusal), not just "down".
        self.lasting = False
        if broker.username:
            self.username_pw_set(broker.username, broker.password)
        if broker.tls:
            # CERT_REQUIRED with the host name checked: the broker proves who it is.
            self.tls_set_context(tls_context(ca_file, cert_file))
        elif ca_file or cert_file:
            raise ConfigurationError("an MQTT CA or client certificate needs mqtts:// (TLS)")
        elif broker.password:
            log.warning("the MQTT password goes over %s unencrypted; use mqtts://", broker.shown)

    def reconnect(self) -> MQTTErrorCode:
        """Connect again, remembering why it failed (TLS, refused, unreachable) if it does."""
        try:
            return super().reconnect()
        except ssl.SSLCertVerificationError as err:
            self.failed(f"its TLS certificate is not trusted ({err.verify_message})", lasting=True)
            raise
        except ssl.SSLError as err:
            self.failed(f"TLS failed ({err.reason or err})", lasting=True)
            raise
        except OSError as err:
            self.failed(err.strerror or type(err).__name__, lasting=False)
            raise

    def _ssl_wrap_socket(self, tcp_sock: socket.socket) -> ssl.SSLSocket:
        # paho's own leaves the socket open when the handshake fails, once per retry.
        assert self._ssl_context is not None
        wrapped = self._ssl_context.wrap_socket(
            tcp_sock, server_hostname=self._host, do_handshake_on_connect=False
        )
        try:
            wrapped.settimeout(self._connect_timeout)
            wrapped.do_handshake()
        except BaseException:
            wrapped.close()
            raise
        return wrapped

    @property
    def cut_short(self) -> str:
        """Why a broker closes the connection before its CONNACK, most likely."""
        if self.broker.tls:
            # With TLS 1.3 a missing or refused client certificate shows only now.
            return "it closed the connection before answering (does it want a client certificate?)"
        return "it closed the connection before answering (a TLS port needs mqtts://)"

    def shut(self) -> None:
        """Disconnect, stop the network thread and close every socket (paho keeps a pair open)."""
        self.disconnect()
        self.loop_stop()
        self._reset_sockets()

    def failed(self, why: str, *, lasting: bool) -> None:
        """Remember why connecting failed, for the error or the log line that follows."""
        self.failure, self.lasting = why, lasting
