"""The one tree of errors Doorstep raises; each maps to one HTTP status and one problem+json shape.

    DoorstepError                      500  something we did not expect
    ├── ConfigurationError             500  settings that cannot work (raised at start-up)
    ├── InvalidInput                   422  a value that breaks a rule; names the field
    │   └── PolicyRefused              422  refused by the product's policy (RFA rules, posts)
    ├── NotAuthenticated               401  no valid session or token
    │   └── TokenExpired               401  a token past its end
    ├── Forbidden                      403  authenticated, but not allowed
    │   └── CsrfRejected               403  a form post without the right CSRF token
    ├── NotFound                       404  nothing there, or nothing the caller may know of
    ├── MethodNotAllowed               405  e.g. a download asked for with GET (it is a POST)
    ├── Conflict                       409  clashes with what exists (duplicate email, ...)
    ├── PayloadTooLarge                413  an upload over the limit
    ├── UnsupportedMedia               415  a file that is not what it claims to be
    ├── RangeNotSatisfiable            416  a Range header outside the content
    ├── TooManyRequests                429  throttled; carries Retry-After
    └── Unavailable                    503  a dependency is down; try again

Library errors are translated where the library is called (``raise NotFound(...) from err``), so
the single exception handler in ``platform/http/problems.py`` is the only place that turns errors
into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DoorstepError(Exception):
    """Base of every error Doorstep raises on purpose."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Something went wrong"

    def __init__(
        self, detail: str, *, field: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra or {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """Return the RFC 9457 problem document for this error."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class ConfigurationError(DoorstepError):
    """Settings that cannot work."""

    slug = "configuration"
    title = "Doorstep is misconfigured"


class InvalidInput(DoorstepError):
    """A value that breaks a rule."""

    status = 422
    slug = "invalid-input"
    title = "The request has an invalid value"


class PolicyRefused(InvalidInput):
    """A request the product's policy refuses, with the reason."""

    slug = "policy-refused"
    title = "Refused by policy"


class NotAuthenticated(DoorstepError):
    """No valid session or token."""

    status = 401
    slug = "not-authenticated"
    title = "Log in first"


class TokenExpired(NotAuthenticated):
    """A token past its end."""

    slug = "token-expired"
    title = "The token has expired"


class Forbidden(DoorstepError):
    """Authenticated but not allowed."""

    status = 403
    slug = "forbidden"
    title = "Not allowed"


class CsrfRejected(Forbidden):
    """A state-changing browser request without the right CSRF token."""

    slug = "csrf"
    title = "The form has expired or did not come from Doorstep"


class NotFound(DoorstepError):
    """Nothing there, or nothing the caller may know of."""

    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(DoorstepError):
    """The URL exists but not for this method (a download is an explicit POST, never a GET)."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class Conflict(DoorstepError):
    """Clashes with what already exists."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(DoorstepError):
    """An upload over the limit."""

    status = 413
    slug = "payload-too-large"
    title = "Too large"


class UnsupportedMedia(DoorstepError):
    """A file that is not what it claims to be."""

    status = 415
    slug = "unsupported-media"
    title = "Unsupported or damaged file"


class RangeNotSatisfiable(DoorstepError):
    """A Range header outside the content."""

    status = 416
    slug = "range-not-satisfiable"
    title = "Range not satisfiable"


class TooManyRequests(DoorstepError):
    """Throttled; ``retry_after`` seconds until the caller may try again."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class Unavailable(DoorstepError):
    """A dependency is down; the caller should try again."""

    status = 503
    slug = "unavailable"
    title = "Temporarily unavailable"
