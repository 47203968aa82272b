"""Real services for the tests: a fresh PostgreSQL database or SQLite file, and Redis.

Under ``CI=true`` a configured service that cannot be reached fails the run instead of
skipping the tests that need it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis

from app.db import is_postgres, tortoise_url


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(tortoise_url(url))
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def fresh_database(tmp_dir: Path) -> AsyncIterator[str]:
    """A new, empty database for one test session, dropped afterwards.

    PostgreSQL when ``DATABASE_URL`` names one (a new database on that server, so the
    configured one is never touched), otherwise a SQLite file in a temporary directory.
    """
    configured = os.environ.get("DATABASE_URL", "")
    if not is_postgres(configured):
        yield f"sqlite://{tmp_dir / 'test.sqlite3'}"
        return
    server = tortoise_url(configured).replace("postgres://", "postgresql://", 1)
    name = f"extranet_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        # a test database needs no durability: commits do not wait for the disk
        await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await admin.close()
    try:
        yield _with_database(configured, name)
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def configured_redis_url() -> str | None:
    """``BROADCAST_URL`` when it names a Redis; the only Redis the suite uses that it did not
    start itself."""
    configured = os.environ.get("BROADCAST_URL", "")
    return configured if configured.startswith(("redis://", "rediss://")) else None


def _reachable(url: str) -> str:
    """``url`` once Redis answers there; skips when it does not, except in CI (fails)."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except (OSError, redis.RedisError) as error:
        if in_ci():
            pytest.fail(f"Redis at {url} is unreachable under CI=true: {error}")
        pytest.skip(f"Redis at {url} is unreachable: {error}")
    finally:
        client.close()
    return url


REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A redis-server of the test's own on a spare loopback port."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, within: float = 30) -> None:
        """Start it and return once it answers, as itself (its process id), on its port.

        Raises RuntimeError when it ended first (another process took the port, say) or
        does not answer within ``within`` seconds."""
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + within
        while self.process.poll() is None and time.monotonic() < deadline:
            if self._answering_pid() == self.process.pid:
                return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def _answering_pid(self) -> int | None:
        """The process id of the Redis answering on the port, if one does."""
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return int(client.info("server")["process_id"])
        except (OSError, redis.RedisError):
            return None
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    if REDIS_SERVER is None:
        if in_ci():
            pytest.fail("redis-server is not installed, and CI=true requires it")
        pytest.skip("redis-server is not installed")
    for attempt in range(3):  # a spare port may be taken before redis-server binds it
        server = RedisProcess(free_port(), tmp_path)
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()


REDIS_DEFAULT_PORT = 6379
_unasked_redis: list[object] = []


def _watch_default_redis(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.connect" and len(args) == 2:
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2 and address[1] == REDIS_DEFAULT_PORT:
            _unasked_redis.append(address)


if configured_redis_url() is None:
    sys.addaudithook(_watch_default_redis)


@pytest.fixture(autouse=True)
def _no_unasked_redis() -> Iterator[None]:
    """Without a Redis in ``BROADCAST_URL`` a test connects to no Redis it did not start:
    a connection to the default Redis port fails the test that made it."""
    yield
    if _unasked_redis:
        found = list(_unasked_redis)
        _unasked_redis.clear()
        pytest.fail(f"connected to a Redis nobody configured (BROADCAST_URL is not one): {found}")


@pytest.fixture
def any_redis(request: pytest.FixtureRequest) -> str:
    """A Redis URL to test against: ``BROADCAST_URL`` when it names one (skipped when it
    does not answer, failed under CI), otherwise a redis-server of the test's own
    (:func:`own_redis`). Never a Redis that nobody configured."""
    configured = configured_redis_url()
    if configured is not None:
        return _reachable(configured)
    server: RedisProcess = request.getfixturevalue("own_redis")
    return server.url


PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts)


def _as_postgres_user(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


class PostgresProcess:
    """A PostgreSQL cluster of the test's own on a spare loopback port (trust auth), which
    the test may stop and start."""

    def __init__(self, port: int, workdir: Path) -> None:
        assert PG_BINARIES
        self.bin = PG_BINARIES[-1].parent  # the newest installed version
        self.port = port
        self.workdir = workdir
        self.data = workdir / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(_as_postgres_user([str(self.bin / args[0]), *args[1:]]),
                       check=True, capture_output=True, timeout=120)  # fmt: skip

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
                   " -c fsync=off -c full_page_writes=off -c max_connections=60")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.workdir / "log"), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        """Stop at once: open connections are cut, as when the server goes away."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def own_postgres() -> Iterator[PostgresProcess]:
    """A cluster of the test's own (binaries from /usr/lib/postgresql/*/bin); skipped when
    they are absent, except under CI=true."""
    if not PG_BINARIES:
        if in_ci():
            pytest.fail("PostgreSQL's server binaries are not installed, and CI=true requires them")
        pytest.skip("PostgreSQL's server binaries are not installed")
    workdir = Path(tempfile.mkdtemp(prefix="extranet-pg-"))  # the postgres user must reach it
    server = PostgresProcess(free_port(), workdir)
    try:
        server.init()
        for attempt in range(3):  # a spare port may be taken before the server binds it
            try:
                server.start()
                break
            except subprocess.CalledProcessError:
                if attempt == 2 or server.running():
                    raise
                server.port = free_port()
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
