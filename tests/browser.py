"""What the browser tests of the web client share: the build, ``extranet serve`` with the
demo data on a spare loopback port, Debian's Chromium driven by Playwright, and signed-in
people in browser contexts of their own.

A test module imports the fixtures it uses (``web_build``, ``browser``, ``people``) and
defines its own module-scoped ``server`` fixture with :func:`demo_server`, so each module
runs one server and one browser.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Dialog,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from app.db import is_postgres
from tests.live import EXTRANET, load_demo
from tests.services import free_port, fresh_database, in_ci

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "demo-extranet-2026"
PORTAL = "Warehouse portal relaunch"
PAGE = "Booking flow concept"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)

expect.set_options(timeout=15_000)


def missing(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def web_build() -> None:
    """The web client, built (``make web``) if it is missing or older than its sources.

    Browser tests run where the database is SQLite: what they add to the API tests (which
    run on both databases) is the web client's behaviour, which does not depend on the
    database, and CI's PostgreSQL run stays within its time."""
    if is_postgres(os.environ.get("DATABASE_URL", "")):
        pytest.skip("browser tests run on SQLite; the API tests cover PostgreSQL")
    if CHROMIUM is None:
        missing("chromium is not installed (apt-get install chromium)")
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("Node.js and npm are needed to build the web client (clients/web)")
    if shutil.which("make") is None:
        missing("make is needed to build the web client (make web)")
    done = subprocess.run(
        ["make", "-s", "web"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (ROOT / "clients" / "web" / "dist" / "index.html").is_file(), done.stdout


class Server:
    """``extranet serve`` as its own process, on one port that it keeps across a restart."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                EXTRANET, "serve", "--port", str(self.port), env=self.env, stdout=log, stderr=log
            )
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(400):
                try:
                    if (await http.get(f"{self.url}healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"extranet serve did not start:\n{self.log.read_text()[-3000:]}")

    async def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.process = None


@asynccontextmanager
async def demo_server(tmp: Path, **settings: str) -> AsyncIterator[Server]:
    """A fresh database with the demo data, served."""
    async with fresh_database(tmp) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BROADCAST_URL": os.environ.get("BROADCAST_URL", "memory://"),
            "BROADCAST_NAMESPACE": f"web-{secrets.token_hex(4)}",
            "EXTRANET_SECRET_KEY": "web-client-test-secret-key-long-enough-1234",
            "EXTRANET_ENV": "development",
            "EXTRANET_ATTACHMENTS_DIR": str(tmp / "attachments"),
            "EXTRANET_SMTP_URL": f"maildir://{tmp / 'mail'}",
            **settings,
        }
        await load_demo(env)
        running = Server(env, tmp / "server.log")
        await running.start()
        try:
            yield running
        finally:
            await running.stop()


@pytest.fixture(scope="session")
async def shared_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """One demo server for the modules whose tests each change only what they make
    themselves (their own pages, posts, invitations): started once for all of them."""
    # webhook endpoints on 127.0.0.1 (tests/test_web_integrations.py)
    async with demo_server(
        tmp_path_factory.mktemp("web-shared"), EXTRANET_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32"
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def browser(web_build: None) -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


class People:
    """Browser windows of signed-in people; each in a context of its own (its own storage)."""

    def __init__(self, browser: Browser, server: Server) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []
        self.sockets_closed: Counter[str] = Counter()

    async def sign_in(self, email: str, viewport: ViewportSize, shot: str | None = None) -> Page:
        context = await self.browser.new_context(viewport=viewport)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{email}: {error}"))
        page.on(
            "websocket",
            lambda socket: socket.on("close", lambda _: self.sockets_closed.update([email])),
        )
        await page.goto(self.server.url)
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        if shot:
            await screenshot(page, shot)
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def people(browser: Browser, server: Server) -> AsyncIterator[People]:
    crowd = People(browser, server)
    try:
        yield crowd
    finally:
        await crowd.close()
    assert crowd.errors == [], "the web client threw in the browser"


client_behaviour = pytest.mark.skipif(
    is_postgres(os.environ.get("DATABASE_URL", "")),
    reason="what the web client does (focus, dialogs, names) is alike on either database; "
    "checked on SQLite",
)
"""For browser tests of the client's own behaviour: run on SQLite only, to keep CI's second
(PostgreSQL) run short; the server's behaviour on PostgreSQL is covered by the API tests."""


class Dialogs:
    """The dialogs (confirm, beforeunload) a page shows: answered in turn from ``answers``
    (dismissed when none is left), their messages kept in the order shown."""

    def __init__(self, page: Page) -> None:
        self.answers: list[bool] = []
        self.messages: list[str] = []
        self._answered = asyncio.Event()
        page.on("dialog", self._answer)

    async def _answer(self, dialog: Dialog) -> None:
        if self.answers and self.answers.pop(0):
            await dialog.accept()
        else:
            await dialog.dismiss()
        self.messages.append(dialog.message)
        self._answered.set()

    async def shown(self, count: int) -> list[str]:
        """The messages once ``count`` dialogs have been shown and answered: a dialog that a
        navigation opens comes after the click that started it has returned."""
        async with asyncio.timeout(10):
            while len(self.messages) < count:
                self._answered.clear()
                await self._answered.wait()
        return self.messages


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def open_project(page: Page) -> str:
    """Open the portal project from the list; its URL."""
    await page.get_by_role("link", name=PORTAL).click()
    await expect(page.get_by_role("heading", name=PORTAL, level=1)).to_be_visible()
    await expect(page.get_by_test_id("connection")).to_have_text("Live")
    return page.url


async def unread(page: Page) -> int:
    """The unread count on the inbox badge, once the server has told it."""
    badge = page.get_by_test_id("unread-count")
    await expect(badge).to_have_attribute("data-count", re.compile(r"^\d+$"))
    return int(await badge.get_attribute("data-count") or "")


LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""


async def call_api(server: Server, email: str, query: str, **variables: object) -> dict[str, Any]:
    """One operation over HTTP as the user (signed in with the password alone); its data."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        login = await http.post(
            "graphql", json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}}
        )
        token = login.json()["data"]["login"]["accessToken"]
        answer = await http.post(
            "graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = answer.json()
    assert "errors" not in body, body
    return dict(body["data"])


class Api:
    """Operations over HTTP as demo users, each signed in (with the password alone) once:
    for a test that prepares much through the API."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}

    async def __call__(self, email: str, query: str, **variables: object) -> dict[str, Any]:
        """The operation's data, as `email`; fails on any error."""
        async with httpx.AsyncClient(base_url=self.server.url, timeout=10) as http:
            if email not in self.tokens:
                login = await http.post(
                    "graphql",
                    json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}},
                )
                self.tokens[email] = login.json()["data"]["login"]["accessToken"]
            answer = await http.post(
                "graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self.tokens[email]}"},
            )
        body = answer.json()
        assert "errors" not in body, body
        return dict(body["data"])
