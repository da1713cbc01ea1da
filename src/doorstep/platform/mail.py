"""Email over SMTP (smtplib): one letter, one connection, library errors turned into ours.

Off until ``DOORSTEP_SMTP_HOST`` is set. The relay is reached only from background jobs, never
while a request waits; a relay that is down raises ``Unavailable`` and the job tries again.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from doorstep.errors import InvalidInput, Unavailable
from doorstep.platform.types import utcnow
from doorstep.settings import Settings


@dataclass(frozen=True, slots=True)
class Letter:
    """A plain-text email to one address."""

    to: str
    subject: str
    text: str


#: What no single plain address holds: each could make the relay send to more than one.
_NOT_IN_AN_ADDRESS = frozenset(',;<>()[]"\\:')


def check_address(to: str) -> None:
    """``InvalidInput`` unless ``to`` is one plain name@domain.

    The relay sends to every address the To header lists, so "me@x.org,victim@y.org" (which
    a sign-up form would take) must never reach it.
    """
    if to.count("@") != 1 or any(
        char.isspace() or not char.isprintable() or char in _NOT_IN_AN_ADDRESS for char in to
    ):
        raise InvalidInput("an email address is one name@domain, nothing more", field="email")


def enabled(settings: Settings) -> bool:
    """Whether this Doorstep sends email at all."""
    return bool(settings.smtp_host)


def _message(settings: Settings, letter: Letter) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="doorstep.invalid")
    # Auto-generated: vacation responders and the like should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(letter.text)
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.smtp_tls:
        return smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout, context=context
        )
    client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    if settings.smtp_starttls:
        client.starttls(context=context)
    return client


def probe(settings: Settings) -> None:
    """Reach the relay and sign in as a letter would, sending nothing (`doorstep doctor`).

    ``smtplib.SMTPException`` or ``OSError`` (with ``ssl.SSLError``) when it cannot.
    """
    with _connect(settings) as client:
        client.ehlo_or_helo_if_needed()
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        client.noop()


def send(settings: Settings, letter: Letter) -> None:
    """Hand the letter to the relay; ``Unavailable`` when it cannot be reached or refuses for now.

    A recipient the relay refuses for good (a malformed address) is ``InvalidInput``: trying
    again would not help.
    """
    if not enabled(settings):
        raise Unavailable("this Doorstep has no email set up (DOORSTEP_SMTP_HOST)")
    check_address(letter.to)
    message = _message(settings, letter)
    try:
        with _connect(settings) as client:
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            client.send_message(message, to_addrs=[letter.to])
    except smtplib.SMTPRecipientsRefused as err:
        codes = [code for code, _ in err.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise InvalidInput("the mail relay refused the address", field="email") from err
        raise Unavailable("the mail relay refused the address for now") from err
    except (smtplib.SMTPException, OSError) as err:
        raise Unavailable(f"the mail relay did not take the letter: {err}") from err
