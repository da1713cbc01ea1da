"""Disclosing: the agency's sealed copy, disclosures under a demand or an emergency, notices.

Footage leaves an owner without their consent only here, and only inside the scope the rules in
``legal/rules.py`` allow (I2): a warrant's devices and window, or an emergency two different
reviewers approved. Copies are redacted and watermarked unless a warrant orders otherwise (I4);
end-to-end encrypted clips never go out (I7); owners hear of every disclosure (I5).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import store as agencies
from doorstep.clips.models import Clip
from doorstep.clips.store import read_video
from doorstep.errors import InvalidInput, NotFound, PolicyRefused
from doorstep.legal import rules
from doorstep.legal import store as legal
from doorstep.legal.models import (
    DemandStatus,
    Disclosure,
    DisclosureBasis,
    EmergencyRequest,
    LegalDemand,
)
from doorstep.media.copies import Footage, seal_copy
from doorstep.platform.bus.memory import echo_event, notify_after_commit
from doorstep.platform.crypto import iter_decrypted_range, unwrap_key
from doorstep.platform.http.state import AppState
from doorstep.platform.keys import Keys
from doorstep.platform.scratch import scratch_folder
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import service_copies as redaction
from doorstep.requests.service_provenance import copy_provenance, operator_signing
from doorstep.transparency import audit_store as audit

# --- the agency's copy ---------------------------------------------------------------------------


def disclosure_key_context(disclosure_id: str) -> bytes:
    """Associated data binding a wrapped agency-copy key to its disclosure."""
    return b"doorstep disclosure " + disclosure_id.encode()


def make_copy(
    db: Session, keys: Keys, clip: Clip, row: Disclosure, *, case: str, unredacted: bool
) -> Disclosure:
    """Seal the watermarked copy the agency gets: redacted as for a share, unless ordered not."""
    lines = [f"{row.agency.name} - case {case}", f"Doorstep disclosure {row.id}"]
    with scratch_folder(keys, "disclosure") as folder:
        if unredacted:
            footage = Footage(read_video(db, keys, clip))
            lines[1] += " - unredacted by warrant"
        else:
            preview = redaction.redacted_preview(db, keys, clip)
            pieces = redaction.read_preview(keys, preview, 0, preview.size - 1)
            footage = Footage(pieces, preview.faces_found)
        provenance = copy_provenance(
            keys,
            clip,
            purpose="disclosure",
            reference=row.id,
            scope=row.demand_id or row.emergency_id or row.id,
            faces_redacted=not unredacted,
            faces_found=footage.faces_found,
            lines=lines,
        )
        sealed = seal_copy(
            footage,
            folder,
            lines=lines,
            blobs=keys.blobs,
            target=row.blob_key,
            master_key=keys.master,
            key_context=disclosure_key_context(row.id),
            provenance=provenance,
            signing=operator_signing(keys),
        )
    row.sha256 = sealed.sha256
    row.size = sealed.size
    row.faces_found = sealed.faces_found
    row.ciphertext_size = sealed.ciphertext_size
    row.wrapped_key = sealed.wrapped_key
    return row


def read_copy(keys: Keys, row: Disclosure, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` of a disclosed copy."""
    assert row.wrapped_key is not None
    key = unwrap_key(keys.master, row.wrapped_key, context=disclosure_key_context(row.id))

    def read_at(offset: int, length: int) -> bytes:
        return keys.blobs.read_at(row.blob_key, offset, length)

    return iter_decrypted_range(read_at, key, start, end, row.ciphertext_size)


# --- notices -------------------------------------------------------------------------------------


def _notice(
    db: Session, master_key: bytes, row: Disclosure, now: datetime
) -> tuple[str, dict[str, Any]]:
    legal.mark_notified(db, row, now)
    audit.record(
        db,
        master_key,
        "disclosure.notice",
        actor=None,
        owner_id=row.owner_id,
        detail={"disclosure": row.id, "basis": row.basis, "agency": row.agency.name},
    )
    event = {
        "type": "disclosure",
        "disclosure": {
            "id": row.id,
            "basis": row.basis,
            "what": row.what,
            "agency_name": row.agency.name,
            "url": "/disclosures/legal",
        },
    }
    return row.owner_id, event


def notify_due(db: Session, master_key: bytes, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Tell every owner whose notice is due by ``now``; returns the notices to deliver."""
    return [_notice(db, master_key, row, now) for row in legal.due_notices(db, now)]


def _notify_now(db: Session, master_key: bytes) -> None:
    now = utcnow()
    for owner_id, event in notify_due(db, master_key, now):
        notify_after_commit(db, owner_id, event)


def send_due_notices(state: AppState, now: datetime | None = None) -> int:
    """The periodic job: notices whose order ended or emergency is over; returns how many."""
    with state.db.session() as db:
        sent = notify_due(db, state.master_key, now or utcnow())
        # Published below, but pushed and emailed like every other event, after this commit.
        for owner_id, event in sent:
            echo_event(db, owner_id, event)
        moment = now or utcnow()
        for row in legal.emergencies(db):
            if row.owners_notified_at is None and legal.disclosures_for(db, emergency_id=row.id):
                due = rules.emergency_notice_due(row.rule())
                if due is not None and due <= moment:
                    row.owners_notified_at = moment
    # Only after the commit, as for requests served over HTTP.
    for owner_id, event in sent:
        state.bus.publish(owner_id, event)
    return len(sent)


# --- disclosing ----------------------------------------------------------------------------------


def _disclose_clip(
    db: Session,
    state: AppState,
    actor: User,
    clip: Clip,
    *,
    basis: DisclosureBasis,
    basis_id: str,
    agency_id: str,
    case: str,
    unredacted: bool,
    notice_due_at: datetime,
) -> Disclosure:
    if clip.e2e:
        raise PolicyRefused(
            "this clip is end-to-end encrypted: Doorstep cannot read it and cannot disclose it",
            field="clip_ids",
            extra={"reason": "end_to_end_encrypted"},
        )
    if clip.wrapped_key is None:
        raise NotFound("that clip no longer exists", field="clip_ids")
    now = utcnow()
    row = Disclosure(
        id=new_id(),
        basis=basis.value,
        demand_id=basis_id if basis is DisclosureBasis.LEGAL_DEMAND else None,
        emergency_id=basis_id if basis is DisclosureBasis.EMERGENCY else None,
        agency_id=agency_id,
        owner_id=clip.owner_id,
        what="footage",
        clip_id=clip.id,
        camera_id=clip.camera_id,
        clip_started_at=clip.started_at,
        clip_ended_at=clip.ended_at,
        unredacted=unredacted,
        created_by=actor.id,
        created_at=now,
        notice_due_at=max(now, notice_due_at),
    )
    row.agency = agencies.get_agency(db, agency_id)
    make_copy(db, state.keys, clip, row, case=case, unredacted=unredacted)
    db.add(row)
    db.flush()
    told_now = row.notice_due_at <= now
    audit.record(
        db,
        state.master_key,
        f"{basis.value}.disclose",
        actor=actor,
        # An owner under a non-disclosure order must not learn of it from their own log early.
        owner_id=clip.owner_id if told_now else None,
        detail={
            "disclosure": row.id,
            "basis": basis_id,
            "agency": row.agency.name,
            "case": case,
            "sha256": row.sha256,
            "redacted": not unredacted,
        },
    )
    return row


def _chosen_clips(db: Session, clip_ids: list[str], in_scope: list[Clip]) -> list[Clip]:
    if not clip_ids:
        return [clip for clip in in_scope if not clip.e2e]
    chosen = []
    for clip_id in dict.fromkeys(clip_ids):
        clip = legal.find_clip(db, clip_id)
        if clip is None:
            raise NotFound("no clip has that id", field="clip_ids")
        chosen.append(clip)
    return chosen


def _open(demand: LegalDemand) -> None:
    if demand.status != DemandStatus.OPEN.value:
        raise InvalidInput("this demand is closed", field="demand")


def disclose_footage(
    db: Session,
    state: AppState,
    reviewer: User,
    demand: LegalDemand,
    clip_ids: list[str],
    *,
    unredacted: bool,
) -> list[Disclosure]:
    """Disclose clips under a demand; anything outside its scope is refused with the reason."""
    _open(demand)
    rule = demand.rule()
    in_scope = legal.clips_in_scope(db, demand.device_ids, demand.window_start, demand.window_end)
    # "Everything in scope" leaves out indoor cameras the demand does not name; naming one of
    # their clips is refused below with the reason.
    reached = [
        clip
        for clip in in_scope
        if clip.owner_id == demand.account_id
        and (not clip.camera.indoor or clip.camera_id in rule.indoor_named)
    ]
    chosen = _chosen_clips(db, clip_ids, reached)
    for clip in chosen:
        if clip.owner_id != demand.account_id:
            rules.check_account_disclosure(rule, clip.owner_id)
        rules.check_disclosure(
            rule,
            clip.camera_id,
            clip.started_at,
            clip.ended_at,
            unredacted,
            indoor=clip.camera.indoor,
        )
    order = legal.order_for(db, demand.id)
    now = utcnow()
    due = rules.notice_due(
        now, rules.NonDisclosureOrder(demand.id, order.ends_at) if order else None
    )
    made = [
        _disclose_clip(
            db,
            state,
            reviewer,
            clip,
            basis=DisclosureBasis.LEGAL_DEMAND,
            basis_id=demand.id,
            agency_id=demand.agency_id,
            case=demand.reference,
            unredacted=unredacted,
            notice_due_at=due,
        )
        for clip in chosen
        if not legal.already_disclosed(db, demand.id, clip.id)
    ]
    _notify_now(db, state.master_key)
    return made


def disclose_account(
    db: Session, state: AppState, reviewer: User, demand: LegalDemand
) -> Disclosure:
    """Disclose the account information a demand reaches: name, email, camera count; no footage."""
    _open(demand)
    if demand.account_id is None:
        raise NotFound("the account this demand names no longer exists")
    rules.check_account_disclosure(demand.rule(), demand.account_id)
    owner = legal.find_user(db, demand.account_id)
    assert owner is not None
    cameras = legal.camera_count(db, owner.id)
    order = legal.order_for(db, demand.id)
    now = utcnow()
    due = rules.notice_due(
        now, rules.NonDisclosureOrder(demand.id, order.ends_at) if order else None
    )
    row = Disclosure(
        basis=DisclosureBasis.LEGAL_DEMAND.value,
        demand_id=demand.id,
        agency_id=demand.agency_id,
        owner_id=owner.id,
        what="account",
        account_info={"name": owner.display_name, "email": owner.email, "cameras": cameras},
        created_by=reviewer.id,
        created_at=now,
        notice_due_at=due,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        state.master_key,
        "legal_demand.disclose_account",
        actor=reviewer,
        owner_id=owner.id if due <= now else None,
        detail={"disclosure": row.id, "basis": demand.id, "agency": demand.agency.name},
    )
    _notify_now(db, state.master_key)
    return row


def disclose_emergency(
    db: Session, state: AppState, reviewer: User, row: EmergencyRequest, clip_ids: list[str]
) -> list[Disclosure]:
    """Disclose clips inside an approved emergency's scope; never an end-to-end encrypted one."""
    rule = row.rule()
    # Checked before the clips too: with none named or in scope, a pending one must still refuse.
    rules.check_emergency_approved(rule)
    in_scope = legal.clips_in_scope(db, row.device_ids, row.window_start, row.window_end)
    # "Everything in scope" (the second approval's release) leaves indoor cameras out; naming
    # one of their clips is refused below with the reason.
    outdoors = [clip for clip in in_scope if not clip.camera.indoor]
    chosen = _chosen_clips(db, clip_ids, outdoors)
    for clip in chosen:
        rules.check_emergency_disclosure(
            rule, clip.camera_id, clip.started_at, clip.ended_at, indoor=clip.camera.indoor
        )
    due = rules.emergency_notice_due(rule)
    assert due is not None
    return [
        _disclose_clip(
            db,
            state,
            reviewer,
            clip,
            basis=DisclosureBasis.EMERGENCY,
            basis_id=row.id,
            agency_id=row.agency_id,
            case=row.case_number,
            unredacted=False,
            notice_due_at=due,
        )
        for clip in chosen
        if not legal.already_disclosed(db, row.id, clip.id)
    ]
