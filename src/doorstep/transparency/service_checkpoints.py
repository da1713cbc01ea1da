"""Checkpoints: sign the log's state as a C2SP note, ask the witnesses to cosign, serve the result.

Witnesses are asked outside any lock and any transaction: a checkpoint is a statement about one
size and root, true whenever it is made, and a slow witness must not hold the log still. Two
publishers at once cost one of them a 409 from each witness, nothing more.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.errors import DoorstepError
from doorstep.master_key import load_master_key
from doorstep.platform.db import Database
from doorstep.platform.http.state import AppState
from doorstep.platform.migrate import migrate
from doorstep.settings import Settings
from doorstep.transparency import checkpoint_store as store
from doorstep.transparency.audit_store import leaf_hashes, record
from doorstep.transparency.merkle import consistency_proof
from doorstep.transparency.models import AuditEntry
from doorstep.transparency.note import (
    Checkpoint,
    Note,
    Signature,
    VerifierKey,
    add_checkpoint_request,
    parse_signature_lines,
    signed_checkpoint,
    verifier_for,
)
from doorstep.transparency.rules_witnesses import (
    KEY_ROTATION,
    WitnessConfig,
    log_origin,
    parse_witnesses,
    rotation_detail,
    verified_cosignature,
)

log = logging.getLogger(__name__)

#: How long one witness may take to answer.
WITNESS_TIMEOUT_SECONDS = 10.0


def origin(settings: Settings) -> str:
    """The origin line of this log's checkpoints."""
    return log_origin(settings.audit_origin, settings.public_url)


def log_key(settings: Settings) -> VerifierKey:
    """The verifier key of the log's checkpoints, named by its origin."""
    return verifier_for(origin(settings), store.signing_key(settings.data_dir))


def witnesses(settings: Settings) -> list[WitnessConfig]:
    """The witnesses configured (a bad setting is a clear error, at start and here)."""
    return parse_witnesses(settings.witnesses)


def check_settings(settings: Settings) -> None:
    """Refuse to start on a witness list or an origin that cannot work, with the reason."""
    witnesses(settings)
    verifier_for(origin(settings), bytes(32))


def _ask(db: Session, witness: WitnessConfig, note: Note, size: int) -> Signature | None:
    """One witness's cosignature on ``note``, or ``None`` (logged) if it gave none."""
    old = store.last_cosigned_size(db, witness.key.name)
    for _ in range(2):  # a 409 tells the size it knows: one more try from there
        proof = consistency_proof(old, size, leaf_hashes(db, size).__getitem__) if old else []
        body = add_checkpoint_request(old, proof, note.encode())
        try:
            answer = httpx.post(
                witness.url + "/add-checkpoint", content=body, timeout=WITNESS_TIMEOUT_SECONDS
            )
        except httpx.HTTPError as err:
            log.warning("witness %s unreachable: %s", witness.key.name, err)
            return None
        if answer.status_code == 409 and answer.text.strip().isdigit():
            known = int(answer.text.strip())
            if known > size or known == old:
                break
            old = known
            continue
        if answer.status_code != 200:
            log.warning(
                "witness %s refused: %s %s", witness.key.name, answer.status_code, answer.text
            )
            return None
        try:
            lines = parse_signature_lines(answer.text)
        except DoorstepError:
            return None
        # Only the line that verifies counts: another line under the witness's name proves nothing.
        return verified_cosignature(note.text, lines, witness.key)
    log.warning("witness %s knows a size this log cannot extend from", witness.key.name)
    return None


def publish_checkpoint(state: AppState) -> int:
    """Sign the log's current state, gather the witnesses' cosignatures and keep the checkpoint.

    Returns how many witnesses cosigned.
    """
    settings = state.settings
    with state.db.session() as db:
        size, root = store.current_tree(db)
        last = store.checkpoints(db, 1)
    if last and last[0].size == size and len(last[0].cosigners) >= len(witnesses(settings)):
        return len(last[0].cosigners)
    note = signed_checkpoint(
        Checkpoint(origin(settings), size, root),
        origin(settings),
        store.signing_key(settings.data_dir),
    )
    with state.db.session() as db:
        cosigs = [sig for w in witnesses(settings) if (sig := _ask(db, w, note, size)) is not None]
    full = Note(note.text, note.signatures + tuple(cosigs))
    with state.db.session() as db:
        store.keep(db, size, root, full.encode(), [sig.name for sig in cosigs])
    return len(cosigs)


def served_checkpoint(state: AppState, db: Session) -> str | None:
    """The newest checkpoint with at least the quorum of cosignatures, as ``/checkpoint`` serves it.

    With no quorum: the one kept of the current size (with whatever cosignatures it got), else
    the log's current state signed by its key alone.
    """
    quorum = state.settings.witness_quorum
    # A GET never holds the log nor writes: the state row read as committed is one size and
    # its frontier, consistent with itself.
    size, root = store.latest_tree(db)
    note = store.served(db, quorum, size)
    if note is not None:
        return note
    if quorum:
        return None
    name = origin(state.settings)
    key = store.signing_key(state.settings.data_dir)
    return signed_checkpoint(Checkpoint(name, size, root), name, key).encode()


@dataclass(frozen=True, slots=True)
class WitnessStatus:
    """A witness as the transparency page lists it."""

    name: str
    key: str
    url: str
    cosigned_size: int


def witness_statuses(settings: Settings, db: Session) -> list[WitnessStatus]:
    """Each configured witness and the largest size it cosigned."""
    return [
        WitnessStatus(w.key.name, w.key.encode(), w.url, store.last_cosigned_size(db, w.key.name))
        for w in witnesses(settings)
    ]


def _named_by_log(settings: Settings, db: Session, private: bytes) -> bool:
    """Whether the log's newest key rotation names ``private``'s key as the one in use."""
    query = (
        select(AuditEntry.body)
        .where(AuditEntry.action == KEY_ROTATION)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    body = db.scalar(query)
    detail = json.loads(body).get("detail", {}) if body else {}
    return bool(detail.get("new_key") == verifier_for(origin(settings), private).encode())


def finish_rotation(settings: Settings, database: Database) -> bool:
    """At start: put in use a next key the log already names, if a rotation stopped half-way."""
    new = store.pending_key(settings.data_dir)
    if new is None:
        return False
    with database.session() as db:
        if not _named_by_log(settings, db, new):
            return False
    store.switch_key(settings.data_dir, log_key(settings).key_id.hex())
    log.warning("finished a checkpoint key rotation the log already recorded")
    return True


def rotate_key(settings: Settings, database: Database, master_key: bytes) -> VerifierKey:
    """Retire the checkpoint key for a new one, through a log entry the old key signed.

    The entry is committed before the new key signs anything, so no checkpoint of the new key
    exists that a verifier could not reach from the old one. Run again after a crash, it reuses
    the next key made and records no second entry for it.
    """
    old = store.signing_key(settings.data_dir)
    new = store.next_key(settings.data_dir)
    with database.session() as db:
        if not _named_by_log(settings, db, new):
            detail = rotation_detail(origin(settings), old, new)
            record(db, master_key, KEY_ROTATION, actor=None, owner_id=None, detail=detail)
    store.switch_key(settings.data_dir, log_key(settings).key_id.hex())
    return log_key(settings)


def key_command(*, rotate: bool) -> int:
    """``doorstep audit key`` and ``rotate-key``: print the origin and the key in use."""
    settings = Settings()
    if rotate:
        database = Database(settings.resolved_database_url)
        try:
            migrate(database.engine)
            key = rotate_key(settings, database, load_master_key(settings))
        finally:
            database.dispose()
    elif not (settings.data_dir / store.KEY_FILE).exists():
        # Making one here would print a key no server signs with: someone might pin it.
        print(
            f"doorstep audit key: no checkpoint key in {settings.data_dir}: run this where the "
            "server keeps its data (DOORSTEP_DATA_DIR), or read the key on its /transparency page",
            file=sys.stderr,
        )
        return 2
    else:
        key = log_key(settings)
    print(f"origin: {key.name}\nverifier key: {key.encode()}")
    return 0
