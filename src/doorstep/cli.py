"""`doorstep`: serve, demo, migrate, scan, detect, admin."""

from __future__ import annotations

import argparse
import gc
import getpass
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from doorstep import __version__
from doorstep.cli_admin import add_admin_parsers
from doorstep.cli_audit import add_audit_parser
from doorstep.errors import DoorstepError


def app_from_env() -> object:
    """Uvicorn factory for `doorstep serve`: settings from the environment, migrations done."""
    from doorstep.app import create_app
    from doorstep.settings import Settings

    app = create_app(Settings(), run_migrations=False)
    # What exists now (modules, routes, the ORM's mappings) lives as long as the server. Kept out
    # of the collector's view, each full collection walks only what requests made, and pauses
    # every request in the process for that much less.
    gc.collect()
    gc.freeze()
    return app


def _serve(host: str, port: int, workers: int, *, quiet: bool = False) -> int:
    import uvicorn

    from doorstep.platform.http import serving

    os.environ["DOORSTEP_HOST"], os.environ["DOORSTEP_PORT"] = host, str(port)
    # Whatever the server or a library it calls writes is the operator's alone (the data
    # folder's own files are made private explicitly too, platform/folders.py).
    os.umask(0o077)
    if workers > 1 and serving.balanced():
        return serving.serve_workers(host, port, workers)
    from doorstep.settings import Settings

    options = serving.uvicorn_options(Settings(), quiet=quiet)
    if workers > 1:
        # Not Linux: uvicorn's own supervisor of several processes.
        uvicorn.run(
            "doorstep.cli:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **options,
        )
        return 0
    config = uvicorn.Config(
        "doorstep.cli:app_from_env", factory=True, host=host, port=port, **options
    )
    server = serving.stopping_server(config)
    server.run()
    # As uvicorn.run: an app that could not be built (bad settings, a service away) is a failure.
    return 0 if server.started else 3


def cmd_serve(args: argparse.Namespace) -> int:
    """Run migrations, then the web server."""
    from doorstep.master_key import load_master_key, rotation_pending
    from doorstep.platform import keycheck
    from doorstep.platform.db import Database
    from doorstep.platform.migrate import migrate
    from doorstep.platform.observe import logs
    from doorstep.settings import Settings

    settings = Settings()
    # Every line `serve` writes, the migrations' included, in the operator's format.
    logs.configure(settings.log_format)
    master_key = load_master_key(settings)
    db = Database(settings.resolved_database_url)
    migrate(db.engine)
    try:
        with db.session() as session:
            # A wrong master key stops the start here, in one line (doorstep.platform.keycheck).
            keycheck.check(session, master_key, rotation_pending=rotation_pending(settings))
    finally:
        db.dispose()
    from doorstep.platform.http import serving

    try:
        metrics = serving.start_metrics(settings)
    except (OSError, ValueError) as err:
        print(f"doorstep serve: cannot serve metrics on DOORSTEP_METRICS_BIND: {err}")
        return 3
    try:
        return _serve(args.host or settings.host, args.port or settings.port, args.workers)
    finally:
        if metrics is not None:
            metrics.stop()


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the demo neighbourhood on the embedded default."""
    from doorstep.demo import run as demo
    from doorstep.demo._witness import start_witness

    # A person reads this console: the banner, the phone's pushes and anything that goes wrong;
    # every request and step as `serve` logs them only with --verbose.
    logging.getLogger().setLevel(logging.INFO if args.verbose else logging.WARNING)
    data_dir = Path(args.data_dir).resolve()
    demo.prepare_folder(data_dir, reset=args.reset)
    settings = demo.demo_settings(data_dir, host=args.host, port=args.port)
    # The server processes read settings from the environment; make it the demo's, whole.
    ignored = tuple(sorted(key for key in os.environ if key.startswith("DOORSTEP_")))
    for name in ignored:
        del os.environ[name]
    os.environ["DOORSTEP_DATA_DIR"] = str(data_dir)
    # The demo's phone listens on loopback, which `serve` refuses as a push endpoint.
    os.environ["DOORSTEP_PUSH_ALLOW_LOOPBACK"] = "true"
    print(
        "Preparing the demo neighbourhood (its first start takes a minute or two) ...", flush=True
    )
    demo.seed(settings)
    doorbells = demo.prepare_doorbells(settings)
    print(demo.banner(settings, ignored), flush=True)
    if args.seed_only:
        return 0
    phone = demo.start_phone(settings)
    witness = start_witness(settings)
    stop = threading.Event()
    url = f"http://{args.host}:{args.port}"
    doorbells_thread = threading.Thread(
        target=demo.run_doorbells, args=(url, doorbells, stop), name="doorbells", daemon=True
    )
    doorbells_thread.start()
    try:
        return _serve(args.host, args.port, 1, quiet=not args.verbose)
    finally:
        stop.set()
        phone.stop()
        witness.shutdown()
        doorbells_thread.join(demo.AGENT_STOP_SECONDS * 2)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the machine and the settings, one line per part."""
    from doorstep.doctor import main as doctor
    from doorstep.settings import Settings

    return doctor(Settings(), ["--json"] if args.json else [])


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    from doorstep.platform.db import Database
    from doorstep.platform.migrate import migrate
    from doorstep.settings import Settings

    settings = Settings()
    db = Database(settings.resolved_database_url)
    migrate(db.engine)
    db.dispose()
    print(f"database is up to date ({db.engine.url.render_as_string(hide_password=True)})")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create an account with any role (for staff, agencies and first admins)."""
    from doorstep.accounts.roles import Role
    from doorstep.accounts.service import create_user
    from doorstep.geo.cells import parse_coordinates
    from doorstep.platform.db import Database
    from doorstep.platform.migrate import migrate
    from doorstep.settings import Settings

    password = os.environ.get("DOORSTEP_NEW_PASSWORD") or getpass.getpass("Password: ")
    settings = Settings()
    db = Database(settings.resolved_database_url)
    migrate(db.engine)
    with db.session() as session:
        user = create_user(
            session,
            email=args.email,
            password=password,
            display_name=args.name,
            home=parse_coordinates(args.home) if args.home else None,
            cell_resolution=settings.public_cell_resolution,
            role=Role(args.role),
        )
        print(f"created {user.role} {user.email} ({user.id})")
    db.dispose()
    return 0


def cmd_new_key(_args: argparse.Namespace) -> int:
    """Print a fresh master key for DOORSTEP_MASTER_KEY."""
    from doorstep.master_key import new_master_key

    print(new_master_key())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    from doorstep.accounts.roles import Role

    parser = argparse.ArgumentParser(
        prog="doorstep", description="Neighbourhood video doorbells that respect people."
    )
    parser.add_argument("--version", action="version", version=f"doorstep {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web server (migrates first)")
    serve.add_argument("--host", default="", help="address to listen on (DOORSTEP_HOST)")
    serve.add_argument("--port", type=int, default=0, help="port (DOORSTEP_PORT)")
    serve.add_argument("--workers", type=int, default=1, help="number of API processes")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="run the demo neighbourhood at http://127.0.0.1:8000")
    demo.add_argument("--reset", action="store_true", help="delete the demo data and start over")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", default="doorstep-demo", help="the demo's own folder")
    demo.add_argument("--seed-only", action="store_true", help="prepare the demo data and exit")
    demo.add_argument(
        "--verbose", action="store_true", help="log every request and step, as serve does"
    )
    demo.set_defaults(func=cmd_demo)

    doctor = sub.add_parser(
        "doctor", help="check the machine and settings: each part, what is wrong, how to fix it"
    )
    doctor.add_argument("--json", action="store_true", help="print JSON instead of lines")
    doctor.set_defaults(func=cmd_doctor)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    # `scan` parses its own arguments (see main); listed here so `doorstep --help` shows it.
    sub.add_parser("scan", help="find motion events in a video file (doorstep scan --help)")
    sub.add_parser(
        "detect", help="list the objects on a video's frames (doorstep detect VIDEO --json)"
    )
    sub.add_parser(
        "worker", help="run background jobs from the task queue (doorstep worker --help)"
    )
    sub.add_parser(
        "evidence", help="check a downloaded evidence file (doorstep evidence verify FILE)"
    )
    sub.add_parser("redact", help="blur the faces in a video file (doorstep redact IN OUT)")
    sub.add_parser(
        "agent", help="pair and run the camera agent (doorstep agent pair --help, agent --help)"
    )

    sub.add_parser(
        "witness", help="cosign a log's checkpoints while it only grows (doorstep witness --help)"
    )

    add_audit_parser(sub)

    admin = sub.add_parser("admin", help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    create = admin_sub.add_parser("create-user", help="create an account with a role")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", choices=[role.value for role in Role], default="resident")
    create.add_argument("--home", help="'lat, lon' (optional)")
    create.set_defaults(func=cmd_create_user)
    new_key = admin_sub.add_parser("new-key", help="print a new random master key")
    new_key.set_defaults(func=cmd_new_key)
    add_admin_parsers(admin_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `doorstep` command."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # One line per HTTP call the agents make would drown everything worth reading.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic lists every plugin it loads at each start: seven lines that say nothing to anyone.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    args_list = list(sys.argv[1:] if argv is None else argv)
    # These commands parse their own arguments; they live in the rooms that own them.
    if args_list[:1] == ["scan"]:
        from doorstep.media.scan import main_scan

        return int(main_scan(args_list[1:]))
    if args_list[:1] == ["detect"]:
        from doorstep.media.scan import main_detect

        return int(main_detect(args_list[1:]))
    if args_list[:1] == ["worker"]:
        from doorstep.worker import main_worker

        return int(main_worker(args_list[1:]))
    if args_list[:1] == ["evidence"]:
        from doorstep.transparency.evidence import main_evidence

        return int(main_evidence(args_list[1:]))
    if args_list[:1] == ["redact"]:
        from doorstep.media.redact import main_redact

        return int(main_redact(args_list[1:]))
    if args_list[:1] == ["witness"]:
        from doorstep.witness.cli import main_witness

        return int(main_witness(args_list[1:]))
    if args_list[:1] == ["agent"]:
        from doorstep.agent.cli import main_agent

        return int(main_agent(args_list[1:]))
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        result: int = args.func(args)
    except ValidationError as err:
        print(f"doorstep: invalid settings:\n{err}", file=sys.stderr)
        return 2
    except DoorstepError as err:
        print(f"doorstep: {err.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
