"""Notification mail: only for what was not seen, batched, as it reads at sending time,
and only what the recipient may read then; preferences and one-click unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from actions.mail_notifications import unsubscribe_token
from domain.mail import render
from domain.mail_schedule import Preference as SchedulePreference
from domain.mail_schedule import QuietHours, due_at, zone
from models import MailCategory, MailDelivery, MailPreference, PendingMail
from models.mail import OutgoingMail
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until
from tests.world import World

POST = """
mutation Post($input: PostMicropostInput!) {
  postMicropost(input: $input) { micropost { id } }
}
"""
EDIT = """
mutation Edit($input: EditMicropostInput!) {
  editMicropost(input: $input) { micropost { id } }
}
"""
MARK_READ = """
mutation { markNotificationsRead(input: {}) { marked } }
"""
REMOVE_MEMBER = """
mutation Remove($input: ProjectMemberInput!) {
  removeProjectMember(input: $input) { project { id } }
}
"""
PREFERENCES = """
query { mailPreferences { timeZone quietHours { startHour endHour }
  categories { category delivery windowMinutes digestHour digestWeekday } } }
"""
SET_PREFERENCES = """
mutation Set($input: SetMailPreferencesInput!) {
  setMailPreferences(input: $input) {
    preferences { quietHours { startHour endHour }
      categories { category delivery windowMinutes digestHour } }
  }
}
"""


async def _post(api: Api, world: World, body: str, **extra: Any) -> str:
    result = await api(
        POST, {"input": {"projectId": gid(world.portal), "body": body, **extra}}, as_user=world.sam
    )
    assert not result.errors, result.errors
    return str(result.data["postMicropost"]["micropost"]["id"])


async def _mails_to(address: str, template: str = "notification") -> list[OutgoingMail]:
    return await OutgoingMail.filter(to_address=address, template=template).order_by("id")


async def _run(app: Starlette, at: datetime) -> None:
    await app.state.jobs.run_due(now=at)


def _text(mail: OutgoingMail, app: Starlette) -> str:
    from domain.mail import OutgoingMessage

    message = OutgoingMessage(
        to_address=mail.to_address,
        template=mail.template,
        subject=mail.subject,
        context=mail.context,
        category=mail.category,
        unsubscribe_url=mail.unsubscribe_url,
        reply_to=mail.reply_to,
    )
    text, _html = render(message, app.state.settings)
    return text


def row_token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _later(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


async def test_two_mentions_minutes_apart_make_one_mail(
    api: Api, world: World, app: Starlette
) -> None:
    # given two mentions of Max, a contact with no client open
    await _post(api, world, "@max the first draft is up")
    await _post(api, world, "@max and the budget too")
    # when the window ends
    await _run(app, _later(11))
    # then one mail holds both, with a link, a way to unsubscribe and the project's thread
    [mail] = await _mails_to(world.max.email)
    text = _text(mail, app)
    assert "the first draft is up" in text
    assert "and the budget too" in text
    assert "Sam posted" in text
    assert world.portal.name in text
    assert "/#/posts/" in text
    assert mail.unsubscribe_url
    assert "/mail/unsubscribe/" in mail.unsubscribe_url
    assert mail.category == "mentions"
    assert mail.thread_key == f"project-{world.portal.id}"
    assert mail.reply_to is None  # two threads: each item carries its own reply address
    assert text.count("Reply by mail: reply+") == 2
    # and nothing is mailed twice
    await _run(app, _later(30))
    assert len(await _mails_to(world.max.email)) == 1


async def test_nothing_is_mailed_before_the_window_ends(
    api: Api, world: World, app: Starlette
) -> None:
    await _post(api, world, "@max soon")
    await _run(app, _later(5))
    assert await _mails_to(world.max.email) == []


async def test_a_post_read_before_the_batch_is_due_is_not_mailed(
    api: Api, world: World, app: Starlette
) -> None:
    await _post(api, world, "@max please read")
    result = await api(MARK_READ, as_user=world.max)
    assert result.data["markNotificationsRead"]["marked"] >= 1
    await _run(app, _later(11))
    assert await _mails_to(world.max.email) == []
    assert await PendingMail.filter(user_id=world.max.id).count() == 0


async def test_a_typo_fixed_within_the_window_is_mailed_corrected(
    api: Api, world: World, app: Starlette
) -> None:
    post = await _post(api, world, "@max the lanch is on Friday")
    edited = await api(
        EDIT,
        {"input": {"micropostId": post, "body": "@max the launch is on Friday"}},
        as_user=world.sam,
    )
    assert not edited.errors
    await _run(app, _later(11))
    [mail] = await _mails_to(world.max.email)
    text = _text(mail, app)
    assert "the launch is on Friday" in text
    assert "lanch" not in text
    assert mail.reply_to is not None
    assert mail.reply_to.startswith("reply+")


async def test_an_active_user_gets_no_mail(api: Api, world: World, app: Starlette) -> None:
    # given Max's web client in the foreground
    await app.state.bus.activity.mark(world.max.id, "tab-1", True)
    try:
        await _post(api, world, "@max you are here")
    finally:
        await app.state.bus.activity.mark(world.max.id, "tab-1", False)
    await _run(app, _later(11))
    assert await _mails_to(world.max.email) == []


async def test_a_background_tab_does_not_count_as_active(
    api: Api, world: World, app: Starlette
) -> None:
    await app.state.bus.activity.mark(world.max.id, "tab-1", True)
    await app.state.bus.activity.mark(world.max.id, "tab-1", False)  # the tab was hidden
    await _post(api, world, "@max while you were away")
    await _run(app, _later(11))
    assert len(await _mails_to(world.max.email)) == 1


async def test_internal_notes_are_never_mailed_to_a_contact(
    api: Api, world: World, app: Starlette
) -> None:
    # an internal note mentions Anna (a contact) and Olivia (staff): only staff hear of it
    await _post(api, world, "@anna @olivia internal margin note", visibility="INTERNAL")
    await _run(app, _later(11))
    assert await _mails_to(world.anna.email) == []
    [mail] = await _mails_to(world.olivia.email)
    assert "internal margin note" in _text(mail, app)


async def test_an_item_the_user_can_no_longer_read_is_dropped(
    api: Api, world: World, app: Starlette
) -> None:
    await _post(api, world, "@max secret plans for the portal")
    removed = await api(
        REMOVE_MEMBER,
        {"input": {"projectId": gid(world.portal), "userId": gid(world.max)}},
        as_user=world.sam,
    )
    assert not removed.errors, removed.errors
    await _run(app, _later(11))
    assert await _mails_to(world.max.email) == []


async def test_preferences_default_then_change(api: Api, world: World) -> None:
    result = await api(PREFERENCES, as_user=world.max)
    prefs = result.data["mailPreferences"]
    chosen = {c["category"]: c for c in prefs["categories"]}
    assert chosen["MENTIONS_AND_REPLIES"]["delivery"] == "IMMEDIATE"
    assert chosen["MENTIONS_AND_REPLIES"]["windowMinutes"] == 10
    assert chosen["WATCHED"]["delivery"] == "DAILY"
    assert prefs["quietHours"] is None
    assert prefs["timeZone"] == "UTC"
    changed = await api(
        SET_PREFERENCES,
        {
            "input": {
                "categories": [
                    {
                        "category": "MENTIONS_AND_REPLIES",
                        "delivery": "IMMEDIATE",
                        "windowMinutes": 2,
                    }
                ],
                "quietHours": {"startHour": 22, "endHour": 7},
            }
        },
        as_user=world.max,
    )
    assert not changed.errors, changed.errors
    preferences = changed.data["setMailPreferences"]["preferences"]
    assert preferences["quietHours"] == {"startHour": 22, "endHour": 7}
    mentions = [c for c in preferences["categories"] if c["category"] == "MENTIONS_AND_REPLIES"]
    assert mentions[0]["windowMinutes"] == 2


async def test_preferences_out_of_range_are_refused_naming_the_field(
    api: Api, world: World
) -> None:
    for given, field in [
        (
            {"categories": [{"category": "WATCHED", "delivery": "IMMEDIATE", "windowMinutes": 61}]},
            "windowMinutes",
        ),
        (
            {"categories": [{"category": "WATCHED", "delivery": "DAILY", "digestHour": 24}]},
            "digestHour",
        ),
        ({"quietHours": {"startHour": 5, "endHour": 5}}, "quietHours"),
    ]:
        result = await api(SET_PREFERENCES, {"input": given}, as_user=world.max)
        assert result.codes == ["BAD_USER_INPUT"], result.errors
        assert result.errors[0]["extensions"]["field"] == field
    assert await MailPreference.filter(user_id=world.max.id).count() == 0


async def test_preferences_need_a_signed_in_user(api: Api) -> None:
    result = await api(PREFERENCES)
    assert result.codes == ["UNAUTHENTICATED"]


async def test_off_means_no_mail(api: Api, world: World, app: Starlette) -> None:
    await api(
        SET_PREFERENCES,
        {"input": {"categories": [{"category": "MENTIONS_AND_REPLIES", "delivery": "OFF"}]}},
        as_user=world.max,
    )
    await _post(api, world, "@max nothing by mail")
    await _run(app, _later(11))
    assert await _mails_to(world.max.email) == []


async def test_one_click_unsubscribe_on_post_only(
    api: Api, world: World, app: Starlette, client: httpx.AsyncClient
) -> None:
    await _post(api, world, "@max hello")
    await _run(app, _later(11))
    [mail] = await _mails_to(world.max.email)
    assert mail.unsubscribe_url is not None
    path = mail.unsubscribe_url.removeprefix(app.state.settings.public_url)
    assert path.rsplit("/", 1)[1] == row_token(mail.unsubscribe_url)
    # opening the link changes nothing
    page = await client.get(path)
    assert page.status_code == 200
    assert 'method="post"' in page.text
    row = await MailPreference.get(user_id=world.max.id, category=MailCategory.MENTIONS_AND_REPLIES)
    assert row.delivery is MailDelivery.IMMEDIATE
    # the one-click POST unsubscribes, as often as it is sent
    for _ in range(2):
        done = await client.post(
            path,
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
    now_off = await MailPreference.get(id=row.id)
    assert now_off.delivery is MailDelivery.OFF
    # and a made-up token is not found
    assert (await client.post("/mail/unsubscribe/made-up")).status_code == 404


def test_unsubscribe_tokens_are_opaque(app: Starlette) -> None:
    settings = app.state.settings
    first = unsubscribe_token(settings, 1, MailCategory.WATCHED)
    assert first != unsubscribe_token(settings, 2, MailCategory.WATCHED)
    assert first != unsubscribe_token(settings, 1, MailCategory.REQUESTS)
    assert len(first) == 32  # 24 bytes of an HMAC: it names nobody


def test_digests_and_quiet_hours_are_read_in_the_users_time_zone() -> None:
    berlin = zone("Europe/Berlin")
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
    daily = SchedulePreference(MailDelivery.DAILY, digest_hour=8)
    assert due_at(daily, first_waiting=now, now=now, tz=berlin, quiet=None) == datetime(
        2026, 12, 2, 7, 0, tzinfo=UTC
    )
    weekly = SchedulePreference(MailDelivery.WEEKLY, digest_hour=9, digest_weekday=4)
    assert due_at(weekly, first_waiting=now, now=now, tz=berlin, quiet=None) == datetime(
        2026, 12, 4, 8, 0, tzinfo=UTC
    )
    batched = SchedulePreference(MailDelivery.IMMEDIATE, window_minutes=10)
    late = datetime(2026, 12, 1, 21, 55, tzinfo=UTC)  # 22:55 in Berlin: quiet until 7
    assert due_at(
        batched, first_waiting=late, now=late, tz=berlin, quiet=QuietHours(22, 7)
    ) == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    off = SchedulePreference(MailDelivery.OFF)
    assert due_at(off, first_waiting=now, now=now, tz=berlin, quiet=None) is None


async def test_a_socket_counts_while_its_client_says_it_is_in_the_foreground(
    api: Api, world: World, app: Starlette
) -> None:
    activity = app.state.bus.activity
    async with serve(app) as address:
        async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            # a client that says nothing of itself (the terminal client) counts
            assert await activity.active([world.max.id]) == {world.max.id}
            # the web client's tab is hidden, then shown again
            await sock.send({"type": "ping", "payload": {"foreground": False}})
            assert (await sock.receive())["type"] == "pong"
            assert await activity.active([world.max.id]) == set()
            await sock.send({"type": "ping", "payload": {"foreground": True}})
            assert (await sock.receive())["type"] == "pong"
            assert await activity.active([world.max.id]) == {world.max.id}
        # a closed socket does not count
        await until(
            lambda: _inactive(activity, world.max.id), 5, what="the closed socket stops counting"
        )


async def _inactive(activity: Any, user_id: int) -> bool:
    return not await activity.active([user_id])


REQUEST_REPLY = """
mutation ($input: ReplyToRequestInput!) {
  replyToRequest(input: $input) { message { body } }
}
"""


async def test_a_reply_on_a_request_is_mailed_to_its_requester(
    api: Api, world: World, app: Starlette
) -> None:
    # given a staff note (internal) and an answer on Max's request
    for body, visibility in (("Check the logs", "INTERNAL"), ("We are on it", "SHARED")):
        result = await api(
            REQUEST_REPLY,
            {
                "input": {
                    "requestId": gid(world.acme_request),
                    "body": body,
                    "visibility": visibility,
                }
            },
            as_user=world.sam,
        )
        assert not result.errors, result.errors
    await _run(app, _later(11))
    # then Max is mailed the answer only, with the request's reply address and thread
    [mail] = await _mails_to(world.max.email)
    text = _text(mail, app)
    assert "We are on it" in text
    assert "Check the logs" not in text
    assert mail.category == "requests"
    assert mail.thread_key == f"request-{world.acme_request.id}"
    assert mail.reply_to is not None
    assert mail.reply_to.startswith("reply+")
    assert "/#/requests/" in text


WATCH = """
mutation ($input: WatchInput!) { watch(input: $input) { watch { level } } }
"""


async def test_what_is_watched_comes_in_the_daily_digest(
    api: Api, world: World, app: Starlette
) -> None:
    # given Max watching the portal project (the watched category is a daily digest at 08:00)
    watched = await api(
        WATCH, {"input": {"targetId": gid(world.portal), "level": "WATCHING"}}, as_user=world.max
    )
    assert not watched.errors, watched.errors
    await _post(api, world, "Kick-off minutes are on the page")
    await _post(api, world, "Next meeting on Monday")
    # nothing before the digest hour
    now = datetime.now(UTC)
    digest = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    if now.hour < 8:
        digest -= timedelta(days=1)
    await _run(app, digest - timedelta(minutes=1))
    assert await _mails_to(world.max.email) == []
    # then one digest of both
    await _run(app, digest + timedelta(minutes=1))
    [mail] = await _mails_to(world.max.email)
    assert mail.subject == "Your daily digest: 2 updates"
    assert mail.category == "watched"
    text = _text(mail, app)
    assert "Kick-off minutes" in text
    assert "Next meeting on Monday" in text
