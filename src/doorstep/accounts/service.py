"""Accounts' use cases: who a credential belongs to (the platform's authenticator)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.accounts import store
from doorstep.platform.http.deps import Principal


class SessionsAndTokens:
    """The app's authenticator: browser sessions and API tokens, as accounts keeps them."""

    def by_token(self, db: Session, secret: str) -> Principal:
        """The caller a live API token speaks for (refuses an unknown, revoked or expired one)."""
        token = store.token_for(db, secret)
        return Principal(user=token.user, token=token)

    def by_session(self, db: Session, cookie: str) -> Principal | None:
        """The caller a live browser session belongs to, or None."""
        session = store.session_for(db, cookie)
        if session is None:
            return None
        return Principal(user=session.user, session=session)


#: What ``create_app`` wires into ``app.state.authenticator``.
AUTHENTICATOR = SessionsAndTokens()
