"""The durable event log: one row per timeline change, with a typed payload per kind.

Each :class:`EventKind` has one payload dataclass (:data:`EventPayload`): actions build
one and write it to the row's JSON (:meth:`to_json`), readers get it back typed from
:attr:`Event.details` (:func:`read_payload`). The JSON keys are camelCase, as in rows
written before the payloads were typed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tortoise import connections, fields

from models._base import TimestampedModel, Visibility
from models.projects import ProjectStatus

if TYPE_CHECKING:
    from models.customers import Customer
    from models.projects import Project
    from models.users import User


class EventKind(StrEnum):
    MICROPOST_POSTED = "MICROPOST_POSTED"
    MICROPOST_EDITED = "MICROPOST_EDITED"
    PROJECT_STATUS_CHANGED = "PROJECT_STATUS_CHANGED"
    PAGE_CREATED = "PAGE_CREATED"
    PAGE_UPDATED = "PAGE_UPDATED"


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class _MicropostChange:
    """What the events about one post carry: the post, its author, and the post it replies
    to (``parent_id``) or the concept page it comments on (``page_id``)."""

    micropost_id: int
    author_id: int
    parent_id: int | None = None
    page_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "micropostId": self.micropost_id,
            "parentId": self.parent_id,
            "pageId": self.page_id,
            "authorId": self.author_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            micropost_id=int(data["micropostId"]),
            author_id=int(data["authorId"]),
            parent_id=_optional_int(data.get("parentId")),
            page_id=_optional_int(data.get("pageId")),
        )


@dataclass(frozen=True, slots=True)
class MicropostPosted(_MicropostChange):
    """A post, a reply (``parent_id``) or a comment on a concept page (``page_id``)
    appeared on the timeline."""

    kind: ClassVar[EventKind] = EventKind.MICROPOST_POSTED


@dataclass(frozen=True, slots=True)
class MicropostEdited(_MicropostChange):
    """A post's text changed; its earlier text is in its edits."""

    kind: ClassVar[EventKind] = EventKind.MICROPOST_EDITED


@dataclass(frozen=True, slots=True)
class ProjectStatusChanged:
    """The project's status went from ``from_status`` to ``to_status``, for ``reason``
    (may be empty); ``status_change_id`` is the recorded ProjectStatusChange."""

    kind: ClassVar[EventKind] = EventKind.PROJECT_STATUS_CHANGED
    from_status: ProjectStatus
    to_status: ProjectStatus
    reason: str = ""
    status_change_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_status.value,
            "to": self.to_status.value,
            "reason": self.reason,
            "statusChangeId": self.status_change_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProjectStatusChanged:
        return cls(
            from_status=ProjectStatus(data["from"]),
            to_status=ProjectStatus(data["to"]),
            reason=str(data.get("reason") or ""),
            status_change_id=_optional_int(data.get("statusChangeId")),
        )


@dataclass(frozen=True, slots=True)
class PageCreated:
    """A concept page was created, as revision 1 (``revision``) titled ``title``."""

    kind: ClassVar[EventKind] = EventKind.PAGE_CREATED
    page_id: int
    title: str
    revision: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"pageId": self.page_id, "revision": self.revision, "title": self.title}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageCreated:
        return cls(
            page_id=int(data["pageId"]),
            title=str(data["title"]),
            revision=int(data.get("revision", 1)),
        )


@dataclass(frozen=True, slots=True)
class PageUpdated:
    """A concept page got revision ``revision`` (2 or more), titled ``title``, with the
    writer's ``summary`` (may be empty)."""

    kind: ClassVar[EventKind] = EventKind.PAGE_UPDATED
    page_id: int
    revision: int
    title: str
    summary: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "pageId": self.page_id,
            "revision": self.revision,
            "title": self.title,
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageUpdated:
        return cls(
            page_id=int(data["pageId"]),
            revision=int(data["revision"]),
            title=str(data["title"]),
            summary=str(data.get("summary") or ""),
        )


EventPayload = MicropostPosted | MicropostEdited | ProjectStatusChanged | PageCreated | PageUpdated
"""What happened, typed: one dataclass per :class:`EventKind` (its ``kind``)."""

PAYLOADS: dict[EventKind, type[EventPayload]] = {
    payload.kind: payload
    for payload in (
        MicropostPosted,
        MicropostEdited,
        ProjectStatusChanged,
        PageCreated,
        PageUpdated,
    )
}


def read_payload(kind: EventKind, data: dict[str, Any]) -> EventPayload:
    """The typed payload of an event of ``kind`` from its row's JSON. Raises KeyError or
    ValueError for JSON that is not a payload of that kind."""
    return PAYLOADS[kind].from_json(data)


class Event(TimestampedModel):
    """The durable record of one timeline change, whose id is the subscription cursor.

    Ids are handed out when the row is inserted, and concurrent transactions may commit in
    another order: an event is delivered only once every lower id is *resolved* (committed
    or rolled back), see :func:`resolved_through` and ``realtime/horizon.py``."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(EventKind, max_length=32)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="events", on_delete=fields.CASCADE
    )
    customer_id: int
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="events", on_delete=fields.CASCADE
    )
    project_id: int
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    actor_id: int
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.SHARED)
    micropost_id = fields.IntField(null=True)
    page_id = fields.IntField(null=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    """The JSON form of :attr:`details`; written only through an :data:`EventPayload`."""

    class Meta:
        table = "events"
        indexes = (("project_id", "id"),)

    @property
    def details(self) -> EventPayload:
        """What happened, typed by the event's kind (read from :attr:`payload`)."""
        return read_payload(self.kind, self.payload)


class EventLogHorizon(TimestampedModel):
    """How far back the event log reaches: events with smaller ids were pruned, so a
    cursor before ``oldest_kept_id`` can no longer be replayed. One row, id 1."""

    id = fields.IntField(primary_key=True)
    oldest_kept_id = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "event_log_horizon"


# The shared advisory lock every transaction writing an event holds on PostgreSQL from
# before its id is drawn until it ends (two int4 keys: 1163284052 is "EVNT", then 1).
_TAKE_WRITER_LOCK = "SELECT pg_advisory_xact_lock_shared(1163284052, 1)"
_WRITERS = (
    "SELECT virtualtransaction FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid = 1163284052 AND objid = 1 AND objsubid = 2"
)
RESOLVE_POLL = 0.02
RESOLVE_POLL_MAX = 0.5
"""Seconds between two looks at the writers still open while :func:`resolved_through`
waits for them: RESOLVE_POLL at first, doubling up to RESOLVE_POLL_MAX."""


def _on_postgres() -> bool:
    return str(connections.get("default").capabilities.dialect) == "postgres"


async def mark_event_writer() -> None:
    """Call inside a transaction before inserting an Event: on PostgreSQL it takes the
    shared event-writer lock (never waits; released when the transaction ends), which is how
    :func:`resolved_through` knows who may still commit a lower id. SQLite has one writer
    at a time, so nothing is needed there."""
    if _on_postgres():
        await connections.get("default").execute_query(_TAKE_WRITER_LOCK)


_sequence: list[str] = []


async def resolved_through() -> int:
    """The highest event id ``r`` such that every id up to ``r`` is resolved: committed (and
    visible to any read from now on) or rolled back, so that no event with an id <= r can
    appear any more. Reads committed data only; call outside a transaction.

    On PostgreSQL: the last id drawn from the sequence, once every transaction that held
    the writer lock when it was read has ended (waits for them, polling). On SQLite
    writers are serialised and ids are taken in commit order, so it is the highest
    committed id.
    """
    client = connections.get("default")
    if not _on_postgres():
        _, rows = await client.execute_query("SELECT COALESCE(MAX(id), 0) AS top FROM events")
        return int(rows[0]["top"])
    if not _sequence:
        _, rows = await client.execute_query(
            "SELECT pg_get_serial_sequence('events', 'id') AS name"
        )
        _sequence.append(str(rows[0]["name"]))
    _, rows = await client.execute_query(
        f"SELECT last_value, is_called FROM {_sequence[0]}"  # noqa: S608 (a catalogue name)
    )
    drawn = int(rows[0]["last_value"]) - (0 if rows[0]["is_called"] else 1)
    # every writer of an id <= drawn took the lock before drawing it: wait for those open now
    _, rows = await client.execute_query(_WRITERS)
    open_writers = {row["virtualtransaction"] for row in rows}
    pause = RESOLVE_POLL
    while open_writers:
        await asyncio.sleep(pause)
        pause = min(pause * 2, RESOLVE_POLL_MAX)  # a long transaction is asked about less
        _, rows = await client.execute_query(_WRITERS)
        open_writers &= {row["virtualtransaction"] for row in rows}
    return drawn
