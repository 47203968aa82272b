"""The terminal client (clients/python), run as a user would run it, against `extranet serve`
in its own process with the demo data."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import load_demo, serve_process, until
from tests.services import free_port, fresh_database

BIN = Path(sys.executable).parent
CLIENT = str(BIN / "extranet-client")
PASSWORD = "demo-extranet-2026"
PORTAL = "Warehouse portal relaunch"
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
POST = """mutation ($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } } }"""
LOGOUT = "mutation ($refresh: String!) { logout(input: {refreshToken: $refresh}) { ended } }"
PROJECTS = "{ projects(first: 10) { edges { node { id name } } } }"
CREATE_PAGE = """mutation ($project: ID!, $title: String!, $body: String!) {
  createPage(input: {projectId: $project, title: $title, body: $body}) { page { id } } }"""
UPDATE_PAGE = """mutation ($page: ID!, $body: String!) {
  updatePage(input: {pageId: $page, baseRevision: 1, body: $body}) { page { revision } } }"""
PAGE = "query ($id: ID!) { page(id: $id) { body revision } }"
TIMELINE = """query ($id: ID!) { project(id: $id) {
  timeline(first: 5) { edges { node { body author { name } } } } } }"""

# An $EDITOR that shows the test what it opened, waits for the go-ahead, and then leaves the
# text the test put in `result`: like a person who takes a while over an edit. It gives up
# after a minute, so a test that failed before the go-ahead leaves no editor behind.
FAKE_EDITOR = """
import pathlib, sys, time
here = pathlib.Path(__file__).parent
page = pathlib.Path(sys.argv[1])
(here / "opened").write_text(page.read_text())
deadline = time.monotonic() + 60
while not (here / "go").exists():
    if time.monotonic() > deadline:
        sys.exit("no go-ahead within a minute")
    time.sleep(0.05)
page.write_text((here / "result").read_text())
"""


def _interruptible() -> None:
    """Ctrl-C (SIGINT) stops the client as in a terminal, even when the tests run with
    SIGINT ignored (``nohup``, ``make test &`` from a script), which children inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server:
    """Somebody using the API directly, over HTTP, next to the terminal client."""

    def __init__(self, address: str) -> None:
        self.url = f"http://{address}"

    async def __call__(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"} if token else {},
            )
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"])

    async def login(self, email: str) -> str:
        data = await self("", LOGIN, email=email, password=PASSWORD)
        return str(data["login"]["accessToken"])

    async def portal(self, token: str) -> str:
        edges = (await self(token, PROJECTS))["projects"]["edges"]
        return str(next(e["node"]["id"] for e in edges if e["node"]["name"] == PORTAL))


class Running:
    """The client running in the background; its output read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.out: list[str] = []

    async def line(self, stream: asyncio.StreamReader, containing: str, within: float = 30) -> str:
        async with asyncio.timeout(within):
            while True:
                raw = await stream.readline()
                assert raw, f"the client ended before printing {containing!r}"
                text = raw.decode().rstrip("\n")
                if stream is self.process.stdout:
                    self.out.append(text)
                if containing in text:
                    return text

    async def printed(self, containing: str, within: float = 30) -> str:
        assert self.process.stdout is not None
        return await self.line(self.process.stdout, containing, within)

    async def said(self, containing: str, within: float = 30) -> str:
        assert self.process.stderr is not None
        return await self.line(self.process.stderr, containing, within)

    async def stop(self) -> list[str]:
        """Interrupt it (Ctrl-C) and return everything it printed on standard output.

        Raises TimeoutError when it has not stopped 10 s later (it is killed then)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
        try:
            stdout, _ = await asyncio.wait_for(self.process.communicate(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        return self.out + stdout.decode().splitlines()


class Client:
    """``extranet-client`` for one user, with their own config directory."""

    def __init__(self, env: dict[str, str], server: str, home: Path) -> None:
        self.env = {**env, "XDG_CONFIG_HOME": str(home), "EXTRANET_SERVER": server}
        self.config = home / "extranet" / "client.json"

    async def run(
        self, *args: str, stdin: str = "", editor: str | None = None
    ) -> tuple[int, str, str]:
        env = {**self.env, **({"EDITOR": editor} if editor else {})}
        env.pop("VISUAL", None)
        done = await asyncio.to_thread(
            subprocess.run,
            [CLIENT, *args],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.returncode, done.stdout, done.stderr

    async def start(self, *args: str, server: str | None = None) -> Running:
        env = {**self.env, **({"EXTRANET_SERVER": server} if server else {})}
        process = await asyncio.create_subprocess_exec(
            CLIENT,
            *args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_interruptible,
        )
        return Running(process)

    async def login(self, email: str) -> None:
        code, _, err = await self.run("login", stdin=f"{email}\n{PASSWORD}\n")
        assert code == 0, err

    def saved(self) -> dict[str, Any]:
        servers = json.loads(self.config.read_text())["servers"]
        [session] = servers.values()
        return dict(session)


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, str]]:
    """A fresh database with the demo data, and the environment of its server processes."""
    directory = tmp_path_factory.mktemp("terminal-client")
    async with fresh_database(directory) as url:
        environment = {
            **os.environ,
            "DATABASE_URL": url,
            "BROADCAST_NAMESPACE": f"test-{secrets.token_hex(4)}",
            "EXTRANET_SECRET_KEY": "terminal-client-secret-key-long-enough-1234",
            "EXTRANET_ENV": "development",
            "EXTRANET_ATTACHMENTS_DIR": str(directory / "attachments"),
            "EXTRANET_SMTP_URL": f"maildir://{directory / 'mail'}",
        }
        await load_demo(environment)
        yield environment


@pytest.fixture(scope="module")
async def address(env: dict[str, str]) -> AsyncIterator[str]:
    async with serve_process(env) as host_and_port:
        yield host_and_port


@pytest.fixture
def server(address: str) -> Server:
    return Server(address)


@pytest.fixture
def anna(env: dict[str, str], address: str, tmp_path: Path) -> Client:
    return Client(env, f"http://{address}", tmp_path / "anna")


# --- signing in, listing, posting -------------------------------------------------------


async def test_login_keeps_the_session_where_only_the_user_may_read_it(
    env: dict[str, str], address: str, tmp_path: Path
) -> None:
    # given
    client = Client(env, f"http://{address}", tmp_path / "config")
    # when
    code, out, _ = await client.run("login", stdin=f"max@acme.example\n{PASSWORD}\n")
    # then
    assert code == 0
    assert "Signed in" in out
    assert "Max Member (Acme)" in out
    assert stat.S_IMODE(client.config.stat().st_mode) == 0o600
    assert stat.S_IMODE(client.config.parent.stat().st_mode) == 0o700
    session = client.saved()
    assert session["email"] == "max@acme.example"
    assert session["access_token"]
    assert session["refresh_token"]


async def test_a_wrong_password_keeps_nobody_signed_in(
    env: dict[str, str], address: str, tmp_path: Path
) -> None:
    # given
    client = Client(env, f"http://{address}", tmp_path / "config")
    # when
    code, _, err = await client.run("login", "--email", "max@acme.example", stdin="wrong\n")
    listed = await client.run("projects")
    # then
    assert code == 1
    assert "UNAUTHENTICATED" in err
    assert not client.config.exists()
    assert listed[0] == 1
    assert "Not signed in" in listed[2]


async def test_projects_lists_the_users_projects_with_their_status(
    env: dict[str, str], address: str, tmp_path: Path
) -> None:
    # given a contact who is a member of one project
    client = Client(env, f"http://{address}", tmp_path / "max")
    await client.login("max@acme.example")
    # when
    code, out, _ = await client.run("projects")
    # then
    assert code == 0
    [line] = out.splitlines()
    assert line.startswith(PORTAL)
    assert "ACTIVE" in line
    assert "Acme Logistics" in line


async def test_post_by_part_of_a_project_name_reaches_the_timeline(
    anna: Client, server: Server
) -> None:
    # given
    await anna.login("anna@acme.example")
    body = f"Slots go live on Monday #{secrets.token_hex(3)}"
    # when
    code, out, _ = await anna.run("post", "portal", body)
    # then
    assert code == 0
    assert f"Posted to {PORTAL}" in out
    token = await server.login("sam@provider.example")
    timeline = (await server(token, TIMELINE, id=await server.portal(token)))["project"]
    newest = timeline["timeline"]["edges"][0]["node"]
    assert newest == {"body": body, "author": {"name": "Anna Lead (Acme)"}}


async def test_a_name_that_matches_several_projects_is_refused(anna: Client) -> None:
    # given anna sees "Warehouse portal relaunch" and "Fleet telematics pilot"
    await anna.login("anna@acme.example")
    # when
    code, _, err = await anna.run("post", "e", "Which one?")
    # then
    assert code == 1
    assert "more than one project" in err


async def test_an_access_token_the_server_refuses_is_renewed_with_the_refresh_token(
    anna: Client,
) -> None:
    # given a stored access token that no longer works
    await anna.login("anna@acme.example")
    before = anna.saved()
    saved = json.loads(anna.config.read_text())
    [url] = saved["servers"]
    saved["servers"][url]["access_token"] = "expired.or.revoked"
    anna.config.write_text(json.dumps(saved))
    # when
    code, out, err = await anna.run("projects")
    # then
    assert code == 0, err
    assert PORTAL in out
    after = anna.saved()
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != "expired.or.revoked"


# --- following a timeline live ----------------------------------------------------------


async def test_follow_prints_what_another_user_posts_as_it_happens(
    anna: Client, server: Server
) -> None:
    # given anna follows the portal project in her terminal
    await anna.login("anna@acme.example")
    sam = await server.login("sam@provider.example")
    follow = await anna.start("follow", PORTAL)
    try:
        await follow.said("Connected")
        # when sam posts from elsewhere
        await server(sam, POST, project=await server.portal(sam), body="The yard has Wi-Fi now")
        # then
        line = await follow.printed("The yard has Wi-Fi now")
    finally:
        printed = await follow.stop()
    assert "Sam Account-Manager posted: The yard has Wi-Fi now" in line
    assert printed == [line]


async def test_follow_stops_when_its_session_is_ended_elsewhere(
    anna: Client, server: Server
) -> None:
    # given anna follows the portal project in her terminal
    await anna.login("anna@acme.example")
    follow = await anna.start("follow", PORTAL)
    try:
        await follow.said("Connected")
        # when her session is ended elsewhere (signed out with its refresh token)
        await server("", LOGOUT, refresh=anna.saved()["refresh_token"])
        # then the server closes the socket at once, the client cannot renew the session,
        # and it stops and says so
        await follow.said("Not signed in")
        code = await asyncio.wait_for(follow.process.wait(), 30)
    finally:
        await follow.stop()
    assert code == 1


class Relay:
    """A TCP relay between the client and the server whose connections the test cuts."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self.listener: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.listener = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Drop every connection and take no new ones."""
        assert self.listener is not None
        self.listener.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target
            )
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self.writers.discard(writer)


async def test_follow_resumes_after_a_dropped_connection_and_a_server_restart(
    env: dict[str, str], tmp_path: Path
) -> None:
    # given a server of its own, which anna's client reaches through a relay
    port = free_port()
    async with AsyncExitStack() as stack:
        address = await stack.enter_async_context(serve_process(env, port=port))
        server = Server(address)
        sam = await server.login("sam@provider.example")
        portal = await server.portal(sam)
        relay = Relay(port)
        await relay.open()
        anna = Client(env, f"http://127.0.0.1:{relay.port}", tmp_path / "anna")
        await anna.login("anna@acme.example")
        follow = await anna.start("follow", PORTAL)
        try:
            await follow.said("Connected")
            await server(sam, POST, project=portal, body="one")
            await follow.printed(": one")
            # when the connection drops, and sam posts while it is down
            await relay.cut()
            await follow.said("Connection lost")
            await server(sam, POST, project=portal, body="two")
            await relay.open()
            await follow.said("Connected")
            await server(sam, POST, project=portal, body="three")
            await follow.printed(": three")
            # and when the server restarts, and sam posts as soon as it is back
            await stack.aclose()
            await follow.said("Connection lost")
            await stack.enter_async_context(serve_process(env, port=port))
            await server(sam, POST, project=portal, body="four")
            await follow.printed(": four")
            # a repeat of what it resumed from would be printed before a later post
            await server(sam, POST, project=portal, body="five")
            await follow.printed(": five")
        finally:
            printed = await follow.stop()
            await relay.cut()
    # then every post was printed once, in order
    assert [line.rsplit(": ", 1)[1] for line in printed] == ["one", "two", "three", "four", "five"]


# --- editing a concept page -------------------------------------------------------------


BODY = (
    "## Goals\n\n- Book a slot in three taps\n- Works offline\n\n"
    "## Open questions\n\n- Who approves?\n"
)


@pytest.fixture
async def page(server: Server) -> dict[str, str]:
    """A page sam just wrote (revision 1) in the portal project, anna may edit it."""
    sam = await server.login("sam@provider.example")
    title = f"Yard booking {secrets.token_hex(3)}"
    data = await server(sam, CREATE_PAGE, project=await server.portal(sam), title=title, body=BODY)
    return {"id": data["createPage"]["page"]["id"], "title": title, "sam": sam}


async def edit_while_sam_saves(
    anna: Client,
    server: Server,
    page: dict[str, str],
    tmp_path: Path,
    *,
    anna_body: str,
    sam_body: str,
) -> tuple[int, str, str]:
    """anna edits the page in $EDITOR; while her editor is open, sam saves his change."""
    editor = tmp_path / "editor"
    editor.mkdir()
    (editor / "editor.py").write_text(FAKE_EDITOR)
    (editor / "result").write_text(anna_body)
    await anna.login("anna@acme.example")
    command = ("page", "edit", page["title"], "-m", "Yard details")
    edit = asyncio.ensure_future(
        anna.run(*command, editor=f"{sys.executable} {editor / 'editor.py'}")
    )
    try:
        await until(lambda: (editor / "opened").exists() or edit.done(), 30, what="$EDITOR")
        assert (editor / "opened").read_text() == BODY
        await server(page["sam"], UPDATE_PAGE, page=page["id"], body=sam_body)
    finally:
        (editor / "go").touch()
    return await edit


async def test_page_edit_merges_a_change_saved_meanwhile(
    anna: Client, server: Server, page: dict[str, str], tmp_path: Path
) -> None:
    # given anna adds a goal while sam answers the open question
    anna_body = BODY.replace("- Works offline\n", "- Works offline\n- Shows the gate number\n")
    sam_body = BODY.replace("- Who approves?", "- The yard manager approves")
    # when
    code, out, err = await edit_while_sam_saves(
        anna, server, page, tmp_path, anna_body=anna_body, sam_body=sam_body
    )
    # then
    assert code == 0, err
    assert "merged: true" in out
    assert "revision 3" in out
    saved = (await server(page["sam"], PAGE, id=page["id"]))["page"]
    assert saved["revision"] == 3
    assert "- Shows the gate number" in saved["body"]
    assert "- The yard manager approves" in saved["body"]


async def test_page_edit_shows_the_conflict_and_saves_nothing(
    anna: Client, server: Server, page: dict[str, str], tmp_path: Path
) -> None:
    # given anna and sam both rewrite the same line
    anna_body = BODY.replace("- Who approves?", "- Anna approves")
    sam_body = BODY.replace("- Who approves?", "- Sam approves")
    # when
    code, out, _ = await edit_while_sam_saves(
        anna, server, page, tmp_path, anna_body=anna_body, sam_body=sam_body
    )
    # then
    assert code == 1
    assert out.startswith("CONFLICT: ")
    assert "current revision: 2" in out
    assert "base:\n    | - Who approves?" in out
    assert "current:\n    | - Sam approves" in out
    assert "yours:\n    | - Anna approves" in out
    saved = (await server(page["sam"], PAGE, id=page["id"]))["page"]
    assert saved == {"body": sam_body, "revision": 2}


async def test_page_show_prints_the_current_text(anna: Client, page: dict[str, str]) -> None:
    # given
    await anna.login("anna@acme.example")
    # when
    code, out, _ = await anna.run("page", "show", page["title"].upper())
    # then
    assert code == 0
    assert out.startswith(f"# {page['title']}\nrevision 1 · SHARED")
    assert BODY.strip() in out


# An $EDITOR that shows the test what it opened and leaves `result` in it, if there is one.
QUICK_EDITOR = """
import pathlib, sys
here = pathlib.Path(__file__).parent
page = pathlib.Path(sys.argv[1])
(here / "opened").write_text(page.read_text())
if (here / "result").exists():
    page.write_text((here / "result").read_text())
"""


def _take(path: Path) -> str:
    """The text of a file the client kept for the user, who then removes it."""
    text = path.read_text()
    path.unlink()
    return text


async def test_page_edit_from_draft_opens_the_merge_with_markers_and_saves_no_marker(
    anna: Client, server: Server, page: dict[str, str], tmp_path: Path
) -> None:
    # given anna's edit conflicted: sam rewrote her line meanwhile, and another one too
    anna_body = BODY.replace("- Who approves?", "- Anna approves")
    sam_body = BODY.replace("- Who approves?", "- Sam approves").replace(
        "- Works offline", "- Works offline and on paper"
    )
    code, _, _ = await edit_while_sam_saves(
        anna, server, page, tmp_path, anna_body=anna_body, sam_body=sam_body
    )
    assert code == 1
    editor = tmp_path / "quick"
    editor.mkdir()
    (editor / "editor.py").write_text(QUICK_EDITOR)
    command = (f"{sys.executable} {editor / 'editor.py'}",)
    # when she edits again from her draft and saves without touching the buffer
    code, out, err = await anna.run(
        "page", "edit", page["title"], "--from-draft", editor=command[0]
    )
    # then the buffer was revision 2 with her side and sam's of the one conflicting line
    # between markers, sam's other change applied; and nothing is saved while they remain
    merged = BODY.replace("- Works offline", "- Works offline and on paper")
    assert (editor / "opened").read_text() == merged.replace(
        "- Who approves?\n",
        "<<<<<<< yours (your draft, begun on revision 1)\n- Anna approves\n"
        "||||||| revision 1 (where you began)\n- Who approves?\n=======\n- Sam approves\n"
        ">>>>>>> revision 2 (the page now)\n",
    )
    assert code == 1
    assert "Conflict markers remain (line 8, 10, 14): nothing was saved." in err
    kept = _take(Path(err.split("Your text is in ")[1].split(";")[0]))
    assert kept == (editor / "opened").read_text()
    assert (await server(page["sam"], PAGE, id=page["id"]))["page"]["revision"] == 2
    # when she keeps her line and removes the markers
    (editor / "result").write_text(merged.replace("- Who approves?", "- Anna approves"))
    code, out, err = await anna.run(
        "page", "edit", page["title"], "--from-draft", editor=command[0]
    )
    # then revision 3 has her line and sam's other change
    assert code == 0, err
    assert "as revision 3" in out
    saved = (await server(page["sam"], PAGE, id=page["id"]))["page"]
    assert saved == {"body": merged.replace("- Who approves?", "- Anna approves"), "revision": 3}
