"""Projects: creation, membership and the status workflow."""

from __future__ import annotations

from decimal import Decimal

from actions._common import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    audit,
    limited_text,
    name_text,
    record_event,
)
from actions.customers import check_money
from actions.notifications import record_notifications
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Forbidden, NotFound
from domain.markdown import render_markdown_off_loop
from domain.wording import either, with_article, words
from models import (
    Project,
    ProjectMembership,
    ProjectStatus,
    ProjectStatusChange,
    User,
)
from models.events import ProjectStatusChanged
from realtime.bus import EventBus

S = ProjectStatus
TRANSITIONS: dict[ProjectStatus, tuple[ProjectStatus, ...]] = {
    S.PROPOSED: (S.ACTIVE, S.CANCELLED),
    S.ACTIVE: (S.ON_HOLD, S.COMPLETED, S.CANCELLED),
    S.ON_HOLD: (S.ACTIVE, S.COMPLETED, S.CANCELLED),
    S.COMPLETED: (),
    S.CANCELLED: (),
}


def allowed_transitions(status: ProjectStatus) -> tuple[ProjectStatus, ...]:
    return TRANSITIONS[status]


async def _member_candidates(actor: User, project: Project, user_ids: list[int]) -> list[User]:
    """Users the actor may see who may belong to this project (staff or its customer's)."""
    users = await policy.visible_users(actor).filter(id__in=user_ids, is_active=True)
    if len(users) != len(set(user_ids)):
        raise NotFound("user")
    for user in users:
        if not policy.can_be_member_of(user, project):
            raise BadUserInput(
                "Only staff and contacts of the project's customer can be its members.",
                field="userId",
            )
    return users


async def create_project(
    actor: User,
    *,
    customer_id: int,
    name: str,
    description: str = "",
    budget: Decimal | None = None,
    member_ids: list[int] | None = None,
) -> Project:
    customer = await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    if not await policy.is_account_team_member(actor, customer.id):
        raise Forbidden("Only the customer's account team or an administrator may add projects.")
    name = name_text(name, "name", NAME_MAX_LENGTH)
    description = limited_text(description, "description", DESCRIPTION_MAX_LENGTH)
    budget = check_money(budget, "budget")
    description_html = await render_markdown_off_loop(description)
    async with unit_of_work():
        project = await Project.create(
            customer_id=customer.id,
            name=name,
            description=description,
            description_html=description_html,
            budget=budget,
        )
        members = await _member_candidates(actor, project, member_ids or [])
        for member in members:
            await ProjectMembership.create(project_id=project.id, user_id=member.id)
        await audit(
            "project.created",
            actor=actor,
            target=f"project:{project.id}",
            members=sorted(m.id for m in members),
        )
    return project


async def _require_membership_manager(actor: User, project: Project) -> None:
    if not await policy.can_manage_project_members(actor, project):
        raise Forbidden(
            "Only the project's account team, its staff members or an administrator may do this."
        )


def _require_may_manage_member(actor: User, user: User) -> None:
    """Lead contacts manage their colleagues; which staff work on a project (and so may
    manage it) is the provider's decision."""
    if not policy.can_change_membership_of(actor, user):
        raise Forbidden("Only the account team or an administrator adds or removes staff.")


async def add_project_member(actor: User, *, project_id: int, user_id: int) -> ProjectMembership:
    project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
    await _require_membership_manager(actor, project)
    [user] = await _member_candidates(actor, project, [user_id])
    _require_may_manage_member(actor, user)
    async with unit_of_work():
        membership, created = await ProjectMembership.get_or_create(
            project_id=project.id, user_id=user.id
        )
        if created:
            await audit(
                "project.member_added",
                actor=actor,
                subject=user,
                target=f"project:{project.id}",
                user=user.id,
            )
    return membership


async def remove_project_member(
    actor: User, bus: EventBus, *, project_id: int, user_id: int
) -> bool:
    project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
    await _require_membership_manager(actor, project)
    user = await policy.get_visible(policy.visible_users(actor), user_id, "user")
    _require_may_manage_member(actor, user)
    async with unit_of_work(bus) as work:
        removed = await ProjectMembership.filter(project_id=project.id, user_id=user.id).delete()
        if not removed:
            raise NotFound("project member")
        await audit(
            "project.member_removed",
            actor=actor,
            subject=user,
            target=f"project:{project.id}",
            user=user.id,
        )
        work.rights_changed(project_ids=[project.id], user_ids=[user.id])
    return True


async def change_project_status(
    actor: User,
    bus: EventBus,
    *,
    project_id: int,
    status: ProjectStatus,
    reason: str = "",
) -> tuple[Project, ProjectStatusChange]:
    project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
    await policy.require_manager(actor, project)
    reason = limited_text(reason.strip(), "reason", REASON_MAX_LENGTH)
    async with unit_of_work(bus) as work:
        locked = await Project.filter(id=project.id).select_for_update().first()
        if locked is None:
            raise NotFound("project")
        allowed = allowed_transitions(locked.status)
        if status not in allowed:
            current = with_article(words(locked.status)).capitalize()
            options = either(words(s) for s in allowed) or "none (it is closed)"
            raise BadUserInput(
                f"{current} project cannot become {words(status)}. Allowed next states: {options}.",
                field="status",
                allowedStatuses=[s.value for s in allowed],
            )
        change = await ProjectStatusChange.create(
            project_id=locked.id,
            from_status=locked.status,
            to_status=status,
            actor_id=actor.id,
            reason=reason,
        )
        locked.status = status
        await locked.save(update_fields=["status", "updated_at"])
        changed = ProjectStatusChanged(change.from_status, status, reason, change.id)
        event = await record_event(changed, locked, actor)
        notified = await record_notifications(event, locked)
        work.publish(event, notified=notified)
    return locked, change
