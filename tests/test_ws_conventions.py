"""The websocket as the graphql-transport-ws ecosystem's clients expect it.

* A socket whose access token expires is closed with 4403, which graphql-ws clients retry
  (4401 they take as final, and never call ``connectionParams`` again); a refusal at
  ``connection_init`` is 4403 too, and the close reason's first word tells an invalid token,
  an expired one, an ended session and too many sockets apart (too many:
  tests/graphql/test_websocket_limits.py).
* graphql-ws's own client (the npm packages graphql-ws and ws, run by Node.js from
  tests/graphql_ws_client/) signs in, follows a timeline on a server whose access tokens last
  seconds, gets a fresh token through ``connectionParams`` after each expiry, and receives
  every event exactly once across the reconnections.
* The terminal client's ``follow`` renews its token after such a close (but for too many
  sockets, which waiting solves) and misses no event.
* "Subscription limit reached" carries ``extensions.code`` and the limit
  (tests/graphql/test_websocket_limits.py).

Without Node.js or npm the graphql-ws test is skipped; under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import pytest
import websockets
from extranet_client.api import Api
from extranet_client.config import Tokens, TokenStore
from extranet_client.follow import Follower
from gql.transport.exceptions import TransportClosed
from starlette.applications import Starlette

from actions import microposts
from app.main import CLOSE_REASONS
from domain.tokens import access_token_expired, issue_access_token
from realtime.bus import EventBus
from tests.conftest import TEST_SESSION, gid
from tests.conftest import Api as HttpApi
from tests.live import GraphQLSocket, serve
from tests.services import in_ci
from tests.world import PASSWORD, World

CLIENT = Path(__file__).resolve().parent / "graphql_ws_client"
SHORT_TTL = 4  # seconds an access token lasts in the graphql-ws test
WITHIN = 90.0  # seconds the graphql-ws client has to reach each step


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def _closed(address: str, token: str | None) -> websockets.frames.Close:
    """How the server closes a socket that sends ``token`` in connection_init."""
    async with GraphQLSocket.open(address, token) as sock:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive(within=30)
    assert closed.value.rcvd is not None
    return closed.value.rcvd


# --- close codes and reasons --------------------------------------------------------------


@pytest.mark.slow  # waits for an access token to expire in real time
async def test_an_expired_access_token_closes_the_socket_with_4403_and_says_so(
    api: HttpApi, world: World, address: str
) -> None:
    # given a socket signed in with a token that expires in a second or two
    short = issue_access_token(replace(api.settings, access_token_ttl=2), world.max.id, "s")
    async with GraphQLSocket.open(address, short) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        # when it expires
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive(within=30)
    # then the socket is closed with a code graphql-ws retries, and the reason says why
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert closed.value.rcvd.reason.startswith("TOKEN_EXPIRED:")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "TOKEN_INVALID"),
        ("not-a-token", "TOKEN_INVALID"),
        ("signed-elsewhere", "TOKEN_INVALID"),
        ("expired", "TOKEN_EXPIRED"),
        ("deactivated", "SESSION_ENDED"),
    ],
)
async def test_a_refused_connection_init_tells_why_in_the_close_reason(
    api: HttpApi, world: World, address: str, token: str | None, reason: str
) -> None:
    # given
    settings = api.settings
    if token == "signed-elsewhere":
        other = replace(settings, secret_key="another-secret-key-long-enough-for-hs256!")
        token = issue_access_token(other, world.max.id, TEST_SESSION)
    elif token == "expired":
        token = issue_access_token(settings, world.max.id, TEST_SESSION, now=time.time() - 3600)
    elif token == "deactivated":
        world.max.is_active = False
        await world.max.save(update_fields=["is_active"])
        token = api.token_for(world.max)
    # when
    close = await _closed(address, token)
    # then
    assert close.code == 4403
    assert close.reason.split(":")[0] == reason
    assert reason in CLOSE_REASONS
    assert len(close.reason.encode()) <= 123  # what a close frame can carry


def test_an_expired_token_is_told_from_an_invalid_one(api: HttpApi, world: World) -> None:
    settings = api.settings
    old = issue_access_token(settings, world.max.id, TEST_SESSION, now=time.time() - 3600)
    fresh = issue_access_token(settings, world.max.id, TEST_SESSION)
    other = replace(settings, secret_key="another-secret-key-long-enough-for-hs256!")
    forged = issue_access_token(other, world.max.id, TEST_SESSION, now=time.time() - 3600)
    assert access_token_expired(settings, old)
    assert not access_token_expired(settings, fresh)
    assert not access_token_expired(settings, forged)  # not ours: invalid, not expired
    assert not access_token_expired(settings, "not-a-token")


# --- graphql-ws's own client ------------------------------------------------------------------


def _missing(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def graphql_ws_client() -> Path:
    """tests/graphql_ws_client/reconnect.mjs, its packages installed (``npm ci``) when they
    are missing or older than the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("Node.js and npm are needed to run graphql-ws's client")
    installed = CLIENT / "node_modules" / ".package-lock.json"
    lock = CLIENT / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return CLIENT / "reconnect.mjs"


class Lines:
    """The JSON lines a process prints, read as the test waits for them."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[dict[str, Any]] = []

    async def until(
        self, wanted: Callable[[dict[str, Any]], bool], start: int = 0
    ) -> tuple[int, dict[str, Any]]:
        """The first line from ``start`` on that is ``wanted`` (its index and itself)."""
        assert self.process.stdout is not None
        index = start
        async with asyncio.timeout(WITHIN):
            while True:
                while index < len(self.seen):
                    if wanted(self.seen[index]):
                        return index, self.seen[index]
                    index += 1
                raw = await self.process.stdout.readline()
                if not raw:
                    stderr = await self.process.stderr.read() if self.process.stderr else b""
                    raise AssertionError(f"the client ended: {self.seen}\n{stderr.decode()}")
                message = json.loads(raw)
                assert "error" not in message, [*self.seen, message]
                self.seen.append(message)


async def test_graphql_ws_renews_an_expired_token_and_resumes_without_loss(
    app: Starlette, world: World, bus: EventBus, graphql_ws_client: Path
) -> None:
    view = app.state.graphql
    settings = view.settings
    view.settings = replace(settings, access_token_ttl=SHORT_TTL)  # what login hands out

    async def post(body: str) -> None:
        await microposts.post_micropost(world.max, bus, project_id=world.portal.id, body=body)

    try:
        async with serve(app) as address:
            env = {
                **os.environ,
                "EXTRANET_URL": f"http://{address}",
                "EXTRANET_EMAIL": world.anna.email,
                "EXTRANET_PASSWORD": PASSWORD,
                "EXTRANET_PROJECT": gid(world.portal),
                "EXTRANET_EVENTS": "3",
            }
            process = await asyncio.create_subprocess_exec(
                "node",
                str(graphql_ws_client),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            lines = Lines(process)
            try:
                # given: Anna's app follows the project with graphql-ws's client
                await lines.until(lambda m: "connected" in m)
                await post("before the expiry")
                await lines.until(lambda m: m.get("body") == "before the expiry")
                # when: her access token expires and the server closes the socket
                closed_at, closed = await lines.until(lambda m: "closed" in m)
                await post("while away")  # graphql-ws waits a second or more to retry
                # then: graphql-ws connects again, with a token connectionParams renewed
                again, _ = await lines.until(lambda m: "connected" in m, closed_at)
                await post("after the reconnection")
                await lines.until(lambda m: "done" in m, again)
                assert await asyncio.wait_for(process.wait(), WITHIN) == 0
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    finally:
        view.settings = settings
    # the socket was closed as an expired token is (never a code graphql-ws gives up on)
    assert closed == {"closed": 4403, "reason": closed["reason"]}
    assert closed["reason"].startswith("TOKEN_EXPIRED:")
    closes = [m for m in lines.seen if "closed" in m]
    assert all(m["closed"] == 4403 for m in closes), closes
    # connectionParams was asked again, and handed a renewed token
    params = [m for m in lines.seen if "params" in m]
    assert len(params) >= 2
    assert params[0]["refreshed"] is False
    assert any(m["refreshed"] for m in params[1:])
    assert len({m["token"] for m in params}) >= 2
    # and every post arrived once, in order, across the reconnections
    bodies = [m["body"] for m in lines.seen if "event" in m]
    assert bodies == ["before the expiry", "while away", "after the reconnection"]


# --- the terminal client ----------------------------------------------------------------------


class Terminal(io.StringIO):
    """Where a follower prints (``out``) and what it says (``say``), awaited by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[str] = []
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.changed.set()
        return super().write(text)

    def say(self, text: str) -> None:
        self.said.append(text)
        self.changed.set()

    def count(self, start: str) -> int:
        return sum(line.startswith(start) for line in self.said)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WITHIN):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.mark.slow  # waits for access tokens to expire in real time
async def test_follow_carries_on_across_expired_tokens_and_misses_nothing(
    app: Starlette, world: World, bus: EventBus, tmp_path: Path
) -> None:
    view = app.state.graphql
    settings = view.settings
    view.settings = replace(settings, access_token_ttl=SHORT_TTL)
    terminal = Terminal()

    async def post(body: str) -> None:
        await microposts.post_micropost(world.max, bus, project_id=world.portal.id, body=body)

    try:
        async with (
            serve(app) as address,
            Api(f"http://{address}", TokenStore(tmp_path / "client.json")) as api,
        ):
            login = await api.anonymous("Login", email=world.anna.email, password=PASSWORD)
            api.store.save(api.server, Tokens.from_session(world.anna.email, login["login"]))
            found = await api.call("ProjectCursor", id=gid(world.portal))
            cursor = found["project"]["timelineCursor"]
            follower = Follower(api, gid(world.portal), cursor, terminal, terminal.say)
            following = asyncio.create_task(follower.run())
            try:
                # given anna follows the project in her terminal
                await terminal.until(lambda: terminal.count("Connected") >= 1)
                await post("before the expiry")
                await terminal.until(lambda: "before the expiry" in terminal.getvalue())
                # when her access token expires and the socket is closed
                await terminal.until(lambda: terminal.count("Connection lost") >= 1)
                await post("while away")
                # then she is connected again and sees what came meanwhile
                await terminal.until(lambda: terminal.count("Connected") >= 2)
                await terminal.until(lambda: "while away" in terminal.getvalue())
            finally:
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
    finally:
        view.settings = settings
    printed = terminal.getvalue()
    assert printed.count("before the expiry") == 1
    assert printed.count("while away") == 1
    assert terminal.count("Not signed in") == 0


@pytest.mark.parametrize(
    ("reason", "renewed"),
    [
        ("TOKEN_EXPIRED: the access token expired; connect again with a fresh one.", True),
        ("SESSION_ENDED: the session has ended or the account was removed; sign in again.", True),
        ("TOO_MANY_CONNECTIONS: at most 20 open at once.", False),
    ],
)
async def test_follow_renews_its_token_after_a_4403_close_but_for_too_many_sockets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reason: str, renewed: bool
) -> None:
    # given a follower whose socket the server closes with 4403 and this reason, once
    tokens = Tokens("anna@acme.example", "access", time.time() + 900, "refresh")
    api = Api("http://127.0.0.1:9", TokenStore(tmp_path / "c"))
    refreshes: list[Tokens] = []

    async def current() -> Tokens:
        return tokens

    async def refresh(stale: Tokens) -> Tokens:
        refreshes.append(stale)
        return tokens

    connections = 0

    async def stream(self: Follower, access_token: str) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            closed = websockets.exceptions.ConnectionClosedError(
                websockets.frames.Close(4403, reason), None
            )
            raise TransportClosed("closed") from closed
        raise asyncio.CancelledError  # the user stops following

    monkeypatch.setattr(api, "tokens", current)
    monkeypatch.setattr(api, "refresh", refresh)
    monkeypatch.setattr(Follower, "_stream", stream)
    monkeypatch.setattr("extranet_client.follow.FIRST_DELAY", 0.01)
    # when it connects again
    with pytest.raises(asyncio.CancelledError):
        await Follower(api, "project", "cursor", io.StringIO(), lambda _: None).run()
    # then it renewed its token first, unless there were too many sockets
    assert connections == 2
    assert refreshes == ([tokens] if renewed else [])
