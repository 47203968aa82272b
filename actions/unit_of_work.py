"""One transaction of an action, and what others are told once it has committed.

Every write of an action happens in a unit of work, and whatever the action wants others to
hear of is registered on it, explicitly, where it is decided::

    async with unit_of_work(bus) as work:
        event = await record_event(MicropostPosted(...), project, actor)
        notified = await record_notifications(event, project)
        work.publish(event, notified=notified)

The event bus is told when the *outermost* transaction commits: never before (a live
subscriber that hears of an event can read it), never on a rollback (nobody hears of what
did not happen). What can be registered: committed events with the users they notified
(:meth:`UnitOfWork.publish`), a loss of rights (:meth:`UnitOfWork.rights_changed`), the
end of sessions (:meth:`UnitOfWork.sessions_ended`) and a change of an inbox's unread count
(:meth:`UnitOfWork.inbox_changed`); they are told in the order they were registered.

Nesting: a unit opened while another is open in the same task (an action calling another
action inside its unit, or a part of an action that may fail alone) is a savepoint of the
enclosing transaction. When it ends well, what it registered joins the enclosing unit and
waits for that one's commit; when it fails, it is dropped with the savepoint's writes. The
enclosing unit is found through a ContextVar, the way tortoise finds the enclosing
transaction's connection (tasks started inside a unit see it too); only that look-up is
implicit: every registration is a call on the ``work`` object at the call site.

A unit cannot be opened inside a bare ``in_transaction()``: the commit of that transaction
would be invisible to it, so it would tell others too early. That raises RuntimeError, as
does a unit opened in a task that outlived the unit it was started in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from models import Event
from realtime.bus import EventBus
from realtime.events import Publication

log = logging.getLogger(__name__)

_Tell = Callable[[], Awaitable[None]]


class UnitOfWork:
    """What one transaction tells the event bus once the outermost transaction has
    committed. Made by :func:`unit_of_work`; a unit without a bus registers nothing (a job
    with no live subscribers: streams read its events from the log)."""

    def __init__(self, bus: EventBus | None) -> None:
        self._bus = bus
        self._after_commit: list[tuple[str, _Tell]] = []
        self._ended = False

    def publish(self, event: Event, *, notified: Iterable[int]) -> None:
        """Announce ``event`` (written in this unit) on its project's channel and to the
        users it ``notified`` (ids; their feed and inbox channels)."""
        publication = Publication(event, frozenset(notified))
        self._register(f"event {event.id}", lambda bus: bus.publish([publication]))

    def rights_changed(self, *, project_ids: Collection[int], user_ids: Collection[int]) -> None:
        """Tell the live views of these projects and users to check their rights again."""
        projects, users = list(project_ids), list(user_ids)
        self._register(
            f"rights of users {users} and projects {projects}",
            lambda bus: bus.rights_changed(project_ids=projects, user_ids=users),
        )

    def sessions_ended(self, user_id: int) -> None:
        """Tell the user's open websockets, in every process, to check their session."""
        self._register(f"sessions of user {user_id}", lambda bus: bus.sessions_ended(user_id))

    def inbox_changed(self, user_id: int) -> None:
        """Tell the user's open clients that their unread count changed."""
        self._register(f"inbox of user {user_id}", lambda bus: bus.inbox_changed(user_id))

    def after_commit(self, what: str, call: Callable[[], None]) -> None:
        """Call ``call`` (quick, synchronous; ``what`` names it in a log of its failure)
        once the outermost unit has committed, with or without a bus: how a job enqueued
        here wakes this process's job runner (actions/jobs.py)."""
        if self._ended:
            raise RuntimeError("This unit of work has ended: register inside its block.")

        async def tell() -> None:
            call()

        self._after_commit.append((what, tell))

    def _register(self, what: str, tell: Callable[[EventBus], Awaitable[None]]) -> None:
        if self._ended:
            raise RuntimeError("This unit of work has ended: register inside its block.")
        bus = self._bus
        if bus is not None:
            self._after_commit.append((what, lambda: tell(bus)))

    async def _tell(self) -> None:
        for what, tell in self._after_commit:
            try:
                await tell()
            except Exception:  # committed regardless: live streams settle from the log
                log.exception("Telling the %s after a commit failed", what)


_enclosing: ContextVar[UnitOfWork | None] = ContextVar("enclosing_unit_of_work", default=None)


def current_unit() -> UnitOfWork | None:
    """The unit of work open in this task (the innermost one), or None."""
    return _enclosing.get()


def enclosing_bus() -> EventBus | None:
    """The event bus of the unit of work open in this task (None outside one, or for a
    unit without a bus): for what an action decides from live state (who is active)."""
    work = _enclosing.get()
    return None if work is None else work._bus


def _in_transaction() -> bool:
    return isinstance(connections.get("default"), TransactionalDBClient)


@asynccontextmanager
async def unit_of_work(bus: EventBus | None = None) -> AsyncIterator[UnitOfWork]:
    """A transaction (a savepoint inside another unit) whose registrations are told on
    ``bus`` after the outermost unit commits; see the module's docstring. Re-raises what
    the block raised, after rolling back. Raises RuntimeError when opened inside a bare
    ``in_transaction()`` or inside a unit that has already ended."""
    enclosing = _enclosing.get()
    if enclosing is None and _in_transaction():
        raise RuntimeError(
            "A unit of work was opened inside a transaction that is not one: its commit "
            "cannot be waited for. Open the outer transaction with unit_of_work()."
        )
    if enclosing is not None and enclosing._ended:
        raise RuntimeError("The enclosing unit of work has ended: a task outlived it.")
    work = UnitOfWork(bus)
    token = _enclosing.set(work)
    try:
        async with in_transaction():
            yield work
    finally:
        _enclosing.reset(token)
        work._ended = True
    if enclosing is not None:  # only a savepoint was released: wait for the outer commit
        enclosing._after_commit.extend(work._after_commit)
    elif work._after_commit:  # committed; told even if the caller is cancelled meanwhile
        await asyncio.shield(work._tell())
