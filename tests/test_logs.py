"""Log lines are JSON carrying the request ID, the operation, the pseudonymous user and a
trace ID; a realistic run (sign-ins with the password, calls with tokens, posts, mail)
writes no password, token, message body or e-mail address into them."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from app.runner import JobRunner
from domain.scopes import PERSONAL_PREFIX, SERVICE_PREFIX
from infra.logging import JsonFormatter, quieten, request_id_of, scrub
from models import User
from tests.conftest import gid
from tests.mail import SmtpServer, smtp_server_fixture  # noqa: F401 (the smtp_server fixture)
from tests.world import PASSWORD, World

DEMO_PASSWORD = "demo-extranet-2026"
BODY = "The confidential body of a post 5c1e"
LOGIN = """mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
CREATE_TOKEN = """mutation CreateToken($expires: DateTime!) {
  createAccessToken(input: {name: "sync", scopes: ["projects:write"], expiresAt: $expires}) {
  token } }"""
POST = """mutation Post($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } } }"""
MISSING = "query Missing($id: ID!) { node(id: $id) { id } }"
RESET = """mutation Reset($email: String!) {
  requestPasswordReset(input: {email: $email}) { accepted } }"""


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every log line of the test at production's level, as JSON lines."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    quiet = quieten()
    try:
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name, before in quiet.items():
            logging.getLogger(name).setLevel(before)


async def call(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, object],
    token: str = "",
    request_id: str = "",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if request_id:
        headers["X-Request-ID"] = request_id
    return await client.post("/graphql", json={"query": query, "variables": variables},
                             headers=headers)  # fmt: skip


async def test_a_realistic_run_logs_json_lines_without_secrets(
    app: Starlette,
    client: httpx.AsyncClient,
    world: World,
    captured: io.StringIO,
    smtp_server: SmtpServer,
) -> None:
    # given
    email = world.max.email
    # when max signs in with a wrong password, then with the right one
    wrong = await call(client, LOGIN, {"email": email, "password": PASSWORD + "!"})
    assert wrong.json()["errors"]
    signed_in = await call(client, LOGIN, {"email": email, "password": PASSWORD})
    jwt = signed_in.json()["data"]["login"]["accessToken"]
    # and makes an access token, posts with it, asks for another tenant's project
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    made = await call(client, CREATE_TOKEN, {"expires": expires}, jwt)
    token = made.json()["data"]["createAccessToken"]["token"]
    posted = await call(client, POST, {"project": gid(world.portal), "body": BODY}, token)
    assert "errors" not in posted.json(), posted.json()
    missing = await call(client, MISSING, {"id": gid(world.loyalty)}, token, "probe-17.a")
    # and asks for a password reset, whose mail goes out
    await call(client, RESET, {"email": email}, request_id="reset-1")
    await JobRunner(replace(app.state.settings, smtp_url=smtp_server.url), bus=None).run_due()
    await smtp_server.wait_for_messages(1)
    # and a careless line with a token and a password is written anyway
    logging.getLogger("extranet").warning(
        "careless: Bearer %s token=%s %s", jwt, token, f"?password={DEMO_PASSWORD}"
    )

    # then the request ID given is echoed, and one is made when none is given
    assert missing.headers["x-request-id"] == "probe-17.a"
    assert re.fullmatch(r"[0-9a-f]{32}", posted.headers["x-request-id"])
    # and every line is JSON with the request's fields
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id", "operation", "user",
                "trace_id"} <= line.keys()  # fmt: skip
    user = await User.get(id=world.max.id)
    [probe] = [line for line in lines if line["request_id"] == "probe-17.a"]
    assert probe["operation"] == "Missing"
    assert probe["user"] == user.pseudonym
    assert re.fullmatch(r"[0-9a-f]{32}", probe["trace_id"])
    assert "NOT_FOUND" in probe["message"]
    # and nothing secret or personal is in them
    text = captured.getvalue()
    for secret in (PASSWORD, DEMO_PASSWORD, jwt, token, token[len(PERSONAL_PREFIX) :], BODY,
                   email, "eyJ"):  # fmt: skip
        assert secret not in text
    for prefix in (PERSONAL_PREFIX, SERVICE_PREFIX):
        assert re.findall(rf"{prefix}[A-Za-z0-9]", text) == []


def test_scrubbing_and_request_ids() -> None:
    # a sane request ID is kept, anything else replaced by a new one
    assert request_id_of("abc-123_x.y:z") == "abc-123_x.y:z"
    for bad in ("", "with space", "x" * 129, "new\nline", None):
        assert re.fullmatch(r"[0-9a-f]{32}", request_id_of(bad))
    # tokens, JWTs and secrets in a query string are scrubbed
    assert scrub("GET /a?token=abc&x=1") == "GET /a?token=[redacted]&x=1"
    assert scrub("xnt_sat_AbC123 and eyJa.eyJb.c") == "xnt_sat_[redacted] and [jwt redacted]"
