"""The Redis transport reconnects after a Redis restart and tells subscribers to resync."""

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from broadcaster import Broadcast

from realtime._redis import RESYNC, ResilientRedisBackend
from tests.services import in_ci

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
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

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

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
    server = RedisProcess(_free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _get(subscriber: object) -> str:
    event = await asyncio.wait_for(subscriber.get(), 10)  # type: ignore[attr-defined]
    return str(event.message)


async def test_messages_flow_again_after_redis_restarts(own_redis: RedisProcess) -> None:
    # given a subscriber on a channel
    backend = ResilientRedisBackend(own_redis.url, initial_backoff=0.05, max_backoff=0.2)
    broadcast = Broadcast(backend=backend)
    await broadcast.connect()
    try:
        async with broadcast.subscribe("timeline") as subscriber:
            await broadcast.publish("timeline", "before")
            assert await _get(subscriber) == "before"
            # when Redis restarts
            own_redis.stop()
            await asyncio.sleep(0.3)
            own_redis.start()
            # then the subscriber is told to resync, and later messages arrive
            assert await _get(subscriber) == RESYNC
            await broadcast.publish("timeline", "after")
            assert await _get(subscriber) == "after"
            assert backend.reconnects >= 1
    finally:
        await broadcast.disconnect()
