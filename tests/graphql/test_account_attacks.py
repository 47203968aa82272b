"""Attacks on the account lifecycle: what a credential must no longer do once its
account is deactivated or its password reset, and uploads outside a token's scopes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from actions._common import now
from domain.tokens import hash_opaque_token, new_opaque_token
from models import PasswordResetToken
from tests.conftest import Api, gid
from tests.graphql.test_access_tokens import PROJECTS, token_of
from tests.graphql.test_account_lifecycle import DEACTIVATE, LOGIN, REACTIVATE, RESET
from tests.world import World


async def test_reactivation_does_not_bring_back_an_access_token_of_before(
    api: Api, world: World
) -> None:
    # given max's script token works
    token = await token_of(api, world.max, ["projects:read"])
    assert (await api(PROJECTS, token=token)).errors == []
    # when he is deactivated and later reactivated
    assert (await api(DEACTIVATE, {"user": gid(world.max)}, as_user=world.admin)).errors == []
    assert (await api(REACTIVATE, {"user": gid(world.max)}, as_user=world.admin)).errors == []
    # then the token of before stays dead, like his sessions
    refused = await api(PROJECTS, token=token)
    assert refused.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_password_reset_ends_access_tokens_made_with_the_old_password(
    api: Api, world: World
) -> None:
    # given someone who knew max's password made a token
    token = await token_of(api, world.max, ["projects:read"])
    # when max resets his password by mail
    mailed = new_opaque_token()
    await PasswordResetToken.create(
        user_id=world.max.id,
        token_hash=hash_opaque_token(mailed),
        expires_at=now() + timedelta(minutes=30),
    )
    reset = await api(RESET, {"token": mailed, "password": "a brand new passphrase 42"})
    assert reset.errors == [], reset.errors
    # then that token no longer works
    refused = await api(PROJECTS, token=token)
    assert refused.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_request_file_upload_needs_the_requests_write_scope(
    api: Api, client: httpx.AsyncClient, world: World
) -> None:
    reader = await token_of(api, world.anna, ["projects:read", "requests:read"])
    refused = await client.post(
        "/requests/attachments",
        params={"name": "plan.pdf"},
        content=b"%PDF-1.4",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["missingScope"] == "requests:write"


async def test_two_resets_with_one_link_at_once_set_one_password(api: Api, world: World) -> None:
    mailed = new_opaque_token()
    await PasswordResetToken.create(
        user_id=world.max.id,
        token_hash=hash_opaque_token(mailed),
        expires_at=now() + timedelta(minutes=30),
    )
    passwords = ["first brand new passphrase 1", "second brand new passphrase 2"]
    results = await asyncio.gather(
        *(api(RESET, {"token": mailed, "password": p}) for p in passwords)
    )
    codes = sorted(r.errors[0]["extensions"]["code"] if r.errors else "OK" for r in results)
    assert codes == ["BAD_USER_INPUT", "OK"]
    winner = passwords[[bool(r.errors) for r in results].index(False)]
    signed_in = await api(LOGIN, {"email": world.max.email, "password": winner})
    assert signed_in.errors == [], signed_in.errors
