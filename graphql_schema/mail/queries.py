from __future__ import annotations

import strawberry

from actions.mail_notifications import mail_settings
from graphql_schema.context import Info
from graphql_schema.mail.types import MailPreferences
from graphql_schema.permissions import IsAuthenticated, rule


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAuthenticated),
        description="Which of your notifications reach you by mail, and when.",
    )
    async def mail_preferences(self, info: Info) -> MailPreferences:
        return MailPreferences.of(await mail_settings(info.context.require_viewer()))
