"""Prometheus metrics: where they are served and what the application records at its
central places (infra/metrics.py defines them).

Served on their own port (``EXTRANET_METRICS_PORT``, a plain HTTP server of
prometheus-client in the first process that binds it) or at ``GET /metrics`` of the
application behind ``Authorization: Bearer <EXTRANET_METRICS_TOKEN>``; with neither set
``/metrics`` answers 404. With ``PROMETHEUS_MULTIPROC_DIR`` set (``extranet serve --workers
N`` sets it to a fresh directory when it is not set) every process's values are summed.

The ``operation`` label is bounded by :class:`OperationNames`: the names of the clients'
registered operations, then the first ``EXTRANET_METRICS_MAX_OPERATIONS`` other names this
process sees, then :data:`infra.metrics.OTHER`; an operation without a name is
:data:`infra.metrics.ANONYMOUS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from graphql import GraphQLError, OperationDefinitionNode, parse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import connections

from infra import metrics
from models import Job
from models.jobs import JobStatus

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
SAMPLE_EVERY = 15.0  # seconds between two samples of the job queue and the database pool


def registered_names(documents: Iterable[str]) -> frozenset[str]:
    """The operation names that ``documents`` (GraphQL texts) define."""
    names: set[str] = set()
    for document in documents:
        with contextlib.suppress(GraphQLError):
            for definition in parse(document).definitions:
                if isinstance(definition, OperationDefinitionNode) and definition.name:
                    names.add(definition.name.value)
    return frozenset(names)


_FIRST_NAME = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
_LOOK_AT = 2000  # characters of a document to look for its operation's name in
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def _names(document: str, name: str) -> bool:
    """Whether ``document`` has an operation named ``name``."""
    return re.search(rf"\b(?:query|mutation|subscription)\s+{name}\b", document) is not None


class OperationNames:
    """The ``operation`` label of a request's operation name (see the module docstring)."""

    def __init__(self, registered: Iterable[str], most_others: int) -> None:
        self._registered = frozenset(registered)
        self._admitted: set[str] = set()
        self._most_others = most_others

    def label(self, name: object, document: object = None) -> str:
        """The label of ``name``, or of the first operation ``document`` names when the
        request names none (either may be anything a client sent)."""
        if not isinstance(name, str):
            name = None
        if not name and isinstance(document, str):
            found = _FIRST_NAME.search(document[:_LOOK_AT])
            name = found.group(1) if found else None
        if not name:
            return metrics.ANONYMOUS
        if name in self._registered or name in self._admitted:
            return name
        if not _NAME.fullmatch(name) or (isinstance(document, str) and not _names(document, name)):
            return metrics.OTHER  # not a name, or not one of the document's operations
        if len(self._admitted) < self._most_others and len(name) <= 100:
            self._admitted.add(name)
            return name
        return metrics.OTHER


def observe_operation(
    operation: str, transport: str, seconds: float | None, error_codes: Sequence[str]
) -> None:
    """Count one operation over ``transport`` (``http``, ``websocket``), its duration
    (None for a subscription, which lasts as long as its client wants) and the codes of
    its errors."""
    metrics.OPERATIONS.labels(operation, transport).inc()
    if seconds is not None:
        metrics.OPERATION_DURATION.labels(operation).observe(seconds)
    for code in error_codes:
        metrics.OPERATION_ERRORS.labels(operation, code).inc()


def error_codes(errors: Sequence[GraphQLError] | None) -> list[str]:
    """The ``extensions.code`` of each error (``INTERNAL`` when it has none)."""
    codes = []
    for error in errors or ():
        code = (error.extensions or {}).get("code")
        codes.append(code if isinstance(code, str) else "INTERNAL")
    return codes


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text format, for a bearer of the metrics token;
    404 when no token is set, 401 without the right one."""
    token = request.app.state.settings.metrics_token
    if not token:
        return JSONResponse({"errors": [{"message": "Not found.", "code": "NOT_FOUND"}]}, 404)
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JSONResponse(
            {"errors": [{"message": "Send the metrics token.", "code": "UNAUTHENTICATED"}]},
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def serve_on_port(port: int) -> None:
    """Serve the metrics on ``port`` of every address, unless another process of this
    deployment does already."""
    try:
        start_http_server(port, registry=_registry())
    except OSError:
        log.info("Metrics port %s is served by another process", port)


def process_exited() -> None:
    """This process's live gauges stop counting (multi-process mode)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _sample_pool() -> None:
    pool = getattr(connections.get("default"), "_pool", None)
    if pool is None:  # SQLite: one connection, no pool
        return
    metrics.DATABASE_POOL.labels("open").set(pool.get_size())
    metrics.DATABASE_POOL.labels("idle").set(pool.get_idle_size())
    metrics.DATABASE_POOL.labels("max").set(pool.get_max_size())


async def sample_queue() -> None:
    """Sample how many background jobs are due and not yet claimed."""
    due = await Job.filter(status=JobStatus.PENDING, run_at__lte=datetime.now(UTC)).count()
    metrics.JOBS_QUEUE_DEPTH.set(due)


async def keep_sampling(jobs: bool, every: float = SAMPLE_EVERY) -> None:
    """Sample the database pool (and, where jobs run, the job queue) until cancelled."""
    while True:
        started = time.monotonic()
        try:
            _sample_pool()
            if jobs:
                await sample_queue()
        except Exception:  # the database is away: the next round tries again
            log.debug("Sampling metrics failed", exc_info=True)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
