"""``/metrics``: after real traffic (sign-ins, queries, errors, a live subscription, mail)
the Prometheus metrics carry it with bounded labels, behind the metrics token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from app.metrics import OperationNames
from app.runner import JobRunner
from realtime.channels import project_channel
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.mail import SmtpServer, smtp_server_fixture  # noqa: F401 (the smtp_server fixture)
from tests.world import PASSWORD, World

TOKEN = "metrics-token-for-the-tests"
LOGIN = """mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
ME = "query MetricsMe { me { name } }"
MISSING = "query MetricsMissing($id: ID!) { node(id: $id) { id } }"
RESET = """mutation MetricsReset($email: String!) {
  requestPasswordReset(input: {email: $email}) { accepted } }"""
POST = """mutation MetricsPost($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } } }"""
TIMELINE = """subscription MetricsTimeline($project: ID!) { projectTimeline(projectId: $project) {
  ... on MicropostPosted { micropost { body } } } }"""

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def with_token(app: Starlette) -> Iterator[None]:
    """The application serves /metrics to bearers of TOKEN during the test."""
    settings = app.state.settings
    app.state.settings = replace(settings, metrics_token=TOKEN)
    try:
        yield
    finally:
        app.state.settings = settings


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


@pytest.mark.usefixtures("with_token")
async def test_metrics_count_real_traffic_with_its_labels(
    app: Starlette,
    client: httpx.AsyncClient,
    api: Api,
    world: World,
    address: str,
    smtp_server: SmtpServer,
) -> None:
    # given
    before = await scrape(client)
    # when: a wrong password, a named query, a refused ID, a reset mail, a live post
    await api(LOGIN, {"email": world.max.email, "password": "not-the-password"})
    assert (await api(ME, as_user=world.max)).data == {"me": {"name": world.max.name}}
    missing = await api(MISSING, {"id": gid(world.loyalty)}, as_user=world.max)
    assert missing.codes == ["NOT_FOUND"]
    assert (await api(RESET, {"email": world.max.email})).data
    token = api.token_for(world.max)
    async with GraphQLSocket.open(address, token) as socket:
        assert (await socket.receive())["type"] == "connection_ack"
        await socket.subscribe("1", TIMELINE, {"project": gid(world.portal)})
        await until_subscribed(app.state.bus, project_channel(world.portal.id))
        during = await scrape(client)
        await api(POST, {"project": gid(world.portal), "body": "measured"}, as_user=world.max)
        frame = await socket.receive()
        assert frame["payload"]["data"]["projectTimeline"]["micropost"]["body"] == "measured"
    await JobRunner(replace(app.state.settings, smtp_url=smtp_server.url), bus=None).run_due()
    await smtp_server.wait_for_messages(1)
    after = await scrape(client)

    # then
    def grew(name: str, by: float = 1, **labels: str) -> bool:
        return value(after, name, **labels) - value(before, name, **labels) >= by

    assert grew("extranet_graphql_operations_total", operation="MetricsMe", transport="http")
    assert grew("extranet_graphql_duration_seconds_count", operation="MetricsMe")
    assert grew("extranet_graphql_errors_total", operation="MetricsMissing", code="NOT_FOUND")
    assert (
        value(after, "extranet_graphql_errors_total", operation="MetricsMe", code="NOT_FOUND") == 0
    )
    assert grew("extranet_login_failures_total")
    assert grew("extranet_graphql_operations_total", operation="MetricsTimeline",
                transport="websocket")  # fmt: skip
    assert value(during, "extranet_websockets_open") >= 1
    assert value(during, "extranet_subscriptions_active") >= 1
    assert grew("extranet_fanout_lag_seconds_count")
    assert grew("extranet_mails_total", outcome="sent")
    assert grew("extranet_jobs_total", kind="mail.send", outcome="done")
    assert grew("extranet_jobs_lag_seconds_count")
    assert value(after, "extranet_websockets_open") == value(before, "extranet_websockets_open")


async def test_metrics_need_the_token_and_answer_404_without_one(
    client: httpx.AsyncClient, request: pytest.FixtureRequest
) -> None:
    # given no token set: nothing is served there
    assert (await client.get("/metrics")).status_code == 404
    # given a token: only its bearer reads them
    request.getfixturevalue("with_token")
    refused = await client.get("/metrics", headers={"Authorization": "Bearer wrong-token-123"})
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    assert "extranet_graphql" not in refused.text


@pytest.mark.usefixtures("with_token")
async def test_operation_labels_are_bounded(
    app: Starlette, client: httpx.AsyncClient, api: Api, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # given room for two names besides the registered operations
    graphql = app.state.graphql
    bounded = OperationNames(graphql.operation_names._registered, 2)
    monkeypatch.setattr(graphql, "operation_names", bounded)
    before = await scrape(client)
    # when five differently named queries, an anonymous one and a registered one come
    for number in range(5):
        await api(f"query Made{number} {{ me {{ id }} }}", as_user=world.max)
    await api("{ me { id } }", as_user=world.max)
    await api("query Account { me { id } }", as_user=world.max)
    after = await scrape(client)

    # then the first two have their names, the rest are one label
    def grew(operation: str) -> float:
        labels = {"operation": operation, "transport": "http"}
        return value(after, "extranet_graphql_operations_total", **labels) - value(
            before, "extranet_graphql_operations_total", **labels
        )

    assert [grew(f"Made{n}") for n in range(5)] == [1, 1, 0, 0, 0]
    assert grew("_other") == 3
    assert grew("_anonymous") == 1
    assert grew("Account") == 1
    names = {dict(labels).get("operation") for (_, labels) in after}
    assert not {"Made2", "Made3", "Made4"} & names
    assert PASSWORD not in str(after)
