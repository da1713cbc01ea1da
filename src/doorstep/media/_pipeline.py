"""Run decoding and encoding beside face detection, so that both cores stay busy."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")

_DEPTH = 8
_POLL_SECONDS = 0.1


class _End:
    """Marks the end of a stream of items."""


_END = _End()


class Prefetch(Generic[Item]):
    """Pull items from an iterator on a worker thread, a few ahead of the consumer."""

    def __init__(self, items: Iterator[Item]) -> None:
        self._items = items
        self._queue: queue.Queue[Item | _End | BaseException] = queue.Queue(_DEPTH)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="doorstep-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: Item | _End | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
        except BaseException as err:  # handed to the consumer, raised there
            self._put(err)
            return
        self._put(_END)

    def __iter__(self) -> Iterator[Item]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stop(self) -> None:
        """Stop pulling (the consumer is done or failed) and wait for the worker to finish."""
        self._stop.set()
        self._thread.join()


class Drain(Generic[Item]):
    """Hand items to ``consume`` on a worker thread, in order; errors come back on ``finish``."""

    def __init__(self, consume: Callable[[Item], None]) -> None:
        self._consume = consume
        self._queue: queue.Queue[Item | _End] = queue.Queue(_DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="doorstep-drain", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                return
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as err:  # raised again by finish()
                    self._error = err

    def put(self, item: Item) -> None:
        """Queue ``item``; raise at once if consuming an earlier one failed."""
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def finish(self) -> None:
        """Wait until every queued item is consumed; raise the first error, if any."""
        self._queue.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error
