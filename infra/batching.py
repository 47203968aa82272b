"""Reads batched across concurrent callers, never older than the call they answer.

When thousands of websockets reconnect at once, each asks the database the same few
questions (is this session still alive, what did I miss since my cursor). A
:class:`Batched` read answers every caller of one key from one read, and callers of
different keys from one batched read, under one rule: a read starts only after every call
it answers was made. Calls made while a read is running wait for the next one, which
starts as soon as that read ends; so an answer is never older than its call, exactly as if
each caller had asked the database itself (a session revoked before the call is seen as
revoked), and at most one read per :class:`Batched` runs at a time in an event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Loop(Generic[K, V]):
    """One event loop's waiting calls and its running read."""

    __slots__ = ("pending", "reading")

    def __init__(self) -> None:
        self.pending: dict[K, asyncio.Future[V]] = {}
        self.reading: asyncio.Task[None] | None = None


class Batched(Generic[K, V]):
    """``await batched(key)``: the value ``read([key, …])`` gives for ``key``, read with the
    other keys asked for meanwhile (up to ``most`` keys a read).

    ``read`` takes distinct keys and returns a value for each (a missing key raises
    KeyError in its caller); what it raises is raised in every caller of that read. Callers
    of one key share the value: ``read`` returns what they may share. ``read`` runs in a
    context of its own, outside any caller's transaction."""

    def __init__(self, read: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]], most: int = 500):
        self._read = read
        self._most = most
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop[K, V]] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _Loop()
        waiting = state.pending.get(key)
        if waiting is None:
            waiting = state.pending[key] = loop.create_future()
            waiting.add_done_callback(_retrieved)  # every caller may have left
        if state.reading is None:  # starts next turn of the loop, after this turn's calls
            state.reading = loop.create_task(self._drain(state), context=contextvars.Context())
        # one caller that leaves does not cancel the others' read
        return await asyncio.shield(waiting)

    async def _drain(self, state: _Loop[K, V]) -> None:
        batch: dict[K, asyncio.Future[V]] = {}
        try:
            while state.pending:
                keys = list(state.pending)[: self._most]
                batch = {key: state.pending.pop(key) for key in keys}
                try:
                    values = await self._read(keys)
                except Exception as error:
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(error)
                    continue
                for key, future in batch.items():
                    if future.done():
                        continue
                    if key in values:
                        future.set_result(values[key])
                    else:
                        future.set_exception(KeyError(key))
        finally:
            state.reading = None
            for future in [*batch.values(), *state.pending.values()]:  # when cancelled
                if not future.done():
                    future.cancel()
            state.pending.clear()


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
