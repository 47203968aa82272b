from __future__ import annotations

import strawberry
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from domain import policy
from graphql_schema.context import Info
from graphql_schema.notifications.types import Notification, NotificationConnection
from graphql_schema.permissions import IsAuthenticated, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, paginate
from models import Notification as NotificationRow
from models import User


def readable_notifications(viewer: User) -> QuerySet[NotificationRow]:
    """The viewer's notifications whose events they may still read."""
    readable = Subquery(policy.visible_events(viewer).values("id"))
    return NotificationRow.filter(user_id=viewer.id, event_id__in=readable)


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(IsAuthenticated), description="Your inbox.")
    async def notifications(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        unread_only: bool = False,
    ) -> NotificationConnection:
        viewer = info.context.require_viewer()
        mine = readable_notifications(viewer)
        listed = mine.filter(read_at=None) if unread_only else mine
        page = await paginate(
            listed, first=first, after=after, to_node=Notification.from_row, newest_first=True
        )
        return NotificationConnection(
            edges=page.edges,
            page_info=page.page_info,
            _count=page._count,
            _unread=await mine.filter(read_at=None).count(),
        )
