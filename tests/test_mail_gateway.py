"""Replies by mail through the gateway (a real aiosmtpd server on loopback): posted where
they belong as the user, live; refused and recorded, with nothing posted, when the address
is forged, expired or used, the sender is not its user, access was lost, or the mail is
too large."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest
from starlette.applications import Starlette

from app.mail_gateway import start_gateway
from domain.mail import mail_domain
from domain.reply_addresses import ReplyKind, reply_address
from domain.reply_text import reply_text
from infra.settings import Settings
from models import AuditEntry, Micropost, ProjectMembership, RequestMessage
from realtime.channels import project_channel
from tests.world import World


@pytest.fixture
async def gateway(app: Starlette) -> AsyncIterator[int]:
    server = await start_gateway(
        app.state.settings, app.state.bus, "127.0.0.1", 0, max_bytes=20_000
    )
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def _address(
    settings: Settings, kind: ReplyKind, target: int, user: int, *, now: datetime | None = None
) -> str:
    moment = now or datetime.now(UTC)
    return reply_address(settings, mail_domain(settings), kind, target, user, now=moment)


def _reply(to: str, sender: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Max was mentioned"
    message["Message-ID"] = "<reply-1@mail.acme.example>"
    message.set_content(body)
    return message


async def _send(port: int, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=10)


async def _refused(port: int, message: EmailMessage) -> int:
    with pytest.raises(aiosmtplib.SMTPException) as refused:
        await _send(port, message)
    error = refused.value
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return int(error.recipients[0].code)
    assert isinstance(error, aiosmtplib.SMTPResponseException), error
    return int(error.code)


async def _replies_to(post: Micropost) -> list[Micropost]:
    return await Micropost.filter(parent_id=post.id).order_by("id")


QUOTED = """Sounds good, I will check the draft tomorrow.

On Tue, 1 Dec 2026 at 10:02, Extranet <extranet@localhost> wrote:
> Sam posted in Acme warehouse portal:
> Acme kick-off done
--
Max, Acme Logistics
"""


async def test_a_reply_by_mail_is_posted_as_the_user_and_live(
    app: Starlette, world: World, gateway: int
) -> None:
    # given Max's reply address for Sam's post, and someone following the project live
    settings = app.state.settings
    to = _address(settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    async with app.state.bus.subscribe(project_channel(world.portal.id)) as live:
        # when Max answers from his mail client
        await _send(gateway, _reply(to, f"Max <{world.max.email.upper()}>", QUOTED))
        # then the reply is on the timeline, without the quote and the signature
        [reply] = await _replies_to(world.portal_post)
        assert reply.author_id == world.max.id
        assert reply.body == "Sounds good, I will check the draft tomorrow."
        # and the project's live subscribers hear of it
        async with asyncio.timeout(5):
            assert await live.get()


async def test_a_reply_to_a_page_comment_mail_comments_on_the_page(
    app: Starlette, world: World, gateway: int
) -> None:
    settings = app.state.settings
    to = _address(settings, ReplyKind.PAGE_COMMENT, world.portal_page.id, world.max.id)
    await _send(gateway, _reply(to, world.max.email, "Looks right to me."))
    [comment] = await Micropost.filter(page_id=world.portal_page.id, author_id=world.max.id)
    assert comment.body == "Looks right to me."


async def test_a_forged_or_expired_address_is_refused(
    app: Starlette, world: World, gateway: int
) -> None:
    settings = app.state.settings
    good = _address(settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    local, _, domain = good.partition("@")
    forged = f"{local[:-2]}{'a' if local[-2] != 'a' else 'b'}{local[-1]}@{domain}"
    assert await _refused(gateway, _reply(forged, world.max.email, "Hi")) == 550
    old = datetime.now(UTC) - timedelta(days=31)
    expired = _address(settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id, now=old)
    assert await _refused(gateway, _reply(expired, world.max.email, "Hi")) == 550
    # any other recipient is refused at once
    assert await _refused(gateway, _reply(f"max@{domain}", world.max.email, "Hi")) == 550
    assert await _replies_to(world.portal_post) == []
    refusals = await AuditEntry.filter(action="mail_reply.refused")
    assert {"forged", "expired"} <= {str(e.details["reason"]) for e in refusals}


async def test_a_replayed_reply_is_refused(app: Starlette, world: World, gateway: int) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    await _send(gateway, _reply(to, world.max.email, "Once"))
    assert await _refused(gateway, _reply(to, world.max.email, "Once")) == 550
    assert len(await _replies_to(world.portal_post)) == 1


async def test_a_reply_from_another_sender_is_refused(
    app: Starlette, world: World, gateway: int
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    assert await _refused(gateway, _reply(to, world.anna.email, "I am Max")) == 550
    assert await _replies_to(world.portal_post) == []


async def test_a_user_who_lost_access_cannot_reply(
    app: Starlette, world: World, gateway: int
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    await ProjectMembership.filter(project_id=world.portal.id, user_id=world.max.id).delete()
    assert await _refused(gateway, _reply(to, world.max.email, "Still here?")) == 550
    assert await _replies_to(world.portal_post) == []


async def test_an_oversize_or_empty_reply_is_refused(
    app: Starlette, world: World, gateway: int
) -> None:
    to = _address(app.state.settings, ReplyKind.MICROPOST, world.portal_post.id, world.max.id)
    assert await _refused(gateway, _reply(to, world.max.email, "x" * 30_000)) == 552
    quoted_only = "On Tue, 1 Dec 2026, Extranet wrote:\n> Acme kick-off done\n"
    assert await _refused(gateway, _reply(to, world.max.email, quoted_only)) == 550
    assert await _replies_to(world.portal_post) == []


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Yes.\n\nOn Mon, Anna wrote:\n> earlier", "Yes."),
        ("Yes.\n\nOn Mon, 30 Nov 2026 at 09:00, Anna <a@b.example>\nwrote:\n> x", "Yes."),
        ("Yes.\n-- \nAnna\nAcme", "Yes."),
        ("Yes.\n\nFrom: Extranet <x@y.example>\nSent: Monday\nTo: Anna\nSubject: Hi", "Yes."),
        ("Yes.\n-----Original Message-----\nFrom: x", "Yes."),
        ("Yes.\n\nSent from my phone", "Yes."),
        ("> quoted first\nthen mine", "then mine"),
        ("Two lines\nof text", "Two lines\nof text"),
    ],
)
def test_quoted_text_and_signatures_are_stripped(body: str, kept: str) -> None:
    assert reply_text(body) == kept


def test_the_servers_gateway_setting_is_host_and_port() -> None:
    from infra.settings import SettingsError, load_settings

    env = {"EXTRANET_SECRET_KEY": "x" * 40, "EXTRANET_MAIL_GATEWAY": "127.0.0.1:2525"}
    assert load_settings(env).mail_gateway == "127.0.0.1:2525"
    with pytest.raises(SettingsError, match="EXTRANET_MAIL_GATEWAY"):
        load_settings({**env, "EXTRANET_MAIL_GATEWAY": "2525"})


async def test_a_reply_to_a_request_mail_joins_its_conversation(
    app: Starlette, world: World, gateway: int
) -> None:
    to = _address(app.state.settings, ReplyKind.REQUEST, world.acme_request.id, world.max.id)
    await _send(gateway, _reply(to, world.max.email, "The sensor is back."))
    [message] = await RequestMessage.filter(
        request_id=world.acme_request.id, author_id=world.max.id
    )
    assert message.body == "The sensor is back."
