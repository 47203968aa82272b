"""Who is on a concept page: a window's arrival, renewal and departure, and the editing
mark. Each change that others see is told on the page's presence channel, in every
process, after the store has it."""

from __future__ import annotations

from domain import policy
from domain.errors import BadUserInput
from models import User
from realtime.bus import EventBus
from realtime.presence import Session


async def arrive(bus: EventBus, page_id: int, session: Session) -> None:
    """Put the window ``session`` on the page, and tell the page's other windows."""
    await bus.presence.renew(page_id, session)
    await bus.presence_changed(page_id)


async def renew(bus: EventBus, page_id: int, session: Session) -> None:
    """Keep the window on the page for another ``realtime.presence.TTL`` seconds (nobody
    is told: nothing they see changed)."""
    await bus.presence.renew(page_id, session)


async def leave(bus: EventBus, page_id: int, session: Session) -> None:
    """Take the window off the page, and tell the page's other windows."""
    await bus.presence.leave(page_id, session.session)
    await bus.presence_changed(page_id)


async def set_editing(actor: User, bus: EventBus, *, page_id: int, editing: bool) -> None:
    """Mark every window of the actor on the page as editing (or not), and tell the page's
    windows. NOT_FOUND for a page the actor may not read; BAD_USER_INPUT (field ``pageId``)
    when they have no window on it."""
    page = await policy.get_visible(policy.visible_pages(actor), page_id, "page")
    if not await bus.presence.set_editing(page.id, actor.id, editing):
        raise BadUserInput(
            "You are not on this page: subscribe to pagePresence first.", field="pageId"
        )
    await bus.presence_changed(page.id)
