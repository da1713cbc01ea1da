"""``doorstep witness``: run a witness for a Doorstep audit log (or any C2SP checkpoint log)."""

from __future__ import annotations

import argparse
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import httpx

from doorstep.errors import DoorstepError
from doorstep.transparency.note import (
    VerifierKey,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    verified_by,
)
from doorstep.witness.server import Witness, make_server
from doorstep.witness.state import WitnessState

log = logging.getLogger(__name__)


def _default_state() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "doorstep" / "witness"


def parser() -> argparse.ArgumentParser:
    """The witness's options."""
    p = argparse.ArgumentParser(
        prog="doorstep witness",
        description="Cosign a log's checkpoints (C2SP tlog-witness POST /add-checkpoint) only "
        "while the log grows: a shorter or forked log is refused, even signed by its own key.",
    )
    p.add_argument("--log", required=True, help="the log's address, e.g. https://doorstep.example")
    p.add_argument(
        "--key", required=True, help="the log's verifier key (doorstep audit key prints it)"
    )
    p.add_argument("--listen", default="127.0.0.1:8787", help="HOST:PORT to serve on")
    p.add_argument("--state", type=Path, default=None, help="folder for its key and checkpoints")
    p.add_argument(
        "--name", default=f"witness.{socket.gethostname()}", help="this witness's key name"
    )
    return p


def look_at_log(url: str, key: VerifierKey) -> str:
    """What the log serves now, checked: one line for the operator (the log is not trusted)."""
    try:
        response = httpx.get(url.rstrip("/") + "/checkpoint", timeout=10)
        response.raise_for_status()
        note = parse_note(response.text)
        if not verified_by(note, [key]):
            return f"the log at {url} serves a checkpoint its key did not sign"
        checkpoint = parse_checkpoint(note.text)
    except (httpx.HTTPError, DoorstepError) as err:
        return f"could not read the log's checkpoint at {url}: {err}"
    return f"the log at {url} serves {checkpoint.origin} at size {checkpoint.size}"


def main_witness(argv: Sequence[str]) -> int:
    """Run the witness until interrupted."""
    args = parser().parse_args(list(argv))
    try:
        key = parse_verifier_key(args.key)
    except DoorstepError as err:
        print(f"doorstep witness: --key: {err.detail}")
        return 2
    host, _, port = args.listen.rpartition(":")
    try:
        state = WitnessState(args.state or _default_state(), args.name)
    except DoorstepError as err:
        print(f"doorstep witness: {err.detail}")
        return 2
    witness = Witness(state, [key])
    server = make_server(witness, host or "127.0.0.1", int(port))
    print(f"witness key: {witness.key.encode()}", flush=True)
    print(look_at_log(args.log, key), flush=True)
    print(f"cosigning {key.name} at http://{args.listen}/add-checkpoint", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 130
    finally:
        server.server_close()
    return 0
