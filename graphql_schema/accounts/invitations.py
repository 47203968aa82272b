"""Invitations: ``inviteContact`` (mailed to the invitee), ``pendingInvitations``,
``resendInvitation``, ``revokeInvitation``, ``acceptInvitation``, and the administrators'
``setCustomerEmailDomains`` (the addresses a customer's lead contacts may invite)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from actions import invitations
from graphql_schema.accounts.mutations import session_payload
from graphql_schema.accounts.types import SessionPayload
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.enums import Role
from graphql_schema.permissions import CanManageContacts, IsAdmin, rule
from graphql_schema.relay import global_id, global_ids_to_ints, node_pk
from models import Invitation as InvitationRow


@strawberry.input
class InviteContactInput:
    customer_id: strawberry.ID
    email: str = strawberry.field(
        description="For a lead contact: an address of one of the customer's email domains."
    )
    name: str
    role: Role = Role.CUSTOMER_MEMBER
    project_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type(
    description="A pending invitation, mailed to its address: the account exists once the "
    "invitation is accepted."
)
class ContactInvitation:
    id: strawberry.ID = strawberry.field(
        description="For `resendInvitation` and `revokeInvitation`."
    )
    email: str
    name: str
    role: Role
    expires_at: datetime
    sent_at: datetime | None = strawberry.field(description="When it was last mailed.")

    @classmethod
    def from_row(cls, row: InvitationRow) -> ContactInvitation:
        assert row.role is not None
        return cls(
            id=strawberry.ID(global_id("Invitation", row.id)),
            email=row.email,
            name=row.name,
            role=row.role,
            expires_at=row.expires_at,
            sent_at=row.sent_at,
        )


@strawberry.type
class InviteContactPayload:
    invitation: ContactInvitation
    invitation_token: str | None = strawberry.field(
        default=None,
        description="Always null: the invitation is mailed to the contact, whose link holds "
        "the token.",
        deprecation_reason="Invitations are mailed to the invitee; the token is not handed "
        "to the inviter.",
    )


@strawberry.input
class InvitationInput:
    invitation_id: strawberry.ID


@strawberry.type
class InvitationPayload:
    invitation: ContactInvitation


@strawberry.input
class AcceptInvitationInput:
    token: str
    password: str


@strawberry.input
class SetCustomerEmailDomainsInput:
    customer_id: strawberry.ID
    domains: list[str] = strawberry.field(
        description="All of the customer's email domains (replacing the previous list), "
        "such as `acme.example`; at most 20, none of another customer."
    )


@strawberry.type
class SetCustomerEmailDomainsPayload:
    customer: Customer


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanManageContacts),
        description="The customer's invitations not accepted, revoked or expired yet, the "
        "soonest to expire first (at most 100).",
    )
    async def pending_invitations(
        self, info: Info, customer_id: strawberry.ID
    ) -> list[ContactInvitation] | None:
        rows = await invitations.pending_invitations(
            info.context.require_viewer(), customer_id=node_pk(customer_id, "Customer")
        )
        return [ContactInvitation.from_row(row) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Accept an invitation: the account is made with this password and signed "
        "in. An unknown, used or expired token, and one whose address has an account already, "
        "answer the same BAD_USER_INPUT."
    )
    async def accept_invitation(
        self, info: Info, input: AcceptInvitationInput
    ) -> SessionPayload | None:
        session = await invitations.accept_invitation(
            info.context.settings, input.token, input.password
        )
        return session_payload(info, session)

    @strawberry.mutation(
        extensions=rule(CanManageContacts),
        description="Invite someone to become a contact of a customer (its lead contacts, for "
        "addresses of its email domains, and its account team). Nothing is created but the "
        "pending invitation; the answer is the same whether the address has an account or not.",
    )
    async def invite_contact(
        self, info: Info, input: InviteContactInput
    ) -> InviteContactPayload | None:
        invitation, _token = await invitations.invite_contact(
            info.context.require_viewer(),
            customer_id=node_pk(input.customer_id, "Customer"),
            email=input.email,
            name=input.name,
            role=input.role,
            project_ids=global_ids_to_ints(input.project_ids, "Project"),
        )
        return InviteContactPayload(invitation=ContactInvitation.from_row(invitation))

    @strawberry.mutation(
        extensions=rule(CanManageContacts),
        description="Mail a pending invitation again with a new link valid 14 days; the link "
        "mailed before stops working.",
    )
    async def resend_invitation(
        self, info: Info, input: InvitationInput
    ) -> InvitationPayload | None:
        invitation = await invitations.resend_invitation(
            info.context.require_viewer(),
            invitation_id=node_pk(input.invitation_id, "Invitation"),
        )
        return InvitationPayload(invitation=ContactInvitation.from_row(invitation))

    @strawberry.mutation(
        extensions=rule(CanManageContacts),
        description="Withdraw a pending invitation: its link stops working.",
    )
    async def revoke_invitation(
        self, info: Info, input: InvitationInput
    ) -> InvitationPayload | None:
        invitation = await invitations.revoke_invitation(
            info.context.require_viewer(),
            invitation_id=node_pk(input.invitation_id, "Invitation"),
        )
        return InvitationPayload(invitation=ContactInvitation.from_row(invitation))

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Set the email domains of a customer, whose lead contacts may invite "
        "addresses of these domains only.",
    )
    async def set_customer_email_domains(
        self, info: Info, input: SetCustomerEmailDomainsInput
    ) -> SetCustomerEmailDomainsPayload | None:
        customer = await invitations.set_email_domains(
            info.context.require_viewer(),
            customer_id=node_pk(input.customer_id, "Customer"),
            domains=input.domains,
            client_address=info.context.client_address,
        )
        return SetCustomerEmailDomainsPayload(customer=Customer.from_row(customer))
