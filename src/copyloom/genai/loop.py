"""The background event loop of a process: where model calls of work that is not an HTTP request run.

The API server's requests run their model calls on the server's loop. Campaign chunks (on the API process's task
threads, a Celery worker or ``copyloom campaigns run``) hand theirs to this one long-lived loop in a daemon thread,
instead of an ``asyncio.run`` per unit of work: the chat model's kept-alive connections belong to the loop that
opened them, so one loop for the life of the process keeps them usable and reused. After a ``fork`` (Celery's
prefork pool) the child starts a loop of its own.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["BackgroundLoop", "background_loop"]

T = TypeVar("T")


class BackgroundLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="copyloom-loop", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result from the calling (non-loop) thread."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("BackgroundLoop.run called from the loop itself: await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


_LOOP: BackgroundLoop | None = None
_PID = 0
_LOCK = threading.Lock()


def _after_fork_in_child() -> None:
    global _LOOP, _LOCK
    _LOOP = None  # the parent's loop thread does not exist in the child
    _LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def background_loop() -> BackgroundLoop:
    """This process's background loop, started on first use (and again in a forked child)."""
    global _LOOP, _PID
    with _LOCK:
        if _LOOP is None or os.getpid() != _PID:
            _LOOP = BackgroundLoop()
            _PID = os.getpid()
        return _LOOP
