"""DataLoaders, created per request so that nothing cached outlives the viewer's rights."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet

from actions._common import IN_LIST_MAX
from actions.watches import most_specific, watch_keys
from domain import policy
from graphql_schema.requests.loaders import RequestLoaders
from infra.lru import LRU
from models import (
    AccountTeamMembership,
    Customer,
    Event,
    Micropost,
    MicropostMention,
    MicropostTopic,
    Page,
    Project,
    Topic,
    User,
    Watch,
    WatchLevel,
)

M = TypeVar("M", bound=Model)
K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def now_or_later(loader: DataLoader[K, V], key: K, then: Callable[[V], R]) -> R:
    """``then`` of the loader's value for ``key``: at once when the loader already holds it
    (fetched up front for a page, or by an earlier field), raising its error as awaiting
    would; otherwise an awaitable of it, which graphql-core awaits.

    For resolvers declared without ``async``: graphql-core gives an awaitable result a task
    of its own and a plain value none, so a page of items whose values were fetched up
    front resolves without a task per field. Typed as the value, which the schema shows.
    """
    future = loader.cache_map.get(key) if loader.cache else None
    if future is not None and future.done() and not future.cancelled():
        return then(future.result())
    later: Any = _then(loader.load(key), then)
    return cast(R, later)


async def _then(value: Awaitable[V], then: Callable[[V], R]) -> R:
    return then(await value)


def _by_id(model: type[M]) -> Callable[[list[int]], Awaitable[list[M | None]]]:
    """Batch rows by primary key; loaded only through already authorised references."""

    async def load(ids: list[int]) -> list[M | None]:
        rows = {row.pk: row for row in await model.filter(pk__in=set(ids))}
        return [rows.get(i) for i in ids]

    return load


def _grouped(keys: Sequence[int], pairs: Iterable[tuple[int, M]]) -> list[list[M]]:
    groups: dict[int, list[M]] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return [groups.get(k, []) for k in keys]


class RowLoaders:
    """Rows by primary key. They are reached only through references that were already
    authorised, so they hold nothing viewer-specific and may be shared between viewers."""

    def __init__(self) -> None:
        self.user = DataLoader(load_fn=_by_id(User), max_batch_size=IN_LIST_MAX)
        self.customer = DataLoader(load_fn=_by_id(Customer), max_batch_size=IN_LIST_MAX)
        self.project = DataLoader(load_fn=_by_id(Project), max_batch_size=IN_LIST_MAX)
        self.page = DataLoader(load_fn=_by_id(Page), max_batch_size=IN_LIST_MAX)
        self.micropost = DataLoader(load_fn=_by_id(Micropost), max_batch_size=IN_LIST_MAX)


class SharedRowLoaders:
    """For each recent event, one set of row loaders shared by every subscriber of this
    process that delivers it: an event's actor, project, post or page is read once per
    process, not once per subscriber. Owned by the application, one per process."""

    def __init__(self, size: int = 64) -> None:
        self._recent: LRU[tuple[int, datetime], RowLoaders] = LRU(size)

    def for_event(self, event: Event) -> RowLoaders:
        key = (event.id, event.created_at)  # an id alone may be reused by a rebuilt database
        rows = self._recent.get(key)
        if rows is None:
            rows = self._recent.put(key, RowLoaders())
        return rows


class Loaders:
    """The request's (or websocket operation's) loaders. Each is made when first used
    after :meth:`reset`: a websocket makes its context's loaders several times (on
    connecting, on each operation) and most are never used there."""

    def __init__(self, viewer: User | None) -> None:
        self.viewer = viewer
        self.reset()

    def reset(self, rows: RowLoaders | None = None) -> None:
        """Forget cached rows (a long-lived subscription must read what is current), or
        use the rows shared for one event."""
        self._shared_rows = rows
        for name in _MADE_WHEN_USED:
            self.__dict__.pop(name, None)

    @cached_property
    def _rows(self) -> RowLoaders:
        return self._shared_rows or RowLoaders()

    @property
    def user(self) -> DataLoader[int, User | None]:
        return self._rows.user

    @property
    def customer(self) -> DataLoader[int, Customer | None]:
        return self._rows.customer

    @property
    def project(self) -> DataLoader[int, Project | None]:
        return self._rows.project

    @property
    def page(self) -> DataLoader[int, Page | None]:
        return self._rows.page

    @property
    def micropost(self) -> DataLoader[int, Micropost | None]:
        return self._rows.micropost

    @cached_property
    def topics_of_micropost(self) -> DataLoader[int, list[Topic]]:
        return DataLoader(load_fn=self._topics_of_micropost, max_batch_size=IN_LIST_MAX)

    @cached_property
    def mentions_of_micropost(self) -> DataLoader[int, list[User]]:
        return DataLoader(load_fn=self._mentions_of_micropost, max_batch_size=IN_LIST_MAX)

    @cached_property
    def reply_count(self) -> DataLoader[int, int]:
        return DataLoader(load_fn=self._reply_count, max_batch_size=IN_LIST_MAX)

    @cached_property
    def account_team(self) -> DataLoader[int, list[User]]:
        return DataLoader(load_fn=self._account_team, max_batch_size=IN_LIST_MAX)

    @cached_property
    def event(self) -> DataLoader[int, Event | None]:
        return DataLoader(load_fn=_by_id(Event), max_batch_size=IN_LIST_MAX)

    @cached_property
    def watch_level(self) -> DataLoader[str, WatchLevel | None]:
        """The viewer's own watch level by target key (actions.watches.target_key), None
        where they set none."""
        return DataLoader(load_fn=self._watch_levels, max_batch_size=IN_LIST_MAX)

    # rows by id within what the viewer may see (None for the rest, or for nobody)
    @cached_property
    def visible_customer(self) -> DataLoader[int, Customer | None]:
        return self._visible(policy.visible_customers)

    @cached_property
    def visible_project(self) -> DataLoader[int, Project | None]:
        return self._visible(policy.visible_projects)

    @cached_property
    def visible_page(self) -> DataLoader[int, Page | None]:
        return self._visible(policy.visible_pages)

    @cached_property
    def visible_topic(self) -> DataLoader[int, Topic | None]:
        return self._visible(policy.visible_topics)

    @cached_property
    def requests(self) -> RequestLoaders:
        return RequestLoaders(self.viewer)

    def _visible(self, scope: Callable[[User], QuerySet[M]]) -> DataLoader[int, M | None]:
        async def load(ids: list[int]) -> list[M | None]:
            if self.viewer is None:
                return [None for _ in ids]
            rows = {row.pk: row for row in await scope(self.viewer).filter(id__in=set(ids))}
            return [rows.get(i) for i in ids]

        return DataLoader(load_fn=load, max_batch_size=IN_LIST_MAX)

    async def effective_watch_level(
        self, *, customer_id: int, project_id: int | None = None, page_id: int | None = None
    ) -> WatchLevel | None:
        """The watch level that applies to the viewer here, inherited or own
        (actions.watches.most_specific), read with the watches of the other rows of the
        request."""
        keys = watch_keys(customer_id=customer_id, project_id=project_id, page_id=page_id)
        return most_specific(await self.watch_level.load_many(keys))

    async def _watch_levels(self, keys: list[str]) -> list[WatchLevel | None]:
        if self.viewer is None:
            return [None for _ in keys]
        found = await Watch.filter(user_id=self.viewer.id, target_key__in=set(keys)).values_list(
            "target_key", "level"
        )
        levels = {str(key): WatchLevel(level) for key, level in found}
        return [levels.get(key) for key in keys]

    async def _topics_of_micropost(self, ids: list[int]) -> list[list[Topic]]:
        # one row per link, but one model object per topic (a page names few topics)
        links = await MicropostTopic.filter(micropost_id__in=set(ids)).values_list(
            "micropost_id", "topic__id", "topic__name", "topic__created_at"
        )
        topics: dict[int, Topic] = {}
        pairs: list[tuple[int, Topic]] = []
        for post, key, name, created_at in sorted(links, key=lambda link: str(link[2])):
            topic = topics.get(key)
            if topic is None:
                topic = topics[key] = Topic._init_from_db(id=key, name=name, created_at=created_at)
            pairs.append((int(post), topic))
        return _grouped(ids, pairs)

    async def _mentions_of_micropost(self, ids: list[int]) -> list[list[User]]:
        links = await MicropostMention.filter(micropost_id__in=set(ids)).select_related("user")
        return _grouped(ids, ((link.micropost_id, link.user) for link in links))

    async def _reply_count(self, ids: list[int]) -> list[int]:
        if self.viewer is None:
            return [0 for _ in ids]
        rows = (
            await policy.visible_microposts(self.viewer)
            .filter(parent_id__in=set(ids))
            .annotate(n=Count("id"))
            .group_by("parent_id")
            .values_list("parent_id", "n")
        )
        counts = {int(parent): int(n) for parent, n in rows}
        return [counts.get(i, 0) for i in ids]

    async def _account_team(self, customer_ids: list[int]) -> list[list[User]]:
        links = await AccountTeamMembership.filter(
            customer_id__in=set(customer_ids)
        ).select_related("user")
        return _grouped(customer_ids, ((link.customer_id, link.user) for link in links))


_MADE_WHEN_USED = (
    "_rows",
    "topics_of_micropost",
    "mentions_of_micropost",
    "reply_count",
    "account_team",
    "event",
    "watch_level",
    "visible_customer",
    "visible_project",
    "visible_page",
    "visible_topic",
    "requests",
)
"""The :class:`Loaders` forgotten by :meth:`Loaders.reset`."""
