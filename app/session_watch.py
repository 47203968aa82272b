"""Websockets closed as soon as their sign-in session ends or their user is removed.

Whichever process ends a session signals it on the user's sessions channel
(realtime/channels.py). A process listens to that channel once per user, however many
of the user's websockets it holds: one task and one subscriber per user, not per socket.
On any signal (an end, a transport resync) it asks the database once per session of the
user's sockets whether that session still signs the user in, and closes every socket of
each ended session at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket

from domain.auth import session_user
from realtime.bus import EventBus
from realtime.channels import sessions_channel

log = logging.getLogger("extranet")

READY_WITHIN = 5.0  # seconds a socket waits at most for its user's channel to be listened to


class Watching:
    """One websocket's part in its user's watch: :meth:`cancel` ends it (the socket closed)."""

    __slots__ = ("_user", "session_id", "websocket")

    def __init__(self, user: _UserWatch, websocket: WebSocket, session_id: str) -> None:
        self._user = user
        self.websocket = websocket
        self.session_id = session_id

    def cancel(self) -> None:
        """Stop watching (idempotent); the user's watch ends with its last socket."""
        self._user.forget(self)

    async def until_listening(self) -> None:
        """Until the user's sessions channel is listened to (or the watch has ended), at
        most :data:`READY_WITHIN` seconds; it returns at once when it already is."""
        await self._user.until_listening()


class _UserWatch:
    __slots__ = ("_registry", "listening", "sockets", "task", "user_id")

    def __init__(self, registry: SessionWatches, user_id: int) -> None:
        self._registry = registry
        self.user_id = user_id
        self.sockets: set[Watching] = set()
        self.listening = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name="session watch")

    def forget(self, watching: Watching) -> None:
        self.sockets.discard(watching)
        if not self.sockets:
            self.task.cancel()
            self._registry.ended(self)

    async def until_listening(self) -> None:
        if self.listening.is_set() or self.task.done():
            return
        ready = asyncio.ensure_future(self.listening.wait())
        await asyncio.wait(
            {ready, self.task}, timeout=READY_WITHIN, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()

    async def _run(self) -> None:
        bus = self._registry.bus
        while self.sockets:
            try:
                async with bus.subscribe(sessions_channel(self.user_id)) as signals:
                    self.listening.set()
                    while self.sockets:
                        await signals.get()  # any signal (an end, a transport resync): look
                        await self._look()
            except Exception:
                log.warning(
                    "Listening for the end of sessions failed; listening again", exc_info=True
                )
                await asyncio.sleep(1.0)
        self._registry.ended(self)

    async def _look(self) -> None:
        """Close the sockets of every session of the user's sockets that has ended."""
        for session_id in {watching.session_id for watching in self.sockets}:
            if not await self._ended(session_id):
                continue
            for watching in [w for w in self.sockets if w.session_id == session_id]:
                self.sockets.discard(watching)
                self._registry.close(watching.websocket)
        if not self.sockets:  # a socket opened from now on listens again, in a new watch
            self._registry.ended(self)

    async def _ended(self, session_id: str) -> bool:
        try:
            return await session_user(self.user_id, session_id) is None
        except Exception:  # the database is away: every next operation checks again
            log.warning("Checking a websocket's session failed", exc_info=True)
            return False


class SessionWatches:
    """The process's watches of sessions, one per user with open websockets.

    ``code`` and ``reason`` are the close code and reason of a socket whose session ended.
    """

    def __init__(self, bus: EventBus, code: int, reason: str) -> None:
        self.bus = bus
        self.code = code
        self.reason = reason
        self._users: dict[int, _UserWatch] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def watch(self, websocket: WebSocket, user_id: int, session_id: str) -> Watching:
        """Close ``websocket`` as soon as the session ``session_id`` of user ``user_id`` ends
        (or the user is removed), until the returned part is cancelled."""
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _UserWatch(self, user_id)
        watching = Watching(user, websocket, session_id)
        user.sockets.add(watching)
        return watching

    def ended(self, user: _UserWatch) -> None:
        if self._users.get(user.user_id) is user:
            del self._users[user.user_id]

    def close(self, websocket: WebSocket) -> None:
        """Close ``websocket`` in a task of its own: every socket of an ended session at once."""
        closing = asyncio.ensure_future(self._close(websocket))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _close(self, websocket: WebSocket) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            await websocket.close(code=self.code, reason=self.reason)

    def __len__(self) -> int:
        """How many users' sessions are watched."""
        return len(self._users)
