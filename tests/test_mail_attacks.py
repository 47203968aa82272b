"""Mail under attack: headers that users' text cannot break, one-click unsubscribe as mail
clients really send it, replies in the shapes real mail clients produce (or forge), and an
outbox that keeps no usable secret once a mail is gone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
from starlette.applications import Starlette

from actions.mail import prune_outbox, queue_mail
from actions.unit_of_work import unit_of_work
from app.runner import JobRunner
from domain.mail import OutgoingMessage, build_message
from domain.mail_schedule import Preference as SchedulePreference
from domain.mail_schedule import QuietHours, due_at, zone
from domain.reply_addresses import ReplyKind
from infra.settings import SettingsError, load_settings
from models import (
    AuditEntry,
    MailCategory,
    MailDelivery,
    MailPreference,
    MailStatus,
    Micropost,
    OutgoingMail,
)
from tests.mail import SmtpServer, smtp_server_fixture  # noqa: F401 (the smtp_server fixture)
from tests.test_mail_gateway import _address, _refused, _send, gateway  # noqa: F401
from tests.world import World

SETTINGS = load_settings(
    {"EXTRANET_SECRET_KEY": "s" * 40, "EXTRANET_SMTP_URL": "maildir:///nowhere"}
)


# Headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Hi\r\nBcc: victim@evil.example",
        "Hi\nBcc: victim@evil.example",
        "Hi\u2028Bcc: victim@evil.example",
        'Naïve "quotes" <script> ' + "é" * 400,
    ],
)
def test_a_subject_cannot_add_headers(subject: str) -> None:
    msg = OutgoingMessage(
        to_address="anna@acme.example",
        template="notice",
        subject=subject,
        context={"heading": subject, "paragraphs": [subject], "link": None},
    )
    raw = bytes(build_message(msg, SETTINGS, "<t@localhost>"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None
    assert "<script>" not in html.get_content()


# One-click unsubscribe ----------------------------------------------------------------


async def _unsubscribe_path(app: Starlette, world: World) -> tuple[MailPreference, str]:
    from actions.mail_notifications import unsubscribe_token

    row = await MailPreference.get_or_none(
        user_id=world.max.id, category=MailCategory.MENTIONS_AND_REPLIES
    )
    if row is None:
        category = MailCategory.MENTIONS_AND_REPLIES
        token = unsubscribe_token(app.state.settings, world.max.id, category)
        row = await MailPreference.create(
            user_id=world.max.id,
            category=MailCategory.MENTIONS_AND_REPLIES,
            delivery=MailDelivery.IMMEDIATE,
            unsubscribe_token=token,
        )
    return row, f"/mail/unsubscribe/{row.unsubscribe_token}"


async def test_one_click_unsubscribe_accepts_multipart_form_data(
    app: Starlette, world: World, client: httpx.AsyncClient
) -> None:
    row, path = await _unsubscribe_path(app, world)
    done = await client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert done.status_code == 200
    assert (await MailPreference.get(id=row.id)).delivery is MailDelivery.OFF
    other = await MailPreference.filter(user_id=world.max.id).exclude(id=row.id)
    assert all(p.delivery is not MailDelivery.OFF for p in other)


async def test_an_altered_unsubscribe_token_changes_nothing(
    app: Starlette, world: World, client: httpx.AsyncClient
) -> None:
    row, path = await _unsubscribe_path(app, world)
    for forged in (path + "x", path[:-1], path.upper(), path + "/../x"):
        answer = await client.post(forged, content="List-Unsubscribe=One-Click")
        assert 400 <= answer.status_code < 500
    assert (await client.get(path)).status_code == 200
    assert (await MailPreference.get(id=row.id)).delivery is MailDelivery.IMMEDIATE


# Replies by mail ----------------------------------------------------------------------


def _raw_reply(to: str, sender: str, headers: str, body: bytes) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Re: hello\r\n"
        f"Message-ID: <r-{abs(hash(body))}@acme.example>\r\nMIME-Version: 1.0\r\n{headers}\r\n"
    ).encode() + body


async def _send_raw(port: int, to: str, raw: bytes) -> None:
    import aiosmtplib

    await aiosmtplib.send(
        raw, sender="max@acme.example", recipients=[to], hostname="127.0.0.1", port=port
    )


async def test_a_reply_in_latin1_quoted_printable_is_posted(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    raw = _raw_reply(
        to,
        world.max.email,
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n",
        b"Gr=FC=DFe, =E7a marche.\r\n",
    )
    await _send_raw(gateway, to, raw)
    [reply] = await Micropost.filter(parent_id=world.portal_post.id)
    assert reply.body == "Grüße, ça marche."


async def test_a_reply_in_an_unknown_charset_is_refused_cleanly(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
) -> None:
    import aiosmtplib

    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    raw = _raw_reply(
        to, world.max.email, "Content-Type: text/plain; charset=x-made-up\r\n", b"Hello\r\n"
    )
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await _send_raw(gateway, to, raw)
    assert refused.value.code == 550
    assert await Micropost.filter(parent_id=world.portal_post.id).count() == 0


async def test_a_reply_whose_from_is_another_user_is_refused(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    message = EmailMessage()
    message["From"] = f'"{world.max.email}" <{world.sam.email}>'
    message["To"] = to
    message.set_content("I am Max, honestly")
    assert await _refused(gateway, message) == 550
    assert await Micropost.filter(parent_id=world.portal_post.id).count() == 0


# Secrets in the outbox ----------------------------------------------------------------


async def test_a_sent_mail_leaves_no_usable_token_in_the_outbox(
    app: Starlette, smtp_server: SmtpServer
) -> None:
    secret = "reset-token-that-must-not-stay"
    reply = "reply+abcdef@localhost"
    async with unit_of_work():
        mail_id = await queue_mail(
            OutgoingMessage(
                to_address="anna@acme.example",
                template="password_reset",
                subject="Set a new password",
                context={
                    "name": "Anna",
                    "email": "anna@acme.example",
                    "token": secret,
                    "minutes": 30,
                },
                reply_to=reply,
            )
        )
    jobs = JobRunner(replace(app.state.settings, smtp_url=smtp_server.url), bus=None)
    await jobs.run_due(now=datetime.now(UTC) + timedelta(seconds=1))
    [message] = await smtp_server.wait_for_messages(1)
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    assert secret in plain.get_content()
    mail = await OutgoingMail.get(id=mail_id)
    assert mail.status is MailStatus.SENT
    assert secret not in str(mail.context)
    assert mail.reply_to is None
    # and after the retention, the row itself is gone
    now = datetime.now(UTC)
    assert await prune_outbox(now - timedelta(days=app.state.settings.mail_kept_days)) == 0
    assert await prune_outbox(now + timedelta(seconds=1)) == 1
    assert not await OutgoingMail.filter(id=mail_id).exists()


def _respelled(address: str) -> str:
    """The same reply address with the unused last bit of its token flipped."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    local, _, domain = address.rpartition("@")
    last = alphabet[alphabet.index(local[-1]) ^ 1]
    return f"{local[:-1]}{last}@{domain}"


async def test_a_used_reply_address_spelled_otherwise_is_still_used(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    first = EmailMessage()
    first["From"] = world.max.email
    first["To"] = to
    first.set_content("Once")
    await _send(gateway, first)
    again = EmailMessage()
    again["From"] = world.max.email
    again["To"] = _respelled(to)
    again.set_content("Twice")
    assert await _refused(gateway, again) == 550
    assert [p.body for p in await Micropost.filter(parent_id=world.portal_post.id)] == ["Once"]


async def test_a_refused_reply_leaves_no_usable_address_in_the_audit_trail(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    spoofed = EmailMessage()
    spoofed["From"] = world.sam.email
    spoofed["To"] = to
    spoofed.set_content("Not Max")
    assert await _refused(gateway, spoofed) == 550
    token = to.removeprefix("reply+").partition("@")[0]
    entries = await AuditEntry.filter(action="mail_reply.refused")
    assert entries
    assert all(token not in f"{e.target} {e.details}" for e in entries)


def _html_only(message: EmailMessage) -> None:
    message.set_content(
        "<html><body><p>Looks &amp; reads <b>fine</b></p>"
        "<blockquote>old <blockquote>older</blockquote> text</blockquote></body></html>",
        subtype="html",
    )


def _base64_text(message: EmailMessage) -> None:
    message.set_content("Looks & reads fine", cte="base64")


def _with_attachment(message: EmailMessage) -> None:
    message.set_content("Looks & reads fine")
    message.add_alternative("<p>Looks &amp; reads fine</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")


@pytest.mark.parametrize("shape", [_html_only, _base64_text, _with_attachment])
async def test_replies_in_the_shapes_mail_clients_send_are_posted(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
    shape: Callable[[EmailMessage], None],
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    message = EmailMessage()
    message["From"] = f'"Max M." <{world.max.email.upper()}>'
    message["To"] = to
    shape(message)
    await _send(gateway, message)
    [reply] = await Micropost.filter(parent_id=world.portal_post.id)
    assert " ".join(reply.body.split()) in ("Looks & reads fine", "Looks & reads **fine**")


# Schedules ----------------------------------------------------------------------------

ZURICH = zone("Europe/Zurich")


def _zurich(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZURICH).astimezone(UTC)


def test_a_batch_found_late_inside_quiet_hours_waits_for_their_end() -> None:
    # the window ended at 21:59, but the batch ran at 22:01, inside quiet hours 22-7, on the
    # night clocks go forward: it waits until 07:00 summer time, not the past 21:59 again
    when = due_at(
        SchedulePreference(MailDelivery.IMMEDIATE, 10),
        first_waiting=_zurich(28, 21, 49),
        now=_zurich(28, 22, 1),
        tz=ZURICH,
        quiet=QuietHours(22, 7),
    )
    assert when == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST


def test_a_daily_digest_keeps_its_local_hour_across_a_clock_change() -> None:
    preference = SchedulePreference(MailDelivery.DAILY, 10, 8)
    before = due_at(
        preference, first_waiting=_zurich(28, 9), now=_zurich(28, 9), tz=ZURICH, quiet=None
    )
    assert before == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST
    after = due_at(preference, first_waiting=_zurich(28, 9), now=before, tz=ZURICH, quiet=None)
    assert after == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_one_click_is_offered_for_https_links_only() -> None:
    http = "http://127.0.0.1:8000/mail/unsubscribe/opaque"
    msg = OutgoingMessage(
        to_address="anna@acme.example",
        template="notice",
        subject="x",
        context={"heading": "x", "paragraphs": [], "link": None},
        category="mentions",
        unsubscribe_url=http,
    )
    message = build_message(msg, SETTINGS, "<t@localhost>")
    assert message["List-Unsubscribe"] == f"<{http}>"
    assert message["List-Unsubscribe-Post"] is None


def test_production_mail_needs_an_https_public_url() -> None:
    env = {
        "EXTRANET_ENV": "production",
        "DATABASE_URL": "postgres://app@db:5432/extranet",
        "EXTRANET_SECRET_KEY": "s" * 40,
        "EXTRANET_SMTP_URL": "smtp://relay.example.com:587",
        "EXTRANET_MAIL_FROM": "extranet@example.com",
        "EXTRANET_PUBLIC_URL": "http://extranet.example.com",
    }
    with pytest.raises(SettingsError, match="EXTRANET_PUBLIC_URL"):
        load_settings(env)
    assert load_settings({**env, "EXTRANET_PUBLIC_URL": "https://extranet.example.com"})


async def test_the_gateway_logs_no_reply_token_nor_body(
    app: Starlette,
    world: World,
    gateway: int,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    message = EmailMessage()
    message["From"] = world.sam.email  # refused: the address stays unused, and usable
    message["To"] = to
    message.set_content("A confidential answer")
    assert await _refused(gateway, message) == 550
    token = to.removeprefix("reply+").partition("@")[0]
    server_side = [r for r in caplog.records if not r.name.startswith("aiosmtplib")]
    assert server_side
    assert all(token not in r.getMessage() for r in server_side)
    assert all("confidential" not in r.getMessage() for r in server_side)
