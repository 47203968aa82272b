"""Create or update by an external system's ID (CRM/ERP sync): customers, projects, contacts.

The same call made again changes nothing and answers ``created: false``. Two calls at the
same moment with the same external ID make one object: the second one's insert of the
external ID fails on its unique constraint, its transaction is rolled back, and it runs
again as an update. Each upsert is allowed by :func:`domain.policy.can_sync` and the rule
of the plain mutation it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from tortoise.exceptions import IntegrityError

from actions import accounts, customers, invitations, projects
from actions._common import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    audit,
    limited_text,
    name_text,
    now,
)
from actions.customers import check_money, slugify
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound
from domain.markdown import render_markdown_off_loop
from domain.tokens import hash_opaque_token, new_opaque_token
from models import (
    AccountTeamMembership,
    Customer,
    ExternalId,
    ExternalKind,
    Invitation,
    Project,
    ProjectMembership,
    Role,
    ServiceAccount,
    User,
)

T = TypeVar("T")
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CONTACT_REFUSED = (
    "This contact cannot be provisioned here: its email address or external ID belongs to "
    "an account outside this customer."
)


@dataclass(frozen=True, slots=True)
class Upserted(Generic[T]):
    """The object, whether this call created it, and (a new contact) the single-use
    token of the invitation mailed to them (for the command line; the API does not hand
    it out)."""

    row: T
    created: bool
    invitation_token: str | None = None


def check_source(source: str) -> str:
    """A source system's name: letters, digits, ``.``, ``_``, ``-``, at most 64."""
    if not _SOURCE.match(source):
        raise BadUserInput(
            "source names the external system: letters, digits, '.', '_' and '-' (at most 64).",
            field="source",
        )
    return source


def check_external_id(external_id: str, field: str = "externalId") -> str:
    return name_text(external_id, field, 200)


async def object_id(source: str, kind: ExternalKind, external_id: str) -> int | None:
    """The ID of the object ``external_id`` of ``source`` names, if any."""
    row = await ExternalId.get_or_none(source=source, kind=kind, external_id=external_id)
    return row.object_id if row else None


async def _race_safe(attempt: Callable[[], Awaitable[Upserted[T]]]) -> Upserted[T]:
    """Run ``attempt``; when it loses a race on a unique constraint (another call created
    the same object meanwhile), once more: it finds the object and updates it."""
    try:
        return await attempt()
    except (IntegrityError, Conflict):
        return await attempt()


def _refuse_contacts(viewer: User) -> None:
    if not policy.is_staff(viewer):
        raise Forbidden("Only the provider's staff may create or change customers and projects.")


async def _require_sync(viewer: User) -> None:
    if not await policy.can_sync(viewer):
        raise Forbidden("Only administrators and service accounts may sync by external ID.")


async def _staff_by_email(emails: list[str]) -> list[User]:
    cleaned = sorted({accounts.normalise_email(e) for e in emails})
    team = await User.filter(email__in=cleaned, role__in=[Role.ADMIN, Role.STAFF], is_active=True)
    unknown = sorted(set(cleaned) - {u.email for u in team})
    if unknown:
        raise BadUserInput(
            f"No active staff account has the address {', '.join(unknown)}.",
            field="accountTeamEmails",
        )
    return team


async def _free_slug(name: str) -> str:
    base = slugify(name)[:60].strip("-") or "customer"
    slug, n = base, 1
    while await Customer.exists(slug=slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


async def upsert_customer(
    actor: User,
    *,
    source: str,
    external_id: str,
    name: str,
    slug: str | None = None,
    internal_notes: str | None = None,
    annual_budget: Decimal | None = None,
    account_team_emails: list[str] | None = None,
) -> Upserted[Customer]:
    """Create (administrators) or update (its account team) the customer ``external_id``
    of ``source`` names. Left out (None): kept as it is; ``accountTeamEmails``: the
    account team becomes exactly these staff. FORBIDDEN for contacts and people who are
    neither administrators nor service accounts."""
    await _require_sync(actor)
    _refuse_contacts(actor)
    source, external_id = check_source(source), check_external_id(external_id)
    name = name_text(name, "name", NAME_MAX_LENGTH)
    team = await _staff_by_email(account_team_emails) if account_team_emails is not None else None

    async def attempt() -> Upserted[Customer]:
        async with unit_of_work():
            found = await object_id(source, ExternalKind.CUSTOMER, external_id)
            if found is None:
                if not policy.is_admin(actor):
                    raise Forbidden("Only administrators may add customers.")
                customer = await customers.create_customer(
                    actor,
                    name=name,
                    slug=slug or await _free_slug(name),
                    internal_notes=internal_notes or "",
                    annual_budget=annual_budget,
                    account_team_ids=[u.id for u in team or []],
                )
                await ExternalId.create(
                    source=source,
                    kind=ExternalKind.CUSTOMER,
                    external_id=external_id,
                    object_id=customer.id,
                )
                return Upserted(customer, True)
            customer = await Customer.get(id=found)
            if not await policy.is_account_team_member(actor, customer.id):
                raise Forbidden("Only the customer's account team or an administrator may do this.")
            await _update_customer(actor, customer, name, slug, internal_notes, annual_budget, team)
            return Upserted(customer, False)

    return await _race_safe(attempt)


async def _update_customer(
    actor: User,
    customer: Customer,
    name: str,
    slug: str | None,
    internal_notes: str | None,
    annual_budget: Decimal | None,
    team: list[User] | None,
) -> None:
    changed: dict[str, object] = {}
    if customer.name != name:
        changed["name"] = name
    if slug is not None and slug != customer.slug:
        if await Customer.exists(slug=slug):
            raise Conflict(f"A customer with the slug {slug!r} already exists.", field="slug")
        changed["slug"] = slug
    if internal_notes is not None and internal_notes != customer.internal_notes:
        changed["internal_notes"] = limited_text(
            internal_notes, "internalNotes", DESCRIPTION_MAX_LENGTH
        )
    budget = check_money(annual_budget, "annualBudget")
    if budget is not None and budget != customer.annual_budget:
        changed["annual_budget"] = budget
    team_changed = False
    if team is not None:
        wanted = {u.id for u in team}
        memberships = await AccountTeamMembership.filter(customer_id=customer.id)
        current = {m.user_id for m in memberships}
        if wanted != current:
            team_changed = True
            await AccountTeamMembership.filter(
                customer_id=customer.id, user_id__in=list(current - wanted)
            ).delete()
            for user_id in sorted(wanted - current):
                await AccountTeamMembership.create(customer_id=customer.id, user_id=user_id)
    if changed:
        for attribute, value in changed.items():
            setattr(customer, attribute, value)
        await customer.save(update_fields=list(changed))
    if changed or team_changed:
        await audit(
            "customer.updated",
            actor=actor,
            target=f"customer:{customer.id}",
            fields=sorted(changed) + (["account_team"] if team_changed else []),
        )


async def customer_of(
    actor: User, source: str, customer_id: int | None, customer_external_id: str | None
) -> Customer:
    """The customer named by ID or by its external ID of ``source`` (exactly one of them),
    within the actor's sight; NOT_FOUND otherwise."""
    if (customer_id is None) == (customer_external_id is None):
        raise BadUserInput(
            "Give customerId or customerExternalId (one of them).", field="customerId"
        )
    if customer_external_id is not None:
        customer_external_id = check_external_id(customer_external_id, "customerExternalId")
        customer_id = await object_id(source, ExternalKind.CUSTOMER, customer_external_id)
        if customer_id is None:
            raise NotFound("customer")
    assert customer_id is not None
    return await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")


async def upsert_project(
    actor: User,
    *,
    source: str,
    external_id: str,
    name: str,
    customer_id: int | None = None,
    customer_external_id: str | None = None,
    description: str | None = None,
    budget: Decimal | None = None,
) -> Upserted[Project]:
    """Create (the customer's account team, as ``createProject``) or update (those who
    manage the project) the project ``external_id`` names. BAD_USER_INPUT when the
    external ID names a project of another customer (projects do not move)."""
    await _require_sync(actor)
    _refuse_contacts(actor)
    source, external_id = check_source(source), check_external_id(external_id)
    customer = await customer_of(actor, source, customer_id, customer_external_id)

    async def attempt() -> Upserted[Project]:
        async with unit_of_work():
            found = await object_id(source, ExternalKind.PROJECT, external_id)
            if found is None:
                project = await projects.create_project(
                    actor,
                    customer_id=customer.id,
                    name=name,
                    description=description or "",
                    budget=budget,
                )
                await ExternalId.create(
                    source=source,
                    kind=ExternalKind.PROJECT,
                    external_id=external_id,
                    object_id=project.id,
                )
                return Upserted(project, True)
            project = await Project.get(id=found)
            if project.customer_id != customer.id:
                raise BadUserInput(
                    "This external ID names a project of another customer.", field="externalId"
                )
            await policy.require_manager(actor, project)
            await _update_project(actor, project, name, description, budget)
            return Upserted(project, False)

    return await _race_safe(attempt)


async def _update_project(
    actor: User, project: Project, name: str, description: str | None, budget: Decimal | None
) -> None:
    changed: list[str] = []
    name = name_text(name, "name", NAME_MAX_LENGTH)
    if name != project.name:
        project.name = name
        changed.append("name")
    if description is not None and description != project.description:
        project.description = limited_text(description, "description", DESCRIPTION_MAX_LENGTH)
        project.description_html = await render_markdown_off_loop(project.description)
        changed += ["description", "description_html"]
    money = check_money(budget, "budget")
    if money is not None and money != project.budget:
        project.budget = money
        changed.append("budget")
    if changed:
        await project.save(update_fields=changed)
        await audit("project.updated", actor=actor, target=f"project:{project.id}", fields=changed)


async def upsert_contact(
    actor: User,
    *,
    source: str,
    external_id: str,
    email: str,
    name: str,
    role: Role = Role.CUSTOMER_MEMBER,
    customer_id: int | None = None,
    customer_external_id: str | None = None,
    project_external_ids: list[str] | None = None,
) -> Upserted[User]:
    """Create or update the contact ``external_id`` names, as those who may invite the
    customer's contacts (its account team and lead contacts). A new contact gets no
    password but an invitation, mailed to them (valid 14 days, ``acceptInvitation``), with
    which they choose one. ``projectExternalIds``: projects (of this source and customer) the
    contact is made a member of (memberships made otherwise stay). CONFLICT when the
    address or external ID belongs to an account outside the customer or to a service
    account."""
    await _require_sync(actor)
    source, external_id = check_source(source), check_external_id(external_id)
    customer = await customer_of(actor, source, customer_id, customer_external_id)
    if not await policy.can_manage_contacts(actor, customer.id):
        raise Forbidden("Only the customer's lead contacts and account team may do this.")
    if role.is_staff:
        raise BadUserInput("A contact's role is CUSTOMER_ADMIN or CUSTOMER_MEMBER.", field="role")
    email = accounts.normalise_email(email)
    name = name_text(name, "name", NAME_MAX_LENGTH)
    project_external_ids = [
        check_external_id(external, "projectExternalIds") for external in project_external_ids or []
    ]
    project_ids = await _project_ids(source, customer, project_external_ids)

    async def attempt() -> Upserted[User]:
        async with unit_of_work():
            found = await object_id(source, ExternalKind.USER, external_id)
            user = await User.get_or_none(id=found) if found is not None else None
            if user is None:
                user = await User.get_or_none(email=email)
                if user is not None and (
                    user.customer_id != customer.id
                    or await ExternalId.exists(
                        source=source, kind=ExternalKind.USER, object_id=user.id
                    )
                ):
                    raise Conflict(_CONTACT_REFUSED, field="email")
            elif user.customer_id != customer.id:
                raise Conflict(_CONTACT_REFUSED, field="externalId")
            if user is not None and await ServiceAccount.exists(user_id=user.id):
                # an integration identity is no contact: nobody syncs its role or address
                raise Conflict(_CONTACT_REFUSED, field="email" if found is None else "externalId")
            token = None
            created = user is None
            if user is None:
                user = await accounts.create_user(
                    email=email, name=name, role=role, password=None, customer=customer
                )
                token = await _invite(actor, user, customer)
            else:
                await _update_contact(actor, user, email, name, role)
            if found is None:
                await ExternalId.create(
                    source=source,
                    kind=ExternalKind.USER,
                    external_id=external_id,
                    object_id=user.id,
                )
            for project_id in project_ids:
                if not await ProjectMembership.exists(project_id=project_id, user_id=user.id):
                    await ProjectMembership.create(project_id=project_id, user_id=user.id)
            return Upserted(user, created, token)

    return await _race_safe(attempt)


async def _project_ids(source: str, customer: Customer, external_ids: list[str]) -> list[int]:
    found = await ExternalId.filter(
        source=source, kind=ExternalKind.PROJECT, external_id__in=sorted(set(external_ids))
    ).values_list("object_id", flat=True)
    projects = await Project.filter(id__in=list(found), customer_id=customer.id)
    if len(projects) != len(set(external_ids)):
        raise NotFound("project")
    return sorted(p.id for p in projects)


async def _invite(actor: User, user: User, customer: Customer) -> str:
    """A pending invitation of the new contact ``user`` (no password yet), mailed to
    them: its token."""
    token = new_opaque_token()
    invitation = await Invitation.create(
        customer_id=customer.id,
        email=user.email,
        name=user.name,
        role=user.role,
        user_id=user.id,
        invited_by_id=actor.id,
        token_hash=hash_opaque_token(token),
        expires_at=now() + accounts.INVITATION_TTL,
        sent_at=now(),
    )
    await invitations._mail_invitation(invitation, token, actor, customer)
    await audit(
        "contact.invited",
        actor=actor,
        target=f"invitation:{invitation.id}",
        customer=customer.id,
        role=user.role.value,
        projects=[],
    )
    return token


async def _update_contact(actor: User, user: User, email: str, name: str, role: Role) -> None:
    changed: list[str] = []
    if user.email != email:
        if await User.exists(email=email):
            raise Conflict(_CONTACT_REFUSED, field="email")
        user.email = email
        changed.append("email")
    if user.name != name:
        user.name = name
        changed.append("name")
    if user.role is not role:
        user.role = role
        changed.append("role")
    if changed:
        await user.save(update_fields=changed)
        await audit("user.updated", actor=actor, target=f"user:{user.id}", fields=changed)
