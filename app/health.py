"""``/healthz`` and ``/readyz``: the process's liveness and readiness, as
``application/health+json`` (the "Health Check Response Format for HTTP APIs" draft).

``/healthz`` answers 200 ``{"status": "pass"}`` as long as the process serves requests at
all: a liveness probe, which asks no other service (restarting a process because the
database is away cures nothing). ``/readyz`` checks what serving needs and answers::

    {"status": "pass" | "fail",
     "checks": {"database:responseTime": [{"componentType": "datastore",
                                           "status": "pass", "observedValue": 1.3,
                                           "observedUnit": "ms", "time": "…"}],
                "database:migrations": [{"status": "pass", "observedValue": 0,
                                         "observedUnit": "pending"}],
                "redis:responseTime": [...],          # only with a Redis BROADCAST_URL
                "jobs:runner": [{"componentType": "component", "status": "pass"}]}}

with 200 when every check passes, otherwise 503 and ``Retry-After``; a failed check
carries ``output`` (what failed, never internal text). Each service has
:data:`CHECK_TIMEOUT` seconds to answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from domain.availability import RETRY_AFTER
from infra.redis_clients import is_redis_url

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0  # seconds each service has to answer
MEDIA_TYPE = "application/health+json"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"
MIGRATIONS_TABLE = "tortoise_migrations"


class HealthResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _known_migrations() -> frozenset[str]:
    """The names of the migrations this code base holds (``0001_initial``, …)."""
    return frozenset(
        path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py") if not path.stem.startswith("_")
    )


KNOWN_MIGRATIONS = _known_migrations()


async def healthz(_request: Request) -> HealthResponse:
    """Liveness: 200 ``{"status": "pass"}`` while the process answers."""
    return HealthResponse({"status": "pass"})


async def readyz(request: Request) -> HealthResponse:
    """Readiness: every check of the module docstring; 503 with ``Retry-After`` when one
    fails."""
    settings = request.app.state.settings
    graphql = request.app.state.graphql
    probes: dict[str, tuple[str, Callable[[], Awaitable[object]]]] = {
        "database:responseTime": ("datastore", _select_one),
    }
    if is_redis_url(settings.broadcast_url):
        probes["redis:responseTime"] = ("datastore", graphql.sockets.ping)
    checks: dict[str, list[dict[str, Any]]] = {}
    results = await asyncio.gather(*(_timed(kind, probe) for kind, probe in probes.values()))
    checks.update((name, [result]) for name, result in zip(probes, results, strict=True))
    if checks["database:responseTime"][0]["status"] == "pass":
        checks["database:migrations"] = [await _migrations()]
    checks["jobs:runner"] = [_runner(request)]
    failed = [name for name, [check] in checks.items() if check["status"] == "fail"]
    if not failed:
        return HealthResponse({"status": "pass", "checks": checks})
    log.warning("Not ready: %s", ", ".join(failed))
    return HealthResponse(
        {"status": "fail", "checks": checks},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def _timed(kind: str, probe: Callable[[], Awaitable[object]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe()
    except Exception as error:
        return {
            "componentType": kind,
            "status": "fail",
            "output": f"does not answer ({type(error).__name__})",
            "time": _now(),
        }
    return {
        "componentType": kind,
        "status": "pass",
        "observedValue": round((time.perf_counter() - started) * 1000, 2),
        "observedUnit": "ms",
        "time": _now(),
    }


async def _select_one() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def _migrations() -> dict[str, Any]:
    """Whether every migration of this code base is applied to the database."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            _, rows = await connections.get("default").execute_query(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE app = 'models'"  # noqa: S608
            )
    except Exception as error:
        if not _no_such_table(error):
            return {"status": "fail", "output": f"cannot be read ({type(error).__name__})"}
        rows = []  # a database nobody migrated yet
    pending = sorted(KNOWN_MIGRATIONS - {row["name"] for row in rows})
    check: dict[str, Any] = {
        "status": "pass" if not pending else "fail",
        "observedValue": len(pending),
        "observedUnit": "pending",
        "time": _now(),
    }
    if pending:
        check["output"] = f"not applied: {', '.join(pending)}; run `extranet migrate`"
    return check


def _no_such_table(error: Exception) -> bool:
    text = str(error).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _runner(request: Request) -> dict[str, Any]:
    """The background runner polls when this process runs jobs (EXTRANET_JOBS)."""
    settings = request.app.state.settings
    jobs = request.app.state.jobs
    check: dict[str, Any] = {"componentType": "component", "time": _now()}
    if not settings.jobs_enabled:
        return {**check, "status": "pass", "output": "jobs run elsewhere (EXTRANET_JOBS=off)"}
    if jobs.running:
        return {**check, "status": "pass"}
    return {**check, "status": "fail", "output": "the background runner has stopped"}
