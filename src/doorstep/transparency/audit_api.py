"""The public audit log: signed tree heads, entries with pseudonyms, and inclusion proofs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from doorstep.accounts.auth import CurrentUser
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.transparency import service
from doorstep.transparency.schemas import MAX_SEQ, EntryPublic, Proof, TreeHeadPublic

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit/head")
def head(db: DbDep, state: StateDep) -> TreeHeadPublic:
    """The current signed tree head, kept so later heads can be proven consistent with it."""
    return service.current_head(db, state.master_key)


@router.get("/audit/entries")
def entries(
    db: DbDep,
    start: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    end: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
) -> list[EntryPublic]:
    """Entries ``start`` up to (not including) ``end``, at most 1,000 at a time."""
    return service.entries(db, start, end)


@router.get("/audit/proof/inclusion")
def inclusion(
    db: DbDep, seq: Annotated[int, Query(ge=0)], size: Annotated[int, Query(ge=1)]
) -> Proof:
    """Proof that entry ``seq`` is in the tree of ``size`` entries."""
    return service.inclusion(db, seq, size)


@router.get("/audit/proof/consistency")
def consistency(
    db: DbDep, old: Annotated[int, Query(ge=1)], new: Annotated[int, Query(ge=1)]
) -> Proof:
    """Proof that the tree of ``old`` entries is a prefix of the tree of ``new`` entries."""
    return service.consistency(db, old, new)


@router.get("/me/audit")
def my_audit(user: CurrentUser, db: DbDep) -> list[dict[str, Any]]:
    """Every entry about the caller's footage: who (by role) did what, and when."""
    return service.about_owner(db, user.id)
