"""MQTT over TLS with a username and password, against a Mosquitto the test starts itself.

The broker listens on a free port with TLS only (a CA and a server certificate for
127.0.0.1/localhost, made here), a password file and no anonymous clients.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from doorstep import doctor_services
from doorstep.agent.mqtt import MqttPublisher
from doorstep.errors import ConfigurationError, Unavailable
from doorstep.platform.bus.broker import BrokerClient, parse, shown
from doorstep.platform.bus.mqtt import MqttBus
from doorstep.platform.bus.topics import topic
from doorstep.settings import Settings
from tests.conftest import service_missing

MOSQUITTO = "/usr/sbin/mosquitto"
KEY = bytes(range(32))
USER, PASSWORD = "doorstep", "s3cret-p@ss"
QUOTED = "s3cret-p%40ss"


@dataclass(frozen=True)
class TlsBroker:
    """A running broker and the files a client needs."""

    port: int
    ca_file: str
    rogue_ca_file: str
    #: A second listener that also asks for a client certificate, and one it accepts.
    cert_port: int
    client_cert_file: str

    def url(self, password: str = QUOTED, scheme: str = "mqtts", port: int = 0) -> str:
        """The broker's URL with these credentials."""
        return f"{scheme}://{USER}:{password}@127.0.0.1:{port or self.port}"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(path: Path, cert: x509.Certificate) -> str:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None = None
) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def _authority(folder: Path, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    cert = (
        _cert(name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    _pem(folder / f"{name}.pem", cert)
    return cert, key


def _server_files(folder: Path) -> tuple[str, str, str]:
    ca, ca_key = _authority(folder, "doorstep-test-ca")
    _authority(folder, "rogue-ca")
    key = _key()
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        _cert("127.0.0.1", key, ca.subject)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "server.key").write_bytes(_private(key))
    client_key = _key()
    client = _cert("agent", client_key, ca.subject).sign(ca_key, hashes.SHA256())
    pem = client.public_bytes(serialization.Encoding.PEM) + _private(client_key)
    (folder / "client.pem").write_bytes(pem)
    return str(folder / "doorstep-test-ca.pem"), _pem(folder / "server.pem", cert), "server.key"


def _private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _password_file(path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool:
        subprocess.run([tool, "-c", "-b", str(path), USER, PASSWORD], check=True)
        return
    # Mosquitto's own "$6$" format: SHA-512 over the password and a salt.
    salt = os.urandom(12)
    digest = hashlib.sha512(PASSWORD.encode() + salt).digest()
    b64 = base64.b64encode
    path.write_text(f"{USER}:$6${b64(salt).decode()}${b64(digest).decode()}\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    """Mosquitto with TLS, a password file and no anonymous clients, on a free port."""
    if not os.access(MOSQUITTO, os.X_OK):
        service_missing(f"Mosquitto ({MOSQUITTO})")
    folder = tmp_path_factory.mktemp("mosquitto")
    ca_file, cert_file, _ = _server_files(folder)
    _password_file(folder / "passwords")
    port, cert_port = _free_port(), _free_port()
    tls = f"cafile {ca_file}\ncertfile {cert_file}\nkeyfile {folder / 'server.key'}\n"
    config = folder / "mosquitto.conf"
    config.write_text(
        f"user root\npersistence false\nallow_anonymous false\n"
        f"password_file {folder / 'passwords'}\nlistener {port} 127.0.0.1\n{tls}"
        f"listener {cert_port} 127.0.0.1\n{tls}require_certificate true\n"
    )
    log = (folder / "mosquitto.log").open("wb")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Mosquitto did not start: {(folder / 'mosquitto.log').read_text()}")
            time.sleep(0.05)
        yield TlsBroker(
            port, ca_file, str(folder / "rogue-ca.pem"), cert_port, str(folder / "client.pem")
        )
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_the_url_carries_tls_and_credentials_and_never_shows_the_password() -> None:
    broker = parse(f"mqtts://{USER}:{QUOTED}@broker.example:8884")
    assert (broker.host, broker.port, broker.tls, broker.username) == (
        "broker.example",
        8884,
        True,
        USER,
    )
    assert broker.password == PASSWORD
    assert PASSWORD not in repr(broker)
    assert shown(f"mqtts://{USER}:{QUOTED}@broker.example") == (
        f"mqtts://{USER}:***@broker.example:8883"
    )
    assert parse("mqtt://broker.example").port == 1883
    with pytest.raises(ConfigurationError) as caught:
        parse(f"http://{USER}:{QUOTED}@broker.example")
    assert QUOTED not in str(caught.value)
    with pytest.raises(ConfigurationError, match="needs mqtts://"):
        BrokerClient(parse("mqtt://broker.example"), "x", ca_file="/etc/ssl/ca.pem")


def test_server_processes_exchange_an_event_over_tls(tls_broker: TlsBroker) -> None:
    first = MqttBus(tls_broker.url(), master_key=KEY, ca_file=tls_broker.ca_file)
    second = MqttBus(tls_broker.url(), master_key=KEY, ca_file=tls_broker.ca_file)
    try:

        async def scenario() -> dict[str, object]:
            page = second.subscribe("ada")
            first.publish("ada", {"type": "clip", "n": 7})
            return await asyncio.wait_for(page.queue.get(), 10)

        assert asyncio.run(scenario()) == {"type": "clip", "n": 7}
    finally:
        first.close()
        second.close()


def test_the_agent_publishes_over_tls_with_its_password(tls_broker: TlsBroker) -> None:
    got: list[bytes] = []
    arrived = threading.Event()
    listener = BrokerClient(parse(tls_broker.url()), "listener", ca_file=tls_broker.ca_file)

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        del client, userdata
        got.append(bytes(message.payload))
        arrived.set()

    listener.on_message = on_message
    listener.connect(listener.broker.host, listener.broker.port)
    listener.subscribe(topic("cam-tls", "doorbell"), qos=1)
    listener.loop_start()
    publisher = MqttPublisher(tls_broker.url(), "cam-tls", ca_file=tls_broker.ca_file)
    publisher.start()
    try:
        deadline = time.monotonic() + 10
        while not publisher.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert publisher.connected
        publisher.publish_ring()
        assert arrived.wait(10)
        assert got == [b'{"event_type": "ring"}']
    finally:
        publisher.stop()
        listener.shut()


def test_a_wrong_password_is_a_clear_error_that_never_shows_it(
    tls_broker: TlsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unavailable, match="refused the connection") as caught:
        MqttBus(tls_broker.url("wrong-horse"), master_key=KEY, ca_file=tls_broker.ca_file)
    assert f"mqtts://{USER}:***@127.0.0.1:{tls_broker.port}" in str(caught.value)
    assert "wrong-horse" not in str(caught.value) + caplog.text
    # The agent keeps retrying, and says why once.
    publisher = MqttPublisher(tls_broker.url("wrong-horse"), "cam-x", ca_file=tls_broker.ca_file)
    publisher.start()
    try:
        _wait_for_log(caplog, "refused the agent")
    finally:
        publisher.stop()
    assert "wrong-horse" not in caplog.text
    assert PASSWORD not in caplog.text


def test_a_broker_certificate_from_another_ca_is_refused(
    tls_broker: TlsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(Unavailable, match="TLS certificate is not trusted") as caught:
        MqttBus(tls_broker.url(), master_key=KEY, ca_file=tls_broker.rogue_ca_file)
    assert PASSWORD not in str(caught.value)
    # Nor is the system's trust enough for a private CA.
    with pytest.raises(Unavailable, match="TLS certificate is not trusted"):
        MqttBus(tls_broker.url(), master_key=KEY)
    publisher = MqttPublisher(tls_broker.url(), "cam-y", ca_file=tls_broker.rogue_ca_file)
    publisher.start()
    try:
        _wait_for_log(caplog, "TLS certificate is not trusted")
        assert not publisher.connected
    finally:
        publisher.stop()


def test_plain_mqtt_to_the_tls_port_fails_clearly(tls_broker: TlsBroker) -> None:
    with pytest.raises(Unavailable, match="a TLS port needs mqtts://"):
        MqttBus(tls_broker.url(scheme="mqtt"), master_key=KEY)


def _wait_for_log(caplog: pytest.LogCaptureFixture, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in caplog.text:
        assert time.monotonic() < deadline, f"no log line with {text!r}: {caplog.text}"
        time.sleep(0.05)


def test_a_broker_that_asks_for_a_client_certificate_gets_ours(tls_broker: TlsBroker) -> None:
    url = tls_broker.url(port=tls_broker.cert_port)
    with pytest.raises(Unavailable, match="TLS failed|want a client certificate"):
        MqttBus(url, master_key=KEY, ca_file=tls_broker.ca_file)
    bus = MqttBus(
        url, master_key=KEY, ca_file=tls_broker.ca_file, cert_file=tls_broker.client_cert_file
    )
    bus.close()
    with pytest.raises(ConfigurationError, match="cannot read the MQTT CA or client certificate"):
        BrokerClient(parse(url), "x", cert_file=tls_broker.ca_file)


def test_the_doctor_reaches_a_tls_broker_over_tls_with_its_ca(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    def doctor(url: str, ca_file: str) -> doctor_services.Finding:
        settings = Settings(data_dir=tmp_path, mqtt_url=url, mqtt_ca_file=ca_file)
        return doctor_services.mqtt(settings)

    assert doctor(tls_broker.url(), tls_broker.ca_file).state == "ok"
    wrong = doctor(tls_broker.url(password="Wr0ng-pass"), tls_broker.ca_file)
    assert (wrong.state, wrong.fix) == ("fail", "check the user and password in it")
    rogue = doctor(tls_broker.url(), tls_broker.rogue_ca_file)
    assert rogue.state == "fail"
    assert "TLS" in rogue.line()
    assert PASSWORD not in wrong.line() + rogue.line()


def test_the_doctor_never_sends_a_tls_brokers_password_in_clear(tmp_path: Path) -> None:
    # A listener that is not a TLS broker: it records what arrives and answers nothing.
    received: list[bytes] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def listen() -> None:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(5)
                try:
                    while chunk := connection.recv(4096):
                        received.append(chunk)
                except OSError:
                    pass

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        settings = Settings(data_dir=tmp_path, mqtt_url=f"mqtts://{USER}:{QUOTED}@127.0.0.1:{port}")
        finding = doctor_services.mqtt(settings)
        thread.join(10)
    assert finding.state == "fail"
    sent = b"".join(received)
    assert sent[:1] == b"\x16", "the first bytes are a TLS handshake"
    assert PASSWORD.encode() not in sent
    assert USER.encode() not in sent
