"""Event loops of a process and what belongs to one of them.

The API server's requests run their model calls on the server's loop. Campaign chunks (on the API process's task
threads, a Celery worker or ``copyloom campaigns run``) hand theirs to this one long-lived loop in a daemon thread,
instead of an ``asyncio.run`` per unit of work: the chat model's kept-alive connections belong to the loop that
opened them, so one loop for the life of the process keeps them usable and reused. After a ``fork`` (Celery's
prefork pool) the child starts a loop of its own. The loop stops, closing what :class:`PerLoop` holds on it, at
interpreter exit.

:class:`PerLoop` keeps such a client per loop and closes each on its own loop when that loop ends or its owner
closes it.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import logging
import os
import threading
import types
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["BackgroundLoop", "PerLoop", "background_loop", "run_to_end"]

T = TypeVar("T")
log = logging.getLogger(__name__)
# How long closing waits for another loop to close what it holds: a hang guard, not a pace.
CLOSE_TIMEOUT_S = 10.0
_MAX_STEPS = 100


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

    def stop(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """End the loop as ``asyncio.run`` ends its own: cancel what still runs, shut down its async generators
        (which closes what :class:`PerLoop` holds on it), then stop and close it. Idempotent."""
        if self.loop.is_closed() or threading.current_thread() is self._thread:
            return
        if self._thread.is_alive():
            try:
                self.run(_shut_down(), timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("genai.loop.stop_timeout", extra={"timeout_s": timeout})
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


async def _shut_down() -> None:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


_LOOP: BackgroundLoop | None = None
_PID = 0
_LOCK = threading.Lock()


def _after_fork_in_child() -> None:
    global _LOOP, _LOCK
    _LOOP = None  # the parent's loop thread does not exist in the child
    _LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def background_loop() -> BackgroundLoop:
    """This process's background loop, started on first use (and again in a forked child, or after a stop)."""
    global _LOOP, _PID
    with _LOCK:
        if _LOOP is None or os.getpid() != _PID or _LOOP.loop.is_closed():
            _LOOP = BackgroundLoop()
            _PID = os.getpid()
        return _LOOP


@atexit.register
def _stop_background_loop() -> None:
    """At exit, while its daemon thread still runs: its sessions are closed on it, not left to warn at collection."""
    with _LOCK:
        loop = _LOOP if os.getpid() == _PID else None
    if loop is not None:
        loop.stop()


def run_to_end(awaitable: Awaitable[object]) -> None:
    """Run, here and now, an awaitable that waits for nothing (at most a bare ``yield``, asyncio's "let others
    run"): the first step of a :class:`PerLoop` guard, or closing on a loop that is already closed."""
    steps = awaitable.__await__()
    for _ in range(_MAX_STEPS):
        try:
            waits_for = steps.send(None)
        except StopIteration:
            return
        if waits_for is not None:  # a future: only a running loop can resolve it
            break
    steps.close()
    raise RuntimeError(f"{awaitable!r} waits for something: it needs a running loop")


async def _until_the_loop_ends(finish: Callable[[], Awaitable[None]]) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await finish()


class _Slot(Generic[T]):
    __slots__ = ("guard", "value")

    def __init__(self, value: T) -> None:
        self.value = value
        self.guard: AsyncGenerator[None, None] | None = None  # closes the value when the loop shuts down


class PerLoop(Generic[T]):
    """One ``T`` per event loop, for clients whose connections belong to the loop that opened them (an ``aiohttp``
    session, an ``httpx.AsyncClient``); ``close(value)`` is always awaited on the value's own loop:

    - when the loop shuts down its async generators (``asyncio.run``, ``asyncio.Runner``, anyio's runner under a
      ``TestClient``, uvicorn, :meth:`BackgroundLoop.stop`): a guard generator started on the loop with the value
      runs it, after the loop's tasks are cancelled;
    - on :meth:`close` or :meth:`aclose` (its owner shuts down), for each loop that runs; a loop that is stopped,
      not closed, keeps its value until it shuts down;
    - a loop closed without shutting down (``loop.close()`` after ``run_until_complete``) can run nothing: its
      value goes to ``abandon`` (no await) on the next :meth:`get` or close.

    Values are built on first use on a loop and reused by every call on it (the lock is taken only then).
    """

    def __init__(
        self,
        build: Callable[[], T],
        close: Callable[[T], Awaitable[None]],
        abandon: Callable[[T], None] | None = None,
    ) -> None:
        self._build = build
        self._close = close
        self._abandon = abandon
        self._slots: dict[asyncio.AbstractEventLoop, _Slot[T]] = {}
        self._lock = threading.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    def get(self) -> T:
        """The running loop's value, built on first use."""
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is not None:
            return slot.value
        with self._lock:
            slot = self._slots.get(loop)
            if slot is not None:
                return slot.value
            dead = self._take(lambda other: other.is_closed())
            slot = self._slots[loop] = _Slot(self._build())
            # Started here, on the loop's thread, so that the loop's first-iteration hook registers it: the loop's
            # shutdown_asyncgens() then closes it, which closes the value. Held by the slot (the loop holds it
            # weakly). No loop in its frame: the dict's key is dropped with the slot.
            slot.guard = _until_the_loop_ends(functools.partial(self._finish, loop, slot))
            run_to_end(slot.guard.asend(None))
        self._drop(dead)
        return slot.value

    @property
    def held(self) -> int:
        """How many loops hold a value (not closed yet)."""
        return len(self._slots)

    async def _finish(self, loop: asyncio.AbstractEventLoop, slot: _Slot[T]) -> None:
        with self._lock:
            if self._slots.get(loop) is slot:
                del self._slots[loop]
        await self._close(slot.value)

    def _take(
        self, which: Callable[[asyncio.AbstractEventLoop], bool]
    ) -> list[tuple[asyncio.AbstractEventLoop, _Slot[T]]]:
        taken = [(loop, slot) for loop, slot in self._slots.items() if which(loop)]
        for loop, _ in taken:
            del self._slots[loop]
        return taken

    def _drop(self, dead: list[tuple[asyncio.AbstractEventLoop, _Slot[T]]]) -> None:
        for _, slot in dead:
            slot.guard = None  # its loop is closed: collecting it schedules nothing
            if self._abandon is not None:
                self._abandon(slot.value)

    def _closable(
        self,
    ) -> tuple[list[tuple[asyncio.AbstractEventLoop, _Slot[T]]], list[tuple[asyncio.AbstractEventLoop, _Slot[T]]]]:
        """(slots of running loops, slots of closed loops), taken out; a stopped loop's stay."""
        with self._lock:
            dead = self._take(lambda loop: loop.is_closed())
            running = self._take(lambda loop: loop.is_running())
        return running, dead

    async def aclose(self) -> None:
        """Close every loop's value: the running loop's here, each other running loop's on it."""
        here = asyncio.get_running_loop()
        running, dead = self._closable()
        self._drop(dead)
        for loop, slot in running:
            if loop is here:
                await _end(slot)
                continue
            try:
                future = asyncio.run_coroutine_threadsafe(_end(slot), loop)
                await asyncio.wait_for(asyncio.wrap_future(future), CLOSE_TIMEOUT_S)
            except (TimeoutError, RuntimeError):  # it stopped meanwhile: its shutdown closes it
                log.warning("genai.loop.close_timeout", extra={"loop": repr(loop)})

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Close every loop's value from a thread that runs none of them (each loop closes its own and this
        waits); on a loop's own thread its value is closed by a task of that loop, not waited for."""
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        running, dead = self._closable()
        self._drop(dead)
        for loop, slot in running:
            if loop is here:
                task = loop.create_task(_end(slot))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                continue
            try:
                asyncio.run_coroutine_threadsafe(_end(slot), loop).result(timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("genai.loop.close_timeout", extra={"loop": repr(loop)})


async def _end(slot: _Slot[Any]) -> None:
    """Close a slot's guard on its own loop, which closes its value; nothing if the loop's shutdown is already
    closing it (``aclose()`` of a generator that is running raises)."""
    guard = slot.guard
    if isinstance(guard, types.AsyncGeneratorType) and not guard.ag_running:
        await guard.aclose()
