"""Watches: a user's chosen level of interest in a customer, project, page, topic,
library folder or library document."""

from __future__ import annotations

from collections.abc import Sequence

from actions._common import audit
from actions.unit_of_work import unit_of_work
from domain import library, policy
from domain.errors import BadUserInput, Forbidden, NotFound
from models import Project, User, Watch, WatchLevel, WatchTargetKind


async def _check_target(actor: User, kind: WatchTargetKind, target_id: int) -> None:
    """Refuse, as not found, a target that the actor may not see."""
    if kind is WatchTargetKind.CUSTOMER:
        await policy.get_visible(policy.visible_customers(actor), target_id, "customer")
    elif kind is WatchTargetKind.PROJECT:
        await policy.get_visible(policy.visible_projects(actor), target_id, "project")
    elif kind is WatchTargetKind.PAGE:
        await policy.get_visible(policy.visible_pages(actor), target_id, "page")
    elif kind is WatchTargetKind.FOLDER:
        await policy.get_visible(library.visible_folders(actor), target_id, "folder")
    elif kind is WatchTargetKind.DOCUMENT:
        await policy.get_visible(library.visible_documents(actor), target_id, "document")
    else:
        await policy.get_visible(policy.visible_topics(actor), target_id, "topic")


def target_key(kind: WatchTargetKind, target_id: int) -> str:
    return f"{kind.value}:{target_id}"


async def watch(actor: User, *, kind: WatchTargetKind, target_id: int, level: WatchLevel) -> Watch:
    """Create or change the actor's watch on a target."""
    await _check_target(actor, kind, target_id)
    key = target_key(kind, target_id)
    async with unit_of_work():
        existing = await Watch.filter(user_id=actor.id, target_key=key).select_for_update().first()
        if existing is not None:
            existing.level = level
            await existing.save(update_fields=["level", "updated_at"])
            return existing
        watch = Watch(user_id=actor.id, kind=kind, target_key=key, level=level)
        setattr(watch, f"{kind.value.lower()}_id", target_id)
        await watch.save()
        return watch


async def unwatch(actor: User, *, kind: WatchTargetKind, target_id: int) -> bool:
    """Remove the actor's own watch; answers whether there was one."""
    await _check_target(actor, kind, target_id)
    removed = await Watch.filter(user_id=actor.id, target_key=target_key(kind, target_id)).delete()
    return removed > 0


async def unwatch_by_id(actor: User, *, watch_id: int) -> bool:
    """Remove one of the actor's own watches by its ID, even one whose target they can no
    longer see (its ``target`` then reads null, so the target's ID is unknown to them)."""
    removed = await Watch.filter(user_id=actor.id, id=watch_id).delete()
    if not removed:
        raise NotFound("watch")
    return True


def watch_keys(
    *, customer_id: int, project_id: int | None = None, page_id: int | None = None
) -> list[str]:
    """The target keys whose watch may apply here, least specific first: the customer's,
    then the project's, then the page's (those given)."""
    keys = [target_key(WatchTargetKind.CUSTOMER, customer_id)]
    if project_id is not None:
        keys.append(target_key(WatchTargetKind.PROJECT, project_id))
    if page_id is not None:
        keys.append(target_key(WatchTargetKind.PAGE, page_id))
    return keys


def most_specific(levels: Sequence[WatchLevel | None]) -> WatchLevel | None:
    """The level that applies, given the user's watch level on each of :func:`watch_keys`
    (in that order, None where they set none): the most specific explicit watch wins, so a
    page's own watch (MUTED included) overrides its project's, which overrides the
    customer's."""
    for level in reversed(levels):
        if level is not None:
            return level
    return None


async def add_page_watcher(
    actor: User, *, page_id: int, user_id: int, level: WatchLevel = WatchLevel.WATCHING
) -> tuple[Watch, User]:
    """Staff of the customer's account team (or an administrator) make one of the
    customer's contacts who may read the page watch it; recorded in the audit trail."""
    if not policy.is_staff(actor):
        raise Forbidden("Only the provider's staff add watchers to a page.")
    page = await policy.get_visible(policy.visible_pages(actor), page_id, "page")
    project = await Project.get(id=page.project_id)
    if not await policy.is_account_team_member(actor, project.customer_id):
        raise Forbidden("Only the customer's account team or an administrator add watchers.")
    contact = await User.get_or_none(id=user_id, customer_id=project.customer_id, is_active=True)
    if contact is None:
        raise NotFound("contact of this customer")
    if not await policy.readers_of(project, page.visibility).filter(id=contact.id).exists():
        raise BadUserInput(
            "That contact may not read this page: add them to the project first.", field="userId"
        )
    async with unit_of_work():
        watched = await watch(contact, kind=WatchTargetKind.PAGE, target_id=page.id, level=level)
        await audit(
            "watch.added",
            actor=actor,
            subject=contact,
            target=f"page:{page.id}",
            user=contact.id,
            level=level.value,
        )
    return watched, contact
