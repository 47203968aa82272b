"""DataLoaders of requests, made per request of the API (``info.context.loaders.requests``)
so that a list of requests reads each kind of related row once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from actions._common import IN_LIST_MAX
from domain import policy
from models import (
    BusinessCalendar,
    ExpectedDocument,
    RequestAttachment,
    RequestMessage,
    RequestParticipant,
    RequestStatusChange,
    RequestType,
    ServiceRequest,
    SlaPolicy,
    User,
)

T = TypeVar("T")


def _grouped(keys: Sequence[int], pairs: Iterable[tuple[int, T]]) -> list[list[T]]:
    groups: dict[int, list[T]] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return [groups.get(k, []) for k in keys]


class RequestLoaders:
    """Rows around requests the viewer was allowed to reach (messages are filtered by the
    viewer's right to INTERNAL notes)."""

    def __init__(self, viewer: User | None) -> None:
        self.viewer = viewer
        size = IN_LIST_MAX
        self.request = DataLoader(load_fn=self._requests, max_batch_size=size)
        self.request_type = DataLoader(load_fn=self._types, max_batch_size=size)
        self.history = DataLoader(load_fn=self._history, max_batch_size=size)
        self.messages = DataLoader(load_fn=self._messages, max_batch_size=size)
        self.participants = DataLoader(load_fn=self._participants, max_batch_size=size)
        self.expected_documents = DataLoader(load_fn=self._documents, max_batch_size=size)
        self.attachments_of_message = DataLoader(load_fn=self._of_message, max_batch_size=size)
        self.attachments_of_document = DataLoader(load_fn=self._of_document, max_batch_size=size)
        self.sla_policy = DataLoader(load_fn=self._policies, max_batch_size=size)
        self.calendar = DataLoader(load_fn=self._calendars, max_batch_size=size)
        self.on_account_team = DataLoader(load_fn=self._on_team, max_batch_size=size)

    async def _requests(self, ids: list[int]) -> list[ServiceRequest | None]:
        """Requests the viewer may see now (None for the others)."""
        if self.viewer is None:
            return [None for _ in ids]
        rows = await policy.visible_requests(self.viewer).filter(id__in=set(ids))
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]

    async def _on_team(self, customer_ids: list[int]) -> list[bool]:
        """Whether the viewer is on each customer's account team."""
        if self.viewer is None:
            return [False for _ in customer_ids]
        found = await policy.account_team_customers(self.viewer, customer_ids)
        return [i in found for i in customer_ids]

    async def _types(self, ids: list[int]) -> list[RequestType | None]:
        found = {row.id: row for row in await RequestType.filter(id__in=set(ids))}
        return [found.get(i) for i in ids]

    async def _history(self, ids: list[int]) -> list[list[RequestStatusChange]]:
        rows = await RequestStatusChange.filter(request_id__in=set(ids)).order_by("id")
        return _grouped(ids, ((row.request_id, row) for row in rows))

    async def _messages(self, ids: list[int]) -> list[list[RequestMessage]]:
        rows = RequestMessage.filter(request_id__in=set(ids))
        if self.viewer is None or not self.viewer.is_staff:
            rows = rows.filter(visibility="SHARED")
        return _grouped(ids, ((row.request_id, row) for row in await rows.order_by("id")))

    async def _participants(self, ids: list[int]) -> list[list[User]]:
        links = (
            await RequestParticipant.filter(request_id__in=set(ids))
            .select_related("user")
            .order_by("id")
        )
        return _grouped(ids, ((link.request_id, link.user) for link in links))

    async def _documents(self, ids: list[int]) -> list[list[ExpectedDocument]]:
        rows = await ExpectedDocument.filter(request_id__in=set(ids)).order_by("id")
        return _grouped(ids, ((row.request_id, row) for row in rows))

    async def _of_message(self, ids: list[int]) -> list[list[RequestAttachment]]:
        rows = await RequestAttachment.filter(message_id__in=set(ids)).order_by("id")
        return _grouped(ids, ((int(row.message_id or 0), row) for row in rows))

    async def _of_document(self, ids: list[int]) -> list[list[RequestAttachment]]:
        rows = await RequestAttachment.filter(expected_document_id__in=set(ids)).order_by("id")
        return _grouped(ids, ((int(row.expected_document_id or 0), row) for row in rows))

    async def _policies(self, keys: list[tuple[int, int]]) -> list[SlaPolicy | None]:
        """The SLA policy of (request type, customer): the customer's own, else the
        type's."""
        types = {type_id for type_id, _ in keys}
        rows = await SlaPolicy.filter(request_type_id__in=types)
        found = {(row.request_type_id, row.customer_id): row for row in rows}
        return [found.get((t, c)) or found.get((t, None)) for t, c in keys]

    async def _calendars(self, ids: list[int]) -> list[BusinessCalendar | None]:
        found = {row.id: row for row in await BusinessCalendar.filter(id__in=set(ids))}
        return [found.get(i) for i in ids]
