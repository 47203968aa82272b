"""Timeline events as typed messages: what is published after a transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from models import Event, EventKind, Visibility


@dataclass(frozen=True, slots=True)
class TimelineMessage:
    """The wire form of an Event row; subscribers re-check rights against it."""

    id: int
    kind: EventKind
    customer_id: int
    project_id: int
    actor_id: int
    visibility: Visibility
    micropost_id: int | None
    page_id: int | None
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_event(cls, event: Event) -> TimelineMessage:
        return cls(
            id=event.id,
            kind=event.kind,
            customer_id=event.customer_id,
            project_id=event.project_id,
            actor_id=event.actor_id,
            visibility=event.visibility,
            micropost_id=event.micropost_id,
            page_id=event.page_id,
            payload=event.payload,
            created_at=event.created_at,
        )

    def to_event(self) -> Event:
        """The Event row this message announces, without reading the database."""
        return Event(
            id=self.id,
            kind=self.kind,
            customer_id=self.customer_id,
            project_id=self.project_id,
            actor_id=self.actor_id,
            visibility=self.visibility,
            micropost_id=self.micropost_id,
            page_id=self.page_id,
            payload=self.payload,
            created_at=self.created_at,
        )

    def encode(self) -> str:
        data = {
            "id": self.id,
            "kind": self.kind.value,
            "customer_id": self.customer_id,
            "project_id": self.project_id,
            "actor_id": self.actor_id,
            "visibility": self.visibility.value,
            "micropost_id": self.micropost_id,
            "page_id": self.page_id,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
        }
        return orjson.dumps(data).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> TimelineMessage:
        data = orjson.loads(raw)
        return cls(
            id=int(data["id"]),
            kind=EventKind(data["kind"]),
            customer_id=int(data["customer_id"]),
            project_id=int(data["project_id"]),
            actor_id=int(data["actor_id"]),
            visibility=Visibility(data["visibility"]),
            micropost_id=data["micropost_id"],
            page_id=data["page_id"],
            payload=dict(data["payload"]),
            created_at=datetime.fromisoformat(data["created_at"]),
        )
