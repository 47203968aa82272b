"""``/healthz`` answers while the process does; ``/readyz`` checks the database, its
migrations, Redis (when configured) and the background runner, as health+json."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from infra.redis_clients import is_redis_url
from infra.settings import Settings
from tests.live import serve_process
from tests.services import RedisProcess, fresh_database

HEALTH_JSON = "application/health+json"


def statuses(health: dict[str, Any]) -> dict[str, str]:
    return {name: check["status"] for name, [check] in health["checks"].items()}


async def test_a_ready_process_passes_every_check(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # when
    live = await client.get("/healthz")
    ready = await client.get("/readyz")
    # then
    assert live.status_code == 200
    assert live.headers["content-type"] == HEALTH_JSON
    assert live.json() == {"status": "pass"}
    assert ready.status_code == 200
    assert ready.headers["content-type"] == HEALTH_JSON
    body = ready.json()
    assert body["status"] == "pass"
    expected = {"database:responseTime", "database:migrations", "jobs:runner"}
    if is_redis_url(settings.broadcast_url):
        expected.add("redis:responseTime")
    assert statuses(body) == dict.fromkeys(expected, "pass")
    [database] = body["checks"]["database:responseTime"]
    assert database["componentType"] == "datastore"
    assert database["observedUnit"] == "ms"
    assert database["observedValue"] >= 0
    assert body["checks"]["database:migrations"][0]["observedValue"] == 0


async def test_readyz_fails_naming_missing_migrations_and_a_stopped_redis(
    tmp_path: Path, own_redis: RedisProcess
) -> None:
    # given a server over a database nobody migrated, with its own Redis and job runner
    async with fresh_database(tmp_path) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BROADCAST_URL": own_redis.url,
            "EXTRANET_SECRET_KEY": "health-checks-secret-key-that-is-long-enough",
            "EXTRANET_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
            "EXTRANET_MAIL": "off",
            "EXTRANET_JOBS": "on",
        }
        async with serve_process(env) as address, httpx.AsyncClient(timeout=10) as http:
            # when
            pending = await http.get(f"http://{address}/readyz")
            # then it is alive but not ready, and says which migrations are missing
            assert pending.status_code == 503
            assert pending.headers["content-type"] == HEALTH_JSON
            assert int(pending.headers["retry-after"]) > 0
            body = pending.json()
            assert body["status"] == "fail"
            assert statuses(body) == {
                "database:responseTime": "pass",
                "redis:responseTime": "pass",
                "database:migrations": "fail",
                "jobs:runner": "pass",
            }
            [migrations] = body["checks"]["database:migrations"]
            assert "0001_initial" in migrations["output"]
            assert "extranet migrate" in migrations["output"]

            # when Redis stops
            own_redis.stop()
            stopped = await http.get(f"http://{address}/readyz")
            live = await http.get(f"http://{address}/healthz")
            # then readiness names it too, without internal text; liveness still passes
            assert stopped.status_code == 503
            assert statuses(stopped.json())["redis:responseTime"] == "fail"
            [redis] = stopped.json()["checks"]["redis:responseTime"]
            assert "127.0.0.1" not in redis["output"]
            assert live.status_code == 200
