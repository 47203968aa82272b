"""Access tokens and service accounts: ``createAccessToken``, ``revokeAccessToken``,
``accessTokens``, and the administrators' ``createServiceAccount``, ``serviceAccounts``,
``createServiceAccountToken``, ``deactivateServiceAccount``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from actions import access_tokens
from domain import policy
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.enums import Role
from graphql_schema.permissions import IsAdmin, IsAuthenticated, rule
from graphql_schema.relay import global_id, node_pk
from models import AccessToken as AccessTokenRow
from models import ServiceAccount as ServiceAccountRow
from models import User as UserRow


@strawberry.type(description="A token for machines. The token itself is shown once, at creation.")
class AccessToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="Its first characters, to recognise it.")
    scopes: list[str]
    expires_at: datetime
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used (written at most every 5 minutes)."
    )
    revoked_at: datetime | None
    owner_id: strawberry.ID = strawberry.field(
        description="The user (or service account's user) it acts as."
    )

    @classmethod
    def from_row(cls, row: AccessTokenRow) -> AccessToken:
        return cls(
            id=strawberry.ID(global_id("AccessToken", row.id)),
            name=row.name,
            prefix=row.prefix,
            scopes=list(row.scopes),
            expires_at=row.expires_at,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            owner_id=strawberry.ID(global_id("User", row.user_id)),
        )


@strawberry.type(description="An integration's identity, acting through its tokens only.")
class ServiceAccount:
    id: strawberry.ID
    name: str
    description: str
    role: Role
    customer_id: strawberry.ID | None = strawberry.field(
        description="The customer it is confined to; null: provider-wide."
    )
    active: bool
    created_at: datetime
    user: User = strawberry.field(description="The user row it acts as.")

    @classmethod
    def from_row(cls, row: ServiceAccountRow, user: UserRow) -> ServiceAccount:
        return cls(
            id=strawberry.ID(global_id("ServiceAccount", row.id)),
            name=row.name,
            description=row.description,
            role=user.role,
            customer_id=strawberry.ID(global_id("Customer", user.customer_id))
            if user.customer_id is not None
            else None,
            active=user.is_active,
            created_at=row.created_at,
            user=User.from_row(user),
        )


@strawberry.input
class CreateAccessTokenInput:
    name: str
    scopes: list[str] = strawberry.field(
        description="`<area>:read` or `<area>:write` (areas: customers, projects, pages, "
        "requests, business_documents, webhooks)."
    )
    expires_at: datetime = strawberry.field(description="At most a year from now.")


@strawberry.type
class CreateAccessTokenPayload:
    access_token: AccessToken
    token: str = strawberry.field(description="Shown once: only its hash is kept.")


@strawberry.input
class RevokeAccessTokenInput:
    token_id: strawberry.ID


@strawberry.type
class RevokeAccessTokenPayload:
    access_token: AccessToken


@strawberry.input
class CreateServiceAccountInput:
    name: str
    description: str = ""
    role: Role = strawberry.field(
        description="ADMIN or STAFF (provider-wide), CUSTOMER_ADMIN or CUSTOMER_MEMBER (with "
        "customerId): it acts as a person of this role would."
    )
    customer_id: strawberry.ID | None = None


@strawberry.type
class ServiceAccountPayload:
    service_account: ServiceAccount


@strawberry.input
class CreateServiceAccountTokenInput:
    service_account_id: strawberry.ID
    name: str
    scopes: list[str]
    expires_at: datetime


@strawberry.input
class DeactivateServiceAccountInput:
    service_account_id: strawberry.ID


async def _service_account(row: ServiceAccountRow) -> ServiceAccount:
    return ServiceAccount.from_row(row, await UserRow.get(id=row.user_id))


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAuthenticated),
        description="Your own access tokens, newest first; administrators see everybody's "
        "(service accounts' too).",
    )
    async def access_tokens(self, info: Info) -> list[AccessToken]:
        viewer = info.context.require_viewer()
        rows = (
            AccessTokenRow.all()
            if policy.is_admin(viewer)
            else AccessTokenRow.filter(user_id=viewer.id)
        )
        return [AccessToken.from_row(row) for row in await rows.order_by("-id").limit(1000)]

    @strawberry.field(extensions=rule(IsAdmin), description="Service accounts (administrators).")
    async def service_accounts(self, info: Info) -> list[ServiceAccount]:
        rows = await ServiceAccountRow.all().order_by("id").select_related("user")
        return [ServiceAccount.from_row(row, row.user) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="A personal access token acting as you, within its scopes.",
    )
    async def create_access_token(
        self, info: Info, input: CreateAccessTokenInput
    ) -> CreateAccessTokenPayload:
        made = await access_tokens.create_access_token(
            info.context.require_viewer(),
            name=input.name,
            scopes=input.scopes,
            expires_at=input.expires_at,
            client_address=info.context.client_address,
        )
        return CreateAccessTokenPayload(
            access_token=AccessToken.from_row(made.row), token=made.token
        )

    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="Revoke one of your tokens (administrators: any token) at once.",
    )
    async def revoke_access_token(
        self, info: Info, input: RevokeAccessTokenInput
    ) -> RevokeAccessTokenPayload:
        row = await access_tokens.revoke_access_token(
            info.context.require_viewer(),
            node_pk(input.token_id, "AccessToken"),
            bus=info.context.bus,
            client_address=info.context.client_address,
        )
        return RevokeAccessTokenPayload(access_token=AccessToken.from_row(row))

    @strawberry.mutation(extensions=rule(IsAdmin), description="Add a service account.")
    async def create_service_account(
        self, info: Info, input: CreateServiceAccountInput
    ) -> ServiceAccountPayload:
        row = await access_tokens.create_service_account(
            info.context.require_viewer(),
            name=input.name,
            description=input.description,
            role=input.role,
            customer_id=node_pk(input.customer_id, "Customer") if input.customer_id else None,
            client_address=info.context.client_address,
        )
        return ServiceAccountPayload(service_account=await _service_account(row))

    @strawberry.mutation(
        extensions=rule(IsAdmin), description="A token of a service account (shown once)."
    )
    async def create_service_account_token(
        self, info: Info, input: CreateServiceAccountTokenInput
    ) -> CreateAccessTokenPayload:
        made = await access_tokens.create_service_account_token(
            info.context.require_viewer(),
            service_account_id=node_pk(input.service_account_id, "ServiceAccount"),
            name=input.name,
            scopes=input.scopes,
            expires_at=input.expires_at,
            client_address=info.context.client_address,
        )
        return CreateAccessTokenPayload(
            access_token=AccessToken.from_row(made.row), token=made.token
        )

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Deactivate a service account: its tokens stop working at once.",
    )
    async def deactivate_service_account(
        self, info: Info, input: DeactivateServiceAccountInput
    ) -> ServiceAccountPayload:
        row = await access_tokens.deactivate_service_account(
            info.context.require_viewer(),
            info.context.bus,
            service_account_id=node_pk(input.service_account_id, "ServiceAccount"),
            client_address=info.context.client_address,
        )
        return ServiceAccountPayload(service_account=await _service_account(row))
