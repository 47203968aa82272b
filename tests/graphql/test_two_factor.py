"""Two-factor sign-in: enrolment with a QR-ready URI, confirmation, sign-in in two steps,
single-use codes and recovery codes, and the administrators' requirement."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette

from actions import mfa
from domain import totp
from domain.errors import Conflict
from models import AuditEntry, RecoveryCode, User
from tests.conftest import Api, gid
from tests.world import PASSWORD, World

LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken user { name } } }"""
COMPLETE = """mutation ($token: String!, $code: String!) {
  completeLogin(input: {mfaToken: $token, code: $code}) { accessToken user { name } } }"""
ENROLL = """mutation ($token: String, $password: String) {
  enrollTotp(input: {enrolmentToken: $token, password: $password}) { secret provisioningUri } }"""
CONFIRM = """mutation ($code: String!, $token: String) {
  confirmTotp(input: {code: $code, enrolmentToken: $token}) {
    recoveryCodes session { accessToken user { name } } } }"""
DISABLE = """mutation ($password: String!, $code: String!) {
  disableTotp(input: {password: $password, code: $code}) { disabled } }"""
RENEW = """mutation ($password: String!, $code: String!) {
  regenerateRecoveryCodes(input: {password: $password, code: $code}) { recoveryCodes } }"""
REQUIRE = """mutation ($required: Boolean!, $customer: ID) {
  setMfaRequirement(input: {required: $required, customerId: $customer}) {
    staffRequired customer { name mfaRequired } } }"""
ME = "{ me { name mfaEnabled } }"
USER = "query ($id: ID!) { node(id: $id) { ... on User { name mfaEnabled } } }"


def _code(secret: str, steps_ahead: int = 0) -> str:
    return totp.current_code(secret, time.time() + steps_ahead * totp.STEP)


async def _enrol(api: Api, user: User) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for the user; their secret and recovery codes."""
    enrolled = await api(ENROLL, {"password": PASSWORD}, as_user=user)
    assert enrolled.errors == [], enrolled.body
    secret = enrolled.data["enrollTotp"]["secret"]
    confirmed = await api(CONFIRM, {"code": _code(secret, -1)}, as_user=user)
    assert confirmed.errors == [], confirmed.body
    return secret, confirmed.data["confirmTotp"]["recoveryCodes"]


async def _password_step(api: Api, email: str) -> dict[str, Any]:
    result = await api(LOGIN, {"email": email, "password": PASSWORD})
    assert result.data == {"login": None}
    [error] = result.errors
    return dict(error["extensions"])


async def test_enrolment_gives_a_qr_ready_uri_and_turns_on_only_when_confirmed(
    api: Api, world: World
) -> None:
    # when anna asks for a secret
    enrolled = await api(ENROLL, {"password": PASSWORD}, as_user=world.anna)
    secret = enrolled.data["enrollTotp"]["secret"]
    uri = urlsplit(enrolled.data["enrollTotp"]["provisioningUri"])
    # then the URI is what authenticator apps scan
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert "anna%40acme.example" in uri.path
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["Extranet"]
    # and nothing changes until a code confirms it
    assert (await api(ME, as_user=world.anna)).data["me"]["mfaEnabled"] is False
    wrong = await api(CONFIRM, {"code": "000000"}, as_user=world.anna)
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert (await api(LOGIN, {"email": "anna@acme.example", "password": PASSWORD})).errors == []
    # when confirmed
    confirmed = await api(CONFIRM, {"code": _code(secret)}, as_user=world.anna)
    codes = confirmed.data["confirmTotp"]["recoveryCodes"]
    # then ten recovery codes are shown once, and only their hashes are kept
    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = await RecoveryCode.filter(user_id=world.anna.id).values_list("code_hash", flat=True)
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    assert (await api(ME, as_user=world.anna)).data["me"]["mfaEnabled"] is True
    assert await AuditEntry.filter(action="mfa.enabled", actor_id=world.anna.id).exists()


async def test_sign_in_takes_two_steps_once_it_is_on(api: Api, world: World) -> None:
    # given anna uses two-factor sign-in
    secret, _ = await _enrol(api, world.anna)
    # when she signs in with her password
    extensions = await _password_step(api, "anna@acme.example")
    # then she gets no session yet, but a token for the second step
    assert extensions["code"] == "MFA_REQUIRED"
    token = extensions["mfaToken"]
    # a wrong code is refused
    wrong = await api(COMPLETE, {"token": token, "code": "123456"})
    assert wrong.codes == ["UNAUTHENTICATED"]
    # the current code signs her in
    done = await api(COMPLETE, {"token": token, "code": _code(secret, 1)})
    assert done.errors == [], done.body
    session = done.data["completeLogin"]
    assert session["user"]["name"] == "Anna"
    assert (await api(ME, token=session["accessToken"])).data["me"]["name"] == "Anna"
    # and the same code does not work twice
    again = await api(COMPLETE, {"token": token, "code": _code(secret, 1)})
    assert again.codes == ["UNAUTHENTICATED"]
    login = await AuditEntry.filter(action="login", actor_id=world.anna.id).first()
    assert login is not None
    assert login.details == {"mfa": True}
    assert login.client_address == "203.0.113.7"


async def test_the_second_step_token_is_no_access_token(api: Api, world: World) -> None:
    await _enrol(api, world.anna)
    token = (await _password_step(api, "anna@acme.example"))["mfaToken"]
    assert (await api(ME, token=token)).codes == ["UNAUTHENTICATED"]
    forged = await api(COMPLETE, {"token": api.token_for(world.anna), "code": "123456"})
    assert forged.codes == ["UNAUTHENTICATED"]
    assert "expired" in forged.errors[0]["message"]


async def test_a_recovery_code_signs_in_once(api: Api, world: World) -> None:
    _, codes = await _enrol(api, world.anna)
    token = (await _password_step(api, "anna@acme.example"))["mfaToken"]
    # when anna uses a recovery code, typed in capitals without its dashes
    typed = codes[3].replace("-", "").upper()
    assert (await api(COMPLETE, {"token": token, "code": typed})).errors == []
    # then it is spent
    assert (await api(COMPLETE, {"token": token, "code": codes[3]})).codes == ["UNAUTHENTICATED"]
    assert await RecoveryCode.filter(user_id=world.anna.id, used_at=None).count() == 9
    entry = await AuditEntry.get(action="mfa.recovery_code_used")
    assert entry.details == {"left": 9}


async def test_a_code_sent_twice_at_once_signs_in_once(api: Api, world: World) -> None:
    secret, codes = await _enrol(api, world.anna)
    token = (await _password_step(api, "anna@acme.example"))["mfaToken"]
    for code in (_code(secret, 1), codes[0]):
        results = await asyncio.gather(
            *(api(COMPLETE, {"token": token, "code": code}) for _ in range(4))
        )
        assert sorted(r.codes == [] for r in results) == [False, False, False, True]


async def test_wrong_codes_count_against_the_sign_in_limit(api: Api, world: World) -> None:
    await _enrol(api, world.anna)
    token = (await _password_step(api, "anna@acme.example"))["mfaToken"]
    for _ in range(5):
        assert (await api(COMPLETE, {"token": token, "code": "000000"})).codes == [
            "UNAUTHENTICATED"
        ]
    locked = await api(COMPLETE, {"token": token, "code": "000000"})
    assert locked.codes == ["RATE_LIMITED"]
    assert await AuditEntry.filter(action="login.failed", actor_id=world.anna.id).count() == 5


async def test_renewed_recovery_codes_replace_the_old_ones(api: Api, world: World) -> None:
    secret, old = await _enrol(api, world.anna)
    renewed = await api(RENEW, {"password": PASSWORD, "code": _code(secret, 1)}, as_user=world.anna)
    new = renewed.data["regenerateRecoveryCodes"]["recoveryCodes"]
    assert not set(new) & set(old)
    token = (await _password_step(api, "anna@acme.example"))["mfaToken"]
    assert (await api(COMPLETE, {"token": token, "code": old[0]})).codes == ["UNAUTHENTICATED"]
    assert (await api(COMPLETE, {"token": token, "code": new[0]})).errors == []


async def test_turning_it_off_needs_the_password_and_a_code(api: Api, world: World) -> None:
    secret, _ = await _enrol(api, world.anna)
    no_password = await api(
        DISABLE, {"password": "wrong", "code": _code(secret, 1)}, as_user=world.anna
    )
    assert no_password.codes == ["UNAUTHENTICATED"]
    no_code = await api(DISABLE, {"password": PASSWORD, "code": "000000"}, as_user=world.anna)
    assert no_code.codes == ["BAD_USER_INPUT"]
    assert (await api(ME, as_user=world.anna)).data["me"]["mfaEnabled"] is True
    off = await api(DISABLE, {"password": PASSWORD, "code": _code(secret, 1)}, as_user=world.anna)
    assert off.data == {"disableTotp": {"disabled": True}}
    assert (await api(LOGIN, {"email": "anna@acme.example", "password": PASSWORD})).errors == []
    assert await RecoveryCode.filter(user_id=world.anna.id).count() == 0
    assert await AuditEntry.filter(action="mfa.disabled").exists()


async def test_an_administrator_requires_it_of_a_customers_contacts(api: Api, world: World) -> None:
    # when the admin requires it of Acme's contacts
    required = await api(
        REQUIRE, {"required": True, "customer": gid(world.acme)}, as_user=world.admin
    )
    assert required.data["setMfaRequirement"]["customer"] == {
        "name": "Acme Logistics",
        "mfaRequired": True,
    }
    assert await AuditEntry.filter(
        action="mfa.requirement_changed", target=f"customer:{world.acme.id}"
    ).exists()
    # then max's password alone no longer signs him in: he must enrol first
    extensions = await _password_step(api, "max@acme.example")
    assert extensions["code"] == "MFA_ENROLMENT_REQUIRED"
    token = extensions["enrolmentToken"]
    # the enrolment token is good for nothing else
    assert (await api(ME, token=token)).codes == ["UNAUTHENTICATED"]
    assert (await api(COMPLETE, {"token": token, "code": "123456"})).codes == ["UNAUTHENTICATED"]
    # with it he enrols, and confirming signs him in
    secret = (await api(ENROLL, {"token": token})).data["enrollTotp"]["secret"]
    confirmed = await api(CONFIRM, {"code": _code(secret), "token": token})
    session = confirmed.data["confirmTotp"]["session"]
    assert session["user"]["name"] == "Max"
    # he may not turn it off while it is required
    off = await api(
        DISABLE, {"password": PASSWORD, "code": _code(secret, 1)}, token=session["accessToken"]
    )
    assert off.codes == ["FORBIDDEN"]
    # Globex's contacts are not concerned
    assert (await api(LOGIN, {"email": "gina@globex.example", "password": PASSWORD})).errors == []


async def test_an_administrator_requires_it_of_all_staff(api: Api, world: World) -> None:
    required = await api(REQUIRE, {"required": True}, as_user=world.admin)
    assert required.data["setMfaRequirement"] == {"staffRequired": True, "customer": None}
    assert (await _password_step(api, "sam@provider.example"))["code"] == "MFA_ENROLMENT_REQUIRED"
    assert (await api(LOGIN, {"email": "anna@acme.example", "password": PASSWORD})).errors == []
    # and lifting it lets the password alone sign in again
    await api(REQUIRE, {"required": False}, as_user=world.admin)
    assert (await api(LOGIN, {"email": "sam@provider.example", "password": PASSWORD})).errors == []


@pytest.mark.parametrize("viewer", ["sam", "anna", "gina"])
async def test_only_administrators_set_the_requirement(api: Api, world: World, viewer: str) -> None:
    refused = await api(REQUIRE, {"required": True}, as_user=getattr(world, viewer))
    assert refused.codes == ["FORBIDDEN"]
    assert refused.data == {"setMfaRequirement": None}
    assert not await AuditEntry.filter(action="mfa.requirement_changed").exists()


@pytest.mark.parametrize(
    ("viewer", "sees"), [("anna", True), ("sam", True), ("max", False), ("gina", None)]
)
async def test_who_sees_whether_someone_uses_it(
    api: Api, world: World, viewer: str, sees: bool | None
) -> None:
    await _enrol(api, world.mia)
    result = await api(USER, {"id": gid(world.mia)}, as_user=getattr(world, viewer))
    if sees is None:  # another customer's contact: no such user
        assert result.data == {"node": None}
        return
    node = result.data["node"]
    assert node["mfaEnabled"] is (True if sees else None)
    assert result.codes == ([] if sees else ["FORBIDDEN"])


async def test_an_enrolment_cannot_replace_a_factor_that_is_on(api: Api, world: World) -> None:
    # given the admin requires it of Acme, and max holds an enrolment token
    await api(REQUIRE, {"required": True, "customer": gid(world.acme)}, as_user=world.admin)
    token = (await _password_step(api, "max@acme.example"))["enrolmentToken"]
    secret = (await api(ENROLL, {"token": token})).data["enrollTotp"]["secret"]
    # and someone else with his password got a token too, and read his row before he confirmed
    stale = await User.get(id=world.max.id)
    assert (await api(CONFIRM, {"code": _code(secret), "token": token})).errors == []
    # when that one enrols and confirms a secret of their own
    assert await User.filter(id=world.max.id, totp_secret=secret).exists()
    with pytest.raises(Conflict):
        await mfa.enroll(api.settings, stale)
    again = await api(ENROLL, {"token": token})
    taken = await api(CONFIRM, {"code": _code(secret, 1), "token": token})
    # then max's factor stays his, and the spent token opens nothing
    assert again.codes == ["UNAUTHENTICATED"]
    assert taken.codes == ["UNAUTHENTICATED"]
    assert await User.filter(id=world.max.id, totp_secret=secret).exists()


async def test_turning_it_off_while_required_spends_no_code(api: Api, world: World) -> None:
    _, codes = await _enrol(api, world.anna)
    await api(REQUIRE, {"required": True, "customer": gid(world.acme)}, as_user=world.admin)
    refused = await api(DISABLE, {"password": PASSWORD, "code": codes[0]}, as_user=world.anna)
    assert refused.codes == ["FORBIDDEN"]
    assert await RecoveryCode.filter(user_id=world.anna.id, used_at=None).count() == 10


@pytest.mark.parametrize("operation", ["disable", "renew"])
async def test_a_stolen_session_cannot_guess_codes_or_the_password(
    api: Api, world: World, operation: str
) -> None:
    secret, _ = await _enrol(api, world.anna)
    document, variables = (
        (DISABLE, {"password": PASSWORD, "code": "000000"})
        if operation == "disable"
        else (RENEW, {"password": PASSWORD, "code": "000000"})
    )
    for _ in range(5):
        wrong = await api(document, variables, as_user=world.anna)
        assert wrong.codes == ["BAD_USER_INPUT"]
    # then even the right code waits
    right = await api(document, {**variables, "code": _code(secret, 1)}, as_user=world.anna)
    assert right.codes == ["RATE_LIMITED"]
    assert await AuditEntry.filter(action="mfa.check_failed", actor_id=world.anna.id).count() == 5


async def test_no_password_or_code_is_checked_while_the_limits_cannot_be(
    api: Api, world: World, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, _ = await _enrol(api, world.anna)
    token = (await _password_step(api, "anna@acme.example"))["mfaToken"]

    async def unavailable(key: str) -> int:
        raise ConnectionError("the store is down")

    monkeypatch.setattr(app.state.graphql.throttle.store, "locked_for", unavailable)
    # neither a password nor a six-digit code is checked unprotected
    assert (await _password_step(api, "anna@acme.example"))["code"] == "SERVICE_UNAVAILABLE"
    refused = await api(COMPLETE, {"token": token, "code": _code(secret, 1)})
    assert refused.status == 503
    assert refused.codes == ["SERVICE_UNAVAILABLE"]
    assert refused.errors[0]["extensions"]["retryAfter"] == 5
    assert "store" not in refused.errors[0]["message"]


async def test_a_stolen_session_cannot_turn_on_its_own_second_factor(
    api: Api, world: World
) -> None:
    # given only anna's access token, without her password
    for password in ({}, {"password": "not her password"}):
        # when the holder asks for a secret
        enrolled = await api(ENROLL, password, as_user=world.anna)
        # then nothing is handed out and nothing changes
        assert enrolled.data == {"enrollTotp": None}
        assert enrolled.codes == ["UNAUTHENTICATED"]
    assert (await User.get(id=world.anna.id)).totp_pending_secret is None
    assert (await api(CONFIRM, {"code": "123456"}, as_user=world.anna)).codes == ["BAD_USER_INPUT"]
    assert (await api(ME, as_user=world.anna)).data["me"]["mfaEnabled"] is False
    assert await AuditEntry.filter(action="mfa.check_failed", actor_id=world.anna.id).count() == 2
    # while anna, with her password, may
    secret, codes = await _enrol(api, world.anna)
    assert secret
    assert len(codes) == 10


async def test_guessing_the_password_through_enrolment_counts_against_the_limits(
    api: Api, world: World
) -> None:
    for _ in range(5):
        wrong = await api(ENROLL, {"password": "guess"}, as_user=world.anna)
        assert wrong.codes == ["UNAUTHENTICATED"]
    right = await api(ENROLL, {"password": PASSWORD}, as_user=world.anna)
    assert right.codes == ["RATE_LIMITED"]


async def test_new_recovery_codes_need_the_password(api: Api, world: World) -> None:
    secret, old = await _enrol(api, world.anna)
    refused = await api(RENEW, {"password": "wrong", "code": _code(secret, 1)}, as_user=world.anna)
    assert refused.codes == ["UNAUTHENTICATED"]
    assert refused.data == {"regenerateRecoveryCodes": None}
    assert await RecoveryCode.filter(user_id=world.anna.id, used_at=None).count() == len(old)
