"""Sign-up that does not tell whether an email already has an account.

An address that is taken gets the same answer as a new one — the same status, the same fields,
a fresh id and the name and home just typed — while nothing is created, changed or logged in,
and the password is hashed all the same so the answer takes as long. The holder of a new account
goes on by logging in; whoever typed a taken address cannot (they do not know its password).

What is left open: with no email verification, an account is usable at once, so signing up and
then logging in with the password just chosen still tells whether the address was free. Closing
that needs the address proven by a link sent to it before the account works.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.accounts import store as accounts
from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.errors import Conflict
from doorstep.geo.cells import Coordinates
from doorstep.platform.security import hash_password
from doorstep.platform.types import new_id, utcnow


def create_account(
    db: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    home: Coordinates | None,
    cell_resolution: int,
) -> User:
    """Create a resident account, or for a taken email a stand-in that is never stored.

    Every check on the input (email shape, name, password strength) runs first and refuses
    the same way for both; only then does the taken address take the quiet way.
    """
    try:
        return accounts.create_user(
            db,
            email=email,
            password=password,
            display_name=display_name,
            home=home,
            cell_resolution=cell_resolution,
        )
    except Conflict as err:
        if err.field != "email":
            raise
    hash_password(password)
    stand_in = User(
        id=new_id(),
        email=accounts.normalise_email(email),
        password_hash="",
        display_name=accounts.clean_display_name(display_name),
        role=Role.RESIDENT.value,
        created_at=utcnow(),
    )
    accounts.set_home(stand_in, home, cell_resolution)
    return stand_in
