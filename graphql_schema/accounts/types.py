from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graphql_schema.context import Info
from graphql_schema.enums import Role
from graphql_schema.permissions import CanSeeEmail, rule
from graphql_schema.rows import FromRow
from graphql_schema.varies import SAME_FOR_EVERY_READER
from models import User as UserRow

if TYPE_CHECKING:
    from graphql_schema.customers.types import Customer


@strawberry.type(description="A person who signs in: provider staff or a customer's contact.")
class User(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    handle: str = strawberry.field(description="What others write after @ to mention this user.")
    role: Role
    created_at: datetime
    row: strawberry.Private[UserRow]

    @strawberry.field(extensions=rule(CanSeeEmail))
    def email(self) -> str | None:
        return self.row.email

    @strawberry.field(
        extensions=rule(CanSeeEmail),
        description="Whether two-factor sign-in is on (seen by whoever may see the email).",
    )
    def mfa_enabled(self) -> bool | None:
        return self.row.totp_secret is not None

    @strawberry.field(
        extensions=rule(CanSeeEmail),
        description="An IANA time zone name (`Europe/Zurich`); `UTC` until the user sets one.",
    )
    def time_zone(self) -> str | None:
        return self.row.time_zone

    @strawberry.field(
        extensions=rule(CanSeeEmail),
        description="A BCP 47 language tag (`de-CH`); `en` until the user sets one.",
    )
    def locale(self) -> str | None:
        return self.row.locale

    @strawberry.field(
        extensions=rule(CanSeeEmail),
        description="Whether the account may sign in (false once deactivated or removed).",
    )
    def is_active(self) -> bool | None:
        return self.row.is_active

    @strawberry.field(
        extensions=rule(CanSeeEmail),
        description="When the account was deactivated or removed; null while it is active.",
    )
    def deactivated_at(self) -> datetime | None:
        return None if self.row.is_active else self.row.deactivated_at

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="The customer a contact belongs to; null for staff.",
    )
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("graphql_schema.customers.types")] | None:
        from graphql_schema.customers.types import Customer

        if self.row.customer_id is None:
            return None
        row = await info.context.loaders.customer.load(self.row.customer_id)
        return Customer.from_row(row) if row else None


async def load_user(info: Info, user_id: int) -> User:
    """A user reached through an authorised reference (author, actor, editor)."""
    row = await info.context.loaders.user.load(user_id)
    if row is None:
        raise LookupError(f"user {user_id} is referenced but missing")
    return User.from_row(row)


@strawberry.type(description="A signed-in session.")
class SessionPayload:
    access_token: str = strawberry.field(description="Send as `Authorization: Bearer …`.")
    access_token_expires_in: int = strawberry.field(description="Seconds until it expires.")
    refresh_token: str = strawberry.field(
        description="Exchange once with `refreshSession` for a new pair; keep it secret."
    )
    user: User
