"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the email tests."""

from __future__ import annotations

import re
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.browser import free_port


class Mailbox:
    """Every message the server took, in order; ``wait_for`` blocks until enough arrived."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        #: Each message's envelope recipients (RCPT TO), in the same order.
        self.recipients: list[list[str]] = []
        self._arrived = threading.Condition()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Keep the message (aiosmtpd calls this for each one)."""
        del server, session
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 OK"

    def start(self) -> None:
        """Listen on the loopback port."""
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        """The first ``count`` messages, once they are here (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} mails arrived"
                self._arrived.wait(left)
            return list(self.messages[:count])

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to ``address``."""
        with self._arrived:
            return [m for m in self.messages if m["To"] == address]

    def wait_to(self, address: str, count: int = 1, timeout: float = 20) -> list[EmailMessage]:
        """The first ``count`` messages to ``address``, once they are here."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(found := [m for m in self.messages if m["To"] == address]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(found)} of {count} mails to {address} arrived"
                self._arrived.wait(left)
            return found[:count]

    def settings(self) -> dict[str, Any]:
        """The DOORSTEP_SMTP_* settings that send to this server (no TLS on loopback)."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False}


def body_of(message: EmailMessage) -> str:
    """A plain-text message's text."""
    part = message.get_body(("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_in(message: EmailMessage, path: str) -> str:
    """The URL of the ``/path/<secret>`` link in a message."""
    found = re.search(rf"https?://\S+/{path}/[A-Za-z0-9_-]+", body_of(message))
    assert found, body_of(message)
    return found.group(0)


def confirm_email(client: Any, link: str) -> Any:
    """Open a confirmation ``link`` as its owner does and press its button; the POST's answer.

    Opening it alone proves nothing (mail scanners open links too).
    """
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    return client.post(path, data={"csrf_token": token.group(1)})
