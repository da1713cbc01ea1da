"""Partnership pages: an agency publishes a programme; anyone reads an agency's programmes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal
from doorstep.errors import DoorstepError
from doorstep.legal import service as legal
from doorstep.partnerships import service
from doorstep.partnerships.schemas import TERMS_MAX
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.render import login_redirect, render_for

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=200)]
Terms = Annotated[str, Form(max_length=TERMS_MAX)]


@router.post("/agency/partnerships")
def publish_partnership(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    name: Short,
    kind: Short,
    terms_text: Terms,
    conditions: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    """Publish a partnership programme, or show why it was refused."""
    if principal is None:
        return login_redirect(request)
    form = {"name": name, "kind": kind, "terms_text": terms_text, "conditions": conditions}
    try:
        service.publish(
            db,
            state,
            principal.user,
            name=name,
            kind=kind,
            terms_text=terms_text,
            conditions=conditions,
        )
    except DoorstepError as err:
        if err.status >= 500:
            raise
        # The agency's legal desk, where the form is, shown again with the reason.
        context = {**legal.agency_desk(db, principal.user), "partnership_error": err, "form": form}
        return render_for(request, principal, "emergency.html", context, status=err.status)
    return RedirectResponse("/agency/legal", status_code=303)


@router.get("/agencies/{agency_id}/partnerships")
def partnerships_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, agency_id: str
) -> Response:
    """An agency's published partnership programmes with their full terms (no login)."""
    return render_for(request, principal, "partnerships.html", service.public_page(db, agency_id))
