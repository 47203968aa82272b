"""Live subscriptions above the transport: what a viewer may receive, from where, for how
long, and what happens when they fall behind. Every subscription of the schema is made of
these parts:

* :class:`Access`: what the viewer must still be allowed (an active account,
  ``domain.policy.is_active_account``, and the project or page the subscription reads:
  ``can_see_project``, ``can_see_page``). It is
  checked again whenever rights may have changed: a ``Control.RIGHTS_CHANGED`` or
  ``Control.RESYNC`` on the subscription's channel or on the viewer's rights channel, and at
  every presence heartbeat. A refusal ends the subscription with FORBIDDEN.
* :func:`timeline_events`: replay from a cursor, then live (the gap-free ordering is the
  transport's, realtime/stream.py). A cursor older than the event log is answered with
  :class:`ResyncRequired`; a client that fell behind gets RATE_LIMITED with
  ``resumeAfter``, the cursor to subscribe again from.
* :class:`Signals`: a channel of "look again" signals (the unread count, rights): after
  falling behind it subscribes again and reports one change, since signals carry nothing
  that could be lost.
* :class:`Guard`: a subscription that is not on an event channel (page presence) waits for
  its own change, a change of rights, or its next heartbeat.
* :class:`Frames`: how a subscription operation's events reach its client: each executed
  once per sharing key and sent as one shared frame (graphql_schema/sharing.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from domain import policy
from domain.errors import Forbidden, NotFound, RateLimited
from graphql_schema.sharing import Delivery
from infra.batching import Batched
from models import Event, EventLogHorizon, Notification, Project, User
from realtime._fanout import FellBehind, LocalSubscriber
from realtime.channels import feed_channel, project_channel, rights_channel
from realtime.events import Control
from realtime.stream import ReadLog, encode_cursor, open_events

if TYPE_CHECKING:
    from graphql_schema.context import Info
    from realtime.bus import EventBus

T = TypeVar("T")

REPLAY_BATCH = 500


@dataclass(frozen=True, slots=True)
class ResyncRequired:
    """The cursor is older than the event log reaches: refetch, then carry on from
    ``cursor`` (the stream continues live from there)."""

    cursor: int


@dataclass(frozen=True, slots=True)
class Access:
    """What a live subscription's viewer must still be allowed: an active account
    (:func:`domain.policy.is_active_account`) and, when given, ``still`` (a policy predicate
    on what the subscription reads)."""

    viewer: User
    still: Callable[[], Awaitable[bool]] | None
    refusal: str
    """FORBIDDEN's message once it is no longer allowed."""

    async def allowed(self) -> bool:
        if not await policy.is_active_account(self.viewer):
            return False
        return self.still is None or await self.still()

    async def confirm(self) -> None:
        """Raises Forbidden (:attr:`refusal`) when the viewer is no longer allowed."""
        if not await self.allowed():
            raise Forbidden(self.refusal)


def project_access(viewer: User, project_id: int) -> Access:
    """The project's timeline: :func:`domain.policy.can_see_project`."""
    return Access(
        viewer,
        lambda: policy.can_see_project(viewer, project_id),
        "You no longer have access to this.",
    )


def account_access(viewer: User) -> Access:
    """The viewer's own feed: an active account is enough (each event is checked)."""
    return Access(viewer, None, "You no longer have access to this.")


def page_access(viewer: User, page_id: int) -> Access:
    """The page's presence: :func:`domain.policy.can_see_page`."""
    return Access(
        viewer,
        lambda: policy.can_see_page(viewer, page_id),
        "You no longer have access to this page.",
    )


# -- timelines: replay from a cursor, then live ------------------------------------------


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of a scope's log: its events after ``after`` (up to ``through``), at most
    :data:`REPLAY_BATCH`. Pages of the same ``scope_key`` are the same rows for every reader
    (the scope's query is the same SQL), so equal pages are read once."""

    scope_key: Hashable
    after: int
    through: int | None
    scope: Callable[[], QuerySet[Event]] = field(compare=False, hash=False)

    async def read(self) -> list[Event]:
        query = self.scope().filter(id__gt=self.after)
        if self.through is not None:
            query = query.filter(id__lte=self.through)
        return list(await query.order_by("id").limit(REPLAY_BATCH))


async def _read_pages(pages: Sequence[_Page]) -> dict[_Page, list[Event]]:
    return dict(zip(pages, await asyncio.gather(*(page.read() for page in pages)), strict=True))


_pages: Batched[_Page, list[Event]] = Batched(_read_pages, most=32)
"""Subscribers resuming from the same cursor of the same scope (a reconnect storm) share
each page of their replay: one query, and the same event rows, which every subscriber only
reads (as it does a live event's)."""


def _log(scope: Callable[[], QuerySet[Event]], scope_key: Hashable | None = None) -> ReadLog:
    """The log of ``scope``; with ``scope_key`` (equal keys: the same rows for every
    reader) its pages are read once for every concurrent reader of the same page."""

    async def read(after: int, through: int | None) -> AsyncIterator[Event]:
        last = after
        while True:
            page = _Page(scope_key, last, through, scope)
            batch = await (page.read() if scope_key is None else _pages(page))
            for event in batch:
                yield event
            if len(batch) < REPLAY_BATCH:
                return
            last = batch[-1].id

    return read


async def _read_horizon(keys: Sequence[None]) -> dict[None, int | None]:
    horizon = await EventLogHorizon.get_or_none(id=1)
    return {None: None if horizon is None else horizon.oldest_kept_id}


_horizon: Batched[None, int | None] = Batched(_read_horizon)


async def _pruned_past(after: int) -> bool:
    """Whether events after ``after`` were pruned from the log (actions/events.py); one
    read for every concurrent asker."""
    oldest_kept_id = await _horizon(None)
    return oldest_kept_id is not None and after < oldest_kept_id - 1


async def _latest_id(scope: QuerySet[Event]) -> int:
    latest = await scope.order_by("-id").first()
    return latest.id if latest else 0


Send = Callable[[Event], Awaitable[None]]
"""Sends one event to the operation's client, as its shared frame."""
SendNow = Callable[[Event], bool]
"""Sends one event to the operation's client at once, without waiting: False when it cannot
(its frame is not executed yet, or the socket is busy), and nothing was sent."""


async def timeline_events(
    viewer: User,
    bus: EventBus,
    channel: str,
    *,
    scope: Callable[[], QuerySet[Event]],
    scope_key: Hashable | None = None,
    everything: QuerySet[Event],
    access: Access,
    after: int | None,
    send: Send | None = None,
    admit: Callable[[Event], Awaitable[bool]] | None = None,
    send_now: SendNow | None = None,
) -> AsyncGenerator[Event | ResyncRequired, None]:
    """The events of ``scope`` (what the viewer may read of the channel) after the cursor
    ``after`` (read from the log), or from now on, then live ones, in id order without
    gaps or repeats; each is handed to ``send`` when given (:class:`Frames`), otherwise
    yielded. ``scope_key``: equal for every reader whose ``scope`` is the same rows
    (:func:`domain.policy.audience`): concurrent replays of one page then read it once.
    ``everything``: all events of the channel, readable or not, for the cursor of
    a :class:`ResyncRequired` (always yielded). Ends with FORBIDDEN as soon as ``access``
    is refused, and RATE_LIMITED (``resumeAfter``) when the client fell behind. ``admit``:
    when given, a live event of the channel is delivered only if it answers True (a
    channel whose events are not all the viewer's, beyond their visibility). ``send_now``:
    with ``send`` (and no ``admit``), a live event that comes in order while the stream is
    idle is checked and sent by the channel's own task, without waking this generator
    (realtime/stream.py ``EventStream.deliver_directly``); anything else comes here."""
    async with open_events(bus, channel, _log(scope, scope_key)) as events:
        if send is not None and send_now is not None and admit is None:
            events.deliver_directly(_direct(viewer, send_now))
        if after is not None and await _pruned_past(after):
            yield ResyncRequired(
                cursor=await _latest_id(everything.filter(id__lte=events.position))
            )
        elif after is not None:
            events.resume_after(after)
        try:
            async for item in events:
                if isinstance(item, Control):  # rights changed, or the transport reconnected
                    await access.confirm()
                elif not policy.can_see_visibility(viewer, item.visibility):
                    continue  # a live event of the channel that is not the viewer's
                elif admit is not None and not await admit(item):
                    continue
                elif send is not None:
                    await send(item)
                else:
                    yield item
        except FellBehind:
            raise RateLimited(
                "You fell behind the live stream: subscribe again with `after` set to "
                "the last cursor you received.",
                resumeAfter=encode_cursor(events.position),
            ) from None


def _direct(viewer: User, send_now: SendNow) -> Callable[[Event], bool]:
    """What a timeline does with a live event that comes in order: not the viewer's
    (:func:`domain.policy.can_see_visibility`), skipped; otherwise sent at once, if it can
    be. The viewer's rights are current: a change of them is a control signal, which the
    stream yields (and nothing is taken at once until it was looked at)."""

    def deliver(event: Event) -> bool:
        if not policy.can_see_visibility(viewer, event.visibility):
            return True
        return send_now(event)

    return deliver


@dataclass(frozen=True, slots=True)
class _ProjectOf:
    """A project looked up for a viewer: the same row for every viewer of one audience
    (:func:`domain.policy.audience`: what ``visible_projects`` depends on)."""

    audience: Hashable
    project_id: int
    viewer: User = field(compare=False, hash=False)


async def _read_projects(keys: Sequence[_ProjectOf]) -> dict[_ProjectOf, Project | None]:
    found = await asyncio.gather(
        *(policy.visible_projects(key.viewer).get_or_none(id=key.project_id) for key in keys)
    )
    return dict(zip(keys, found, strict=True))


_projects: Batched[_ProjectOf, Project | None] = Batched(_read_projects, most=32)


async def visible_project(viewer: User, project_id: int) -> Project:
    """The project a timeline subscription reads, if the viewer may see it now, otherwise
    NOT_FOUND (as :func:`domain.policy.get_visible`); one read for every concurrent
    subscriber of the same audience (a reconnect storm), which share the row."""
    found = await _projects(_ProjectOf(policy.audience(viewer), project_id, viewer))
    if found is None:
        raise NotFound("project", looked_up=(Project, project_id))
    return found


def project_timeline(
    viewer: User,
    bus: EventBus,
    project_id: int,
    after: int | None,
    send: Send | None = None,
    send_now: SendNow | None = None,
) -> AsyncGenerator[Event | ResyncRequired, None]:
    """The project's events after the cursor (or from now on), then live ones, handed to
    ``send`` or yielded; ends with FORBIDDEN as soon as the viewer may no longer read the
    project."""
    return timeline_events(
        viewer,
        bus,
        project_channel(project_id),
        scope=lambda: policy.visible_events(viewer).filter(project_id=project_id),
        scope_key=("project", project_id, policy.audience(viewer)),
        everything=Event.filter(project_id=project_id),
        access=project_access(viewer, project_id),
        after=after,
        send=send,
        send_now=send_now,
    )


def my_feed(
    viewer: User,
    bus: EventBus,
    after: int | None,
    send: Send | None = None,
    send_now: SendNow | None = None,
) -> AsyncGenerator[Event | ResyncRequired, None]:
    """The events that notified the viewer (their watches, levels and mentions), still
    readable by them, after the cursor (or from now on), then live ones, handed to ``send``
    or yielded."""

    def scope() -> QuerySet[Event]:
        notified = Notification.filter(user_id=viewer.id).values("event_id")
        return policy.visible_events(viewer).filter(id__in=Subquery(notified))

    return timeline_events(
        viewer,
        bus,
        feed_channel(viewer.id),
        scope=scope,
        scope_key=("feed", viewer.id, policy.audience(viewer)),
        everything=Event.all(),
        access=account_access(viewer),
        after=after,
        send=send,
        send_now=send_now,
    )


class Frames:
    """``async with Frames(info, channel, root) as frames``: how one subscription
    operation's events reach its client.

    With the operation's :class:`Delivery` (its root value: app/main.py starts every
    graphql-transport-ws operation with one), every live event of ``channel`` is executed
    once per sharing key before the channel's subscribers are woken for it, and
    :attr:`send` sends an event as that shared text (:attr:`send_now`: at once, when it is
    ready and the socket takes it without waiting). Without one, :attr:`send` and
    :attr:`send_now` are None and the events go to strawberry as :meth:`item`. ``root``:
    the GraphQL object of an event (and of a :class:`ResyncRequired`)."""

    def __init__(
        self, info: Info, channel: str, root: Callable[[Event | ResyncRequired], object]
    ) -> None:
        self._info = info
        self._channel = channel
        self._root = root
        delivery = info.root_value
        self._delivery = delivery if isinstance(delivery, Delivery) else None
        self.send: Send | None = None
        self.send_now: SendNow | None = None
        if self._delivery is not None:
            self.send = functools.partial(self._delivery.send, info, root=root)
            self.send_now = functools.partial(self._delivery.send_now, info, root=root)
        self._stop: Callable[[], None] | None = None

    async def __aenter__(self) -> Frames:
        if self._delivery is not None:
            bus = self._info.context.bus
            self._stop = self._delivery.prepare_on(self._info, bus, self._channel, self._root)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._stop()

    def item(self, item: Event | ResyncRequired) -> object:
        """What strawberry executes for ``item``; an event's rows are shared with every
        subscriber delivering it."""
        if isinstance(item, Event):
            context = self._info.context
            context.loaders.reset(context.shared_rows.for_event(item))
        return self._root(item)


# -- signals and guards: subscriptions that are not on an event channel -----------------


class Signals:
    """``async with Signals(bus, channel) as changes``: a channel of control signals ("look
    again"), subscribed live once entered."""

    def __init__(self, bus: EventBus, channel: str) -> None:
        self._bus = bus
        self._channel = channel
        self._stack = AsyncExitStack()
        self._subscriber: LocalSubscriber | None = None

    async def __aenter__(self) -> Signals:
        self._subscriber = await self._stack.enter_async_context(self._bus.subscribe(self._channel))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._subscriber = None
        await self._stack.aclose()

    async def next(self) -> str | None:
        """The next signal; None when signals were dropped because the reader fell behind
        (the channel is subscribed again: look again). Raises what the transport raised."""
        assert self._subscriber is not None, "enter Signals first"
        try:
            return await self._subscriber.get()
        except FellBehind:
            await self.__aexit__()
            await self.__aenter__()
            return None


class Guard:
    """The rights of a subscription that is not on an event channel (page presence): every
    signal of the viewer's rights channel, in any process, checks ``access`` again (a
    removal from the project or the customer ends the subscription at once)."""

    def __init__(self, bus: EventBus, access: Access) -> None:
        self.access = access
        self._rights = Signals(bus, rights_channel(access.viewer.id))
        self._signal: asyncio.Future[str | None] | None = None

    async def __aenter__(self) -> Guard:
        await self._rights.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._signal is not None:
            self._signal.cancel()
            self._signal = None
        await self._rights.__aexit__()

    async def wait(self, changed: Awaitable[T], deadline: float) -> T | None:
        """The result of ``changed``, or None once the event loop's time reaches
        ``deadline`` (``changed`` is then cancelled). Raises Forbidden as soon as a change of
        rights refuses ``access``, and what the transport raised (a failure ends the
        subscription)."""
        changing: asyncio.Future[T] = asyncio.ensure_future(changed)
        try:
            while True:
                if self._signal is None:
                    self._signal = asyncio.ensure_future(self._rights.next())
                try:
                    # a timeout scope, not asyncio.wait_for: on Python 3.11 wait_for
                    # swallows the cancellation that ends the subscription
                    async with asyncio.timeout_at(deadline):
                        waited: set[asyncio.Future[Any]] = {changing, self._signal}
                        await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
                except TimeoutError:
                    return None
                if self._signal.done():
                    signal, self._signal = self._signal, None
                    signal.result()
                    await self.access.confirm()
                if changing.done():
                    return changing.result()
        finally:
            if not changing.done():
                changing.cancel()
