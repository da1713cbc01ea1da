"""`doorstep doctor`: checks the machine and the settings, one line per part, with the fix.

Each check reaches the real thing as Doorstep would (the database, the blob store, the broker,
the relay …) with a short timeout, writes nothing a user could see and sends nothing. A part
the settings leave off is said to be off, with what turns it on.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import shutil
import smtplib
import socket
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError

from doorstep.errors import ConfigurationError
from doorstep.platform import mail
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.bus.topics import parse_broker
from doorstep.platform.db import make_engine
from doorstep.platform.migrate import alembic_config
from doorstep.settings import Settings

#: Seconds each network check waits before it calls a part unreachable.
TIMEOUT = 5.0
#: Free space below which the data folder is a warning: clips and the database grow there.
LOW_DISK_BYTES = 1 << 30
STATIC_VENDOR = Path(__file__).parent / "static" / "vendor" / ".installed"


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


def _python() -> Finding:
    # Doorstep installs only on 3.11 and newer (pyproject's requires-python).
    return Finding("python", "ok", ".".join(map(str, sys.version_info[:3])))


def _data_folder(settings: Settings) -> Finding:
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".doctor-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        return Finding(
            "data folder",
            "fail",
            f"{folder}: {err.strerror or err}",
            "make it writable by Doorstep",
        )
    free = shutil.disk_usage(folder).free
    seen = f"{folder}, {free / (1 << 30):.1f} GiB free"
    if free < LOW_DISK_BYTES:
        return Finding("data folder", "warn", seen, "free some space: clips are kept here")
    return Finding("data folder", "ok", seen)


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
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, query, ""))


def _database(settings: Settings) -> Finding:
    where = shown(settings.resolved_database_url)
    fix = "check DOORSTEP_DATABASE_URL and the server"
    try:
        url = make_url(settings.resolved_database_url)
        if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
            url = url.update_query_dict({"connect_timeout": str(int(TIMEOUT))})
        engine = make_engine(url.render_as_string(hide_password=False))
    except (ArgumentError, ValueError):
        return Finding("database", "fail", f"{where}: not a database URL", fix)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as err:  # noqa: BLE001 - any driver error is the finding itself
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        return Finding("database", "fail", f"{where}: {reason}", fix)
    finally:
        engine.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if current != heads:
        return Finding(
            "database",
            "warn",
            f"{where}: not at the latest schema",
            "`doorstep migrate` (serve does it too)",
        )
    return Finding("database", "ok", f"{where}, schema up to date")


def _blobs(settings: Settings) -> Finding:
    where = (settings.s3_endpoint_url or "AWS") if settings.blob_store == "s3" else "data folder"
    key = f"doctor/{secrets.token_hex(8)}"
    try:
        store = make_blob_store(settings)
        store.put(key, io.BytesIO(b"doorstep"))
        read = store.read_at(key, 0, 8)
        store.delete(key)
    except Exception as err:  # noqa: BLE001 - any client error is the finding itself
        return Finding(
            "blob store",
            "fail",
            f"{settings.blob_store} ({where}): {str(err).splitlines()[0] if str(err) else err!r}",
            "check the DOORSTEP_S3_* settings and that the bucket exists"
            if settings.blob_store == "s3"
            else "make the data folder writable",
        )
    if read != b"doorstep":
        return Finding("blob store", "fail", f"{settings.blob_store}: read back something else")
    return Finding("blob store", "ok", f"{settings.blob_store} ({where}), write, read and delete")


def _model(part: str, locate: Callable[[], Path]) -> Finding:
    try:
        where = locate()
    except ConfigurationError as err:
        detail, _, fix = err.detail.partition("; ")
        return Finding(part, "fail", detail, fix)
    return Finding(part, "ok", str(where))


def _models() -> list[Finding]:
    # Imported here: the rest of the doctor runs (and says so) without the media libraries.
    try:
        from doorstep.media import installed
    except ImportError as err:
        fix = "reinstall Doorstep: `pip install .`"
        return [Finding("media", "fail", f"cannot load the video libraries: {err}", fix)]
    return [
        _model("face model", installed.face_model),
        _model("object model", installed.object_model),
    ]


def _tcp(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=TIMEOUT):
        pass


def _mqtt(settings: Settings) -> Finding:
    if not settings.mqtt_url:
        return Finding(
            "mqtt", "off", "events stay in this process", "set DOORSTEP_MQTT_URL to share them"
        )
    try:
        host, port = parse_broker(settings.mqtt_url)
        _mqtt_connect(host, port)
    except ConfigurationError:
        return Finding(
            "mqtt",
            "fail",
            f"{shown(settings.mqtt_url)}: not mqtt://host:port",
            "fix DOORSTEP_MQTT_URL",
        )
    except OSError as err:
        return Finding(
            "mqtt",
            "fail",
            f"{shown(settings.mqtt_url)}: {err.strerror or err}",
            "is the broker running?",
        )
    return Finding("mqtt", "ok", f"{host}:{port} accepted a connection")


def _mqtt_connect(host: str, port: int) -> None:
    """An MQTT 3.1.1 CONNECT with a clean session; OSError unless the broker accepts it."""
    client_id = f"doorstep-doctor-{secrets.token_hex(4)}".encode()
    variable = b"\x00\x04MQTT\x04\x02\x00\x0a"
    payload = struct.pack("!H", len(client_id)) + client_id
    body = variable + payload
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(b"\x10" + bytes([len(body)]) + body)
        answer = sock.recv(4)
        if len(answer) < 4 or answer[0] != 0x20:
            raise OSError("the broker did not answer as MQTT does")
        if answer[3] != 0:
            raise OSError(f"the broker refused the connection (code {answer[3]})")
        sock.sendall(b"\xe0\x00")


def _queue(settings: Settings) -> Finding:
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


def _smtp(settings: Settings) -> Finding:
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


def _turn(settings: Settings) -> Finding:
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


def _maps() -> Finding:
    if not STATIC_VENDOR.is_file():
        return Finding(
            "map library",
            "warn",
            "not installed: pages show plain forms and outline maps",
            "run `bash scripts/demo.sh` or `npm ci` and the setup's copy step",
        )
    return Finding("map library", "ok", "installed in Doorstep's own static files")


def _base_map(settings: Settings) -> Finding:
    from doorstep.errors import NotFound
    from doorstep.maps import service as maps

    found = maps.base_map(settings)
    if found is not None:
        zooms = f"zooms {found.min_zoom}-{found.max_zoom}"
        return Finding("base map", "ok", f"{settings.base_map_path}, {found.tile_type}, {zooms}")
    try:
        maps.archive(settings)
        reason = "cannot be served"
    except NotFound as err:
        reason = err.detail
    return Finding(
        "base map",
        "warn",
        f"{settings.base_map_path}: {reason}; maps show no streets",
        "drop in an OpenStreetMap extract (README, Maps) or set DOORSTEP_BASE_MAP",
    )


def _address_search(settings: Settings) -> Finding:
    from doorstep.errors import DoorstepError
    from doorstep.maps import service as maps

    found = maps.geocoder(settings)
    if found is None:
        return Finding(
            "address search",
            "off",
            "homes are placed by a click on the map",
            "set DOORSTEP_GEOCODER_URL to a Nominatim-compatible service",
        )
    if not settings.geocoder_url:
        return Finding("address search", "ok", "the data folder's gazetteer")
    try:
        # A fixed query: the check sends the service nothing about anyone.
        found.search("Main Street")
    except DoorstepError as err:
        return Finding(
            "address search",
            "fail",
            f"{shown(settings.geocoder_url)}: {err.detail}",
            "check DOORSTEP_GEOCODER_URL",
        )
    return Finding("address search", "ok", f"{shown(settings.geocoder_url)} answers")


def examine(settings: Settings) -> list[Finding]:
    """Every finding, in the order a person fixes them."""
    return [
        _python(),
        _data_folder(settings),
        _database(settings),
        _blobs(settings),
        *_models(),
        _maps(),
        _base_map(settings),
        _address_search(settings),
        _mqtt(settings),
        _queue(settings),
        _smtp(settings),
        _turn(settings),
    ]


def main(settings: Settings, argv: Sequence[str], out: TextIO | None = None) -> int:
    """Print the findings (``--json`` for a program); 1 when any part fails."""
    out = out or sys.stdout
    # Alembic says which database kind it found, twice per look: the findings say it already.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    findings = examine(settings)
    if "--json" in argv:
        out.write(json.dumps([asdict(f) for f in findings], indent=2) + "\n")
    else:
        for finding in findings:
            out.write(finding.line() + "\n")
    failed = [f for f in findings if f.state == "fail"]
    if "--json" not in argv:
        out.write(
            f"{len(failed)} part(s) need fixing.\n"
            if failed
            else "Everything Doorstep needs is here.\n"
        )
    return 1 if failed else 0
