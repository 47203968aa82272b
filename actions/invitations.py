"""Contact invitations, and the email domains a customer's lead contacts may invite.

An invitation is a pending row (address, name, role, projects, a hashed single-use token):
the account exists only once the invitation is accepted. Inviting therefore never looks at
the accounts that exist: an address that has an account (of any customer, or of staff)
is invited exactly like a fresh one, with the same answer in the same time. Accepting
never gives the acceptor an account that exists already, nor moves one to another
customer: an invitation for such an address cannot be accepted, and says so exactly as an
unknown or expired one does.

The invitation is mailed to the address (the token is never handed to the inviter): it
expires after 14 days, and whoever may invite contacts of the customer lists the pending
ones, mails one again with a fresh token and expiry (the earlier link stops working) or
revokes it.

Lead contacts may invite addresses of their customer's own email domains only (set by
administrators, each domain belonging to one customer at most), so a customer can never
take an address of another organisation before its owner does; the account team may invite
any address.
"""

from __future__ import annotations

import re

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from actions import mfa
from actions._common import NAME_MAX_LENGTH, audit, name_text, now
from actions.accounts import (
    INVITATION_TTL,
    MFA_ENROL,
    Session,
    _issue_session,
    normalise_email,
    unique_handle,
)
from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Conflict, Forbidden, MfaEnrolmentRequired, NotFound
from domain.mail import OutgoingMessage
from domain.passwords import check_strength, hash_password
from domain.tokens import hash_opaque_token, issue_second_factor_token, new_opaque_token
from infra.settings import Settings
from models import (
    Customer,
    CustomerEmailDomain,
    Invitation,
    Project,
    ProjectMembership,
    Role,
    User,
)

MAX_EMAIL_DOMAINS = 20
INVITATION_TEMPLATE = "invitation"
MAX_PENDING_LISTED = 100
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_UNUSABLE = "This invitation is unknown, used or expired. Ask for a new one."


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1]


async def email_domains(customer_id: int) -> list[str]:
    """The customer's email domains, sorted."""
    rows = await CustomerEmailDomain.filter(customer_id=customer_id).order_by("domain")
    return [row.domain for row in rows]


async def set_email_domains(
    admin: User, *, customer_id: int, domains: list[str], client_address: str = ""
) -> Customer:
    """Replace the customer's email domains (administrators only; audited). A domain of
    another customer is a CONFLICT; at most 20 domains, lower-case names like
    ``acme.example``."""
    if not policy.is_admin(admin):
        raise Forbidden("Only administrators may set a customer's email domains.")
    if len(domains) > MAX_EMAIL_DOMAINS:
        raise BadUserInput(
            f"A customer may have at most {MAX_EMAIL_DOMAINS} email domains.", field="domains"
        )
    cleaned = sorted({d.strip().lower().removeprefix("@") for d in domains})
    for domain in cleaned:
        if not _DOMAIN.match(domain):
            raise BadUserInput(
                f"{domain!r} is not a domain name such as acme.example.", field="domains"
            )
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        raise NotFound("customer")
    async with unit_of_work():
        taken = await CustomerEmailDomain.filter(domain__in=cleaned).exclude(
            customer_id=customer.id
        )
        if taken:
            raise Conflict(
                f"{taken[0].domain} is an email domain of another customer already.",
                field="domains",
            )
        await (
            CustomerEmailDomain.filter(customer_id=customer.id).exclude(domain__in=cleaned).delete()
        )
        kept = set(await email_domains(customer.id))
        for domain in cleaned:
            if domain not in kept:
                await CustomerEmailDomain.create(customer_id=customer.id, domain=domain)
        await audit(
            "customer.email_domains_set",
            actor=admin,
            target=f"customer:{customer.id}",
            client_address=client_address,
            domains=cleaned,
        )
    return customer


async def invite_contact(
    actor: User,
    *,
    customer_id: int,
    email: str,
    name: str,
    role: Role,
    project_ids: list[int],
) -> tuple[Invitation, str]:
    """A pending invitation of an address to become a contact of the customer, mailed
    there with its single-use token (valid 14 days), which is also returned (for the
    command line; the API does not hand it out). Whether the address has an account
    anywhere plays no part in the answer."""
    customer = await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    if not await policy.can_manage_contacts(actor, customer.id):
        raise Forbidden("Only the customer's lead contacts and account team may invite contacts.")
    if role.is_staff:
        raise BadUserInput("A contact's role is CUSTOMER_ADMIN or CUSTOMER_MEMBER.", field="role")
    projects = await Project.filter(id__in=project_ids, customer_id=customer.id)
    if len(projects) != len(set(project_ids)):
        raise NotFound("project")
    email = normalise_email(email)
    name = name_text(name, "name", NAME_MAX_LENGTH)
    if not policy.is_staff(actor):
        domains = await email_domains(customer.id)
        if email_domain(email) not in domains:
            allowed = ", ".join(domains) or "none set yet"
            raise BadUserInput(
                f"You may invite addresses of your organisation's email domains ({allowed}); "
                "ask your account team to invite anyone else.",
                field="email",
            )
    token = new_opaque_token()
    async with unit_of_work():
        invitation = await Invitation.create(
            customer_id=customer.id,
            email=email,
            name=name,
            role=role,
            project_ids=sorted(p.id for p in projects),
            invited_by_id=actor.id,
            token_hash=hash_opaque_token(token),
            expires_at=now() + INVITATION_TTL,
            sent_at=now(),
        )
        await _mail_invitation(invitation, token, actor, customer)
        await audit(
            "contact.invited",
            actor=actor,
            target=f"invitation:{invitation.id}",
            customer=customer.id,
            role=role.value,
            projects=invitation.project_ids,
        )
    return invitation, token


async def _mail_invitation(
    invitation: Invitation, token: str, inviter: User, customer: Customer
) -> None:
    await queue_mail(
        OutgoingMessage(
            to_address=invitation.email,
            template=INVITATION_TEMPLATE,
            subject=f"{inviter.name} invites you to {customer.name}'s extranet",
            context={
                "name": invitation.name,
                "inviter": inviter.name,
                "customer": customer.name,
                "token": token,
                "expires": f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC",
            },
        )
    )


def _pending(queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
    return queryset.filter(accepted_at=None, revoked_at=None, expires_at__gt=now())


async def pending_invitations(actor: User, *, customer_id: int) -> list[Invitation]:
    """The customer's invitations not accepted, revoked or expired yet, the soonest to
    expire first (at most 100), for whoever may invite its contacts: NOT_FOUND for a
    customer out of sight, FORBIDDEN for one seen but whose contacts the actor may not
    manage."""
    customer = await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    if not await policy.can_manage_contacts(actor, customer.id):
        raise Forbidden("Only the customer's lead contacts and account team see invitations.")
    return (
        await _pending(Invitation.filter(customer_id=customer.id))
        .order_by("expires_at", "id")
        .limit(MAX_PENDING_LISTED)
    )


async def _managed_invitation(actor: User, invitation_id: int) -> tuple[Invitation, Customer]:
    """A pending invitation of a customer whose contacts the actor may manage: NOT_FOUND
    for one of a customer out of their sight (as for an ID that does not exist) and for
    one accepted, revoked or expired; FORBIDDEN for one they see but may not manage."""
    invitation = await _pending(Invitation.filter(id=invitation_id)).first()
    customer = (
        await policy.visible_customers(actor).get_or_none(id=invitation.customer_id)
        if invitation is not None and invitation.customer_id is not None
        else None
    )
    if invitation is None or customer is None:
        raise NotFound("invitation", looked_up=(Invitation, invitation_id))
    if not await policy.can_manage_contacts(actor, customer.id):
        raise Forbidden("Only the customer's lead contacts and account team manage invitations.")
    return invitation, customer


async def resend_invitation(actor: User, *, invitation_id: int) -> Invitation:
    """Mail a pending invitation again, with a new token valid 14 days from now: the link
    mailed before stops working. Audited."""
    invitation, customer = await _managed_invitation(actor, invitation_id)
    token = new_opaque_token()
    async with unit_of_work():
        invitation.token_hash = hash_opaque_token(token)
        invitation.expires_at = now() + INVITATION_TTL
        invitation.sent_at = now()
        await invitation.save(update_fields=["token_hash", "expires_at", "sent_at"])
        await _mail_invitation(invitation, token, actor, customer)
        await audit(
            "contact.invitation_resent",
            actor=actor,
            target=f"invitation:{invitation.id}",
            customer=customer.id,
        )
    return invitation


async def revoke_invitation(actor: User, *, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation: its link stops working. Audited."""
    invitation, customer = await _managed_invitation(actor, invitation_id)
    async with unit_of_work():
        invitation.revoked_at = now()
        await invitation.save(update_fields=["revoked_at"])
        await audit(
            "contact.invitation_revoked",
            actor=actor,
            target=f"invitation:{invitation.id}",
            customer=customer.id,
        )
    return invitation


async def _account_for(invitation: Invitation, password: str) -> User | None:
    """The account the invitation becomes, or None when it cannot become one."""
    if invitation.user_id is not None:  # made when invited, before invitations were pending
        user = await User.get_or_none(id=invitation.user_id, is_active=True)
        if user is None or user.password_hash is not None:
            return None
        check_strength(password, email=user.email)
        user.password_hash = hash_password(password)
        await user.save(update_fields=["password_hash"])
        return user
    customer = await Customer.get_or_none(id=invitation.customer_id)
    if customer is None or invitation.role is None or invitation.role.is_staff:
        return None
    check_strength(password, email=invitation.email)
    if await User.exists(email=invitation.email):
        return None  # never someone else's account, nor a second one
    user = await User.create(
        email=invitation.email,
        handle=await unique_handle(invitation.email, customer.id),
        name=invitation.name,
        role=invitation.role,
        customer_id=customer.id,
        password_hash=hash_password(password),
    )
    projects = await Project.filter(id__in=invitation.project_ids, customer_id=customer.id)
    for project in projects:
        await ProjectMembership.create(project_id=project.id, user_id=user.id)
    await audit("user.created", target=f"user:{user.id}", role=user.role.value)
    return user


async def _inviter_still_may_invite(invitation: Invitation) -> bool:
    """Whether the one who invited is still active and may still invite contacts of the
    customer: an invitation ends with its inviter's right to make it (a removed or
    deactivated lead contact, staff that left the account team)."""
    inviter = await User.get_or_none(id=invitation.invited_by_id, is_active=True)
    if inviter is None:
        return False
    customer_id = invitation.customer_id
    if customer_id is None and invitation.user_id is not None:  # older rows name the account
        invited = await User.get_or_none(id=invitation.user_id)
        customer_id = invited.customer_id if invited else None
    return customer_id is not None and await policy.can_manage_contacts(inviter, customer_id)


async def accept_invitation(settings: Settings, token: str, password: str) -> Session:
    """Become the invited contact: the account is made with this password and signed in.
    BAD_USER_INPUT when the token is unknown, used or expired, its address has an account
    already, or its inviter was removed or may no longer invite contacts of the customer
    (one answer for all of these); a weak password is refused first."""
    try:
        async with unit_of_work():
            invitation = (
                await Invitation.filter(token_hash=hash_opaque_token(token))
                .select_for_update()
                .first()
            )
            if (
                invitation is None
                or invitation.accepted_at
                or invitation.revoked_at
                or invitation.expires_at <= now()
            ):
                raise BadUserInput(_UNUSABLE)
            if not await _inviter_still_may_invite(invitation):
                raise BadUserInput(_UNUSABLE)
            user = await _account_for(invitation, password)
            if user is None:
                raise BadUserInput(_UNUSABLE)
            invitation.user_id = user.id
            invitation.accepted_at = now()
            await invitation.save(update_fields=["user_id", "accepted_at"])
            await audit(
                "contact.joined",
                actor=user,
                target=f"user:{user.id}",
                invitation=invitation.id,
            )
    except IntegrityError:  # the address got an account meanwhile
        raise BadUserInput(_UNUSABLE) from None
    if await mfa.must_use_mfa(user):  # the password is set; the second factor comes next
        raise MfaEnrolmentRequired(
            "Your password is set. This account must use two-factor sign-in: set it up with "
            "enrollTotp and confirmTotp.",
            enrolmentToken=issue_second_factor_token(settings, user.id, MFA_ENROL),
        )
    return await _issue_session(settings, user)
