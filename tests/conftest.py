from __future__ import annotations

import inspect
import os
import secrets
import types
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

import aiosqlite
import httpx
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from tortoise import Tortoise, connections
from tortoise.models import Model

from app.db import is_postgres, migrate
from app.main import ExtranetGraphQL, create_app
from domain import passwords
from domain.throttle import attempt_store
from domain.tokens import issue_access_token
from graphql_schema import denials
from graphql_schema.relay import global_id, topic_global_id
from infra.settings import Settings, load_settings
from models import User
from realtime.bus import EventBus
from tests.browser import shared_server  # noqa: F401 (one demo server for browser test modules)
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


# What a test, a fixture or a helper of tests/ refers to when it starts a process of its own:
# `extranet serve` or the CLI, redis-server, PostgreSQL, node, a browser.
STARTS_A_PROCESS = frozenset(
    {"subprocess", "create_subprocess_exec", "create_subprocess_shell", "Popen",
     "async_playwright", "sync_playwright"}
)  # fmt: skip
# Fixtures that start one only through request.getfixturevalue, which the walk cannot see.
END_TO_END_FIXTURES = frozenset({"own_redis", "own_postgres", "any_redis"})


def _names(code: types.CodeType) -> Iterable[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _starts_a_process(obj: object, seen: dict[int, bool]) -> bool:
    """Whether ``obj`` (a function or class of tests/), or a helper of tests/ it names,
    refers to something that starts a process."""
    key = id(obj)
    if key in seen:
        return seen[key]
    seen[key] = False  # a cycle adds nothing
    if inspect.isclass(obj):
        members: list[object] = list(vars(obj).values())
        found = any(_starts_a_process(m, seen) for m in members)
    else:
        function = inspect.unwrap(getattr(obj, "__func__", obj))  # type: ignore[arg-type]
        code = getattr(function, "__code__", None)
        if code is None:
            found = False
        else:
            names = set(_names(code))
            scope = getattr(function, "__globals__", {})
            found = bool(names & STARTS_A_PROCESS) or any(
                _starts_a_process(scope[name], seen)
                for name in names
                if _of_the_tests(scope.get(name))
            )
    seen[key] = found
    return found


def _of_the_tests(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return (inspect.isfunction(obj) or inspect.isclass(obj)) and (
        module == "tests" or module.startswith("tests.")
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``end_to_end`` every test that starts processes or services of its own, by what
    it and its fixtures use (so a new test is classified without anyone marking it):
    ``make test-fast`` leaves them out."""
    seen: dict[int, bool] = {}
    end_to_end = pytest.mark.end_to_end
    for item in items:
        if not isinstance(item, pytest.Function) or item.get_closest_marker("end_to_end"):
            continue
        info = item._fixtureinfo
        functions: list[Callable[..., Any]] = [item.function]
        for name in info.names_closure:
            for definition in info.name2fixturedefs.get(name, ()):
                functions.append(definition.func)
        if END_TO_END_FIXTURES & set(info.names_closure) or any(
            _starts_a_process(f, seen) for f in functions
        ):
            item.add_marker(end_to_end)


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


# argon2id at its least cost: tests sign in thousands of times, and production's cost
# (about 0.2 s of CPU a hash) would be most of the suite's time. tests/test_passwords.py
# checks production's cost with the `production_password_cost` fixture.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", CHEAP_HASHER)
        patch.setattr(passwords, "_DUMMY_HASH", CHEAP_HASHER.hash("an unknown account"))
        yield


@pytest.fixture
def production_password_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are hashed and checked at production's cost during the test."""
    monkeypatch.setattr(passwords, "_hasher", PRODUCTION_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", PRODUCTION_DUMMY_HASH)


PRODUCTION_HASHER = passwords._hasher
PRODUCTION_DUMMY_HASH = passwords._DUMMY_HASH


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
    snapshot: WorldSnapshot = request.getfixturevalue("_world_snapshot")
    if not ("world" in request.fixturenames and await snapshot.restore()):
        await _empty_all_tables(application.state.settings.database_url)
    await application.state.bus.horizon.close()  # event ids start again at 1
    # sign-in failures of earlier tests (all from one test client address) count for none
    settings = application.state.settings
    throttle = application.state.graphql.throttle
    await throttle.store.close()
    throttle.store = attempt_store(
        application.state.redis, f"{settings.broadcast_namespace}-{secrets.token_hex(4)}"
    )


class WorldSnapshot:
    """The database just after :func:`build_world`, copied page by page with SQLite's
    backup, so that each test after the first gets the same world for a copy instead of
    building it again (about 45 ms of CPU a test). On PostgreSQL every test builds it."""

    def __init__(self, database_url: str) -> None:
        self.sqlite = not is_postgres(database_url)
        self.copy: aiosqlite.Connection | None = None
        self.rows: dict[str, tuple[type[Model], int]] = {}

    @staticmethod
    def _live() -> aiosqlite.Connection:
        connection: aiosqlite.Connection = connections.get("default")._connection
        return connection

    async def take(self, world: World) -> None:
        if not self.sqlite:
            return
        self.copy = await aiosqlite.connect(":memory:")
        await self._live().backup(self.copy)
        self.rows = {
            f.name: (type(row), row.pk) for f in fields(world) if (row := getattr(world, f.name))
        }

    async def restore(self) -> bool:
        """Put the world's database back; False when there is no copy to put back."""
        if self.copy is None:
            return False
        await self.copy.backup(self._live())
        return True

    async def world(self) -> World:
        """Fresh instances of the world's rows, read from the restored database."""
        by_model: dict[type[Model], list[int]] = {}
        for model, pk in self.rows.values():
            by_model.setdefault(model, []).append(pk)
        found: dict[tuple[type[Model], int], Any] = {}
        for model, pks in by_model.items():
            for row in await model.filter(pk__in=pks):
                found[(model, row.pk)] = row
        return World(**{name: found[key] for name, key in self.rows.items()})

    async def close(self) -> None:
        if self.copy is not None:
            await self.copy.close()
            self.copy = None


@pytest.fixture(scope="session")
async def _world_snapshot(app: Starlette) -> AsyncIterator[WorldSnapshot]:
    snapshot = WorldSnapshot(app.state.settings.database_url)
    yield snapshot
    await snapshot.close()


@pytest.fixture
async def world(app: Starlette, _world_snapshot: WorldSnapshot) -> World:
    if _world_snapshot.copy is not None:
        return await _world_snapshot.world()  # _clean_database restored it
    built = await build_world(app.state.bus)
    await _world_snapshot.take(built)
    return built


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
