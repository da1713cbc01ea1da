"""Accounts' request and response bodies, and the strict base every feature's bodies share.

The lengths they allow are accounts' rules (``MAX_EMAIL``, ``MAX_NAME``, ``MAX_PASSWORD``), the
same ones the store checks.
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from doorstep.accounts.rules import MAX_EMAIL, MAX_NAME
from doorstep.accounts.rules import MAX_LENGTH as MAX_PASSWORD
from doorstep.geo.cells import cell_location

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


def _refuse_nul(value: object, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"text may not contain NUL characters ({where or 'body'})")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, where)
            _refuse_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{where}.{index}" if where else str(index))


class Strict(BaseModel):
    """Request bodies refuse unknown fields so typos are errors, not silent no-ops.

    They refuse NUL characters anywhere too: no text column can store one (PostgreSQL fails).
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _refuse_nul(data, "")
        return data


class HomeLocation(Strict):
    """An exact position, as the owner gives it."""

    lat: Latitude
    lon: Longitude


class UserCreate(Strict):
    """Sign-up form."""

    email: Annotated[str, Field(max_length=MAX_EMAIL)]
    password: Annotated[str, Field(max_length=MAX_PASSWORD)]
    display_name: Annotated[str, Field(max_length=MAX_NAME)]
    home: HomeLocation | None = None


class PublicCell(BaseModel):
    """A location as anyone but its owner may see it: an H3 cell and its centre."""

    # Frozen, so one instance per cell can be shared by every response that shows the cell.
    model_config = ConfigDict(frozen=True)

    cell: str
    resolution: int
    lat: float
    lon: float


# A feed page shows dozens of posts from a few hundred cells, on every read.
@functools.lru_cache(maxsize=4096)
def public_cell_of(cell: str) -> PublicCell:
    """A cell and its rounded centre."""
    return PublicCell(**asdict(cell_location(cell)))


class UserPrivate(BaseModel):
    """The caller's own account, exact home included: only ever sent to the account itself."""

    id: str
    email: str
    display_name: str
    role: str
    home: HomeLocation | None
    home_cell: PublicCell | None
    created_at: datetime
    #: When the address was proven by a mailed link; None while it is not.
    email_verified_at: datetime | None = None


class ProfileUpdate(Strict):
    """Changes to the caller's profile; omitted fields stay as they are."""

    display_name: Annotated[str | None, Field(max_length=MAX_NAME)] = None
    home: HomeLocation | None = None


class LoginRequest(Strict):
    """Email and password."""

    email: Annotated[str, Field(max_length=MAX_EMAIL)]
    password: Annotated[str, Field(max_length=MAX_PASSWORD)]


class SessionPublic(BaseModel):
    """A new browser session: send ``csrf_token`` as X-CSRF-Token on every change."""

    csrf_token: str
    expires_at: datetime
    user: UserPrivate


class PasswordChange(Strict):
    """Current and new password."""

    current_password: Annotated[str, Field(max_length=MAX_PASSWORD)]
    new_password: Annotated[str, Field(max_length=MAX_PASSWORD)]


class AccountDelete(Strict):
    """The password, to confirm deleting the account and all its data."""

    password: Annotated[str, Field(max_length=MAX_PASSWORD)]


class TokenCreate(Strict):
    """A new API token for a script or device."""

    name: Annotated[str, Field(max_length=MAX_NAME)]
    scopes: Annotated[list[str], Field(max_length=10)]
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650)] = 90


class TokenPublic(BaseModel):
    """An API token as listed; the secret is never shown again."""

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    """A token just created, with its secret shown this once."""

    token: str
