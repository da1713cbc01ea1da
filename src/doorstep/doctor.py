"""`doorstep doctor`: checks the machine and the settings, one line per part, with the fix.

Each check reaches the real thing as Doorstep would (the database, the blob store, the broker,
the relay …) with a short timeout, writes nothing a user could see and sends nothing. A part
the settings leave off is said to be off, with what turns it on.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError

from doorstep import doctor_media as media_libraries
from doorstep import doctor_services as services
from doorstep.doctor_services import TIMEOUT, Finding, shown
from doorstep.errors import ConfigurationError
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.db import make_engine
from doorstep.platform.migrate import alembic_config
from doorstep.settings import Settings

#: Free space below which the data folder is a warning: clips and the database grow there.
LOW_DISK_BYTES = 1 << 30
STATIC_VENDOR = Path(__file__).parent / "static" / "vendor" / ".installed"


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
    opencv = media_libraries.opencv()
    if opencv.state == "fail":
        # The models cannot be looked at without OpenCV: the one line says why.
        return [opencv]
    # Imported here: the rest of the doctor runs (and says so) without the media libraries.
    try:
        from doorstep.media import installed
    except ImportError as err:
        fix = "reinstall Doorstep: `pip install .`"
        return [opencv, Finding("media", "fail", f"cannot load the video libraries: {err}", fix)]
    return [
        opencv,
        _model("face model", installed.face_model),
        _model("object model", installed.object_model),
    ]


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
        services.mqtt(settings),
        services.queue(settings),
        services.smtp(settings),
        services.turn(settings),
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
