"""Who may see and who may change what: the tenant boundary as querysets and predicates.

Reads are scoped by querysets, so that an object outside the viewer's reach is simply not
found (answering exactly like an ID that does not exist). Writes are checked by predicates
that the actions call before they change anything.
"""

from __future__ import annotations

from typing import TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain.errors import Forbidden, NotFound
from models import (
    AccountTeamMembership,
    Attachment,
    Customer,
    Event,
    Micropost,
    MicropostTopic,
    Page,
    Project,
    ProjectMembership,
    Role,
    Topic,
    User,
    Visibility,
)


def _member_project_ids(user: User) -> Subquery:
    return Subquery(ProjectMembership.filter(user_id=user.id).values("project_id"))


def visible_customers(viewer: User) -> QuerySet[Customer]:
    if viewer.is_staff:
        return Customer.all()
    return Customer.filter(id=viewer.customer_id)


def visible_projects(viewer: User) -> QuerySet[Project]:
    if viewer.is_staff:
        return Project.all()
    projects = Project.filter(customer_id=viewer.customer_id)
    if viewer.role is Role.CUSTOMER_MEMBER:
        projects = projects.filter(id__in=_member_project_ids(viewer))
    return projects


def _project_scope(viewer: User) -> Q:
    """A filter on rows with a ``project`` foreign key, for non-staff viewers."""
    scope = Q(project__customer_id=viewer.customer_id, visibility=Visibility.SHARED)
    if viewer.role is Role.CUSTOMER_MEMBER:
        scope &= Q(project_id__in=_member_project_ids(viewer))
    return scope


def visible_pages(viewer: User) -> QuerySet[Page]:
    return Page.all() if viewer.is_staff else Page.filter(_project_scope(viewer))


def visible_attachments(viewer: User) -> QuerySet[Attachment]:
    return Attachment.filter(page_id__in=Subquery(visible_pages(viewer).values("id")))


def visible_microposts(viewer: User) -> QuerySet[Micropost]:
    return Micropost.all() if viewer.is_staff else Micropost.filter(_project_scope(viewer))


def visible_events(viewer: User) -> QuerySet[Event]:
    return Event.all() if viewer.is_staff else Event.filter(_project_scope(viewer))


def visible_users(viewer: User) -> QuerySet[User]:
    """Staff see everybody; a contact sees the provider's staff and their own colleagues."""
    if viewer.is_staff:
        return User.all()
    return User.filter(Q(role__in=[Role.ADMIN, Role.STAFF]) | Q(customer_id=viewer.customer_id))


def readers_of(project: Project, visibility: Visibility) -> QuerySet[User]:
    """The active users who may read content of this visibility in the project: staff, and
    for SHARED content also the customer's lead contacts and the project's members."""
    readers = Q(role__in=[Role.ADMIN, Role.STAFF])
    if visibility is Visibility.SHARED:
        members = ProjectMembership.filter(project_id=project.id).values("user_id")
        readers |= Q(customer_id=project.customer_id) & (
            Q(role=Role.CUSTOMER_ADMIN) | Q(id__in=Subquery(members))
        )
    return User.filter(readers, is_active=True)


def visible_topics(viewer: User) -> QuerySet[Topic]:
    """Topic names are shared across customers, but a contact only learns of a topic used in
    a post they may see: a name that only another customer uses is that customer's data."""
    if viewer.is_staff:
        return Topic.all()
    posts = Subquery(visible_microposts(viewer).values("id"))
    return Topic.filter(
        id__in=Subquery(MicropostTopic.filter(micropost_id__in=posts).values("topic_id"))
    )


def audience(viewer: User) -> tuple[object, ...]:
    """What every ``visible_*`` scope and every role rule depends on: viewers with the same
    audience read the same rows everywhere. A customer member's scope also depends on the
    projects they are a member of, so each member is an audience of their own."""
    if viewer.role is Role.CUSTOMER_MEMBER:
        return (viewer.role.value, viewer.customer_id, viewer.id)
    return (viewer.role.value, viewer.customer_id)


def can_see_visibility(viewer: User, visibility: Visibility) -> bool:
    return viewer.is_staff or visibility is Visibility.SHARED


M = TypeVar("M", bound=Model)


async def get_visible(queryset: QuerySet[M], object_id: int, what: str) -> M:
    """The object within the viewer's scope (``queryset``), or NOT_FOUND: the same answer
    whether it does not exist or lies outside the scope (the audit trail tells them apart)."""
    found = await queryset.get_or_none(id=object_id)
    if found is None:
        raise NotFound(what, looked_up=(queryset.model, object_id))
    return found


async def is_on_account_team(user: User, customer_id: int) -> bool:
    return await AccountTeamMembership.exists(user_id=user.id, customer_id=customer_id)


async def is_project_member(user: User, project_id: int) -> bool:
    return await ProjectMembership.exists(user_id=user.id, project_id=project_id)


async def can_manage_project(viewer: User, project: Project) -> bool:
    """Status, membership and internal content: admins and staff who work on it."""
    if viewer.is_admin:
        return True
    if viewer.role is not Role.STAFF:
        return False
    return await is_on_account_team(viewer, project.customer_id) or await is_project_member(
        viewer, project.id
    )


async def can_contribute(viewer: User, project: Project) -> bool:
    """Post and edit shared pages: staff who work on it, and the customer's permitted contacts."""
    if viewer.is_staff:
        return await can_manage_project(viewer, project)
    if viewer.customer_id != project.customer_id:
        return False
    if viewer.role is Role.CUSTOMER_ADMIN:
        return True
    return await is_project_member(viewer, project.id)


async def can_manage_contacts(viewer: User, customer_id: int) -> bool:
    if viewer.is_admin:
        return True
    if viewer.role is Role.STAFF:
        return await is_on_account_team(viewer, customer_id)
    return viewer.role is Role.CUSTOMER_ADMIN and viewer.customer_id == customer_id


async def require_contributor(viewer: User, project: Project) -> None:
    if not await can_contribute(viewer, project):
        raise Forbidden(
            "You can read this project but not write in it. Ask its account team to add you."
        )


async def require_manager(viewer: User, project: Project) -> None:
    if not await can_manage_project(viewer, project):
        raise Forbidden(
            "Only the project's account team, its staff members or an administrator may do this."
        )
