"""An owner's deletion receipts: the list, and each one as a file to keep and check offline."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from doorstep.accounts.auth import CurrentUser
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.transparency import service_receipts
from doorstep.transparency.schemas import MAX_SEQ

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/me/receipts")
def my_receipts(user: CurrentUser, db: DbDep) -> list[dict[str, Any]]:
    """The caller's deletions that have a receipt, newest first."""
    return service_receipts.mine(db, user.id)


@router.get("/me/receipts/{seq}")
def my_receipt(
    seq: Annotated[int, Path(ge=0, le=MAX_SEQ)], user: CurrentUser, db: DbDep, state: StateDep
) -> Response:
    """One deletion's receipt, as a file: check it with ``doorstep audit receipt FILE``."""
    body = service_receipts.receipt(db, state.master_key, user.id, seq)
    return Response(
        json.dumps(body, indent=2),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="deletion-receipt-{seq}.json"'},
    )
