"""``securityAlerts`` and the mutations that handle them (administrators; a customer's lead
contacts for alerts about their own customer's contacts, others' answering NOT_FOUND)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import orjson
import strawberry
from strawberry.scalars import JSON

from actions import security_alerts
from domain import policy
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.permissions import Rule, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, global_id, node_pk, paginate
from graphql_schema.varies import Varies
from models import SecurityAlert as AlertRow
from models import SecurityAlertState as StateRow
from models import SecurityRule as RuleRow

SecurityRule = strawberry.enum(
    RuleRow,
    name="SecurityRule",
    description="NEW_NETWORK_SIGN_IN: an account without two-factor sign-in signed in from "
    "a network (IPv4 /24, IPv6 /48) it did not use lately; FAILED_SIGN_INS: many failed "
    "sign-ins from one address, whatever the accounts; CROSS_TENANT_PROBING: a caller was "
    "answered NOT_FOUND many times for IDs beyond their scope; TOKEN_NEW_ADDRESS: an access "
    "token used from a new address; DOWNLOAD_BURST: many downloads by one user in a short "
    "while.",
)
SecurityAlertState = strawberry.enum(
    StateRow,
    name="SecurityAlertState",
    description="OPEN: new; ACKNOWLEDGED: someone looks into it; RESOLVED: done with (a "
    "later trigger opens a new alert).",
)


class CanSeeSecurityAlerts(Rule):
    """Administrators (every alert), and a customer's lead contacts (alerts about their own
    customer's contacts; another's answer NOT_FOUND); others FORBIDDEN."""

    message = "Only administrators and lead contacts see security alerts."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.BY_VIEWER
    predicate = policy.can_see_security_alerts

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return policy.can_see_security_alerts(info.context.require_viewer())


@strawberry.type(description="A suspicious-activity rule triggered for one subject.")
class SecurityAlert:
    row: strawberry.Private[AlertRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("SecurityAlert", self.row.id))

    @strawberry.field
    def rule(self) -> RuleRow:
        return self.row.rule

    @strawberry.field
    def state(self) -> StateRow:
        return self.row.state

    @strawberry.field(description="The account concerned; null for an address's failures.")
    async def user(self, info: Info) -> User | None:
        if self.row.user_id is None:
            return None
        return await load_user(info, self.row.user_id)

    @strawberry.field(description="The client address of the (last) trigger.")
    def address(self) -> str:
        return self.row.address

    @strawberry.field(description="The rule's particulars: counts, window, network.")
    def details(self) -> JSON:
        return cast(JSON, orjson.loads(orjson.dumps(self.row.details)))

    @strawberry.field(description="Triggers of this rule and subject coalesced into it.")
    def count(self) -> int:
        return self.row.count

    @strawberry.field
    def first_seen_at(self) -> datetime:
        return self.row.first_seen_at

    @strawberry.field
    def last_seen_at(self) -> datetime:
        return self.row.last_seen_at

    @strawberry.field
    async def acknowledged_by(self, info: Info) -> User | None:
        if self.row.acknowledged_by_id is None:
            return None
        return await load_user(info, self.row.acknowledged_by_id)

    @strawberry.field
    def acknowledged_at(self) -> datetime | None:
        return self.row.acknowledged_at

    @strawberry.field
    async def resolved_by(self, info: Info) -> User | None:
        if self.row.resolved_by_id is None:
            return None
        return await load_user(info, self.row.resolved_by_id)

    @strawberry.field
    def resolved_at(self) -> datetime | None:
        return self.row.resolved_at

    @strawberry.field(description="What the person who resolved it found.")
    def resolution_note(self) -> str:
        return self.row.resolution_note


@strawberry.input
class AcknowledgeSecurityAlertInput:
    alert_id: strawberry.ID


@strawberry.input
class ResolveSecurityAlertInput:
    alert_id: strawberry.ID
    note: str = strawberry.field(default="", description="What happened (≤ 2,000 characters).")


@strawberry.type
class SecurityAlertPayload:
    security_alert: SecurityAlert


def _alert_id(value: strawberry.ID) -> int:
    return node_pk(value, "SecurityAlert")


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanSeeSecurityAlerts),
        description="Suspicious-activity alerts, newest first, optionally in one state "
        "(administrators: all; lead contacts: those about their own contacts).",
    )
    async def security_alerts(
        self,
        info: Info,
        state: StateRow | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[SecurityAlert] | None:
        alerts = policy.visible_security_alerts(info.context.require_viewer())
        if state is not None:
            alerts = alerts.filter(state=state)
        return await paginate(
            alerts, first=first, after=after, to_node=lambda row: SecurityAlert(row=row),
            newest_first=True,
        )  # fmt: skip


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanSeeSecurityAlerts),
        description="Say that someone looks into an open alert; CONFLICT for a resolved one.",
    )
    async def acknowledge_security_alert(
        self, info: Info, input: AcknowledgeSecurityAlertInput
    ) -> SecurityAlertPayload:
        row = await security_alerts.acknowledge(
            info.context.require_viewer(),
            _alert_id(input.alert_id),
            client_address=info.context.client_address,
        )
        return SecurityAlertPayload(security_alert=SecurityAlert(row=row))

    @strawberry.mutation(
        extensions=rule(CanSeeSecurityAlerts),
        description="Close an alert with a note of what happened; CONFLICT for a resolved "
        "one. A later trigger opens a new alert.",
    )
    async def resolve_security_alert(
        self, info: Info, input: ResolveSecurityAlertInput
    ) -> SecurityAlertPayload:
        row = await security_alerts.resolve(
            info.context.require_viewer(),
            _alert_id(input.alert_id),
            input.note,
            client_address=info.context.client_address,
        )
        return SecurityAlertPayload(security_alert=SecurityAlert(row=row))
