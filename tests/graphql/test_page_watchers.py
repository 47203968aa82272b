"""Staff see who is told of a page's updates, and add the customer's contacts to them."""

from __future__ import annotations

from actions import pages, watches
from models import AuditEntry, Notification, User, Watch, WatchLevel, WatchTargetKind
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.world import World

WATCHERS = "query ($id: ID!) { page(id: $id) { watchers { user { handle } level } } }"

ADD = """
mutation ($page: ID!, $user: ID!, $level: WatchLevel = WATCHING) {
  addPageWatcher(input: {pageId: $page, userId: $user, level: $level}) {
    watcher { user { handle } level }
  }
}
"""


async def _add(api: Api, actor: User, world: World, user: User, page: object = None) -> Result:
    variables = {"page": gid(page or world.portal_page), "user": gid(user)}
    return await api(ADD, variables, as_user=actor)


async def test_staff_see_own_and_inherited_watchers_but_not_muted_ones(
    api: Api, world: World
) -> None:
    # given max watches the project, anna the customer but mutes the page, sam the page
    await watches.watch(
        world.max,
        kind=WatchTargetKind.PROJECT,
        target_id=world.portal.id,
        level=WatchLevel.WATCHING,
    )
    await watches.watch(
        world.anna,
        kind=WatchTargetKind.CUSTOMER,
        target_id=world.acme.id,
        level=WatchLevel.WATCHING,
    )
    await watches.watch(
        world.anna,
        kind=WatchTargetKind.PAGE,
        target_id=world.portal_page.id,
        level=WatchLevel.MUTED,
    )
    await watches.watch(
        world.sam,
        kind=WatchTargetKind.PAGE,
        target_id=world.portal_page.id,
        level=WatchLevel.PARTICIPATING,
    )
    # when sam asks
    result = await api(WATCHERS, {"id": gid(world.portal_page)}, as_user=world.sam)
    # then
    assert result.errors == []
    assert result.data["page"]["watchers"] == [
        {"user": {"handle": "sam"}, "level": "PARTICIPATING"},
        {"user": {"handle": "max"}, "level": "WATCHING"},
    ]


async def test_a_contact_may_not_see_who_watches(api: Api, world: World) -> None:
    result = await api(WATCHERS, {"id": gid(world.portal_page)}, as_user=world.anna)
    assert result.data == {"page": {"watchers": None}}
    assert result.codes == ["FORBIDDEN"]


async def test_the_account_team_adds_a_contact_who_then_hears_of_updates(
    api: Api, world: World, bus: EventBus
) -> None:
    # when sam (on Acme's account team) adds anna
    result = await _add(api, world.sam, world, world.anna)
    # then
    assert result.data == {
        "addPageWatcher": {"watcher": {"user": {"handle": "anna"}, "level": "WATCHING"}}
    }
    assert await Watch.filter(user_id=world.anna.id, level=WatchLevel.WATCHING).count() == 1
    entry = await AuditEntry.get(action="watch.added")
    assert (entry.actor_id, entry.target) == (world.sam.id, f"page:{world.portal_page.id}")
    # and anna is told of the next update
    await pages.update_page(world.max, bus, page_id=world.portal_page.id, base_revision=1, body="x")
    assert await Notification.filter(user_id=world.anna.id).count() == 1


async def test_only_the_customers_account_team_or_an_admin_add_watchers(
    api: Api, world: World
) -> None:
    for actor in (world.olivia, world.stan, world.anna, world.max):  # not Acme's team
        result = await _add(api, actor, world, world.max)
        assert result.codes == ["FORBIDDEN"], actor.email
    assert (await _add(api, world.admin, world, world.max)).errors == []


async def test_only_contacts_of_the_customer_who_may_read_the_page_are_added(
    api: Api, world: World
) -> None:
    foreign = await _add(api, world.sam, world, world.gina)  # Globex's contact
    staff = await _add(api, world.sam, world, world.olivia)  # not a contact at all
    outsider = await _add(api, world.sam, world, world.mia)  # not on the portal project
    internal = await _add(api, world.sam, world, world.max, world.portal_internal_page)
    assert foreign.codes == staff.codes == ["NOT_FOUND"]
    assert outsider.codes == internal.codes == ["BAD_USER_INPUT"]
    assert await Watch.filter(kind=WatchTargetKind.PAGE).count() == 0
    assert not await AuditEntry.filter(action="watch.added").exists()
