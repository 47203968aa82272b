"""The account lifecycle as a person meets it: a forgotten password reset by mail (read
from a real SMTP server), a password changed, an account unlocked, deactivated and
reactivated, a profile edited, invitations mailed, resent, revoked and expired, and a mail
when an account signs in from a new network."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import websockets
from starlette.applications import Starlette

from actions._common import now
from app.runner import JobRunner
from infra.settings import Settings
from models import AuditEntry, Invitation, Job, PasswordResetToken, User
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.live import GraphQLSocket, serve
from tests.mail import SmtpServer, smtp_server_fixture
from tests.world import PASSWORD, World

__all__ = ["smtp_server_fixture"]  # the smtp_server fixture this module's tests use

LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken refreshToken } }"""
REFRESH = """mutation ($token: String!) {
  refreshSession(input: {refreshToken: $token}) { accessToken refreshToken } }"""
REQUEST_RESET = """mutation ($email: String!) {
  requestPasswordReset(input: {email: $email}) { accepted } }"""
RESET = """mutation ($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { passwordChanged email } }"""
CHANGE = """mutation ($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    otherSessionsEnded } }"""
UNLOCK = "mutation ($user: ID!) { unlockUser(input: {userId: $user}) { user { id } } }"
DEACTIVATE = """mutation ($user: ID!) {
  deactivateUser(input: {userId: $user}) { user { isActive deactivatedAt } } }"""
REACTIVATE = """mutation ($user: ID!) {
  reactivateUser(input: {userId: $user}) { user { isActive deactivatedAt } } }"""
PROFILE = """mutation ($input: UpdateMyProfileInput!) {
  updateMyProfile(input: $input) { user { name timeZone locale } } }"""
ME = "{ me { name timeZone locale } }"
INVITE = """mutation ($customer: ID!, $email: String!) {
  inviteContact(input: {customerId: $customer, email: $email, name: "Nora Neu"}) {
    invitation { id email expiresAt sentAt } invitationToken } }"""
PENDING = """query ($customer: ID!) { pendingInvitations(customerId: $customer) { id email } }"""
RESEND = """mutation ($id: ID!) {
  resendInvitation(input: {invitationId: $id}) { invitation { id expiresAt } } }"""
REVOKE = """mutation ($id: ID!) {
  revokeInvitation(input: {invitationId: $id}) { invitation { id } } }"""
ACCEPT = """mutation ($token: String!, $password: String!) {
  acceptInvitation(input: {token: $token, password: $password}) { user { email } } }"""
TIMELINE = """subscription ($project: ID!) {
  projectTimeline(projectId: $project) { ... on MicropostPosted { cursor } } }"""
NEW_PASSWORD = "a brand new passphrase 77"
ENDED = 4403


@pytest.fixture
def mailer(app: Starlette, settings: Settings, bus: EventBus, smtp_server: SmtpServer) -> JobRunner:
    """The background jobs of the test's app, mailing to the test's SMTP server."""
    return JobRunner(replace(settings, smtp_url=smtp_server.url, mail_enabled=True), bus)


@contextlib.asynccontextmanager
async def _client_at(app: Starlette, settings: Settings, address: str) -> AsyncIterator[Api]:
    """An API client whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client=client, settings=settings)


async def _sign_in(api: Api, email: str, password: str = PASSWORD) -> dict[str, str]:
    result = await api(LOGIN, {"email": email, "password": password})
    assert result.errors == [], result.errors
    return dict(result.data["login"])


def _link_token(message: EmailMessage, route: str) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(rf"#/{route}/([A-Za-z0-9_-]+)", str(body.get_content()))
    assert found, body
    return found.group(1)


async def _mails_to(mailer: JobRunner, smtp: SmtpServer, count: int) -> list[EmailMessage]:
    """Run the due jobs (the reset job, then the sending), and the ``count`` mails so far."""
    await mailer.run_due()
    return await smtp.wait_for_messages(count)


async def _closed_with(sock: GraphQLSocket) -> int | None:
    try:
        while True:
            await sock.receive(within=20)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _ok(result: Result) -> Any:
    assert result.errors == [], result.errors
    return result.data


# -- password reset ---------------------------------------------------------------------


async def test_a_forgotten_password_is_reset_by_mail_and_every_session_ends(
    app: Starlette, api: Api, world: World, mailer: JobRunner, smtp_server: SmtpServer
) -> None:
    # given Max is signed in twice, one session with a live socket
    first = await _sign_in(api, world.max.email)
    second = await _sign_in(api, world.max.email)
    async with serve(app) as address, GraphQLSocket.open(address, first["accessToken"]) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("t", TIMELINE, {"project": gid(world.portal)})
        # when he asks for a reset, and follows the mailed link
        asked = await api(REQUEST_RESET, {"email": " Max@Acme.example "})
        assert _ok(asked) == {"requestPasswordReset": {"accepted": True}}
        [mail] = await _mails_to(mailer, smtp_server, 1)
        assert mail["To"] == world.max.email
        assert mail["Subject"] == "Set a new password"
        token = _link_token(mail, "reset-password")
        reset = await api(RESET, {"token": token, "password": NEW_PASSWORD})
        # then the password is set, and every session ends at once
        assert _ok(reset)["resetPassword"] == {"passwordChanged": True, "email": world.max.email}
        assert await _closed_with(sock) == ENDED
    for session in (first, second):
        assert (await api(ME, token=session["accessToken"])).codes == ["UNAUTHENTICATED"]
        refreshed = await api(REFRESH, {"token": session["refreshToken"]})
        assert refreshed.codes == ["UNAUTHENTICATED"]
    assert (await api(LOGIN, {"email": world.max.email, "password": PASSWORD})).errors
    await _sign_in(api, world.max.email, NEW_PASSWORD)
    # and the link works once
    again = await api(RESET, {"token": token, "password": "yet another passphrase 5"})
    assert again.codes == ["BAD_USER_INPUT"]
    assert again.errors[0]["extensions"]["field"] == "token"
    actions = await AuditEntry.filter(target=f"user:{world.max.id}").values_list(
        "action", flat=True
    )
    assert {"password.reset_mailed", "password.reset"} <= set(actions)


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    api: Api, world: World, mailer: JobRunner, smtp_server: SmtpServer
) -> None:
    # when a reset is asked for an address with an account, one without, and a deactivated one
    await User.filter(id=world.mia.id).update(is_active=False)
    answers = []
    for email in (world.max.email, "nobody@acme.example", world.mia.email):
        answers.append((await api(REQUEST_RESET, {"email": email})).body)
    # then the answers are the same, the request's work the same, and only Max gets a mail
    assert answers[0] == answers[1] == answers[2]
    assert await Job.filter(kind="accounts.password_reset").count() == 3
    await mailer.run_due()
    [mail] = await smtp_server.wait_for_messages(1)
    assert mail["To"] == world.max.email
    assert await PasswordResetToken.all().count() == 1


async def test_a_reset_link_expires_and_a_newer_one_replaces_it(
    api: Api, world: World, mailer: JobRunner, smtp_server: SmtpServer
) -> None:
    # given two links were mailed to Max
    await api(REQUEST_RESET, {"email": world.max.email})
    [first] = await _mails_to(mailer, smtp_server, 1)
    await api(REQUEST_RESET, {"email": world.max.email})
    _, second = await _mails_to(mailer, smtp_server, 2)
    # then the earlier one no longer works
    old = await api(
        RESET, {"token": _link_token(first, "reset-password"), "password": NEW_PASSWORD}
    )
    assert old.codes == ["BAD_USER_INPUT"]
    # and the newer one not after 30 minutes
    await PasswordResetToken.all().update(expires_at=now() - timedelta(seconds=1))
    late = await api(
        RESET, {"token": _link_token(second, "reset-password"), "password": NEW_PASSWORD}
    )
    assert late.codes == ["BAD_USER_INPUT"]
    assert "expired" in late.errors[0]["message"]


async def test_a_weak_new_password_leaves_the_link_usable(
    api: Api, world: World, mailer: JobRunner, smtp_server: SmtpServer
) -> None:
    await api(REQUEST_RESET, {"email": world.max.email})
    [mail] = await _mails_to(mailer, smtp_server, 1)
    token = _link_token(mail, "reset-password")
    weak = await api(RESET, {"token": token, "password": "short"})
    assert weak.codes == ["BAD_USER_INPUT"]
    assert weak.errors[0]["extensions"]["field"] == "newPassword"
    _ok(await api(RESET, {"token": token, "password": NEW_PASSWORD}))


async def test_reset_requests_are_rate_limited(api: Api, world: World) -> None:
    # given three requests for one address within the window
    for _ in range(3):
        _ok(await api(REQUEST_RESET, {"email": world.max.email}))
    # then a fourth is refused, for an address with an account or not alike
    over = await api(REQUEST_RESET, {"email": world.max.email})
    assert over.codes == ["RATE_LIMITED"]
    assert over.errors[0]["extensions"]["retryAfter"] > 0
    for _ in range(3):
        await api(REQUEST_RESET, {"email": "nobody@acme.example"})
    unknown = await api(REQUEST_RESET, {"email": "nobody@acme.example"})
    assert unknown.codes == over.codes
    assert unknown.errors[0]["message"] == over.errors[0]["message"]
    # and a few mails at most were asked for: one pending job per address
    assert await Job.filter(kind="accounts.password_reset").count() == 2


# -- changing the password --------------------------------------------------------------


async def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    app: Starlette, api: Api, world: World
) -> None:
    # given Max is signed in twice, with a socket open in the other session
    this = await _sign_in(api, world.max.email)
    other = await _sign_in(api, world.max.email)
    async with serve(app) as address, GraphQLSocket.open(address, other["accessToken"]) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("t", TIMELINE, {"project": gid(world.portal)})
        # when he changes his password in this session
        changed = await api(
            CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD}, token=this["accessToken"]
        )
        # then the other session ends at once, this one goes on
        assert _ok(changed) == {"changePassword": {"otherSessionsEnded": 1}}
        assert await _closed_with(sock) == ENDED
    assert (await api(ME, token=other["accessToken"])).codes == ["UNAUTHENTICATED"]
    _ok(await api(ME, token=this["accessToken"]))
    _ok(await api(REFRESH, {"token": this["refreshToken"]}))
    await _sign_in(api, world.max.email, NEW_PASSWORD)


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failure(
    api: Api, world: World
) -> None:
    wrong = await api(
        CHANGE, {"current": "not my password", "new": NEW_PASSWORD}, as_user=world.max
    )
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert wrong.errors[0]["extensions"]["field"] == "currentPassword"
    same = await api(CHANGE, {"current": PASSWORD, "new": PASSWORD}, as_user=world.max)
    assert same.errors[0]["extensions"]["field"] == "newPassword"
    await _sign_in(api, world.max.email)  # unchanged
    assert await AuditEntry.exists(action="password.change_failed", actor_id=world.max.id)
    # five failures from one address lock the pair, as for sign-in
    for _ in range(5):
        await api(CHANGE, {"current": "not my password", "new": NEW_PASSWORD}, as_user=world.max)
    locked = await api(CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD}, as_user=world.max)
    assert locked.codes == ["RATE_LIMITED"]


# -- administrators ---------------------------------------------------------------------


async def test_an_administrator_unlocks_a_locked_account(api: Api, world: World) -> None:
    # given Max's account is locked from this address by five wrong passwords
    for _ in range(5):
        await api(LOGIN, {"email": world.max.email, "password": "wrong password"})
    locked = await api(LOGIN, {"email": world.max.email, "password": PASSWORD})
    assert locked.codes == ["RATE_LIMITED"]
    # when a lead contact tries to unlock it, then an administrator
    refused = await api(UNLOCK, {"user": gid(world.max)}, as_user=world.anna)
    unlocked = await api(UNLOCK, {"user": gid(world.max)}, as_user=world.admin)
    # then only the administrator could, and Max signs in again
    assert refused.codes == ["FORBIDDEN"]
    _ok(unlocked)
    await _sign_in(api, world.max.email)
    assert await AuditEntry.exists(action="user.unlocked", target=f"user:{world.max.id}")


async def test_deactivation_ends_every_session_at_once_and_reactivation_lets_in_again(
    app: Starlette, api: Api, world: World
) -> None:
    session = await _sign_in(api, world.max.email)
    async with serve(app) as address, GraphQLSocket.open(address, session["accessToken"]) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("t", TIMELINE, {"project": gid(world.portal)})
        # when an administrator deactivates Max
        done = await api(DEACTIVATE, {"user": gid(world.max)}, as_user=world.admin)
        # then his socket closes at once, and no token, refresh or sign-in works
        assert _ok(done)["deactivateUser"]["user"]["isActive"] is False
        assert done.data["deactivateUser"]["user"]["deactivatedAt"]
        assert await _closed_with(sock) == ENDED
    assert (await api(ME, token=session["accessToken"])).codes == ["UNAUTHENTICATED"]
    assert (await api(ME, as_user=world.max)).codes == ["UNAUTHENTICATED"]
    assert (await api(REFRESH, {"token": session["refreshToken"]})).codes == ["UNAUTHENTICATED"]
    signed_out = await api(LOGIN, {"email": world.max.email, "password": PASSWORD})
    assert signed_out.codes == ["UNAUTHENTICATED"]
    # when reactivated, he signs in again
    back = await api(REACTIVATE, {"user": gid(world.max)}, as_user=world.admin)
    assert _ok(back)["reactivateUser"]["user"] == {"isActive": True, "deactivatedAt": None}
    await _sign_in(api, world.max.email)
    actions = await AuditEntry.filter(target=f"user:{world.max.id}").values_list(
        "action", flat=True
    )
    assert {"user.deactivated", "user.reactivated"} <= set(actions)


async def test_only_administrators_deactivate_and_reactivate_and_not_themselves(
    api: Api, world: World
) -> None:
    for who in (world.anna, world.sam):
        refused = await api(DEACTIVATE, {"user": gid(world.max)}, as_user=who)
        assert refused.codes == ["FORBIDDEN"]
        assert (await api(REACTIVATE, {"user": gid(world.max)}, as_user=who)).codes == ["FORBIDDEN"]
    own = await api(DEACTIVATE, {"user": gid(world.admin)}, as_user=world.admin)
    assert own.codes == ["BAD_USER_INPUT"]
    assert await User.filter(is_active=False).count() == 0


# -- profile ----------------------------------------------------------------------------


async def test_a_person_edits_their_profile(api: Api, world: World) -> None:
    assert _ok(await api(ME, as_user=world.max))["me"] == {
        "name": world.max.name,
        "timeZone": "UTC",
        "locale": "en",
    }
    changed = await api(
        PROFILE,
        {"input": {"displayName": " Max Muster ", "timeZone": "Europe/Zurich", "locale": "de_ch"}},
        as_user=world.max,
    )
    assert _ok(changed)["updateMyProfile"]["user"] == {
        "name": "Max Muster",
        "timeZone": "Europe/Zurich",
        "locale": "de-CH",
    }
    # one field alone leaves the others
    _ok(await api(PROFILE, {"input": {"locale": "fr"}}, as_user=world.max))
    me = _ok(await api(ME, as_user=world.max))["me"]
    assert me == {"name": "Max Muster", "timeZone": "Europe/Zurich", "locale": "fr"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeZone", "Mars/Olympus"),
        ("timeZone", "+02:00"),
        ("timeZone", "../../etc/passwd"),
        ("locale", "not a locale"),
        ("locale", "x"),
        ("displayName", "   "),
        ("displayName", "Max\u202eevil"),
    ],
)
async def test_an_invalid_profile_value_names_its_field_and_changes_nothing(
    api: Api, world: World, field: str, value: str
) -> None:
    refused = await api(PROFILE, {"input": {"locale": "fr", field: value}}, as_user=world.max)
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["field"] == field
    assert _ok(await api(ME, as_user=world.max))["me"]["locale"] == "en"


# -- invitations ------------------------------------------------------------------------


async def test_an_invitation_is_mailed_resent_and_revoked(
    api: Api, world: World, mailer: JobRunner, smtp_server: SmtpServer
) -> None:
    # given Anna invites Nora: the mail goes to Nora, the token not to Anna
    invited = _ok(
        await api(
            INVITE, {"customer": gid(world.acme), "email": "nora@acme.example"}, as_user=world.anna
        )
    )
    payload = invited["inviteContact"]
    assert payload["invitationToken"] is None
    invitation_id = payload["invitation"]["id"]
    [first] = await _mails_to(mailer, smtp_server, 1)
    assert first["To"] == "nora@acme.example"
    assert "Anna" in str(first["Subject"])
    assert "Acme Logistics" in str(first["Subject"])
    # it is listed as pending for who may invite, and refused to others
    pending = await api(PENDING, {"customer": gid(world.acme)}, as_user=world.sam)
    assert _ok(pending)["pendingInvitations"] == [
        {"id": invitation_id, "email": "nora@acme.example"}
    ]
    assert (await api(PENDING, {"customer": gid(world.acme)}, as_user=world.max)).codes == [
        "FORBIDDEN"
    ]
    assert (await api(RESEND, {"id": invitation_id}, as_user=world.max)).codes == ["FORBIDDEN"]
    # when it is resent, the earlier link stops working and the new one works
    _ok(await api(RESEND, {"id": invitation_id}, as_user=world.anna))
    _, second = await _mails_to(mailer, smtp_server, 2)
    stale = await api(ACCEPT, {"token": _link_token(first, "invitation"), "password": NEW_PASSWORD})
    assert stale.codes == ["BAD_USER_INPUT"]
    # when it is revoked, the newer link stops working too, and it is no longer pending
    _ok(await api(REVOKE, {"id": invitation_id}, as_user=world.sam))
    revoked = await api(
        ACCEPT, {"token": _link_token(second, "invitation"), "password": NEW_PASSWORD}
    )
    assert revoked.codes == ["BAD_USER_INPUT"]
    assert _ok(await api(PENDING, {"customer": gid(world.acme)}, as_user=world.anna)) == {
        "pendingInvitations": []
    }
    assert (await api(RESEND, {"id": invitation_id}, as_user=world.anna)).codes == ["NOT_FOUND"]
    assert await AuditEntry.exists(action="contact.invitation_resent")
    assert await AuditEntry.exists(action="contact.invitation_revoked")


async def test_an_expired_invitation_cannot_be_accepted_nor_is_listed(
    api: Api, world: World, mailer: JobRunner, smtp_server: SmtpServer
) -> None:
    _ok(
        await api(
            INVITE, {"customer": gid(world.acme), "email": "late@acme.example"}, as_user=world.anna
        )
    )
    [mail] = await _mails_to(mailer, smtp_server, 1)
    await Invitation.all().update(expires_at=now() - timedelta(seconds=1))
    late = await api(ACCEPT, {"token": _link_token(mail, "invitation"), "password": NEW_PASSWORD})
    assert late.codes == ["BAD_USER_INPUT"]
    assert _ok(await api(PENDING, {"customer": gid(world.acme)}, as_user=world.anna)) == {
        "pendingInvitations": []
    }


# -- new sign-in ------------------------------------------------------------------------


async def test_a_sign_in_from_a_new_network_is_mailed(
    app: Starlette,
    api: Api,
    settings: Settings,
    world: World,
    mailer: JobRunner,
    smtp_server: SmtpServer,
) -> None:
    # given Max signed in from this network before (his first sign-in mails nothing)
    await _sign_in(api, world.max.email)
    await _sign_in(api, world.max.email)
    # when he signs in from another network, twice
    async with _client_at(app, settings, "198.51.100.23") as elsewhere:
        await _sign_in(elsewhere, world.max.email)
        await _sign_in(elsewhere, world.max.email)
    # then one mail tells him, naming the network (and, his account having no second
    # factor, a security alert goes to the administrator and his lead contact)
    mails = await _mails_to(mailer, smtp_server, 3)
    [mail] = [m for m in mails if m["To"] == world.max.email]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "198.51.100.23" in str(body.get_content())
    assert sorted(m["To"] for m in mails) == sorted(
        [world.max.email, world.admin.email, world.anna.email]
    )
    assert len(smtp_server.messages) == 3
