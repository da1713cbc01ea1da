"""Admission to the database: a bounded number of requests at a time, the rest wait in line.

Handlers are plain functions run on a pool of threads, and each holds a pooled database
connection from its first query until its transaction ends. Let more requests in than there are
connections and every thread can end up waiting for a connection held by a request that is itself
waiting for a thread: nothing moves until the pool's timeout fails them all. So a request takes a
permit before it touches the database. Waiting for one costs no thread and no connection, and
permits go in arrival order; a request still waiting after ``wait_s`` gets a 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from doorstep.errors import Unavailable
from doorstep.platform.db import POOL_TIMEOUT_S, RETRY_AFTER_S


class Admission:
    """At most ``limit`` requests at once in this process hold a database session."""

    def __init__(self, limit: int, *, wait_s: float = POOL_TIMEOUT_S) -> None:
        if limit < 1:
            raise ValueError("at least one request must be admitted")
        self.limit = limit
        self.wait_s = wait_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._permits = asyncio.Semaphore(limit)

    def _semaphore(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a server has one, tests may start several.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._permits = loop, asyncio.Semaphore(self.limit)
        return self._permits

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[None]:
        """Hold a permit for the block; 503 when none came free within ``wait_s``."""
        permits = self._semaphore()
        try:
            async with asyncio.timeout(self.wait_s):
                await permits.acquire()
        except TimeoutError:
            raise Unavailable(
                "the server is busy right now; try again shortly",
                extra={"retry_after": RETRY_AFTER_S},
            ) from None
        try:
            yield
        finally:
            permits.release()
