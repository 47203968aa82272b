"""The audit trail, for administrators: who did what sensitive thing, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import orjson
import strawberry
from strawberry.scalars import JSON

from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.permissions import IsAdmin, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, node_pk, paginate
from graphql_schema.rows import FromRow
from graphql_schema.varies import SAME_FOR_EVERY_READER
from models import AuditEntry as AuditRow


@strawberry.type(description="One entry of the audit trail; entries are never changed.")
class AuditEntry(FromRow):
    action: str = strawberry.field(description="What happened, such as `login.failed`.")
    target: str = strawberry.field(description="What it happened to, such as `page:12`.")
    client_address: str
    created_at: datetime
    row: strawberry.Private[AuditRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER, description="Who did it, if anybody.")
    async def actor(self, info: Info) -> User | None:
        if self.row.actor_id is None:
            return None
        return await load_user(info, self.row.actor_id)

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="Whom it is about, if a person (a tombstone once their data was erased).",
    )
    async def subject(self, info: Info) -> User | None:
        if self.row.subject_id is None:
            return None
        return await load_user(info, self.row.subject_id)

    @strawberry.field(description="Its place in the hash chain (null until chained).")
    def sequence(self) -> int | None:
        return None if self.row.sequence is None else int(self.row.sequence)

    @strawberry.field(description="Particulars of the action.")
    def details(self) -> JSON:
        return cast(JSON, orjson.loads(orjson.dumps(self.row.details)))


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAdmin),
        description="The audit trail, newest first, optionally narrowed (administrators).",
    )
    async def audit_log(
        self,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        action: str | None = None,
        actor_id: strawberry.ID | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[AuditEntry] | None:
        entries = AuditRow.all()
        if action is not None:
            entries = entries.filter(action=action)
        if actor_id is not None:
            entries = entries.filter(actor_id=node_pk(actor_id, "User"))
        if target is not None:
            entries = entries.filter(target=target)
        if since is not None:
            entries = entries.filter(created_at__gte=since)
        if until is not None:
            entries = entries.filter(created_at__lt=until)
        return await paginate(
            entries, first=first, after=after, to_node=AuditEntry.from_row, newest_first=True
        )
