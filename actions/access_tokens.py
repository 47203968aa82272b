"""Access tokens for machines and service accounts: creation, use, revocation.

A personal token acts as its user; a service account's token as the service account (a
user row of its own, with its role). Either is bounded by its scopes (domain/scopes.py).
Creation, revocation, a token's first use from an address and a service account's
deactivation are audited.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from actions import accounts, security_alerts
from actions._common import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, audit, limited_text, name_text
from actions._common import now as clock
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Forbidden, NotFound
from domain.scopes import (
    KNOWN_ADDRESSES,
    LAST_USED_EVERY,
    check_expiry,
    display_prefix,
    new_token,
    normalise_scopes,
)
from domain.tokens import hash_opaque_token
from models import AccessToken, Customer, Role, ServiceAccount, User
from realtime.bus import EventBus

SERVICE_ACCOUNT_DOMAIN = "service-accounts.invalid"
"""The address domain of service accounts' user rows (``.invalid``: no mail reaches it)."""


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: its row, and the token itself (shown this once)."""

    row: AccessToken
    token: str


async def _create(
    actor: User,
    owner: User,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    service: bool,
    client_address: str,
) -> NewToken:
    name = name_text(name, "name", NAME_MAX_LENGTH)
    cleaned = normalise_scopes(scopes)
    expires_at = check_expiry(expires_at, clock())
    token = new_token(service=service)
    async with unit_of_work():
        row = await AccessToken.create(
            user_id=owner.id,
            name=name,
            token_hash=hash_opaque_token(token),
            prefix=display_prefix(token),
            scopes=cleaned,
            expires_at=expires_at,
            created_by_id=actor.id,
        )
        await audit(
            "access_token.created",
            actor=actor,
            subject=owner,
            target=f"access_token:{row.id}",
            client_address=client_address,
            owner=owner.id,
            scopes=cleaned,
            expires_at=expires_at.isoformat(),
        )
    return NewToken(row, token)


async def create_access_token(
    actor: User, *, name: str, scopes: list[str], expires_at: datetime, client_address: str = ""
) -> NewToken:
    """A personal access token of ``actor``: BAD_USER_INPUT for an unknown scope, none, or
    an expiry in the past or more than a year away. It never exceeds the actor's rights:
    it acts as the actor, and only within its scopes."""
    return await _create(
        actor,
        actor,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        service=False,
        client_address=client_address,
    )


async def revoke_access_token(
    actor: User, token_id: int, *, bus: EventBus | None = None, client_address: str = ""
) -> AccessToken:
    """Revoke a token at once (websockets it opened are closed): the actor's own, or any
    (administrators). NOT_FOUND for any other ID; revoking a revoked token changes
    nothing."""
    async with unit_of_work(bus) as work:
        tokens = (
            AccessToken.all() if policy.is_admin(actor) else AccessToken.filter(user_id=actor.id)
        )
        row = await tokens.select_for_update().get_or_none(id=token_id)
        if row is None:
            raise NotFound("access token", looked_up=(AccessToken, token_id))
        if row.revoked_at is None:
            row.revoked_at = clock()
            await row.save(update_fields=["revoked_at"])
            await audit(
                "access_token.revoked",
                actor=actor,
                subject=row.user_id,
                target=f"access_token:{row.id}",
                client_address=client_address,
                owner=row.user_id,
            )
            work.sessions_ended(row.user_id)
    return row


async def record_use(token: AccessToken, address: str) -> None:
    """Note a use of ``token`` from ``address``: ``lastUsedAt`` at most every
    LAST_USED_EVERY, and at once (with an audit entry) from an address not seen before."""
    moment = clock()
    address = address[:64]
    new_address = bool(address) and address not in token.addresses
    due = token.last_used_at is None or moment - token.last_used_at >= LAST_USED_EVERY
    if not (new_address or due):
        return
    addresses = token.addresses
    if new_address:
        addresses = [*token.addresses, address][-KNOWN_ADDRESSES:]
    async with unit_of_work():
        # one of several requests at the same moment writes (and audits) it
        unchanged = AccessToken.filter(id=token.id)
        if token.last_used_at is None:
            unchanged = unchanged.filter(last_used_at__isnull=True)
        else:
            unchanged = unchanged.filter(last_used_at=token.last_used_at)
        written = await unchanged.update(
            last_used_at=moment, last_used_address=address, addresses=addresses
        )
        if written and new_address:
            await audit(
                "access_token.used_from_new_address",
                actor=await User.get(id=token.user_id),
                target=f"access_token:{token.id}",
                client_address=address,
            )
            if token.addresses:  # not its first use: someone else may hold it
                await security_alerts.token_used_from_new_address(token.id, token.user_id, address)
    token.last_used_at, token.last_used_address, token.addresses = moment, address, addresses


def _address_for(name: str) -> str:
    local = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "service"
    return f"{local}-{secrets.token_hex(4)}@{SERVICE_ACCOUNT_DOMAIN}"


async def create_service_account(
    actor: User,
    *,
    name: str,
    description: str = "",
    role: Role,
    customer_id: int | None,
    client_address: str = "",
) -> ServiceAccount:
    """An integration identity (administrators): provider-wide with a staff role (``ADMIN``
    or ``STAFF``), or confined to one customer with a contact's role (``CUSTOMER_ADMIN``
    or ``CUSTOMER_MEMBER``); it acts as a person of that role would, through its tokens
    only (it has no password). BAD_USER_INPUT for a role that does not fit the customer
    given or not; NOT_FOUND for an unknown customer."""
    if not policy.is_admin(actor):
        raise Forbidden("Only administrators may do this.")
    name = name_text(name, "name", NAME_MAX_LENGTH)
    description = limited_text(description, "description", DESCRIPTION_MAX_LENGTH)
    customer = None
    if customer_id is not None:
        customer = await Customer.get_or_none(id=customer_id)
        if customer is None:
            raise NotFound("customer", looked_up=(Customer, customer_id))
    async with unit_of_work():
        user = await accounts.create_user(
            email=_address_for(name), name=name, role=role, password=None, customer=customer
        )
        account = await ServiceAccount.create(
            user_id=user.id, name=name, description=description, created_by_id=actor.id
        )
        await audit(
            "service_account.created",
            actor=actor,
            target=f"service_account:{account.id}",
            client_address=client_address,
            user=user.id,
            role=role.value,
            customer=customer.id if customer else None,
        )
    return account


async def _service_account(actor: User, account_id: int) -> ServiceAccount:
    if not policy.is_admin(actor):
        raise Forbidden("Only administrators may do this.")
    account = await ServiceAccount.get_or_none(id=account_id).select_related("user")
    if account is None:
        raise NotFound("service account", looked_up=(ServiceAccount, account_id))
    return account


async def create_service_account_token(
    actor: User,
    *,
    service_account_id: int,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    client_address: str = "",
) -> NewToken:
    """A token of an active service account (administrators): as
    :func:`create_access_token`; BAD_USER_INPUT for a deactivated account."""
    account = await _service_account(actor, service_account_id)
    if not account.user.is_active:
        raise BadUserInput("This service account is deactivated: give it no new tokens.")
    return await _create(
        actor,
        account.user,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        service=True,
        client_address=client_address,
    )


async def deactivate_service_account(
    actor: User, bus: EventBus | None, *, service_account_id: int, client_address: str = ""
) -> ServiceAccount:
    """Deactivate a service account (administrators): its tokens stop working at once,
    open websockets included. Deactivating it again changes nothing."""
    account = await _service_account(actor, service_account_id)
    if account.deactivated_at is not None:
        return account
    async with unit_of_work(bus) as work:
        account.deactivated_at = clock()
        await account.save(update_fields=["deactivated_at"])
        await User.filter(id=account.user_id).update(is_active=False)
        account.user.is_active = False
        await audit(
            "service_account.deactivated",
            actor=actor,
            target=f"service_account:{account.id}",
            client_address=client_address,
        )
        work.sessions_ended(account.user_id)
    return account
