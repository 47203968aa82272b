from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
import secrets
import shutil
import sqlite3
import tempfile
import types
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import aiosqlite
import httpx
import pytest
import tortoise
from argon2 import PasswordHasher
from starlette.applications import Starlette
from tortoise import Tortoise, connections
from tortoise.models import Model

from app.db import is_postgres, migrate
from app.main import ExtranetGraphQL, create_app
from domain import passwords
from domain.throttle import attempt_store
from domain.tokens import issue_access_token
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
        # no job runs behind a test's back: tests run them with app.state.jobs.run_due()
        "EXTRANET_JOBS": "off",
        # webhook tests deliver to receivers on loopback (tests/test_webhooks.py)
        "EXTRANET_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
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


ROOT = Path(__file__).resolve().parent.parent


def _migrations_key() -> str:
    """What the migrated schema depends on: the models, their migrations and the migrate
    step (and Tortoise's version)."""
    digest = hashlib.sha256(tortoise.__version__.encode())
    for path in sorted([*(ROOT / "models").rglob("*.py"), ROOT / "app" / "db.py"]):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


async def _migrated(url: str) -> None:
    """Migrate the test database; on SQLite, from a copy of one these same migrations made
    before when there is one (in the temporary directory), which spares about 1.5 s of CPU
    a run."""
    if is_postgres(url):
        await migrate(url)
        return
    database = Path(url.removeprefix("sqlite://"))
    template = Path(tempfile.gettempdir()) / f"extranet-tests-migrated-{_migrations_key()}.sqlite3"
    if template.is_file():
        shutil.copyfile(template, database)
        return
    await migrate(url)  # closes its connections: the file holds everything
    partial = template.with_name(f"{template.name}.{secrets.token_hex(4)}")
    shutil.copyfile(database, partial)
    partial.replace(template)  # whole or not at all, also for a run beside this one


@pytest.fixture(scope="session")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Starlette]:
    async with fresh_database(tmp_path_factory.mktemp("db")) as url:
        await _migrated(url)
        files = tmp_path_factory.mktemp("attachments")
        mail = tmp_path_factory.mktemp("mail")
        application = create_app(
            make_settings(
                url, EXTRANET_ATTACHMENTS_DIR=str(files), EXTRANET_SMTP_URL=f"maildir://{mail}"
            )
        )
        async with application.router.lifespan_context(application):
            if not is_postgres(url):
                # a test database needs no durability: commits do not wait for the disk
                await connections.get("default").execute_script("PRAGMA synchronous = OFF")
            _copies[application] = DatabaseCopies(url)
            try:
                yield application
            finally:
                await _copies.pop(application).close()


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
        # DELETE, not TRUNCATE: on a few rows each it is several times cheaper (TRUNCATE makes
        # new files for every table); the foreign keys' triggers are off meanwhile (the suite
        # connects as a superuser), and the id sequences start again at 1
        _, rows = await conn.execute_query(
            "SELECT schemaname || '.' || sequencename AS name FROM pg_sequences "
            "WHERE schemaname = current_schema()"
        )
        restarts = ", ".join(f"setval('{row['name']}', 1, false)" for row in rows)
        statements = ["SET session_replication_role = replica"]
        statements += [f'DELETE FROM "{t}"' for t in tables]  # noqa: S608 (names from the models)
        statements += ["SET session_replication_role = DEFAULT"]
        if restarts:
            statements.append(f"SELECT {restarts}")
        await conn.execute_script(";\n".join(statements))
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
    # an earlier test's refusals are recorded before the tables empty
    await application.state.graphql.process.denials.settled()
    copies = _copies[application]
    await copies.clean(world="world" in request.fixturenames)
    await application.state.bus.horizon.close()  # event ids start again at 1
    # sign-in failures of earlier tests (all from one test client address) count for none
    settings = application.state.settings
    throttle = application.state.graphql.throttle
    await throttle.store.close()
    throttle.store = attempt_store(
        application.state.redis, f"{settings.broadcast_namespace}-{secrets.token_hex(4)}"
    )


class DatabaseCopies:
    """Copies of the test database put back before each test. On SQLite, copies made page
    by page with SQLite's backup: one of the emptied tables (instead of emptying them again,
    about 5 ms) and one just after :func:`build_world` (instead of building it again, about
    45 ms of CPU). On PostgreSQL the tables are emptied for every test, and the world's rows,
    read once after :func:`build_world`, are copied back in (``COPY``, about 15 ms instead of
    about 200 ms for building it again)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.sqlite = not is_postgres(database_url)
        self.empty: aiosqlite.Connection | None = None
        self.with_world: aiosqlite.Connection | None = None
        self.world_rows: dict[str, tuple[type[Model], int]] = {}
        self.world_restored = False
        # PostgreSQL: each table's columns and rows, and each sequence's value, after the world
        self.pg_world: list[tuple[str, list[str], list[tuple[Any, ...]], dict[str, str]]] | None = (
            None
        )
        self.pg_sequences: list[tuple[str, int | None]] = []

    @staticmethod
    async def _live() -> aiosqlite.Connection:
        """The test database's connection, opened again if a test closed it."""
        client = connections.get("default")
        if client._connection is None:
            await client.execute_query("SELECT 1")
        connection: aiosqlite.Connection = client._connection
        return connection

    async def _copy(self) -> aiosqlite.Connection:
        copy = await aiosqlite.connect(":memory:")
        await (await self._live()).backup(copy)
        return copy

    async def _put_back(self, copy: aiosqlite.Connection) -> None:
        """Copy ``copy`` over the test database, once no statement of an earlier test's
        leftover task (a closing socket's, say) is running on it (SQLite refuses the copy
        meanwhile)."""
        live = await self._live()
        for attempt in range(1000):
            try:
                await copy.backup(live)
                return
            except sqlite3.OperationalError as error:
                if "in use" not in str(error) or attempt == 999:
                    raise
                await asyncio.sleep(0.005)

    async def _pg_snapshot(self) -> None:
        """Read every table's rows and every sequence's value (PostgreSQL). Columns of a type
        that ``COPY``'s binary format cannot write (``tsvector``) are read as text."""
        tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
        snapshot: list[tuple[str, list[str], list[tuple[Any, ...]], dict[str, str]]] = []
        async with connections.get("default").acquire_connection() as conn:
            for table in tables:
                columns = await conn.fetch(
                    "SELECT column_name, udt_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = $1 "
                    "ORDER BY ordinal_position",
                    table,
                )
                as_text = {c["column_name"]: c["udt_name"] for c in columns}
                as_text = {name: udt for name, udt in as_text.items() if udt in TEXT_ONLY_TYPES}
                selected = ", ".join(
                    f'"{c["column_name"]}"::text' if c["column_name"] in as_text
                    else f'"{c["column_name"]}"'
                    for c in columns
                )  # fmt: skip
                rows = await conn.fetch(f'SELECT {selected} FROM "{table}"')  # noqa: S608
                if rows:
                    names = [c["column_name"] for c in columns]
                    snapshot.append((table, names, [tuple(r) for r in rows], as_text))
            sequences = await conn.fetch(
                "SELECT schemaname || '.' || sequencename AS name, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()"
            )
        self.pg_sequences = [(row["name"], row["last_value"]) for row in sequences]
        self.pg_world = snapshot

    async def _pg_put_back(self) -> None:
        """Empty every table and copy the world's rows back in, in one transaction with the
        foreign keys' triggers off; the sequences go back to their values after the world."""
        assert self.pg_world is not None
        tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
        setvals = ", ".join(
            f"setval('{name}', 1, false)" if value is None else f"setval('{name}', {value}, true)"
            for name, value in self.pg_sequences
        )
        async with connections.get("default").acquire_connection() as conn, conn.transaction():
            statements = ["SET LOCAL session_replication_role = replica"]
            statements += [f'DELETE FROM "{t}"' for t in tables]  # noqa: S608 (model names)
            await conn.execute(";\n".join(statements))
            for table, columns, records, as_text in self.pg_world:
                if not as_text:
                    await conn.copy_records_to_table(table, records=records, columns=columns)
                    continue
                names = ", ".join(f'"{c}"' for c in columns)
                values = ", ".join(
                    f"${i}::text::{as_text[c]}" if c in as_text else f"${i}"
                    for i, c in enumerate(columns, 1)
                )
                insert = f'INSERT INTO "{table}" ({names}) VALUES ({values})'  # noqa: S608
                await conn.executemany(insert, records)
            if setvals:
                await conn.execute(f"SELECT {setvals}")

    async def clean(self, *, world: bool) -> None:
        """Empty every table, or put the world back when ``world`` and a copy of it exists."""
        self.world_restored = False
        if world and self.pg_world is not None:
            await self._pg_put_back()
            self.world_restored = True
        elif world and self.with_world is not None:
            await self._put_back(self.with_world)
            self.world_restored = True
        elif self.empty is not None:
            await self._put_back(self.empty)
        else:
            await _empty_all_tables(self.database_url)
            if self.sqlite:
                self.empty = await self._copy()

    async def world(self, bus: EventBus) -> World:
        """The world of this test: fresh instances of its rows when :meth:`clean` put it
        back, otherwise built (and copied, the first time)."""
        if not self.world_restored:
            built = await build_world(bus)
            if self.sqlite and self.with_world is None:
                self.with_world = await self._copy()
            elif not self.sqlite and self.pg_world is None:
                await self._pg_snapshot()
            else:
                return built
            self.world_rows = {
                f.name: (type(row), row.pk)
                for f in fields(built)
                if (row := getattr(built, f.name))
            }
            return built
        by_model: dict[type[Model], list[int]] = {}
        for model, pk in self.world_rows.values():
            by_model.setdefault(model, []).append(pk)
        found: dict[tuple[type[Model], int], Any] = {}
        for model, pks in by_model.items():
            for row in await model.filter(pk__in=pks):
                found[(model, row.pk)] = row
        return World(**{name: found[key] for name, key in self.world_rows.items()})

    async def close(self) -> None:
        for copy in (self.empty, self.with_world):
            if copy is not None:
                await copy.close()
        self.empty = self.with_world = None


# PostgreSQL column types that COPY's binary format cannot write from Python values
TEXT_ONLY_TYPES = frozenset({"tsvector"})

_copies: dict[Starlette, DatabaseCopies] = {}  # of the session's app, while it runs


@pytest.fixture
async def world(app: Starlette) -> World:
    return await _copies[app].world(app.state.bus)


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
    if type(obj).__name__ == "ServiceRequest":  # a Request in the API
        return global_id("Request", obj.id)
    return global_id(type(obj).__name__, obj.id)


@pytest.fixture
async def production_api(settings: Settings, bus: EventBus) -> AsyncIterator[Api]:
    production = replace(settings, environment="production")
    view = ExtranetGraphQL(production, bus)
    transport = httpx.ASGITransport(app=view)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # the view is mounted at the root here, so the Api helper's path is routed to it too
        yield Api(client=client, settings=production)
