"""Webhook endpoints and deliveries as the API shows them."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from graphql_schema.context import Info
from graphql_schema.relay import Connection, global_id, paginate
from models import WebhookDelivery as DeliveryRow
from models import WebhookDeliveryStatus as StatusRow
from models import WebhookEndpoint as EndpointRow
from models import WebhookState as StateRow
from realtime.stream import encode_cursor

WebhookState = strawberry.enum(
    StateRow,
    name="WebhookState",
    description="ACTIVE: delivering; PAUSED: the retry schedule ran out, probed every 30 "
    "minutes and resumed by a 2xx answer; DISABLED: paused too long, until enabled again.",
)
WebhookDeliveryStatus = strawberry.enum(StatusRow, name="WebhookDeliveryStatus")


@strawberry.type(description="One attempt to deliver an event to an endpoint.")
class WebhookDelivery:
    row: strawberry.Private[DeliveryRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("WebhookDelivery", self.row.id))

    @strawberry.field(description="The event's type, e.g. REQUEST_SUBMITTED.")
    def event_type(self) -> str:
        return self.row.event_type

    @strawberry.field(description="The `webhook-id` header: the same on every attempt.")
    def webhook_id(self) -> str:
        return self.row.webhook_id

    @strawberry.field(description="1 for the first attempt at this event, then 2, ...")
    def attempt(self) -> int:
        return self.row.attempt

    @strawberry.field(description="Whether a person asked for it (redeliverWebhook).")
    def manual(self) -> bool:
        return self.row.manual

    @strawberry.field
    def status(self) -> StatusRow:
        return self.row.status

    @strawberry.field(description="Milliseconds the attempt took.")
    def duration_ms(self) -> int:
        return self.row.duration_ms

    @strawberry.field(description="The HTTP status answered; null without an answer.")
    def response_code(self) -> int | None:
        return self.row.response_code

    @strawberry.field(description="The first KiB of the answer's body.")
    def response_body(self) -> str:
        return self.row.response_body

    @strawberry.field(description="Why it failed (empty when it succeeded).")
    def error(self) -> str:
        return self.row.error

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type(description="An HTTP endpoint receiving the events its owner may read.")
class WebhookEndpoint:
    row: strawberry.Private[EndpointRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("WebhookEndpoint", self.row.id))

    @strawberry.field
    def url(self) -> str:
        return self.row.url

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field(description="The event types it receives; empty: every type.")
    def event_types(self) -> list[str]:
        return list(self.row.event_types)

    @strawberry.field(description="Only this customer's events; null: every customer's.")
    def customer_id(self) -> strawberry.ID | None:
        cid = self.row.customer_id
        return None if cid is None else strawberry.ID(global_id("Customer", cid))

    @strawberry.field(description="Only this project's events; null: no project filter.")
    def project_id(self) -> strawberry.ID | None:
        pid = self.row.project_id
        return None if pid is None else strawberry.ID(global_id("Project", pid))

    @strawberry.field(description="The user whose rights bound what it receives.")
    def owner_id(self) -> strawberry.ID:
        return strawberry.ID(global_id("User", self.row.owner_id))

    @strawberry.field(description="The signing secret (`whsec_...`), for verification.")
    def secret(self) -> str:
        return self.row.secret

    @strawberry.field(description="The previous secret, still signing until then.")
    def previous_secret_expires_at(self) -> datetime | None:
        return self.row.previous_secret_expires_at if self.row.previous_secret else None

    @strawberry.field(description="The cursor of the last event handled (sent or skipped).")
    def cursor(self) -> str:
        return encode_cursor(self.row.cursor)

    @strawberry.field
    def state(self) -> StateRow:
        return self.row.state

    @strawberry.field(description="Since when it is in its state.")
    def state_since(self) -> datetime | None:
        return self.row.state_since

    @strawberry.field(description="Why it is paused or disabled (the last error).")
    def state_reason(self) -> str:
        return self.row.state_reason

    @strawberry.field(description="Failed attempts at its pending event.")
    def consecutive_failures(self) -> int:
        return self.row.consecutive_failures

    @strawberry.field(description="When the next retry or probe is due.")
    def next_attempt_at(self) -> datetime | None:
        return self.row.next_attempt_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="Its delivery log, newest first (first ≤ 100).")
    async def deliveries(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        return await paginate(
            DeliveryRow.filter(endpoint_id=self.row.id),
            first=first,
            after=after,
            to_node=lambda row: WebhookDelivery(row=row),
            newest_first=True,
        )


@strawberry.type(description="An event as an endpoint receives it (its delivery's body).")
class WebhookEvent:
    type: str
    cursor: str = strawberry.field(description="Resume after this event with `after`.")
    timestamp: datetime
    webhook_id: str = strawberry.field(description="The `webhook-id` its deliveries carry.")
    data: JSON


def webhook_event(body: bytes, webhook_id: str) -> WebhookEvent:
    parsed = json.loads(body)
    return WebhookEvent(
        type=parsed["type"],
        cursor=parsed["cursor"],
        timestamp=datetime.fromisoformat(parsed["timestamp"]),
        webhook_id=webhook_id,
        data=parsed["data"],
    )
