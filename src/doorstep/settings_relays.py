"""The settings of the relays Doorstep hands work to: TURN for live view, SMTP for email.

Part of ``Settings`` (``doorstep.settings``), read from the same ``DOORSTEP_*`` variables.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

#: The longest a TURN credential may last: the relay honours it until then, whoever holds it.
MAX_TURN_TTL = 3600


class RelaySettings(BaseSettings):
    """The TURN relay and the SMTP relay; ``Settings`` adds the rest."""

    turn_urls: str = Field(
        "",
        description="Comma-separated TURN URLs of the operator's relay for live view, e.g. "
        "turn:turn.example.org:3478?transport=udp; empty hands out no relay (one network only).",
    )
    turn_secret: SecretStr = Field(
        SecretStr(""),
        description="The relay's shared secret (coturn's static-auth-secret); live view's "
        "short-lived TURN credentials are made from it.",
    )
    turn_ttl: Annotated[int, Field(ge=60)] = Field(
        600,
        description="Seconds a TURN credential handed to a browser or camera lasts; at most "
        f"{MAX_TURN_TTL} (an hour), since a credential cannot be taken back before it expires.",
    )

    smtp_host: str = Field(
        "",
        description="The SMTP relay that sends Doorstep's email (address verification, password "
        "reset, sign-in and legal notices); empty turns email off and the pages say so.",
    )
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        587, description="The SMTP relay's port (587 with STARTTLS, 465 with implicit TLS)."
    )
    smtp_user: str = Field("", description="User name to log in to the relay; empty: no login.")
    smtp_password: SecretStr = Field(SecretStr(""), description="Password for the relay login.")
    smtp_from: str = Field(
        "Doorstep <doorstep@localhost>",
        description="The From address of Doorstep's email (an address the relay may send as).",
    )
    smtp_starttls: bool = Field(
        True, description="Upgrade the relay connection with STARTTLS before logging in."
    )
    smtp_tls: bool = Field(
        False,
        description="Connect to the relay with TLS from the start (implicit TLS, port 465); "
        "DOORSTEP_SMTP_STARTTLS is then not used.",
    )
    smtp_timeout: Annotated[float, Field(gt=0, le=300)] = Field(
        20.0, description="Seconds to wait for the relay before the job tries again later."
    )

    @field_validator("turn_ttl")
    @classmethod
    def _short_turn_ttl(cls, value: int) -> int:
        if value > MAX_TURN_TTL:
            raise ValueError(
                f"DOORSTEP_TURN_TTL is {value} s; at most {MAX_TURN_TTL} s (an hour): a relay "
                "credential cannot be revoked, so a leaked or no-longer-allowed one must die soon"
            )
        return value

    @model_validator(mode="after")
    def _no_relay_password_in_clear(self) -> RelaySettings:
        if self.smtp_host and self.smtp_user and not (self.smtp_tls or self.smtp_starttls):
            raise ValueError(
                "DOORSTEP_SMTP_USER is set but neither DOORSTEP_SMTP_STARTTLS nor "
                "DOORSTEP_SMTP_TLS is: the relay password would cross the network in clear"
            )
        return self

    @property
    def turn_url_list(self) -> list[str]:
        """The TURN URLs, or none when no relay is configured (or it has no secret)."""
        if not self.turn_secret.get_secret_value():
            return []
        return [url.strip() for url in self.turn_urls.split(",") if url.strip()]
