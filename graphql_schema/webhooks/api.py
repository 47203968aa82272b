"""``webhookEndpoints``, ``webhookEndpoint``, ``webhookEvents`` and the mutations that
manage endpoints (administrators; a customer's lead contacts for their own customer)."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from actions import webhooks
from domain import policy
from domain import webhooks as hooks
from graphql_schema.context import Info
from graphql_schema.permissions import CanManageWebhooks, rule
from graphql_schema.relay import check_page_size, node_pk
from graphql_schema.webhooks.types import WebhookEndpoint, WebhookEvent, webhook_event
from realtime.stream import decode_cursor


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https://... (http:// too); public addresses only.")
    event_types: list[str] = strawberry.field(
        description="Event types wanted (REQUEST_SUBMITTED, ...); empty: every type."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's events (a lead contact's: always)."
    )
    project_id: strawberry.ID | None = None
    description: str = ""


@strawberry.input
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None


@strawberry.input
class RotateWebhookSecretInput:
    endpoint_id: strawberry.ID
    overlap_seconds: int = strawberry.field(
        default=86400,
        description="How long the previous secret keeps signing too (0 to 604800).",
    )


@strawberry.input
class WebhookEndpointIdInput:
    endpoint_id: strawberry.ID


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID | None = strawberry.field(
        default=None, description="A logged delivery whose event is sent again."
    )
    endpoint_id: strawberry.ID | None = strawberry.field(
        default=None, description="With `cursor`: that event, to this endpoint."
    )
    cursor: str | None = strawberry.field(default=None, description="An event's cursor.")


@strawberry.type
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID


def _endpoint_id(value: strawberry.ID) -> int:
    return node_pk(value, "WebhookEndpoint")


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanManageWebhooks),
        description="The webhook endpoints you manage (administrators: all), oldest first.",
    )
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        rows = policy.visible_webhook_endpoints(info.context.require_viewer())
        return [WebhookEndpoint(row=row) for row in await rows.order_by("id").limit(1000)]

    @strawberry.field(
        extensions=rule(CanManageWebhooks),
        description="A webhook endpoint you manage, with its delivery log; NOT_FOUND for "
        "one you do not manage.",
    )
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint | None:
        row = await webhooks.endpoint_of(info.context.require_viewer(), _endpoint_id(id))
        return WebhookEndpoint(row=row)

    @strawberry.field(
        extensions=rule(CanManageWebhooks),
        description="What the endpoint receives after the cursor `after` (null: from the "
        "oldest kept, 30 days at least), oldest first, as its deliveries' bodies: pull "
        "what you missed. `first` ≤ 100.",
    )
    async def webhook_events(
        self, info: Info, endpoint_id: strawberry.ID, after: str | None = None, first: int = 50
    ) -> list[WebhookEvent]:
        check_page_size(first)
        endpoint, events = await webhooks.pull_events(
            info.context.require_viewer(),
            _endpoint_id(endpoint_id),
            0 if after is None else decode_cursor(after),
            first,
        )
        return [
            webhook_event(body, hooks.webhook_id(endpoint.id, event.id)) for event, body in events
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanManageWebhooks),
        description="Register an endpoint: it receives, from now on, the events you may read "
        "of the types wanted. The URL must reach a public address.",
    )
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        row = await webhooks.create_endpoint(
            info.context.require_viewer(),
            info.context.settings,
            url=input.url,
            event_types=input.event_types,
            customer_id=node_pk(input.customer_id, "Customer") if input.customer_id else None,
            project_id=node_pk(input.project_id, "Project") if input.project_id else None,
            description=input.description,
            client_address=info.context.client_address,
        )
        return WebhookEndpointPayload(webhook_endpoint=WebhookEndpoint(row=row))

    @strawberry.mutation(
        extensions=rule(CanManageWebhooks), description="Change an endpoint's URL or types."
    )
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        row = await webhooks.update_endpoint(
            info.context.require_viewer(),
            info.context.settings,
            _endpoint_id(input.endpoint_id),
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            client_address=info.context.client_address,
        )
        return WebhookEndpointPayload(webhook_endpoint=WebhookEndpoint(row=row))

    @strawberry.mutation(
        extensions=rule(CanManageWebhooks),
        description="A new signing secret; the previous one signs too during the overlap.",
    )
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> WebhookEndpointPayload:
        row = await webhooks.rotate_secret(
            info.context.require_viewer(),
            _endpoint_id(input.endpoint_id),
            overlap=timedelta(seconds=input.overlap_seconds),
            client_address=info.context.client_address,
        )
        return WebhookEndpointPayload(webhook_endpoint=WebhookEndpoint(row=row))

    @strawberry.mutation(
        extensions=rule(CanManageWebhooks),
        description="Make a paused or disabled endpoint active: its pending event is sent.",
    )
    async def enable_webhook_endpoint(
        self, info: Info, input: WebhookEndpointIdInput
    ) -> WebhookEndpointPayload:
        row = await webhooks.enable_endpoint(
            info.context.require_viewer(),
            _endpoint_id(input.endpoint_id),
            client_address=info.context.client_address,
        )
        return WebhookEndpointPayload(webhook_endpoint=WebhookEndpoint(row=row))

    @strawberry.mutation(
        extensions=rule(CanManageWebhooks), description="Delete an endpoint and its log."
    )
    async def delete_webhook_endpoint(
        self, info: Info, input: WebhookEndpointIdInput
    ) -> DeleteWebhookEndpointPayload:
        await webhooks.delete_endpoint(
            info.context.require_viewer(),
            _endpoint_id(input.endpoint_id),
            client_address=info.context.client_address,
        )
        return DeleteWebhookEndpointPayload(deleted_id=input.endpoint_id)

    @strawberry.mutation(
        extensions=rule(CanManageWebhooks),
        description="Send an event again soon (a logged delivery's, or an endpoint and an "
        "event's cursor), outside the log's order, with its usual webhook-id.",
    )
    async def redeliver_webhook(
        self, info: Info, input: RedeliverWebhookInput
    ) -> WebhookEndpointPayload:
        row = await webhooks.redeliver(
            info.context.require_viewer(),
            delivery_id=node_pk(input.delivery_id, "WebhookDelivery")
            if input.delivery_id
            else None,
            endpoint_id=_endpoint_id(input.endpoint_id) if input.endpoint_id else None,
            event_id=decode_cursor(input.cursor) if input.cursor else None,
        )
        return WebhookEndpointPayload(webhook_endpoint=WebhookEndpoint(row=row))
