"""The audit trail is readable by administrators only, filterable and paged, and nothing
in the API changes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from starlette.applications import Starlette

from actions._common import audit
from graphql_schema.denials import MAX_PER_MINUTE
from graphql_schema.relay import global_id
from models import AuditEntry
from tests.conftest import Api, gid
from tests.world import World

AUDIT = """
query ($first: Int = 20, $after: String, $action: String, $actor: ID, $target: String) {
  auditLog(first: $first, after: $after, action: $action, actorId: $actor, target: $target) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { action target clientAddress details actor { handle } createdAt } }
  }
}
"""

LOGIN = """mutation ($email: String!) {
  login(input: {email: $email, password: "wrong"}) { accessToken } }"""


async def test_administrators_read_the_trail_newest_first_and_narrow_it(
    api: Api, world: World
) -> None:
    # given a failed login and an entry about a page
    await api(LOGIN, {"email": "anna@acme.example"})
    await audit("page.restored", actor=world.sam, target="page:7", restored=2)
    # when the administrator reads the trail
    everything = await api(AUDIT, as_user=world.admin)
    failed = await api(AUDIT, {"action": "login.failed"}, as_user=world.admin)
    by_sam = await api(AUDIT, {"actor": gid(world.sam)}, as_user=world.admin)
    # then
    assert everything.errors == []
    nodes = [e["node"] for e in everything.data["auditLog"]["edges"]]
    assert nodes[0]["action"] == "page.restored"
    assert nodes[0]["details"] == {"restored": 2}
    assert [e["node"]["clientAddress"] for e in failed.data["auditLog"]["edges"]] == ["203.0.113.7"]
    sams = [e["node"] for e in by_sam.data["auditLog"]["edges"]]
    assert "page:7" in {node["target"] for node in sams}
    assert {node["actor"]["handle"] for node in sams} == {"sam"}


async def test_the_trail_comes_in_pages(api: Api, world: World) -> None:
    for n in range(5):
        await audit("watch.added", actor=world.sam, target=f"page:{n}")
    first = await api(AUDIT, {"first": 2, "action": "watch.added"}, as_user=world.admin)
    seen = [e["node"]["target"] for e in first.data["auditLog"]["edges"]]
    info = first.data["auditLog"]["pageInfo"]
    while info["hasNextPage"]:
        more = await api(
            AUDIT,
            {"first": 2, "after": info["endCursor"], "action": "watch.added"},
            as_user=world.admin,
        )
        seen += [e["node"]["target"] for e in more.data["auditLog"]["edges"]]
        info = more.data["auditLog"]["pageInfo"]
    assert seen == [f"page:{n}" for n in reversed(range(5))]


async def test_nobody_else_reads_the_trail(api: Api, world: World) -> None:
    await audit("login", actor=world.anna, target=f"user:{world.anna.id}")
    for reader in (world.sam, world.anna, world.gina):
        result = await api(AUDIT, as_user=reader)
        assert result.codes == ["FORBIDDEN"]
        assert result.data == {"auditLog": None}
    anonymous = await api(AUDIT)
    assert anonymous.codes == ["UNAUTHENTICATED"]


def test_no_operation_changes_or_removes_an_entry() -> None:
    from graphql_schema.schema import schema

    mutations = schema._schema.mutation_type
    assert mutations is not None
    assert not [name for name in mutations.fields if "audit" in name.lower()]


NOTES = "query ($id: ID!) { customer(id: $id) { name internalNotes } }"
PROJECT = "query ($id: ID!) { project(id: $id) { name } }"
NODE = "query ($id: ID!) { node(id: $id) { id } }"
CHANGE_STATUS = """mutation ($id: ID!) {
  changeProjectStatus(input: {projectId: $id, status: ON_HOLD}) { project { status } } }"""


async def _denials(app: Starlette) -> list[AuditEntry]:
    await app.state.graphql.process.denials.settled()  # written after the answer has gone
    return await AuditEntry.filter(action="permission.denied").order_by("id")


async def test_a_refused_field_is_recorded_with_who_and_where(
    api: Api, world: World, app: Starlette
) -> None:
    # when a contact asks for the account team's notes on her own customer
    result = await api(NOTES, {"id": gid(world.acme)}, as_user=world.anna)
    # then she gets the rest, the field is refused, and the trail records it
    assert result.codes == ["FORBIDDEN"]
    assert result.data["customer"]["name"] == "Acme Logistics"
    [entry] = await _denials(app)
    assert entry.actor_id == world.anna.id
    assert entry.target == "customer.internalNotes"
    assert entry.client_address == "203.0.113.7"
    assert entry.details["fields"] == ["customer.internalNotes"]
    assert entry.details["outside_scope"] == []


async def test_a_refused_mutation_is_recorded(api: Api, world: World, app: Starlette) -> None:
    result = await api(CHANGE_STATUS, {"id": gid(world.portal)}, as_user=world.max)
    assert result.codes == ["FORBIDDEN"]
    [entry] = await _denials(app)
    assert (entry.actor_id, entry.target) == (world.max.id, "changeProjectStatus")


@pytest.mark.parametrize("query", [PROJECT, NODE], ids=["project", "node"])
async def test_another_customers_id_is_recorded_though_the_answer_is_not_found(
    api: Api, world: World, query: str, app: Starlette
) -> None:
    # when gina (Globex) asks for Acme's project, and for one that does not exist
    foreign = await api(query, {"id": gid(world.portal)}, as_user=world.gina)
    missing = await api(query, {"id": global_id("Project", 999999)}, as_user=world.gina)
    # then both answers are the same NOT_FOUND
    assert foreign.codes == missing.codes == ["NOT_FOUND"]
    assert foreign.errors[0]["message"] == missing.errors[0]["message"]
    # and only the probe of an existing object outside her scope is recorded
    [entry] = await _denials(app)
    assert entry.actor_id == world.gina.id
    assert entry.target == f"Project:{world.portal.id}"
    assert entry.details["outside_scope"] == [f"Project:{world.portal.id}"]


async def test_permitted_reads_record_nothing(api: Api, world: World, app: Starlette) -> None:
    result = await api(NOTES, {"id": gid(world.acme)}, as_user=world.sam)
    assert result.errors == []
    assert await _denials(app) == []


async def test_a_prober_gets_a_bounded_number_of_entries(
    api: Api, world: World, app: Starlette
) -> None:
    # when gina tries more of Acme's IDs in a minute than the trail records
    for _ in range(MAX_PER_MINUTE + 5):
        probe = await api(PROJECT, {"id": gid(world.portal)}, as_user=world.gina)
        assert probe.codes == ["NOT_FOUND"]
    # then the trail holds MAX_PER_MINUTE entries of hers, and sam's refusal is not crowded out
    await api(CHANGE_STATUS, {"id": gid(world.portal)}, as_user=world.max)
    entries = await _denials(app)
    assert sum(e.actor_id == world.gina.id for e in entries) == MAX_PER_MINUTE
    assert sum(e.actor_id == world.max.id for e in entries) == 1


async def test_a_moment_written_with_any_offset_narrows_the_trail_as_the_same_moment_in_utc(
    api: Api, world: World
) -> None:
    # given an entry written now
    await audit("page.restored", actor=world.sam, target="page:7", restored=2)
    query = """query ($since: DateTime, $until: DateTime) {
      auditLog(since: $since, until: $until, action: "page.restored") { totalCount } }"""
    now = datetime.now(UTC)
    east, west = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
    # when the bounds are an hour around it, written in far-apart zones
    around = {
        "since": (now - timedelta(hours=1)).astimezone(east).isoformat(),
        "until": (now + timedelta(hours=1)).astimezone(west).isoformat(),
    }
    before = {"until": (now - timedelta(hours=1)).astimezone(east).isoformat()}
    after = {"since": (now + timedelta(hours=1)).astimezone(west).isoformat()}
    # then the entry is within the hour around it, and neither before nor after it
    counts = [
        (await api(query, bounds, as_user=world.admin)).data["auditLog"]["totalCount"]
        for bounds in (around, before, after)
    ]
    assert counts == [1, 0, 0]
