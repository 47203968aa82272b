"""DataLoaders, created per request so that nothing cached outlives the viewer's rights."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader
from tortoise.functions import Count
from tortoise.models import Model

from app import policy
from models import (
    AccountTeamMembership,
    Customer,
    Micropost,
    MicropostMention,
    MicropostTopic,
    Page,
    Project,
    Topic,
    User,
)

M = TypeVar("M", bound=Model)


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


class Loaders:
    def __init__(self, viewer: User | None) -> None:
        self.viewer = viewer
        self.reset()

    def reset(self) -> None:
        """Forget cached rows: a long-lived subscription must read what is current."""
        self.user = DataLoader(load_fn=_by_id(User))
        self.customer = DataLoader(load_fn=_by_id(Customer))
        self.project = DataLoader(load_fn=_by_id(Project))
        self.page = DataLoader(load_fn=_by_id(Page))
        self.micropost = DataLoader(load_fn=_by_id(Micropost))
        self.topics_of_micropost = DataLoader(load_fn=self._topics_of_micropost)
        self.mentions_of_micropost = DataLoader(load_fn=self._mentions_of_micropost)
        self.reply_count = DataLoader(load_fn=self._reply_count)
        self.account_team = DataLoader(load_fn=self._account_team)

    async def _topics_of_micropost(self, ids: list[int]) -> list[list[Topic]]:
        links = await MicropostTopic.filter(micropost_id__in=set(ids)).select_related("topic")
        links.sort(key=lambda link: link.topic.name)
        return _grouped(ids, ((link.micropost_id, link.topic) for link in links))

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
