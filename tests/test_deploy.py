"""The operator files under deploy/, checked by the tools that read them, as far as this host can.

systemd units by ``systemd-analyze verify``, the compose file by ``docker-compose config``, the
nginx config by ``nginx -t``; every DOORSTEP_* name in them is a real setting. The Containerfile
cannot be built here (no container engine): what it copies must exist, and it installs the same
Debian packages as scripts/demo.sh. A missing tool fails with CI=true and skips elsewhere.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from doorstep.agent.cli import PASSWORD_VARIABLE
from doorstep.settings import Settings
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
COMPOSE = DEPLOY / "compose" / "compose.yaml"
NGINX = DEPLOY / "nginx" / "doorstep.conf"
CONTAINERFILE = DEPLOY / "Containerfile"
#: Where the units expect the venv's command; a temp copy points at one that exists here.
INSTALLED = "/opt/doorstep/bin/doorstep"
COMPOSE_SECRETS = {
    "DOORSTEP_MASTER_KEY": "x",
    "DOORSTEP_PUBLIC_URL": "https://doorstep.example",
    "DOORSTEP_TURN_URLS": "turn:turn.doorstep.example:3478",
    "POSTGRES_PASSWORD": "p",
    "S3_ACCESS_KEY": "a",
    "S3_SECRET_KEY": "s",
    "TURN_SECRET": "t",
    "MQTT_PASSWORD": "m",
}


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )
    if found is None:
        service_missing(f"{name} (Debian package of the same or a close name)")
    return found


def _verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    copy = tmp_path / unit.name
    doorstep = Path(sys.executable).with_name("doorstep")
    assert doorstep.exists(), doorstep
    copy.write_text(unit.read_text().replace(INSTALLED, str(doorstep)))
    return subprocess.run(
        [_tool("systemd-analyze"), "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_there_is_a_unit_for_serve_worker_and_agent() -> None:
    assert [unit.name for unit in UNITS] == [
        "doorstep-agent.service",
        "doorstep-serve.service",
        "doorstep-worker.service",
    ]
    for unit in UNITS:
        text = unit.read_text()
        command = unit.stem.removeprefix("doorstep-")
        assert f"ExecStart={INSTALLED} {command}" in text
        for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory="):
            assert hardening in text, (unit.name, hardening)
        assert "EnvironmentFile=/etc/doorstep/" in text


@pytest.mark.parametrize("unit", UNITS, ids=[unit.stem for unit in UNITS])
def test_each_unit_filters_system_calls_and_hides_other_processes(unit: Path) -> None:
    lines = set(unit.read_text().splitlines())
    for hardening in (
        "SystemCallFilter=@system-service",
        "ProtectProc=invisible",
        "ProcSubset=pid",
        "RemoveIPC=yes",
    ):
        assert hardening in lines, (unit.name, hardening)


def _environment(unit: Path, files: dict[str, str]) -> dict[str, str]:
    """The environment systemd gives ``unit``: Environment= first, then each file in order."""
    given: dict[str, str] = {}
    loaded: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            name, value = line.removeprefix("Environment=").split("=", 1)
            given[name] = value
        elif line.startswith("EnvironmentFile="):
            path = line.removeprefix("EnvironmentFile=")
            optional = path.startswith("-")
            text = files.get(path.removeprefix("-"))
            assert text is not None or optional, (unit.name, path)
            for entry in (text or "").splitlines():
                if entry and not entry.startswith("#"):
                    name, value = entry.split("=", 1)
                    loaded[name] = value
    return {**given, **loaded}


def test_serve_and_worker_never_take_the_same_metrics_bind() -> None:
    serve, worker = (DEPLOY / "systemd" / f"doorstep-{n}.service" for n in ("serve", "worker"))
    shipped = {
        f"/etc/doorstep/{name}": (DEPLOY / "systemd" / name).read_text()
        for name in ("serve.env", "worker.env")
    }
    # Even with the bind in the shared file, each process gets its own.
    for shared in ("", "DOORSTEP_METRICS_BIND=127.0.0.1:9464\n"):
        files = {**shipped, "/etc/doorstep/doorstep.env": shared}
        for serve_files in (files, {k: v for k, v in files.items() if "serve.env" not in k}):
            binds = [
                _environment(serve, serve_files).get("DOORSTEP_METRICS_BIND", ""),
                _environment(worker, files).get("DOORSTEP_METRICS_BIND", ""),
            ]
            assert binds[1], "the worker's metrics bind comes from worker.env"
            assert binds[0] != binds[1], binds


def test_no_deploy_file_puts_a_password_in_a_url() -> None:
    for path in _deploy_files():
        text = path.read_text()
        assert re.search(r"://[^/\s:@]+:(pass|password|secret)@", text) is None, path.name
    agent = (DEPLOY / "systemd" / "doorstep-agent.service").read_text()
    assert "CAMERA_SOURCE=rtsp://user@" in agent
    assert f"{PASSWORD_VARIABLE}=" in agent


@pytest.mark.parametrize("unit", UNITS, ids=[unit.stem for unit in UNITS])
def test_systemd_verifies_each_unit_without_a_word(unit: Path, tmp_path: Path) -> None:
    verified = _verify(unit, tmp_path)
    # An unknown or misspelt key is only a warning to systemd: any output at all fails here.
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


def test_a_misspelt_unit_fails_the_check(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "doorstep-serve.service"
    broken.parent.mkdir()
    broken.write_text(UNITS[1].read_text().replace("ProtectSystem=", "ProtectSytem="))
    verified = _verify(broken, tmp_path)
    assert "ProtectSytem" in verified.stderr


def _compose_config(path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in COMPOSE_SECRETS}
    return subprocess.run(
        [_tool("docker-compose"), "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**clean, **environment},
    )


def test_compose_validates_and_refuses_to_start_without_its_secrets() -> None:
    checked = _compose_config(COMPOSE, COMPOSE_SECRETS)
    assert checked.returncode == 0, checked.stderr
    missing = _compose_config(COMPOSE, {})
    assert missing.returncode != 0
    assert "DOORSTEP_MASTER_KEY" in missing.stderr or "POSTGRES_PASSWORD" in missing.stderr


def test_compose_has_the_whole_scale_out_stack() -> None:
    text = COMPOSE.read_text()
    services = re.findall(r"^  ([a-z]+):$", text.split("\nservices:\n", 1)[1], re.MULTILINE)
    assert set(services) >= {
        "postgres",
        "seaweedfs",
        "mosquitto",
        "redis",
        "coturn",
        "serve",
        "worker",
    }
    for part in ("mosquitto.conf", "s3.json", "example.env"):
        assert (COMPOSE.parent / part).is_file(), part


def test_the_relay_denies_what_the_readmes_relay_command_denies() -> None:
    def denied(text: str, prefix: str) -> set[str]:
        return set(re.findall(rf"^\s*{prefix}denied-peer-ip=([0-9a-f:.-]+)", text, re.MULTILINE))

    readme = (ROOT / "README.md").read_text().replace(" --", "\n--")
    relay = (COMPOSE.parent / "turnserver.conf").read_text()
    assert denied(readme, "--") == denied(relay, "")
    # IPv4-mapped, NAT64, IETF protocol assignments, benchmarking and reserved, among the rest.
    assert {
        "::ffff:0.0.0.0-::ffff:255.255.255.255",
        "64:ff9b::-64:ff9b::ffff:ffff",
        "192.0.0.0-192.0.0.255",
        "198.18.0.0-198.19.255.255",
        "240.0.0.0-255.255.255.255",
        "10.0.0.0-10.255.255.255",
    } <= denied(relay, "")


def test_the_relay_secret_is_never_a_command_line_argument() -> None:
    text = COMPOSE.read_text()
    assert "--static-auth-secret" not in text
    relay = (COMPOSE.parent / "turnserver.conf").read_text()
    assert re.search(r"^static-auth-secret", relay, re.MULTILINE) is None
    coturn = text.split("\n  coturn:\n", 1)[1].split("\n\n", 1)[0]
    assert "./turnserver.conf:/etc/coturn/turnserver.conf:ro" in coturn
    assert "umask 077" in coturn
    assert '"$$TURN_SECRET"' in coturn


def test_the_broker_asks_every_client_to_log_in_and_is_reached_from_outside_over_tls() -> None:
    config = set((COMPOSE.parent / "mosquitto.conf").read_text().splitlines())
    assert "allow_anonymous false" in config
    assert "password_file /mosquitto/config/mosquitto.passwd" in config
    assert "acl_file /mosquitto/config/mosquitto.acl" in config
    text = COMPOSE.read_text()
    assert re.search(r"^\s+- \"[0-9.:]*1883:", text, re.MULTILINE) is None
    mosquitto = text.split("\n  mosquitto:\n", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r'^\s+- "(.*)"$', mosquitto, re.MULTILINE) == ["8883:8883"]


def test_the_trusted_proxy_is_the_pinned_networks_gateway() -> None:
    text = COMPOSE.read_text()
    subnet = ipaddress.ip_network(re.findall(r"- subnet: (\S+)", text)[0])
    gateway = ipaddress.ip_address(re.findall(r"gateway: (\S+)", text)[0])
    trusted = re.findall(r"DOORSTEP_TRUSTED_PROXIES: \$\{DOORSTEP_TRUSTED_PROXIES:-(\S+)\}", text)
    assert trusted == [str(gateway)]
    assert gateway in subnet


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doorstep.example")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


def _nginx_test(site: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cert, key = _self_signed(tmp_path)
    site = re.sub(r"ssl_certificate (\S+);", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key (\S+);", f"ssl_certificate_key {key};", site)
    (tmp_path / "doorstep.conf").write_text(site)
    (tmp_path / "logs").mkdir(exist_ok=True)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  include {tmp_path}/doorstep.conf;\n}}\n"
    )
    return subprocess.run(
        [_tool("nginx"), "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_nginx_accepts_the_proxy_config(tmp_path: Path) -> None:
    checked = _nginx_test(NGINX.read_text(), tmp_path)
    assert checked.returncode == 0, checked.stderr
    broken = _nginx_test(
        NGINX.read_text().replace("proxy_buffering off;", "proxy_buffering;"), tmp_path
    )
    assert broken.returncode != 0


def test_the_proxy_matches_the_settings() -> None:
    text = NGINX.read_text()
    defaults = Settings()
    assert f"client_max_body_size {defaults.max_upload_mb}m;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    # Server-sent events and long-polls are passed on as they come.
    events = text.split("location = /api/v1/events {", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in events
    devices = text.split("location /api/v1/devices/ {", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in devices


def test_the_proxy_keeps_nothing_on_its_disk() -> None:
    server = NGINX.read_text().split("listen 443", 1)[1].split("    location ", 1)[0]
    directives = {line.strip() for line in server.splitlines()}
    # Neither uploads (client_body_temp) nor answers (proxy_temp) are spooled to a file.
    assert {"proxy_request_buffering off;", "proxy_max_temp_file_size 0;"} <= directives
    assert "proxy_request_buffering on;" not in NGINX.read_text()
    assert "client_body_in_file_only" not in NGINX.read_text()


def _deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file())


def test_every_doorstep_variable_named_is_a_setting() -> None:
    settings = {f"DOORSTEP_{name.upper()}" for name in Settings.model_fields}
    # The agent's own, read by `doorstep agent` rather than the server's settings.
    settings |= {PASSWORD_VARIABLE, "DOORSTEP_AGENT_MQTT_URL"}
    named = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in _deploy_files()
        for name in re.findall(r"\bDOORSTEP_[A-Z0-9_]+", path.read_text())
    }
    assert len({name for _, name in named}) >= 10
    assert {(path, name) for path, name in named if name not in settings} == set()


def _copied(containerfile: str) -> list[str]:
    sources = []
    for line in containerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from=") for w in words):
            sources += words[1:-1]
    return sources


def _debian_packages(text: str, command: str) -> set[str]:
    packages: set[str] = set()
    for line in text.splitlines():
        if command in line:
            after = line.split(command, 1)[1]
            packages |= {w for w in after.split() if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w)}
    return packages


def test_the_containerfile_copies_what_exists_and_installs_what_the_scripts_do() -> None:
    text = CONTAINERFILE.read_text()
    sources = _copied(text)
    assert {"pyproject.toml", "src", "package-lock.json", "scripts/_setup.sh"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
    assert "FROM docker.io/library/python:3.11-slim" in text
    assert "USER doorstep" in text
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    in_image = _debian_packages(text, "apt-get install -y --no-install-recommends")
    demo = _debian_packages((ROOT / "scripts" / "demo.sh").read_text(), "ensure_debian_packages")
    assert in_image == demo == {"libgl1", "libglib2.0-0"}
