"""Projects through the API: the status workflow, creation, membership and pagination."""

from __future__ import annotations

import pytest

from actions import projects
from actions.projects import TRANSITIONS
from domain.wording import words
from graphql_schema.relay import global_id
from models import (
    AuditEntry,
    Event,
    EventKind,
    Project,
    ProjectMembership,
    ProjectStatus,
    ProjectStatusChange,
    Visibility,
)
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

S = ProjectStatus

CHANGE_STATUS = """
mutation ($input: ChangeProjectStatusInput!) {
  changeProjectStatus(input: $input) {
    project { status allowedTransitions }
    statusChange { fromStatus toStatus reason actor { handle } }
  }
}
"""

STATUS_HISTORY = """
query ($id: ID!) {
  project(id: $id) {
    status
    statusHistory(first: 100) {
      totalCount
      edges { node { fromStatus toStatus reason actor { handle } } }
    }
  }
}
"""

CREATE_PROJECT = """
mutation ($input: CreateProjectInput!) {
  createProject(input: $input) {
    project {
      name status budget descriptionHtml
      customer { slug }
      members { totalCount edges { node { handle } } }
    }
  }
}
"""

ADD_MEMBER = """
mutation ($input: ProjectMemberInput!) {
  addProjectMember(input: $input) { project { name } user { handle } }
}
"""

REMOVE_MEMBER = ADD_MEMBER.replace("addProjectMember", "removeProjectMember")

MEMBERS = (
    "query ($id: ID!) { project(id: $id) { members { totalCount edges { node { handle } } } } }"
)

PROJECT_NAME = "query ($id: ID!) { project(id: $id) { name } }"

PROJECTS = """
query ($first: Int!, $after: String, $status: ProjectStatus) {
  projects(first: $first, after: $after, status: $status) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name } }
  }
}
"""

# The path from PROPOSED to each open state.
PATH_TO = {S.PROPOSED: [], S.ACTIVE: [S.ACTIVE], S.ON_HOLD: [S.ACTIVE, S.ON_HOLD]}
ALLOWED = [(start, target) for start in PATH_TO for target in TRANSITIONS[start]]


async def _move(world: World, bus: EventBus, project: Project, path: list[ProjectStatus]) -> None:
    for status in path:
        await projects.change_project_status(world.sam, bus, project_id=project.id, status=status)


async def _workflow_rows(project: Project) -> tuple[int, int]:
    changes = await ProjectStatusChange.filter(project_id=project.id).count()
    events = await Event.filter(
        project_id=project.id, kind=EventKind.PROJECT_STATUS_CHANGED
    ).count()
    return changes, events


def _status_input(project: Project, status: ProjectStatus, reason: str = "") -> dict[str, object]:
    return {"input": {"projectId": gid(project), "status": status.value, "reason": reason}}


def _member_input(project: Project, user: object) -> dict[str, object]:
    return {"input": {"projectId": gid(project), "userId": gid(user)}}


@pytest.mark.parametrize(("start", "target"), ALLOWED)
async def test_every_allowed_transition_is_made_and_recorded(
    api: Api, world: World, bus: EventBus, start: ProjectStatus, target: ProjectStatus
) -> None:
    # given
    await _move(world, bus, world.portal, PATH_TO[start])
    # when
    result = await api(
        CHANGE_STATUS, _status_input(world.portal, target, " client asked "), as_user=world.sam
    )
    # then
    change = {
        "fromStatus": start.value,
        "toStatus": target.value,
        "reason": "client asked",
        "actor": {"handle": "sam"},
    }
    allowed = [s.value for s in TRANSITIONS[target]]
    assert result.errors == []
    assert result.data["changeProjectStatus"] == {
        "project": {"status": target.value, "allowedTransitions": allowed},
        "statusChange": change,
    }
    history = (await api(STATUS_HISTORY, {"id": gid(world.portal)}, as_user=world.max)).data
    assert history["project"]["status"] == target.value
    assert history["project"]["statusHistory"]["totalCount"] == len(PATH_TO[start]) + 1
    assert history["project"]["statusHistory"]["edges"][-1]["node"] == change
    assert await _workflow_rows(world.portal) == (len(PATH_TO[start]) + 1,) * 2
    event = await Event.filter(project_id=world.portal.id).order_by("-id").first()
    assert event is not None
    assert (event.kind, event.actor_id, event.visibility, event.payload["to"]) == (
        EventKind.PROJECT_STATUS_CHANGED,
        world.sam.id,
        Visibility.SHARED,
        target.value,
    )


async def test_status_history_lists_the_whole_workflow_oldest_first(api: Api, world: World) -> None:
    # given
    steps = [(world.sam, S.ACTIVE), (world.admin, S.ON_HOLD), (world.sam, S.ACTIVE)]
    steps.append((world.admin, S.COMPLETED))
    for actor, status in steps:
        result = await api(CHANGE_STATUS, _status_input(world.pilot, status, "step"), as_user=actor)
        assert result.errors == []
    # when
    result = await api(STATUS_HISTORY, {"id": gid(world.pilot)}, as_user=world.anna)
    # then
    edges = result.data["project"]["statusHistory"]["edges"]
    assert [
        (e["node"]["fromStatus"], e["node"]["toStatus"], e["node"]["actor"]["handle"])
        for e in edges
    ] == [
        ("PROPOSED", "ACTIVE", "sam"),
        ("ACTIVE", "ON_HOLD", "admin"),
        ("ON_HOLD", "ACTIVE", "sam"),
        ("ACTIVE", "COMPLETED", "admin"),
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], S.COMPLETED),
        ([], S.ON_HOLD),
        ([], S.PROPOSED),
        ([S.ACTIVE], S.ACTIVE),
        ([S.ACTIVE], S.PROPOSED),
        ([S.ACTIVE, S.ON_HOLD], S.ON_HOLD),
        ([S.ACTIVE, S.COMPLETED], S.ACTIVE),
        ([S.ACTIVE, S.COMPLETED], S.CANCELLED),
        ([S.CANCELLED], S.ACTIVE),
    ],
)
async def test_an_invalid_transition_names_the_allowed_ones_and_writes_nothing(
    api: Api, world: World, bus: EventBus, path: list[ProjectStatus], target: ProjectStatus
) -> None:
    # given
    await _move(world, bus, world.portal, path)
    current = path[-1] if path else S.PROPOSED
    allowed = [s.value for s in TRANSITIONS[current]]
    before = await _workflow_rows(world.portal)
    # when
    result = await api(CHANGE_STATUS, _status_input(world.portal, target), as_user=world.sam)
    # then
    assert result.data == {"changeProjectStatus": None}
    assert result.codes == ["BAD_USER_INPUT"]
    error = result.errors[0]
    assert error["extensions"]["allowedStatuses"] == allowed
    assert f"{words(current)} project cannot become {words(target)}." in error["message"]
    for status in [words(s) for s in TRANSITIONS[current]] or ["none (it is closed)"]:
        assert status in error["message"]
    assert await _workflow_rows(world.portal) == before
    assert (await Project.get(id=world.portal.id)).status is current


@pytest.mark.parametrize(
    ("name", "reason", "code"),
    [
        ("stan", "", "FORBIDDEN"),  # staff, but not on Acme's account team
        ("anna", "", "FORBIDDEN"),
        ("max", "", "FORBIDDEN"),
        ("gina", "", "NOT_FOUND"),
        ("sam", "x" * 2_001, "BAD_USER_INPUT"),  # the reason is too long
    ],
)
async def test_a_refused_status_change_writes_nothing(
    api: Api, world: World, name: str, reason: str, code: str
) -> None:
    # when
    variables = _status_input(world.portal, S.ACTIVE, reason)
    result = await api(CHANGE_STATUS, variables, as_user=world.users()[name])
    # then
    assert result.data == {"changeProjectStatus": None}
    assert result.codes == [code]
    assert await _workflow_rows(world.portal) == (0, 0)
    assert (await Project.get(id=world.portal.id)).status is S.PROPOSED


async def test_the_account_team_creates_a_project_with_members(api: Api, world: World) -> None:
    # given
    new_input = {
        "customerId": gid(world.acme),
        "name": "  Acme returns desk  ",
        "description": "A *small* start",
        "budget": "2500.5",
        "memberIds": [gid(world.mia)],
    }
    # when
    result = await api(CREATE_PROJECT, {"input": new_input}, as_user=world.sam)
    # then
    assert result.errors == []
    assert result.data["createProject"]["project"] == {
        "name": "Acme returns desk",
        "status": "PROPOSED",
        "budget": "2500.50",
        "descriptionHtml": "<p>A <em>small</em> start</p>\n",
        "customer": {"slug": "acme"},
        "members": {"totalCount": 1, "edges": [{"node": {"handle": "mia"}}]},
    }
    project = await Project.get(name="Acme returns desk")
    memberships = await ProjectMembership.filter(project_id=project.id)
    assert [m.user_id for m in memberships] == [world.mia.id]
    assert await AuditEntry.filter(
        action="project.created", target=f"project:{project.id}"
    ).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"budget": "-1"}, "budget"),
        ({"description": "x" * 20_001}, "description"),
    ],
)
async def test_invalid_project_input_is_refused_and_writes_nothing(
    api: Api, world: World, change: dict[str, object], field: str
) -> None:
    # given
    before = await Project.all().count()
    new_input = {"customerId": gid(world.acme), "name": "Acme new", **change}
    # when
    result = await api(CREATE_PROJECT, {"input": new_input}, as_user=world.sam)
    # then: refused by the action, or before it ran (a text over the limit)
    assert not (result.data or {}).get("createProject")
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field
    assert await Project.all().count() == before


async def test_a_project_with_another_customers_contact_is_not_created(
    api: Api, world: World
) -> None:
    # given
    before = (await Project.all().count(), await ProjectMembership.all().count())
    new_input = {"customerId": gid(world.acme), "name": "Acme new", "memberIds": [gid(world.gus)]}
    # when
    result = await api(CREATE_PROJECT, {"input": new_input}, as_user=world.sam)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert "contacts of the project's customer" in result.errors[0]["message"]
    assert (await Project.all().count(), await ProjectMembership.all().count()) == before
    assert not await Project.filter(name="Acme new").exists()


@pytest.mark.parametrize(
    ("name", "code"),
    [("stan", "FORBIDDEN"), ("olivia", "FORBIDDEN"), ("anna", "FORBIDDEN"), ("gina", "NOT_FOUND")],
)
async def test_only_the_account_team_or_an_admin_creates_projects(
    api: Api, world: World, name: str, code: str
) -> None:
    # given
    before = await Project.all().count()
    new_input = {"customerId": gid(world.acme), "name": "Acme side project"}
    # when
    result = await api(CREATE_PROJECT, {"input": new_input}, as_user=world.users()[name])
    # then
    assert result.codes == [code]
    assert await Project.all().count() == before


async def test_members_lists_the_project_members(api: Api, world: World) -> None:
    # when
    result = await api(MEMBERS, {"id": gid(world.portal)}, as_user=world.anna)
    # then
    assert result.data["project"]["members"] == {
        "totalCount": 1,
        "edges": [{"node": {"handle": "max"}}],
    }


@pytest.mark.parametrize("actor", ["sam", "anna", "admin"])
async def test_a_manager_adds_a_contact_who_then_sees_the_project(
    api: Api, world: World, actor: str
) -> None:
    # when
    result = await api(
        ADD_MEMBER, _member_input(world.portal, world.mia), as_user=world.users()[actor]
    )
    # then
    assert result.errors == []
    assert result.data["addProjectMember"] == {
        "project": {"name": "Acme warehouse portal"},
        "user": {"handle": "mia"},
    }
    members = (await api(MEMBERS, {"id": gid(world.portal)}, as_user=world.mia)).data
    edges = members["project"]["members"]["edges"]
    assert sorted(edge["node"]["handle"] for edge in edges) == ["max", "mia"]
    assert await AuditEntry.filter(action="project.member_added").count() == 1


async def test_adding_a_member_twice_keeps_one_membership(api: Api, world: World) -> None:
    # when
    for _ in range(2):
        result = await api(ADD_MEMBER, _member_input(world.portal, world.max), as_user=world.sam)
        assert result.errors == []
    # then
    assert await ProjectMembership.filter(project_id=world.portal.id).count() == 1
    assert await AuditEntry.filter(action="project.member_added").count() == 0


@pytest.mark.parametrize(
    ("actor", "user", "code"),
    [
        ("max", "mia", "FORBIDDEN"),  # a plain contact manages nobody
        ("stan", "mia", "FORBIDDEN"),  # staff off the account team
        ("sam", "gus", "BAD_USER_INPUT"),  # staff know gus exists, but he is Globex's
        ("anna", "gus", "NOT_FOUND"),  # to Acme's lead contact, gus does not exist
        ("gina", "gus", "NOT_FOUND"),  # the project is Acme's
        ("anna", "stan", "FORBIDDEN"),  # staff membership is the provider's decision
    ],
)
async def test_adding_a_member_is_refused_and_writes_nothing(
    api: Api, world: World, actor: str, user: str, code: str
) -> None:
    # given
    users = world.users()
    before = await ProjectMembership.all().count()
    # when
    result = await api(ADD_MEMBER, _member_input(world.portal, users[user]), as_user=users[actor])
    # then
    assert result.data == {"addProjectMember": None}
    assert result.codes == [code]
    assert await ProjectMembership.all().count() == before
    assert not await AuditEntry.filter(action="project.member_added").exists()


async def test_a_removed_member_no_longer_sees_the_project(api: Api, world: World) -> None:
    # when
    result = await api(REMOVE_MEMBER, _member_input(world.portal, world.max), as_user=world.sam)
    # then
    assert result.errors == []
    assert result.data["removeProjectMember"]["user"] == {"handle": "max"}
    assert not await ProjectMembership.filter(project_id=world.portal.id).exists()
    assert await AuditEntry.filter(action="project.member_removed").count() == 1
    gone = await api(PROJECT_NAME, {"id": gid(world.portal)}, as_user=world.max)
    assert gone.codes == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("actor", "user", "code"),
    [
        ("sam", "mia", "NOT_FOUND"),  # not a member
        ("max", "max", "FORBIDDEN"),
        ("gina", "max", "NOT_FOUND"),
        ("anna", "stan", "FORBIDDEN"),  # staff membership is the provider's decision
    ],
)
async def test_removing_a_member_is_refused_and_writes_nothing(
    api: Api, world: World, actor: str, user: str, code: str
) -> None:
    # given
    users = world.users()
    await projects.add_project_member(world.sam, project_id=world.portal.id, user_id=world.stan.id)
    # when
    result = await api(
        REMOVE_MEMBER, _member_input(world.portal, users[user]), as_user=users[actor]
    )
    # then
    assert result.codes == [code]
    assert await ProjectMembership.filter(project_id=world.portal.id).count() == 2
    assert not await AuditEntry.filter(action="project.member_removed").exists()


@pytest.mark.parametrize(
    ("viewer", "names"),
    [
        ("sam", ["Acme warehouse portal", "Acme fleet pilot", "Globex loyalty app"]),
        ("anna", ["Acme warehouse portal", "Acme fleet pilot"]),
        ("max", ["Acme warehouse portal"]),
        ("gus", ["Globex loyalty app"]),
    ],
)
async def test_projects_are_paged_without_gaps_within_the_viewers_reach(
    api: Api, world: World, viewer: str, names: list[str]
) -> None:
    # given
    seen: list[str] = []
    after = None
    # when
    for _ in range(len(names) + 1):
        variables = {"first": 1, "after": after}
        page = (await api(PROJECTS, variables, as_user=world.users()[viewer])).data["projects"]
        assert page["totalCount"] == len(names)
        seen += [edge["node"]["name"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    # then
    assert seen == names


@pytest.mark.parametrize("node_id", [0, -5, 3_000_000_000, 10**30])
async def test_a_forged_project_id_is_not_found(api: Api, world: World, node_id: int) -> None:
    # when
    result = await api(PROJECT_NAME, {"id": global_id("Project", node_id)}, as_user=world.sam)
    # then
    assert result.data == {"project": None}
    assert result.codes == ["NOT_FOUND"]


async def test_projects_filter_by_status(api: Api, world: World, bus: EventBus) -> None:
    # given
    await _move(world, bus, world.pilot, [S.ACTIVE])
    # when
    result = await api(PROJECTS, {"first": 10, "status": "ACTIVE"}, as_user=world.anna)
    # then
    assert result.data["projects"]["edges"] == [{"node": {"name": "Acme fleet pilot"}}]
