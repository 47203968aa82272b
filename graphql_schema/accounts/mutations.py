from __future__ import annotations

import strawberry

from actions import accounts
from graphql_schema.accounts.types import SessionPayload, User
from graphql_schema.context import Info
from graphql_schema.permissions import CanManageContacts, rule
from graphql_schema.relay import node_pk


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshSessionInput:
    refresh_token: str


@strawberry.input
class LogoutInput:
    refresh_token: str


@strawberry.type
class LogoutPayload:
    ended: bool = strawberry.field(description="Whether a session was ended.")


@strawberry.input
class RemoveContactInput:
    user_id: strawberry.ID


@strawberry.type
class RemoveContactPayload:
    contact: User


def session_payload(info: Info, session: accounts.Session) -> SessionPayload:
    info.context.act_as(session.user, session.session_id)
    return SessionPayload(
        access_token=session.access_token,
        access_token_expires_in=session.access_token_expires_in,
        refresh_token=session.refresh_token,
        user=User.from_row(session.user),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in with email and password.")
    async def login(self, info: Info, input: LoginInput) -> SessionPayload | None:
        ctx = info.context
        session = await accounts.login(
            ctx.settings, input.email, input.password, ctx.client_address, ctx.throttle
        )
        return session_payload(info, session)

    @strawberry.mutation(description="Exchange a refresh token for a new session (rotation).")
    async def refresh_session(
        self, info: Info, input: RefreshSessionInput
    ) -> SessionPayload | None:
        session = await accounts.refresh_session(
            info.context.settings, input.refresh_token, info.context.bus
        )
        return session_payload(info, session)

    @strawberry.mutation(description="End the session that the refresh token belongs to.")
    async def logout(self, info: Info, input: LogoutInput) -> LogoutPayload | None:
        return LogoutPayload(ended=await accounts.logout(input.refresh_token, info.context.bus))

    @strawberry.mutation(
        extensions=rule(CanManageContacts),
        description="Remove a contact: their sessions end and they lose project access.",
    )
    async def remove_contact(
        self, info: Info, input: RemoveContactInput
    ) -> RemoveContactPayload | None:
        contact = await accounts.remove_contact(
            info.context.require_viewer(),
            info.context.bus,
            user_id=node_pk(input.user_id, "User"),
        )
        return RemoveContactPayload(contact=User.from_row(contact))
