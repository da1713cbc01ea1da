"""Standing access: an owner lets a case receive one camera's future clips, forward-only.

The owner of a camera a request reached may grant the request's case standing access to that
camera for up to ``consent.MAX_STANDING``. From then on each clip the camera records after the
grant, and before it ends, is revoked or the case closes, is shared with the request exactly
as a clip the owner picked would be: its own share, a face-redacted watermarked copy made by
the share job (which writes its audit entry), revocable until downloaded. Nothing recorded
before the grant is ever shared through it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.errors import Conflict
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import _store_standing as standing
from doorstep.requests import consent, store
from doorstep.requests.models import Share, StandingGrant
from doorstep.requests.rules_terms import TERMS_VERSION
from doorstep.requests.schemas import StandingPublic


def standing_public(grant: StandingGrant, now: datetime | None = None) -> StandingPublic:
    """A grant as its owner sees it."""
    moment = now or utcnow()
    rule = grant.domain()
    # When it stops as far as anything known says: its end, its revocation, the case closing.
    until = consent.standing_until(rule, rule.ends_at)
    return StandingPublic(
        id=grant.id,
        rfa_id=grant.rfa_id,
        camera_id=grant.camera_id,
        anonymous=grant.anonymous,
        granted_at=grant.granted_at,
        ends_at=grant.ends_at,
        revoked_at=grant.revoked_at,
        active=until > moment,
    )


def grant_standing(
    db: Session, owner: User, rfa_id: str, camera_id: str, *, days: int, anonymous: bool
) -> StandingGrant:
    """Grant a request's case standing access to one of the owner's cameras it reached."""
    row = store.recipient(db, owner, rfa_id)
    rfa = row.rfa
    now = utcnow()
    if not rfa.is_open(now):
        raise Conflict("this request is closed; standing access can no longer be granted")
    standing.request_camera(db, owner, rfa, camera_id)
    grant = StandingGrant(
        id=new_id(),
        rfa_id=rfa.id,
        owner_id=owner.id,
        camera_id=camera_id,
        anonymous=anonymous,
        granted_at=now,
        ends_at=now + timedelta(days=days),
    )
    grant.rfa = rfa
    grant.domain()  # the rule refuses a grant of no time or longer than allowed
    if row.state == consent.AnswerState.PENDING.value:
        store.mark_shared(db, row)
    elif row.state != consent.AnswerState.SHARED.value:
        raise Conflict(f"you have {row.state} this request; standing access needs a share")
    return standing.add_grant(db, grant)


def revoke_standing(db: Session, owner: User, grant_id: str) -> StandingGrant:
    """Stop a grant now: nothing recorded from now on is shared through it."""
    grant = standing.owner_grant(db, owner, grant_id)
    if grant.revoked_at is not None:
        raise Conflict("this standing access is already revoked")
    grant.revoked_at = utcnow()
    db.flush()
    return grant


def standing_grants(db: Session, owner: User, rfa_id: str) -> list[StandingPublic]:
    """The owner's standing access for one request."""
    store.recipient(db, owner, rfa_id)
    now = utcnow()
    return [standing_public(grant, now) for grant in standing.owner_grants(db, owner, rfa_id)]


def share_standing(db: Session, now: datetime | None = None) -> list[str]:
    """Open a share for each clip a live grant covers that is not shared yet; their ids.

    The caller sends each share's copy job once this commits (``jobs.share_standing``).

    Each clip is checked against the consent rule again (``standing_covers``), so a clip that
    began before the grant is never shared, whatever the query returned.
    """
    moment = now or utcnow()
    opened: list[str] = []
    for grant in standing.live_grants(db, moment):
        rule = grant.domain()
        until = consent.standing_until(rule, moment)
        if until <= grant.granted_at:
            continue
        row = standing.recipient_row(db, grant.rfa_id, grant.owner_id)
        if row is None or row.state != consent.AnswerState.SHARED.value:
            continue
        answer = store.answer_of(row)
        for clip in standing.unshared_clips(db, grant, until):
            if not consent.standing_covers(rule, clip.started_at, clip.ended_at, moment):
                continue
            # The answer was "shared" when the grant was given: open_share reads that state.
            share = consent.open_share(answer, new_id(), moment)
            item = Share(
                id=share.share_id,
                rfa_id=grant.rfa_id,
                owner_id=grant.owner_id,
                clip_id=clip.id,
                anonymous=grant.anonymous,
                owner_name=None if grant.anonymous else standing.display_name(db, grant.owner_id),
                clip_started_at=clip.started_at,
                clip_ended_at=clip.ended_at,
                sha256="",
                size=0,
                ciphertext_size=0,
                state=share.state.value,
                created_at=share.created_at,
                expires_at=share.expires_at,
                terms_version=TERMS_VERSION,
            )
            store.add_share(db, item)
            opened.append(item.id)
    return opened
