"""What a new user meets first: pruning that keeps every inbox, slugs from any script,
refusals that say why in words (an expired token, a wrong status move, a wait in minutes),
and a README that shows how to run, check and reply."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest

from actions import microposts, projects
from actions.attachments import too_large
from actions.customers import slugify
from actions.events import prune_events
from domain.errors import BadUserInput
from domain.tokens import issue_access_token
from domain.wording import duration, size
from models import Event, Notification, ProjectStatus, User
from realtime.bus import EventBus
from tests.conftest import TEST_SESSION, Api, gid
from tests.world import World

ROOT = Path(__file__).resolve().parent.parent

INBOX = """{ notifications(first: 100) { totalCount
  edges { node { reason event { __typename } } } } }"""


async def _inbox(api: Api, user: User) -> list[dict[str, object]]:
    result = await api(INBOX, as_user=user)
    assert result.errors == [], result.errors
    return [edge["node"] for edge in result.data["notifications"]["edges"]]


async def test_pruning_every_old_event_leaves_every_inbox_as_it_was(
    api: Api, world: World, bus: EventBus
) -> None:
    # given posts that mention max and anna, and posts that notify nobody
    for body in ("Slots are live @max", "@anna the concept page is up", "A note to nobody"):
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body=body)
    before = {name: await _inbox(api, world.users()[name]) for name in ("max", "anna")}
    assert all(before.values())
    events_before = await Event.all().count()
    # when every event is old enough (forced: an age of 0)
    pruned = await prune_events(timedelta(0), force=True)
    # then the inboxes are unchanged, each notification with its event, and the rest is gone
    assert {name: await _inbox(api, world.users()[name]) for name in before} == before
    assert pruned.notifications == 0
    assert pruned.events > 0
    assert pruned.events + pruned.kept_for_notifications == events_before
    assert await Event.all().count() == pruned.kept_for_notifications
    referred = set(await Notification.all().values_list("event_id", flat=True))
    assert set(await Event.all().values_list("id", flat=True)) == referred


async def test_read_notifications_go_only_by_their_own_retention_and_unread_ones_never(
    world: World, bus: EventBus
) -> None:
    # given three notifications of max: read 40 days ago, read an hour ago, unread
    await Notification.filter(user_id=world.max.id).delete()
    for n in range(3):
        await microposts.post_micropost(
            world.sam, bus, project_id=world.portal.id, body=f"Update {n} @max"
        )
    old, recent, unread = await Notification.filter(user_id=world.max.id).order_by("id")
    now = (await Event.get(id=old.event_id)).created_at
    await Notification.filter(id=old.id).update(read_at=now - timedelta(days=40))
    await Notification.filter(id=recent.id).update(read_at=now - timedelta(hours=1))
    # when events are pruned without a retention for notifications, then with one of 30 days
    first = await prune_events(timedelta(days=1))
    assert await Notification.filter(user_id=world.max.id).count() == 3
    second = await prune_events(timedelta(days=1), read_notifications_older_than=timedelta(30))
    # then only the notification read 40 days ago is gone
    left = await Notification.filter(user_id=world.max.id).values_list("id", flat=True)
    assert sorted(left) == [recent.id, unread.id]
    assert (first.notifications, second.notifications) == (0, 1)


@pytest.mark.parametrize(
    ("older_than", "read_older_than", "force"),
    [
        (timedelta(0), None, False),
        (timedelta(hours=23), None, False),
        (timedelta(days=180), timedelta(hours=1), False),
        (timedelta(days=-1), None, True),  # never, even forced
        (timedelta(days=180), timedelta(days=-1), True),
    ],
)
async def test_ages_below_a_day_are_refused_unless_forced_and_negative_ones_always(
    world: World, older_than: timedelta, read_older_than: timedelta | None, force: bool
) -> None:
    events = await Event.all().count()
    notifications = await Notification.all().count()
    with pytest.raises(BadUserInput):
        await prune_events(older_than, read_notifications_older_than=read_older_than, force=force)
    assert (await Event.all().count(), await Notification.all().count()) == (
        events,
        notifications,
    )


async def test_a_day_old_age_prunes_without_force(world: World) -> None:
    # given events written now
    assert await Event.all().count() > 0
    # when pruned at the minimum age, then nothing that young is deleted, and no refusal
    pruned = await prune_events(timedelta(days=1))
    assert pruned.events == 0


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Müller Logistik GmbH", "muller-logistik-gmbh"),
        ("Straße", "strasse"),
        ("Ærø Shipping", "aero-shipping"),
        ("Łódź Trans S.A.", "lodz-trans-s-a"),
        ("Ελληνικά Logistics", "ellenika-logistics"),
        ("  Initech   GmbH  ", "initech-gmbh"),
        ("!!!", "customer"),
    ],
)
def test_slugs_are_transliterated_from_any_script(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_a_long_name_gives_a_slug_of_at_most_64_characters_cut_at_a_word() -> None:
    slug = slugify("Überseeische Speditions- und Lagerhaus-Gesellschaft " * 3)
    assert len(slug) <= 64
    assert slug.startswith("uberseeische-speditions-und-lagerhaus-gesellschaft")
    assert not slug.endswith("-")


CREATE_CUSTOMER = """mutation ($name: String!) {
  createCustomer(input: {name: $name}) { customer { name slug } } }"""


async def test_a_customer_made_without_a_slug_gets_the_transliterated_one(
    api: Api, world: World
) -> None:
    # when
    created = await api(CREATE_CUSTOMER, {"name": "Müller Logistik GmbH"}, as_user=world.admin)
    again = await api(CREATE_CUSTOMER, {"name": "Muller Logistik GmbH"}, as_user=world.admin)
    # then
    assert created.data == {
        "createCustomer": {
            "customer": {"name": "Müller Logistik GmbH", "slug": "muller-logistik-gmbh"}
        }
    }
    assert again.codes == ["CONFLICT"]
    assert "muller-logistik-gmbh" in again.errors[0]["message"]


ME = "{ me { handle } }"


def _token(api: Api, user: User, case: str) -> str | None:
    if case == "expired":
        issued = time.time() - api.settings.access_token_ttl - 60
        return issue_access_token(api.settings, user.id, TEST_SESSION, now=issued)
    if case == "forged":
        return api.token_for(user)[:-4] + "AAAA"
    return None if case == "none" else api.token_for(user)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "TOKEN_EXPIRED"),
        ("forged", "TOKEN_INVALID"),
        ("removed", "SESSION_ENDED"),
        ("none", "TOKEN_MISSING"),
    ],
)
async def test_a_refused_token_over_http_says_why(
    api: Api, world: World, case: str, reason: str
) -> None:
    # given
    token = _token(api, world.max, case)
    if case == "removed":
        await User.filter(id=world.max.id).update(is_active=False)
    # when
    result = await api(ME, token=token) if token else await api(ME)
    # then
    assert result.data == {"me": None}
    [error] = result.errors
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    if reason == "TOKEN_EXPIRED":
        assert "refreshSession" in error["message"]


async def test_a_valid_token_over_http_signs_in(api: Api, world: World) -> None:
    result = await api(ME, token=_token(api, world.max, "valid"))
    assert result.errors == []
    assert result.data == {"me": {"handle": world.max.handle}}


CHANGE_STATUS = """mutation ($input: ChangeProjectStatusInput!) {
  changeProjectStatus(input: $input) { project { status } } }"""


async def test_a_refused_status_move_reads_as_a_sentence(
    api: Api, world: World, bus: EventBus
) -> None:
    # given an on-hold project
    for status in (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD):
        await projects.change_project_status(
            world.sam, bus, project_id=world.portal.id, status=status
        )
    # when
    result = await api(
        CHANGE_STATUS,
        {"input": {"projectId": gid(world.portal), "status": "PROPOSED"}},
        as_user=world.sam,
    )
    # then words in the message, the values in the extensions
    [error] = result.errors
    assert error["message"] == (
        "An on-hold project cannot become proposed. Allowed next states: active, completed "
        "or cancelled."
    )
    assert error["extensions"]["allowedStatuses"] == ["ACTIVE", "COMPLETED", "CANCELLED"]


LOGIN = """mutation ($password: String!) {
  login(input: {email: "max@acme.example", password: $password}) { accessToken } }"""


async def test_a_sign_in_lock_says_minutes_and_gives_seconds_in_retry_after(
    api: Api, world: World
) -> None:
    # given five wrong passwords
    for _ in range(5):
        assert (await api(LOGIN, {"password": "wrong password"})).codes == ["UNAUTHENTICATED"]
    # when
    result = await api(LOGIN, {"password": "wrong password"})
    # then
    [error] = result.errors
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 840 < error["extensions"]["retryAfter"] <= 900
    assert error["message"] == "Too many failed sign-ins. Try again in 15 minutes."


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "1 second"),
        (45, "45 seconds"),
        (59.2, "1 minute"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (900, "15 minutes"),
        (3600, "1 hour"),
        (3601, "1 hour 1 minute"),
        (5400, "1 hour 30 minutes"),
        (7200, "2 hours"),
    ],
)
def test_a_wait_is_said_in_the_largest_units_never_shorter(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def test_the_readme_says_how_to_choose_the_port_and_the_makefile_honours_it() -> None:
    assert "PORT=8080 make run" in _readme()
    run = re.search(r"^run:.*?(?=^\S)", (ROOT / "Makefile").read_text(), re.S | re.M)
    assert run is not None
    assert "--port $(or $(PORT),8000)" in run.group(0)


def test_the_readme_mentions_the_health_check() -> None:
    assert "GET /healthz" in _readme()


async def test_the_readme_reply_example_names_the_schema_field_and_runs(
    api: Api, world: World
) -> None:
    # given the reply field of postMicropost in the schema
    schema = (ROOT / "schema.graphql").read_text()
    block = re.search(r"input PostMicropostInput \{(.*?)\}", schema, re.S)
    assert block is not None
    [field] = re.findall(r"^\s*(\w*[Rr]eply\w*):", block.group(1), re.M)
    # when the README's reply example is run as written
    examples = re.findall(r"```graphql\n(.*?)```", _readme(), re.S)
    [reply] = [e for e in examples if f"{field}:" in e and "postMicropost" in e]
    result = await api(
        reply,
        {"project": gid(world.portal), "post": gid(world.portal_post)},
        as_user=world.max,
    )
    # then it is a reply to that post
    assert result.errors == []
    micropost = result.data["postMicropost"]["micropost"]
    assert micropost["parent"] == {"id": gid(world.portal_post)}


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1536, "1.5 KiB"),
        (25 * 1024 * 1024, "25 MiB"),
        (2 * 1024**3, "2 GiB"),
    ],
)
def test_a_size_is_said_in_binary_units(count: int, said: str) -> None:
    assert size(count) == said


def test_an_upload_limit_says_its_size_and_gives_bytes_in_the_extensions() -> None:
    error = too_large(25 * 1024 * 1024)
    assert error.message == "The file is larger than the limit of 25 MiB."
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "file", "maxBytes": 26214400}


@pytest.mark.parametrize(
    ("case", "reason"), [("expired", "TOKEN_EXPIRED"), ("none", "TOKEN_MISSING")]
)
async def test_an_upload_with_a_refused_token_says_why(
    api: Api, world: World, case: str, reason: str
) -> None:
    token = _token(api, world.sam, case)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.client.post(
        f"/pages/{gid(world.portal_page)}/attachments",
        params={"name": "quote.txt"},
        content=b"a quote",
        headers=headers,
    )
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}


async def test_an_upload_with_a_valid_token_is_accepted(api: Api, world: World) -> None:
    response = await api.client.post(
        f"/pages/{gid(world.portal_page)}/attachments",
        params={"name": "quote.txt"},
        content=b"a quote",
        headers={"Authorization": f"Bearer {_token(api, world.sam, 'valid')}"},
    )
    assert response.status_code == 201, response.text
