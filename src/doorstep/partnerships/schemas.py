"""Partnership programmes as the API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import Strict
from doorstep.partnerships.rules import Condition, ProgrammeKind

#: How long a programme's name and its terms may be, for forms, API and storage alike.
NAME_MAX = 120
TERMS_MAX = 20_000
#: How many structured conditions one programme may list.
CONDITIONS_MAX = 10


class PartnershipCreate(Strict):
    """A programme: what it gives, its full terms and its structured conditions."""

    name: Annotated[str, Field(max_length=NAME_MAX)]
    kind: ProgrammeKind
    terms_text: Annotated[str, Field(max_length=TERMS_MAX)]
    conditions: Annotated[list[Condition], Field(max_length=CONDITIONS_MAX)] = []


class PartnershipPublic(BaseModel):
    """A published programme with its full terms."""

    id: str
    agency_id: str
    name: str
    kind: str
    terms_text: str
    conditions: list[str]
    status: str
    refusal_reason: str | None
    created_at: datetime
