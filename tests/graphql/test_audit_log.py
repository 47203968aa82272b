"""The audit trail is readable by administrators only, filterable and paged, and nothing
in the API changes it."""

from __future__ import annotations

from app.actions._common import audit
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
