"""Who is calling, typed: the shortcuts every route names its caller by, and the role checks.

``platform/http/deps.py`` resolves a session cookie or an API token through the authenticator the
app wires in (``accounts.service.AUTHENTICATOR``); the shortcuts here name the same dependencies
with the caller's real types, so a route's ``user`` is a ``User`` to the type checker too. Each
role set a route may demand is written here once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeAlias, cast

from fastapi import Depends

from doorstep.accounts.models import ApiToken, BrowserSession, User
from doorstep.accounts.roles import AGENCY_STAFF, REVIEWERS, Role
from doorstep.platform.http import deps

#: Who is calling and how: a browser session or an API token of an account.
Principal: TypeAlias = deps.Principal[User, BrowserSession, ApiToken]

OptionalPrincipal = Annotated[Principal | None, Depends(deps.optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(deps.current_principal)]
BrowserPrincipal = Annotated[Principal, Depends(deps.browser_principal)]
DevicePrincipal = Annotated[Principal, Depends(deps.device_principal)]
CurrentUser = Annotated[User, Depends(deps.current_user)]

# A route open to tokens names its scope in its signature: the check runs as a dependency, so a
# token without the scope is refused before the request body is even looked at.
AccountReader = Annotated[Principal, Depends(deps.needs_scope("account:read"))]
ClipReader = Annotated[Principal, Depends(deps.needs_scope("clips:read"))]
ClipWriter = Annotated[Principal, Depends(deps.needs_scope("clips:write"))]
FeedWriter = Annotated[Principal, Depends(deps.needs_scope("feed:write"))]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets only accounts of the given roles through (browser sessions only)."""
    return cast(Callable[[User], Awaitable[User]], deps.require_role(*roles))


def _any_of(values: frozenset[str]) -> Callable[[User], Awaitable[User]]:
    return require_role(*sorted(Role(value) for value in values))


#: The platform's reviewers and administrators.
ReviewerUser = Annotated[User, Depends(_any_of(REVIEWERS))]
#: Staff of a verified agency.
AgencyUser = Annotated[User, Depends(_any_of(AGENCY_STAFF))]
#: An agency's administrator.
AgencyAdmin = Annotated[User, Depends(require_role(Role.AGENCY_ADMIN))]
