from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise import Tortoise, connections

from app.db import is_postgres, migrate
from app.main import ExtranetGraphQL, create_app
from domain.throttle import attempt_store
from domain.tokens import issue_access_token
from graphql_schema import denials
from graphql_schema.relay import global_id, topic_global_id
from infra.settings import Settings, load_settings
from models import User
from realtime.bus import EventBus
from tests.services import (  # noqa: F401 (fixtures)
    _no_unasked_redis,
    any_redis,
    fresh_database,
    own_postgres,
    own_redis,
)
from tests.world import World, build_world

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"
TEST_SESSION = "test-session"  # a session that nothing ends (no refresh-token family)


def make_settings(database_url: str, **overrides: str) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "BROADCAST_URL": os.environ.get("BROADCAST_URL", "memory://"),
        "EXTRANET_SECRET_KEY": TEST_SECRET,
        "EXTRANET_ENV": "development",
        "BROADCAST_NAMESPACE": f"test-{secrets.token_hex(4)}",
        **overrides,
    }
    return load_settings(env)


@pytest.fixture(scope="session")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Starlette]:
    async with fresh_database(tmp_path_factory.mktemp("db")) as url:
        await migrate(url)
        files = tmp_path_factory.mktemp("attachments")
        application = create_app(make_settings(url, EXTRANET_ATTACHMENTS_DIR=str(files)))
        async with application.router.lifespan_context(application):
            yield application


@pytest.fixture
def settings(app: Starlette) -> Settings:
    return app.state.settings  # type: ignore[no-any-return]


@pytest.fixture
def bus(app: Starlette) -> EventBus:
    return app.state.bus  # type: ignore[no-any-return]


async def _empty_all_tables(database_url: str) -> None:
    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
    if is_postgres(database_url):
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        return
    statements = ["PRAGMA foreign_keys = OFF"]
    statements += [f'DELETE FROM "{t}"' for t in tables]  # noqa: S608 (names from the models)
    statements += ["DELETE FROM sqlite_sequence", "PRAGMA foreign_keys = ON"]
    await conn.execute_script(";\n".join(statements))


@pytest.fixture(autouse=True)
async def _clean_database(request: pytest.FixtureRequest) -> None:
    if "app" not in request.fixturenames:
        return
    application: Starlette = request.getfixturevalue("app")
    await denials.settled()  # an earlier test's refusals are recorded before the tables empty
    await _empty_all_tables(application.state.settings.database_url)
    await application.state.bus.horizon.close()  # event ids start again at 1
    # sign-in failures of earlier tests (all from one test client address) count for none
    settings = application.state.settings
    throttle = application.state.graphql.throttle
    await throttle.store.close()
    throttle.store = attempt_store(
        application.state.redis, f"{settings.broadcast_namespace}-{secrets.token_hex(4)}"
    )


@pytest.fixture
async def world(app: Starlette) -> World:
    return await build_world(app.state.bus)


@dataclass
class Result:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def error_at(self, *path: str | int) -> dict[str, Any] | None:
        for error in self.errors:
            if tuple(error.get("path") or ()) == path:
                return error
        return None


@dataclass
class Api:
    client: httpx.AsyncClient
    settings: Settings

    def token_for(self, user: User) -> str:
        return issue_access_token(self.settings, user.id, TEST_SESSION)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_user: User | None = None,
        token: str | None = None,
    ) -> Result:
        headers = {}
        if as_user is not None:
            token = self.token_for(as_user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return Result(status=response.status_code, body=response.json())


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    return Api(client=client, settings=settings)


def gid(obj: Any) -> str:
    """The global ID of a model row, as the API gives it out."""
    if type(obj).__name__ == "Topic":
        return topic_global_id(obj.name)
    return global_id(type(obj).__name__, obj.id)


@pytest.fixture
async def production_api(settings: Settings, bus: EventBus) -> AsyncIterator[Api]:
    production = replace(settings, environment="production")
    view = ExtranetGraphQL(production, bus)
    transport = httpx.ASGITransport(app=view)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # the view is mounted at the root here, so the Api helper's path is routed to it too
        yield Api(client=client, settings=production)
