"""Two-factor sign-in: ``enrollTotp``, ``confirmTotp``, ``completeLogin``, ``disableTotp``,
``regenerateRecoveryCodes`` and the administrators' ``setMfaRequirement``."""

from __future__ import annotations

import strawberry

from actions import accounts, mfa
from graphql_schema.accounts.mutations import session_payload
from graphql_schema.accounts.types import SessionPayload
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.permissions import IsAdmin, IsAuthenticated, rule
from graphql_schema.relay import node_pk


@strawberry.input
class EnrollTotpInput:
    enrolment_token: str | None = strawberry.field(
        default=None,
        description="From MFA_ENROLMENT_REQUIRED, when signing in; omit when signed in.",
    )
    password: str | None = strawberry.field(
        default=None,
        description="Your password: required when signed in (without an enrolment token).",
    )


@strawberry.type(description="A new authenticator secret, not active until confirmed.")
class TotpEnrolment:
    secret: str = strawberry.field(description="For typing into an authenticator app.")
    provisioning_uri: str = strawberry.field(
        description="The `otpauth://` URI to show as a QR code."
    )


@strawberry.input
class ConfirmTotpInput:
    code: str = strawberry.field(description="The 6-digit code the app shows now.")
    enrolment_token: str | None = None


@strawberry.type
class ConfirmTotpPayload:
    recovery_codes: list[str] = strawberry.field(
        description="Shown this once: each signs in once when the app is not at hand."
    )
    session: SessionPayload | None = strawberry.field(
        description="The new session, when confirming with an enrolment token."
    )


@strawberry.input
class CompleteLoginInput:
    mfa_token: str = strawberry.field(description="From the MFA_REQUIRED error of `login`.")
    code: str = strawberry.field(description="A code from the app, or a recovery code.")


@strawberry.input
class DisableTotpInput:
    password: str
    code: str = strawberry.field(description="A code from the app, or a recovery code.")


@strawberry.type
class DisableTotpPayload:
    disabled: bool


@strawberry.input
class RegenerateRecoveryCodesInput:
    password: str
    code: str = strawberry.field(description="A code from the app, or a recovery code.")


@strawberry.type
class RecoveryCodesPayload:
    recovery_codes: list[str]


@strawberry.input
class SetMfaRequirementInput:
    required: bool
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The customer whose contacts it concerns; omit for all staff.",
    )


@strawberry.type
class MfaRequirementPayload:
    staff_required: bool = strawberry.field(description="Whether all staff must use it.")
    customer: Customer | None = strawberry.field(description="The customer changed, if any.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sign-in, second step: the mfaToken of `login`'s MFA_REQUIRED and a code."
    )
    async def complete_login(self, info: Info, input: CompleteLoginInput) -> SessionPayload | None:
        ctx = info.context
        session = await accounts.complete_login(
            ctx.settings, input.mfa_token, input.code, ctx.client_address, ctx.throttle
        )
        return session_payload(info, session)

    @strawberry.mutation(
        description="Start setting up two-factor sign-in (your password, or an enrolment token): "
        "a secret for an authenticator app."
    )
    async def enroll_totp(self, info: Info, input: EnrollTotpInput) -> TotpEnrolment | None:
        ctx = info.context
        enrolment = await accounts.start_enrolment(
            ctx.settings,
            ctx.viewer,
            input.enrolment_token,
            input.password,
            ctx.client_address,
            ctx.throttle,
        )
        return TotpEnrolment(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)

    @strawberry.mutation(
        description="Turn two-factor sign-in on with a code from the enrolled secret."
    )
    async def confirm_totp(self, info: Info, input: ConfirmTotpInput) -> ConfirmTotpPayload | None:
        ctx = info.context
        codes, session = await accounts.confirm_enrolment(
            ctx.settings, ctx.viewer, input.enrolment_token, input.code, ctx.client_address
        )
        return ConfirmTotpPayload(
            recovery_codes=codes,
            session=session_payload(info, session) if session else None,
        )

    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="Turn two-factor sign-in off (not when an administrator requires it).",
    )
    async def disable_totp(self, info: Info, input: DisableTotpInput) -> DisableTotpPayload | None:
        ctx = info.context
        await mfa.disable(
            ctx.require_viewer(), input.password, input.code, ctx.client_address, ctx.throttle
        )
        return DisableTotpPayload(disabled=True)

    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="New recovery codes for your password and a code; the old ones stop working.",
    )
    async def regenerate_recovery_codes(
        self, info: Info, input: RegenerateRecoveryCodesInput
    ) -> RecoveryCodesPayload | None:
        ctx = info.context
        codes = await mfa.regenerate_recovery_codes(
            ctx.require_viewer(), input.password, input.code, ctx.client_address, ctx.throttle
        )
        return RecoveryCodesPayload(recovery_codes=codes)

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Require two-factor sign-in of all staff, or of one customer's contacts.",
    )
    async def set_mfa_requirement(
        self, info: Info, input: SetMfaRequirementInput
    ) -> MfaRequirementPayload | None:
        ctx = info.context
        customer_id = node_pk(input.customer_id, "Customer") if input.customer_id else None
        customer = await mfa.require(
            ctx.require_viewer(),
            required=input.required,
            customer_id=customer_id,
            client_address=ctx.client_address,
        )
        return MfaRequirementPayload(
            staff_required=await mfa.staff_must_use_mfa(),
            customer=Customer.from_row(customer) if customer else None,
        )
