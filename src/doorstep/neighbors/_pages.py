"""What every Neighbors page shares: the form fields, category names, layout and redirects."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import Principal
from doorstep.errors import DoorstepError
from doorstep.neighbors.rules import ALERTS_FILTER, PostCategory
from doorstep.platform.http.render import render

LongText = Annotated[str, Form(max_length=20_000)]
ShortText = Annotated[str, Form(max_length=2_000)]
CATEGORY_NAMES = {
    PostCategory.CRIME.value: "Crime",
    PostCategory.SAFETY.value: "Safety",
    PostCategory.SUSPICIOUS_ACTIVITY.value: "Suspicious activity",
    PostCategory.UNEXPECTED_VISITOR.value: "Unexpected visitor",
    PostCategory.LOST_PET.value: "Lost pet",
    PostCategory.FOUND_PET.value: "Found pet",
    PostCategory.NEIGHBORLY_MOMENT.value: "Neighbourly moment",
}
FILTER_NAMES = {**CATEGORY_NAMES, ALERTS_FILTER: "Agency alerts"}


def see_other(url: str) -> RedirectResponse:
    """Send the browser on to ``url`` with a GET (after a form post)."""
    return RedirectResponse(url, status_code=303)


def login(request: Request) -> RedirectResponse:
    """Send the browser to log in, and back here afterwards."""
    return see_other("/login?next=" + quote(request.url.path))


def page(
    request: Request,
    principal: Principal,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    """Render a Neighbors page with the category names every one of them shows."""
    request.state.principal = principal
    shared = {"category_names": CATEGORY_NAMES, "filter_names": FILTER_NAMES}
    return render(request, template, {**shared, **context}, status=status)


def form_error(err: DoorstepError) -> DoorstepError:
    """The error to show on the form, or re-raise it when it is a server fault."""
    # Server faults are not form mistakes: let the one handler show them.
    if err.status >= 500:
        raise err
    return err
