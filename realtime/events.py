"""What travels on the event bus's channels: committed timeline events and control signals.

A channel message is either a :class:`TimelineMessage` (an event row, as JSON text that
starts with ``{``) or a :class:`Control` signal (a fixed word); :func:`decode_message`
tells them apart. Both are published only after the transaction that caused them commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from infra import tracing
from infra.lru import LRU
from models import Event, EventKind, Visibility
from models.events import EventPayload, read_payload


class Control(StrEnum):
    """A signal on a channel that carries no event: something changed, look again.

    The values are the words on the wire (a :class:`StrEnum`, so a member is the string
    the transport carries)."""

    RESYNC = "__resync__"
    """The transport reconnected and messages may have been lost: read them from the log
    (put on every channel by the Redis backend itself, never published)."""
    RIGHTS_CHANGED = "__rights__"
    """Someone lost access (on a project's, a feed's or a user's rights channel): check
    the viewer's rights again."""
    SESSIONS_ENDED = "__sessions__"
    """Sessions of the user ended (on their sessions channel): check the socket's."""
    NOTIFIED = "new"
    """A new notification (on the user's inbox channel): the unread count grew."""
    READ = "read"
    """Notifications were marked read (on the user's inbox channel)."""
    PRESENCE_CHANGED = "changed"
    """Someone arrived on, left or started or stopped editing the page (on its presence
    channel)."""


@dataclass(frozen=True, slots=True)
class TimelineMessage:
    """The wire form of an Event row; subscribers re-check rights against it."""

    id: int
    kind: EventKind
    customer_id: int | None
    project_id: int | None
    request_id: int | None
    actor_id: int
    visibility: Visibility
    micropost_id: int | None
    page_id: int | None
    payload: EventPayload
    created_at: datetime
    traceparent: str = ""  # of the operation that published it, when tracing

    @classmethod
    def from_event(cls, event: Event) -> TimelineMessage:
        return cls(
            id=event.id,
            kind=event.kind,
            customer_id=event.customer_id,
            project_id=event.project_id,
            request_id=event.request_id,
            actor_id=event.actor_id,
            visibility=event.visibility,
            micropost_id=event.micropost_id,
            page_id=event.page_id,
            payload=event.details,
            created_at=event.created_at,
        )

    def to_event(self) -> Event:
        """The Event row this message announces, without reading the database."""
        return Event(
            id=self.id,
            kind=self.kind,
            customer_id=self.customer_id,
            project_id=self.project_id,
            request_id=self.request_id,
            actor_id=self.actor_id,
            visibility=self.visibility,
            micropost_id=self.micropost_id,
            page_id=self.page_id,
            payload=self.payload.to_json(),
            created_at=self.created_at,
        )

    def encode(self, traceparent: str = "") -> str:
        """The message as JSON text; ``traceparent`` names the publishing operation."""
        data = {
            "id": self.id,
            "kind": self.kind.value,
            "customer_id": self.customer_id,
            "project_id": self.project_id,
            "request_id": self.request_id,
            "actor_id": self.actor_id,
            "visibility": self.visibility.value,
            "micropost_id": self.micropost_id,
            "page_id": self.page_id,
            "payload": self.payload.to_json(),
            "created_at": self.created_at.isoformat(),
        }
        if traceparent:
            data["traceparent"] = traceparent
        return orjson.dumps(data).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> TimelineMessage:
        data: dict[str, Any] = orjson.loads(raw)
        kind = EventKind(data["kind"])
        return cls(
            id=int(data["id"]),
            kind=kind,
            customer_id=data["customer_id"],
            project_id=data["project_id"],
            request_id=data.get("request_id"),
            actor_id=int(data["actor_id"]),
            visibility=Visibility(data["visibility"]),
            micropost_id=data["micropost_id"],
            page_id=data["page_id"],
            payload=read_payload(kind, dict(data["payload"])),
            created_at=datetime.fromisoformat(data["created_at"]),
            traceparent=data.get("traceparent") or "",
        )


_CONTROL_WORDS = frozenset(Control)


class LiveEvents:
    """Live messages and their events, decoded once per process: every subscriber of a
    channel receives the same message text (the rows are only read, never changed). One per
    event bus (``EventBus.live_events``), keeping the ``size`` most recent."""

    def __init__(self, size: int = 256) -> None:
        self._decoded: LRU[str, tuple[TimelineMessage, Event]] = LRU(size)

    def get(self, raw: str) -> tuple[TimelineMessage, Event] | None:
        """The message and its event; None for a channel's :class:`Control` signals."""
        if raw in _CONTROL_WORDS:
            return None
        found = self._decoded.get(raw)
        if found is None:
            message = TimelineMessage.decode(raw)
            tracing.remember_origin(message.id, message.traceparent)
            found = self._decoded.put(raw, (message, message.to_event()))
        return found


ChannelMessage = TimelineMessage | Control
"""Anything a subscriber of a channel receives, decoded."""


def decode_message(raw: str) -> ChannelMessage:
    """The message a channel carried. Raises ValueError for text that is neither an event
    nor a :class:`Control` word."""
    if raw.startswith("{"):
        return TimelineMessage.decode(raw)
    return Control(raw)


@dataclass(frozen=True, slots=True)
class Publication:
    """A committed event and the users it notified (whose feed and inbox hear of it)."""

    event: Event
    notified: Collection[int] = ()
