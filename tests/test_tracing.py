"""With tracing on, an operation is a span under the caller's ``traceparent``; its
statements (PostgreSQL) and Redis commands are spans of it; the live delivery of the event
it published is a span linked to it; and its webhook deliveries and mails carry its
``traceparent``. Tracing is off unless the ``OTEL_*`` variables ask for it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from app.db import is_postgres
from app.runner import JobRunner
from graphql_schema.process import SlowResolvers, trace_slow_resolvers
from graphql_schema.schema import schema
from infra import tracing
from infra.redis_clients import is_redis_url
from realtime.channels import project_channel
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.mail import SmtpServer, smtp_server_fixture  # noqa: F401 (the smtp_server fixture)
from tests.test_webhooks import Receiver, _create, receiver  # noqa: F401 (the receiver fixture)
from tests.world import World

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
POST = """mutation TracedPost($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id body } } }"""
RESET = """mutation TracedReset($email: String!) {
  requestPasswordReset(input: {email: $email}) { accepted } }"""
TIMELINE = """subscription TracedTimeline($project: ID!) { projectTimeline(projectId: $project) {
  ... on MicropostPosted { micropost { body } } } }"""


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on into memory for the test, every awaited resolver recorded."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider, resolver_threshold_ms=0)
    extensions = schema.extensions
    trace_slow_resolvers(schema)
    try:
        yield exporter
    finally:
        schema.extensions = extensions
        tracing.uninstall()


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


async def test_an_operation_traced_into_its_statements_delivery_webhook_and_mail(
    app: Starlette,
    api: Api,
    world: World,
    address: str,
    spans: InMemorySpanExporter,
    receiver: Receiver,  # noqa: F811 (the fixture imported)
    smtp_server: SmtpServer,
) -> None:
    # given a webhook endpoint, and max following the portal's timeline live
    await _create(api, world.admin, receiver.url)
    async with GraphQLSocket.open(address, api.token_for(world.max)) as socket:
        assert (await socket.receive())["type"] == "connection_ack"
        await socket.subscribe("1", TIMELINE, {"project": gid(world.portal)})
        await until_subscribed(app.state.bus, project_channel(world.portal.id))
        spans.clear()
        # when sam posts, with a traceparent of the caller's, and max asks for a reset
        headers = {"Authorization": f"Bearer {api.token_for(world.sam)}",
                   "traceparent": TRACEPARENT}  # fmt: skip
        variables = {"project": gid(world.portal), "body": "traced"}
        answer = await api.client.post("/graphql", json={"query": POST, "variables": variables},
                                       headers=headers)  # fmt: skip
        assert "errors" not in answer.json(), answer.json()
        frame = await socket.receive()
        assert frame["payload"]["data"]["projectTimeline"]["micropost"]["body"] == "traced"
    reset = {"query": RESET, "variables": {"email": world.max.email}}
    await api.client.post("/graphql", json=reset, headers={"traceparent": TRACEPARENT})
    await JobRunner(replace(app.state.settings, smtp_url=smtp_server.url), bus=None).run_due()
    [mail] = await smtp_server.wait_for_messages(1)

    # then the operation is a span under the caller's
    finished = spans.get_finished_spans()
    [operation] = [s for s in finished if s.name == "graphql TracedPost"]
    assert trace_id(operation) == TRACE_ID
    assert operation.parent is not None
    assert format(operation.parent.span_id, "016x") == PARENT_ID
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "TracedPost"
    # and its resolvers that awaited something are spans of it, recorded after the fact
    [resolver] = [s for s in finished if s.name == "resolve Mutation.postMicropost"]
    assert trace_id(resolver) == TRACE_ID
    # and its statements and Redis commands are spans of its trace
    ours = [s for s in finished if trace_id(s) == TRACE_ID]
    settings = app.state.settings
    if is_postgres(settings.database_url):
        assert any(s.attributes and s.attributes.get("db.system") == "postgresql" for s in ours)
    if is_redis_url(settings.broadcast_url):
        assert any(s.attributes and s.attributes.get("db.system") == "redis" for s in ours)
    # and the live delivery is a span linked to the operation
    [delivery] = [s for s in finished if s.name == "graphql.subscription.deliver"]
    assert [link.context.span_id for link in delivery.links] == [operation.context.span_id]
    # and the webhook delivery and the mail carry the operation's trace
    [(hook_headers, _)] = receiver.received
    assert hook_headers["traceparent"].split("-")[1] == TRACE_ID
    assert mail["traceparent"].split("-")[1] == TRACE_ID
    [mail_job] = [s for s in finished if s.name == "job mail.send"]
    assert trace_id(mail_job) == TRACE_ID


def test_tracing_is_off_unless_the_otel_variables_ask_for_it() -> None:
    assert not tracing.wanted({})
    assert not tracing.wanted({"OTEL_TRACES_EXPORTER": "none"})
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert not tracing.wanted(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    )
    # and the test suite's process runs without it
    assert not tracing.enabled() or "OTEL_TRACES_EXPORTER" in os.environ
    assert SlowResolvers not in schema.extensions
