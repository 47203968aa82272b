"""OpenTelemetry traces: off by default, on with the standard ``OTEL_*`` variables.

Tracing is on when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``) or
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, unless
``OTEL_SDK_DISABLED=true``; the SDK reads the rest (``OTEL_SERVICE_NAME``,
``OTEL_TRACES_SAMPLER``, ``OTEL_EXPORTER_OTLP_HEADERS``, …) itself. Then:

- each GraphQL operation is a span (``graphql.operation``), a child of the caller's
  ``traceparent`` header when it sends one;
- PostgreSQL statements and Redis commands are spans (the opentelemetry instrumentations
  of asyncpg and redis); SQLite's are not;
- resolvers slower than ``EXTRANET_TRACE_RESOLVERS_OVER_MS`` are recorded as spans after
  the fact (no span is opened per resolver);
- a published event carries its operation's ``traceparent``; its execution for the
  subscribers that share it is a span (``graphql.subscription.deliver``) linked to that
  operation;
- a background job enqueued by an operation runs in a span whose parent is that
  operation, so the ``traceparent`` header of its webhook deliveries and mails names it.

With tracing off every function here returns at its first line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Iterator, Mapping
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, SpanKind, Tracer

from infra import logging as logs
from infra.lru import LRU

T = TypeVar("T")

TRACEPARENT = "traceparent"
SERVICE_NAME = "extranet"


class _State:
    tracer: Tracer | None = None
    resolver_threshold: float = 0.1  # seconds
    origins: LRU[int, str] = LRU(4096)  # event id -> the traceparent of its operation


_state = _State()


def wanted(env: Mapping[str, str] | None = None) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces (see the module docstring)."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _exporter(env: Mapping[str, str]) -> SpanExporter:
    name = (env.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")[0].strip().lower()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure(resolver_threshold_ms: int, env: Mapping[str, str] | None = None) -> bool:
    """Start tracing when the environment asks for it (once per process); answers
    whether it is on."""
    env = os.environ if env is None else env
    if _state.tracer is not None or not wanted(env):
        return _state.tracer is not None
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter(env)))
    install(provider, resolver_threshold_ms)
    return True


def install(provider: TracerProvider, resolver_threshold_ms: int) -> None:
    """Trace into ``provider`` (tests give one with an in-memory exporter), instrumenting
    asyncpg and redis."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    _state.tracer = provider.get_tracer("extranet")
    _state.resolver_threshold = resolver_threshold_ms / 1000
    for instrumentor in (AsyncPGInstrumentor(), RedisInstrumentor()):  # type: ignore[no-untyped-call]
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    logs.current_trace_id = _current_trace_id


def uninstall() -> None:
    """Stop tracing (tests)."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    _state.tracer = None
    for instrumentor in (AsyncPGInstrumentor(), RedisInstrumentor()):  # type: ignore[no-untyped-call]
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    logs.current_trace_id = lambda: ""


def enabled() -> bool:
    return _state.tracer is not None


def _current_trace_id() -> str:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


@contextlib.contextmanager
def operation_span(
    name: str, transport: str, headers: Mapping[str, str] | None = None
) -> Iterator[None]:
    """A span for one GraphQL operation ``name``, a child of ``headers``'s
    ``traceparent``."""
    tracer = _state.tracer
    if tracer is None:
        yield
        return
    parent = extract(dict(headers)) if headers else None
    with tracer.start_as_current_span(
        f"graphql {name}",
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"graphql.operation.name": name, "extranet.transport": transport},
    ):
        logs.TRACE_ID.set(_current_trace_id())  # the log lines after it name this trace
        yield


def traceparent() -> str:
    """The current span's ``traceparent`` ("" when tracing is off or no span is open)."""
    if _state.tracer is None:
        return ""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get(TRACEPARENT, "")


def headers() -> dict[str, str]:
    """``{"traceparent": …}`` of the current span, or nothing."""
    value = traceparent()
    return {TRACEPARENT: value} if value else {}


def remember_origin(event_id: int, value: str) -> None:
    """The operation that published event ``event_id`` (its ``traceparent``)."""
    if _state.tracer is not None and value:
        _state.origins.put(event_id, value)


@contextlib.contextmanager
def delivery_span(event_id: int) -> Iterator[None]:
    """A span for executing event ``event_id`` once for the subscribers that share a
    selection and audience (not one per subscriber: a fan-out to thousands would cost
    several times the delivery), linked to the operation that published it."""
    tracer = _state.tracer
    if tracer is None:
        yield
        return
    links = []
    origin = _state.origins.get(event_id)
    if origin:
        span_context = trace.get_current_span(extract({TRACEPARENT: origin})).get_span_context()
        links.append(Link(span_context))
    with tracer.start_as_current_span(
        "graphql.subscription.deliver",
        kind=SpanKind.PRODUCER,
        links=links,
        attributes={"extranet.event.id": event_id},
    ):
        yield


async def in_job_span(kind: str, payload: Mapping[str, Any], job: Awaitable[T]) -> T:
    """Await ``job`` (running a background job of ``kind``) in a span that is a child of
    the operation that enqueued it."""
    tracer = _state.tracer
    if tracer is None:
        return await job
    origin = payload.get(TRACEPARENT)
    parent = extract({TRACEPARENT: origin}) if isinstance(origin, str) else None
    with tracer.start_as_current_span(
        f"job {kind}", context=parent, kind=SpanKind.CONSUMER, attributes={"extranet.job": kind}
    ):
        return await job


def with_origin(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` of a job being enqueued, with the current ``traceparent`` when tracing."""
    if _state.tracer is None:
        return payload
    value = traceparent()
    return {**payload, TRACEPARENT: value} if value else payload


def slow_resolver(path: str, started_ns: int, ended_ns: int) -> None:
    """Record a resolver that took from ``started_ns`` to ``ended_ns`` (time.time_ns) as a
    span, when it took longer than the threshold."""
    tracer = _state.tracer
    if tracer is None or (ended_ns - started_ns) / 1e9 < _state.resolver_threshold:
        return
    span = tracer.start_span(
        f"resolve {path}", start_time=started_ns, attributes={"graphql.field.path": path}
    )
    span.end(end_time=ended_ns)
