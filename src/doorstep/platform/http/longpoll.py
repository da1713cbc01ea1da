"""Long-polls that hold no database permit while they wait.

A request waiting up to a minute for news must not keep one of the few database permits (see
``admission.py``): a handful of idle cameras would lock every page out. So a long-poll does its
database work in short transactions, each under a permit taken and given back at once, and
between them waits on the bus key the news will be published on (after its commit), re-reading
the database every few seconds in case a wake-up was missed.

A server that is stopping answers every waiting long-poll at once with what it has (``stopping``,
set by ``serving``'s uvicorn server as the stop begins): the callers come back to a new one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from doorstep.errors import NotAuthenticated
from doorstep.platform.bus.memory import Subscription, take_pending
from doorstep.platform.http.deps import AnyPrincipal, resolve_principal
from doorstep.platform.http.state import AppState

Result = TypeVar("Result")

#: Set once this process's server begins to stop.
stopping = threading.Event()
#: How often a wait looks at ``stopping``.
STOP_CHECK_SECONDS = 0.25


async def in_short_session(
    request: Request, work: Callable[[Session, AnyPrincipal], Result]
) -> Result:
    """Run ``work`` for the signed-in caller in one short transaction under a permit.

    The caller is resolved by the same rules as every route (a read: no CSRF token is needed);
    what ``work`` queued for after the commit is published once it committed.
    """
    state: AppState = request.app.state.doorstep
    async with state.admission.permit():
        result, pending = await run_in_threadpool(_run, state, request, work)
    for account_id, event in pending:
        state.bus.publish(account_id, event)
    return result


def _run(
    state: AppState, request: Request, work: Callable[[Session, AnyPrincipal], Result]
) -> tuple[Result, list[tuple[str, dict[str, Any]]]]:
    with state.db.session() as db:
        principal = resolve_principal(request, None, db)
        if principal is None:
            raise NotAuthenticated("log in or send an API token")
        result = work(db, principal)
    return result, take_pending(db)


async def woken(subscription: Subscription, seconds: float) -> bool:
    """Wait up to ``seconds`` for news on the subscription; whether any came.

    Gives up early, with no news, when the server begins to stop.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        left = end - loop.time()
        if left <= 0 or stopping.is_set():
            return False
        try:
            await asyncio.wait_for(subscription.queue.get(), min(left, STOP_CHECK_SECONDS))
            break
        except TimeoutError:
            continue
    # Several wake-ups at once are one reason to look again.
    while not subscription.queue.empty():
        subscription.queue.get_nowait()
    return True


async def hold(
    request: Request,
    key: str,
    *,
    seconds: float,
    recheck: float,
    check: Callable[[Session, AnyPrincipal], Result],
    done: Callable[[Result], bool],
) -> Result:
    """Answer with ``check``'s result once ``done`` says it has news, or after ``seconds``.

    Follows ``key`` on the bus from before the first look, so news committed in between wakes
    it too; without a wake-up it looks again every ``recheck`` seconds.
    """
    state: AppState = request.app.state.doorstep
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    subscription = state.bus.subscribe(key)
    try:
        while True:
            result = await in_short_session(request, check)
            remaining = deadline - loop.time()
            if (
                done(result)
                or remaining <= 0
                or stopping.is_set()
                or await request.is_disconnected()
            ):
                return result
            await woken(subscription, min(recheck, remaining))
    finally:
        state.bus.unsubscribe(subscription)
