"""Running a coroutine in the calling code as far as it goes without waiting.

Writing one frame to a websocket goes through several coroutines (starlette's
``WebSocket.send_text``, the middlewares' ``send``, the server's) that finish without ever
waiting while the socket's transport takes data. Fan-out writes the same frame to thousands
of sockets: :func:`run_now` writes each from the fan-out loop itself instead of creating a
task (or waking one) per socket, and only a socket that makes its writer wait (its reader is
slow) gets a task that finishes that one write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


class _Rest:
    """The rest of a started coroutine, from the future it waits for."""

    __slots__ = ("_coroutine", "_waits_for")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waits_for: object) -> None:
        self._coroutine = coroutine
        self._waits_for = waits_for

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, value = self._coroutine, self._waits_for
        self._waits_for = None
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # a cancellation, or a future that failed
                try:
                    value = coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    value = coroutine.send(sent)
                except StopIteration:
                    return


async def _finish(rest: _Rest) -> None:
    await rest


def run_now(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coroutine`` here until it returns (then None) or first waits: then the task
    that runs the rest of it, in the current context. What it raises before waiting is
    raised here."""
    try:
        waits_for = coroutine.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_finish(_Rest(coroutine, waits_for)))
