"""The account lifecycle: ``requestPasswordReset`` and ``resetPassword`` (signed out),
``changePassword`` and ``updateMyProfile`` (the signed-in person), and the
administrators' ``unlockUser``, ``deactivateUser`` and ``reactivateUser``."""

from __future__ import annotations

import strawberry

from actions import account_lifecycle
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.permissions import IsAdmin, IsAuthenticated, rule
from graphql_schema.relay import node_pk


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.type
class RequestPasswordResetPayload:
    accepted: bool = strawberry.field(
        description="Always true: whether the address has an account is not told. If it "
        "has, a link to set a new password (valid 30 minutes, once) is on its way."
    )


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="From the link in the password reset mail.")
    new_password: str


@strawberry.type
class ResetPasswordPayload:
    password_changed: bool = strawberry.field(
        description="True: every session of the account has ended; sign in with the new password."
    )
    email: str = strawberry.field(description="The account's address, to sign in with.")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type
class ChangePasswordPayload:
    other_sessions_ended: int = strawberry.field(
        description="How many of your other sessions ended (signed out everywhere else); "
        "this session goes on."
    )


@strawberry.input
class UpdateMyProfileInput:
    display_name: str | None = strawberry.field(
        default=None, description="The name others see; omit to keep it."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description="An IANA time zone name such as `Europe/Zurich`: the hours of mail "
        "digests and quiet hours are in it. Omit to keep it.",
    )
    locale: str | None = strawberry.field(
        default=None,
        description="A BCP 47 language tag such as `de-CH`: how dates and numbers are "
        "written for you. Omit to keep it.",
    )


@strawberry.type
class UpdateMyProfilePayload:
    user: User


@strawberry.input
class UserAccountInput:
    user_id: strawberry.ID


@strawberry.type
class UserAccountPayload:
    user: User


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Forgot your password? A link to set a new one is mailed to the address "
        "if it has an account; the answer is the same either way. RATE_LIMITED when asked "
        "too often."
    )
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload | None:
        ctx = info.context
        await account_lifecycle.request_password_reset(
            input.email, ctx.client_address, ctx.throttle
        )
        return RequestPasswordResetPayload(accepted=True)

    @strawberry.mutation(
        description="Set a new password with the token of a password reset mail (once, "
        "within 30 minutes): every session of the account ends. An unknown, used or expired "
        "token is BAD_USER_INPUT (field `token`)."
    )
    async def reset_password(
        self, info: Info, input: ResetPasswordInput
    ) -> ResetPasswordPayload | None:
        ctx = info.context
        user = await account_lifecycle.reset_password(
            input.token, input.new_password, ctx.client_address, ctx.throttle, ctx.bus
        )
        return ResetPasswordPayload(password_changed=True, email=user.email)

    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="Change your password, giving the current one: your other sessions end, "
        "this one goes on. A wrong current password is BAD_USER_INPUT (field "
        "`currentPassword`) and counts against the sign-in limits.",
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload | None:
        ctx = info.context
        ended = await account_lifecycle.change_password(
            ctx.require_viewer(),
            input.current_password,
            input.new_password,
            session_id=ctx.session_id,
            client_address=ctx.client_address,
            throttle=ctx.throttle,
            bus=ctx.bus,
        )
        return ChangePasswordPayload(other_sessions_ended=ended)

    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="Change your display name, time zone or locale (each optional). An "
        "invalid value is BAD_USER_INPUT naming its field; nothing changes then.",
    )
    async def update_my_profile(
        self, info: Info, input: UpdateMyProfileInput
    ) -> UpdateMyProfilePayload | None:
        user = await account_lifecycle.update_profile(
            info.context.require_viewer(),
            name=input.display_name,
            time_zone=input.time_zone,
            locale=input.locale,
        )
        return UpdateMyProfilePayload(user=User.from_row(user))

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Lift the sign-in locks and waits of an account, from every address.",
    )
    async def unlock_user(self, info: Info, input: UserAccountInput) -> UserAccountPayload | None:
        ctx = info.context
        user = await account_lifecycle.unlock_user(
            ctx.require_viewer(),
            user_id=node_pk(input.user_id, "User"),
            throttle=ctx.throttle,
            client_address=ctx.client_address,
        )
        return UserAccountPayload(user=User.from_row(user))

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Deactivate an account: it cannot sign in any more, and every session and "
        "open websocket of it ends at once. Its content stays. (A customer's lead contacts "
        "remove their colleagues with `removeContact`.)",
    )
    async def deactivate_user(
        self, info: Info, input: UserAccountInput
    ) -> UserAccountPayload | None:
        ctx = info.context
        user = await account_lifecycle.deactivate_user(
            ctx.require_viewer(),
            user_id=node_pk(input.user_id, "User"),
            client_address=ctx.client_address,
            bus=ctx.bus,
        )
        return UserAccountPayload(user=User.from_row(user))

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Let a deactivated or removed account sign in again (its ended sessions "
        "and lost project memberships stay lost).",
    )
    async def reactivate_user(
        self, info: Info, input: UserAccountInput
    ) -> UserAccountPayload | None:
        ctx = info.context
        user = await account_lifecycle.reactivate_user(
            ctx.require_viewer(),
            user_id=node_pk(input.user_id, "User"),
            client_address=ctx.client_address,
        )
        return UserAccountPayload(user=User.from_row(user))
