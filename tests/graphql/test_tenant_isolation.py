"""Nothing of another customer ever reaches a contact: an ID of another tenant's object
answers exactly as an ID that does not exist, in queries, nested fields and mutations."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from tortoise import Tortoise

from graphql_schema.relay import global_id
from models import PageRevision, User
from tests.conftest import Api, Result, gid
from tests.world import World

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on Customer { name slug }
    ... on Project { name description }
    ... on Page { title body }
    ... on PageRevision { title body }
    ... on Micropost { body }
    ... on User { name handle }
    ... on Topic { name }
  }
}
"""
CUSTOMER = "query Customer($id: ID!) { customer(id: $id) { id name } }"
PROJECT = "query Project($id: ID!) { project(id: $id) { id name } }"
PAGE = "query Page($id: ID!) { page(id: $id) { id title body } }"
TOPIC = "query Topic($name: String!) { topic(name: $name) { id name } }"
PROJECTS = """
query Projects($customerId: ID) {
  projects(customerId: $customerId) { totalCount edges { node { id name } } }
}
"""
MY_PROJECTS = "{ me { customer { projects { totalCount edges { node { id name } } } } } }"
CUSTOMERS = "{ customers { totalCount edges { node { id name } } } }"
MY_CUSTOMER = """
{
  me {
    customer {
      name
      accountTeam { name }
      contacts { totalCount edges { node { name } } }
      projects { totalCount edges { node { name members { edges { node { name } } } } } }
    }
  }
}
"""
TOPIC_POSTS = """
query TopicPosts($name: String!) {
  topic(name: $name) {
    name
    microposts { totalCount edges { node { body project { name } } } }
  }
}
"""
PROJECT_CONTENT = """
query ProjectContent($id: ID!) {
  project(id: $id) {
    timeline { totalCount edges { node { id body } } }
    pages { totalCount edges { node { id title } } }
  }
}
"""
POST_MICROPOST = """
mutation Post($id: ID!, $body: String!, $visibility: Visibility! = SHARED) {
  postMicropost(input: {projectId: $id, body: $body, visibility: $visibility}) {
    micropost { id body mentions { name } topics { id name } }
  }
}
"""

ACME_TOPIC = "acme-merger"

# What an Acme object is called in `acme_ids`, and its GraphQL type.
ACME_OBJECTS = {
    "acme": "Customer",
    "portal": "Project",
    "pilot": "Project",
    "portal_page": "Page",
    "portal_internal_page": "Page",
    "portal_post": "Micropost",
    "portal_internal_post": "Micropost",
    "anna": "User",
    "max": "User",
    "mia": "User",
    "revision": "PageRevision",
    "topic": "Topic",
}


def mutation(field: str, arguments: str, selection: str) -> str:
    """A mutation naming a foreign object as `$id` (and maybe one of Globex's as `$own`)."""
    own = ", $own: ID!" if "$own" in arguments else ""
    return f"mutation($id: ID!{own}) {{ {field}(input: {{{arguments}}}) {{ {selection} }} }}"


_INVITE = 'email: "new@globex.example", name: "New"'
# case: (document, the Acme object used as `$id`, the Globex object used as `$own`)
MUTATIONS = {
    "postMicropost": (
        mutation("postMicropost", 'projectId: $id, body: "hi"', "micropost { id }"),
        "portal",
        None,
    ),
    "postMicropost-reply": (
        mutation(
            "postMicropost", 'projectId: $own, body: "hi", inReplyToId: $id', "micropost { id }"
        ),
        "portal_post",
        "loyalty",
    ),
    "editMicropost": (
        mutation("editMicropost", 'micropostId: $id, body: "mine"', "micropost { id body }"),
        "portal_post",
        None,
    ),
    "createPage": (
        mutation("createPage", 'projectId: $id, title: "T"', "page { id }"),
        "portal",
        None,
    ),
    "updatePage": (
        mutation("updatePage", 'pageId: $id, baseRevision: 1, body: "x"', "page { id body }"),
        "portal_page",
        None,
    ),
    "restorePageRevision": (
        mutation(
            "restorePageRevision", "pageId: $id, revision: 1, baseRevision: 1", "page { id body }"
        ),
        "portal_page",
        None,
    ),
    "discardPageDraft": (
        mutation("discardPageDraft", "pageId: $id", "discarded"),
        "portal_page",
        None,
    ),
    "movePage-page": (
        mutation("movePage", "pageId: $id, fromParentId: null", "page { id title }"),
        "portal_page",
        None,
    ),
    "movePage-parent": (
        mutation(
            "movePage", "pageId: $own, parentId: $id, fromParentId: null", "page { id title }"
        ),
        "portal_page",
        "loyalty_page",
    ),
    "setPageEditing": (
        mutation("setPageEditing", "pageId: $id, editing: true", "editing"),
        "portal_page",
        None,
    ),
    "changeProjectStatus": (
        mutation("changeProjectStatus", "projectId: $id, status: ACTIVE", "project { status }"),
        "portal",
        None,
    ),
    "createProject": (
        mutation("createProject", 'customerId: $id, name: "P"', "project { id }"),
        "acme",
        None,
    ),
    "addProjectMember-project": (
        mutation("addProjectMember", "projectId: $id, userId: $own", "project { id }"),
        "portal",
        "gina",
    ),
    "addProjectMember-user": (
        mutation("addProjectMember", "projectId: $own, userId: $id", "user { id name }"),
        "max",
        "loyalty",
    ),
    "removeProjectMember-project": (
        mutation("removeProjectMember", "projectId: $id, userId: $own", "project { id }"),
        "portal",
        "gus",
    ),
    "removeProjectMember-user": (
        mutation("removeProjectMember", "projectId: $own, userId: $id", "user { id name }"),
        "max",
        "loyalty",
    ),
    "inviteContact-customer": (
        mutation("inviteContact", f"customerId: $id, {_INVITE}", "invitation { email }"),
        "acme",
        None,
    ),
    "inviteContact-project": (
        mutation(
            "inviteContact",
            f"customerId: $own, {_INVITE}, projectIds: [$id]",
            "invitation { email }",
        ),
        "portal",
        "globex",
    ),
    **{
        f"watch-{key}": (mutation("watch", "targetId: $id", "watch { id }"), key, None)
        for key in ("acme", "pilot", "portal_page", "topic")
    },
    "unwatch": (mutation("unwatch", "targetId: $id", "removed"), "portal", None),
    "removeContact": (mutation("removeContact", "userId: $id", "contact { id }"), "max", None),
}


async def acme_ids(api: Api, world: World) -> dict[str, str]:
    """Global IDs of Acme's objects, including a revision and a topic only Acme uses."""
    posted = await api(
        POST_MICROPOST,
        {"id": gid(world.portal), "body": f"Acme merger talks #{ACME_TOPIC}"},
        as_user=world.sam,
    )
    assert posted.errors == []
    [topic] = posted.data["postMicropost"]["micropost"]["topics"]
    revision = await PageRevision.get(page_id=world.portal_page.id, number=1)
    ids = {key: gid(getattr(world, key)) for key in ACME_OBJECTS if hasattr(world, key)}
    return {**ids, "revision": gid(revision), "topic": topic["id"]}


def missing(type_name: str) -> str:
    return global_id(type_name, 999999)


def answer(result: Result) -> dict[str, Any]:
    """The whole response except where in the document the errors arose."""
    errors = [{k: v for k, v in e.items() if k not in ("path", "locations")} for e in result.errors]
    return {"data": result.data, "errors": errors}


def traces_of_acme(result: Result, ids: dict[str, str]) -> list[str]:
    """Acme names, texts and IDs that appear anywhere in the response."""
    text = json.dumps(result.body)
    found = ["acme"] if "acme" in text.lower() else []
    found += [f"{key}:{value}" for key, value in ids.items() if f'"{value}"' in text]
    found += [name for name in ('"Anna"', '"Max"', '"Mia"') if name in text]
    return found


async def row_counts() -> dict[str, int]:
    """Rows in every table but the audit log (which may record refusals), and active users."""
    tables = Tortoise.apps["models"].items()
    counts = {name: await model.all().count() for name, model in tables if name != "AuditEntry"}
    return {**counts, "active users": await User.filter(is_active=True).count()}


def names(connection: dict[str, Any], key: str = "name") -> list[str]:
    return [edge["node"][key] for edge in connection["edges"]]


@pytest.mark.parametrize("viewer", ["gina", "gus"])
@pytest.mark.parametrize("key", ACME_OBJECTS)
async def test_node_with_an_acme_id_answers_like_a_missing_id(
    api: Api, world: World, viewer: str, key: str
) -> None:
    # given
    ids = await acme_ids(api, world)
    user = world.users()[viewer]
    # when
    foreign = await api(NODE, {"id": ids[key]}, as_user=user)
    absent = await api(NODE, {"id": missing(ACME_OBJECTS[key])}, as_user=user)
    # then
    assert foreign.codes == ["NOT_FOUND"]
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, ids) == []


@pytest.mark.parametrize(
    ("query", "key", "type_name"),
    [
        (CUSTOMER, "acme", "Customer"),
        (PROJECT, "portal", "Project"),
        (PROJECT, "pilot", "Project"),
        (PAGE, "portal_page", "Page"),
        (PAGE, "portal_internal_page", "Page"),
    ],
    ids=["customer", "project-portal", "project-pilot", "page", "page-internal"],
)
async def test_typed_lookup_with_an_acme_id_answers_like_a_missing_id(
    api: Api, world: World, query: str, key: str, type_name: str
) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    foreign = await api(query, {"id": ids[key]}, as_user=world.gina)
    absent = await api(query, {"id": missing(type_name)}, as_user=world.gina)
    # then
    assert foreign.codes == ["NOT_FOUND"]
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, ids) == []


async def test_a_topic_only_acme_uses_answers_like_a_missing_topic(api: Api, world: World) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    foreign = await api(TOPIC, {"name": ACME_TOPIC}, as_user=world.gina)
    absent = await api(TOPIC, {"name": "no-such-topic"}, as_user=world.gina)
    # then
    assert foreign.codes == ["NOT_FOUND"]
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, ids) == []


async def test_customers_lists_only_the_contacts_own_customer(api: Api, world: World) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    result = await api(CUSTOMERS, as_user=world.gina)
    # then
    assert result.errors == []
    assert result.data["customers"]["totalCount"] == 1
    assert names(result.data["customers"]) == ["Globex Retail"]
    assert traces_of_acme(result, ids) == []


@pytest.mark.parametrize("viewer", ["gina", "gus"])
async def test_projects_lists_and_counts_only_own_projects(
    api: Api, world: World, viewer: str
) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    result = await api(PROJECTS, as_user=world.users()[viewer])
    # then
    assert result.errors == []
    assert result.data["projects"]["totalCount"] == 1
    assert names(result.data["projects"]) == ["Globex loyalty app"]
    assert traces_of_acme(result, ids) == []


async def test_projects_filtered_by_an_acme_id_answers_like_a_missing_customer(
    api: Api, world: World
) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    foreign = await api(PROJECTS, {"customerId": ids["acme"]}, as_user=world.gina)
    absent = await api(PROJECTS, {"customerId": missing("Customer")}, as_user=world.gina)
    # then
    assert foreign.data["projects"]["totalCount"] == 0
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, ids) == []


async def test_nested_fields_of_the_own_customer_hold_nothing_of_acme(
    api: Api, world: World
) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    result = await api(MY_CUSTOMER, as_user=world.gina)
    # then
    assert result.errors == []
    customer = result.data["me"]["customer"]
    assert customer["accountTeam"] == [{"name": "Olivia"}]
    assert customer["contacts"]["totalCount"] == 2
    assert sorted(names(customer["contacts"])) == ["Gina", "Gus"]
    assert customer["projects"]["totalCount"] == 1
    assert names(customer["projects"]["edges"][0]["node"]["members"]) == ["Gus"]
    assert traces_of_acme(result, ids) == []


async def test_a_shared_topic_lists_only_the_contacts_own_posts(api: Api, world: World) -> None:
    # given: both customers post under #launch
    ids = await acme_ids(api, world)
    # when
    result = await api(TOPIC_POSTS, {"name": "launch"}, as_user=world.gina)
    # then
    assert result.errors == []
    posts = result.data["topic"]["microposts"]
    assert posts["totalCount"] == 1
    assert names(posts, "body") == ["Globex coupons ready #launch"]
    assert traces_of_acme(result, ids) == []


async def test_mentioning_an_acme_handle_links_nobody(api: Api, world: World) -> None:
    # given
    ids = await acme_ids(api, world)
    # when
    result = await api(
        POST_MICROPOST,
        {"id": gid(world.loyalty), "body": "ping @max and @anna"},
        as_user=world.gina,
    )
    # then
    assert result.errors == []
    assert result.data["postMicropost"]["micropost"]["mentions"] == []
    assert traces_of_acme(result, ids) == []


@pytest.mark.parametrize("case", MUTATIONS)
async def test_mutation_on_an_acme_id_answers_like_a_missing_id_and_changes_nothing(
    api: Api, world: World, case: str
) -> None:
    # given
    ids = await acme_ids(api, world)
    query, key, own = MUTATIONS[case]
    own_ids = {"loyalty": gid(world.loyalty), "globex": gid(world.globex)}
    own_ids |= {"gina": gid(world.gina), "gus": gid(world.gus)}
    own_ids |= {"loyalty_page": gid(world.loyalty_page)}
    variables = {"own": own_ids[own]} if own else {}
    before = await row_counts()
    # when
    foreign = await api(query, {**variables, "id": ids[key]}, as_user=world.gina)
    absent = await api(query, {**variables, "id": missing(ACME_OBJECTS[key])}, as_user=world.gina)
    # then
    assert foreign.codes == ["NOT_FOUND"]
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, ids) == []
    assert await row_counts() == before


@pytest.mark.parametrize(
    ("query", "path"),
    [(PROJECTS, ("projects",)), (MY_PROJECTS, ("me", "customer", "projects"))],
    ids=["projects", "customer.projects"],
)
async def test_a_contact_in_no_project_sees_no_project(
    api: Api, world: World, query: str, path: tuple[str, ...]
) -> None:
    # when
    result = await api(query, as_user=world.mia)
    # then
    assert result.errors == []
    found = result.data
    for key in path:
        found = found[key]
    assert found == {"totalCount": 0, "edges": []}


async def test_a_contact_member_sees_only_the_projects_they_are_in(api: Api, world: World) -> None:
    # when
    result = await api(PROJECTS, as_user=world.max)
    # then
    assert result.errors == []
    assert result.data["projects"]["totalCount"] == 1
    assert names(result.data["projects"]) == ["Acme warehouse portal"]


@pytest.mark.parametrize(("viewer", "project"), [("max", "pilot"), ("mia", "portal")])
async def test_a_project_of_the_own_customer_outside_membership_is_not_found(
    api: Api, world: World, viewer: str, project: str
) -> None:
    # given
    user = world.users()[viewer]
    # when
    foreign = await api(PROJECT, {"id": gid(getattr(world, project))}, as_user=user)
    absent = await api(PROJECT, {"id": missing("Project")}, as_user=user)
    # then
    assert foreign.codes == ["NOT_FOUND"]
    assert answer(foreign) == answer(absent)


@pytest.mark.parametrize("viewer", ["anna", "max"])
@pytest.mark.parametrize(
    ("query", "key", "type_name"),
    [
        (NODE, "portal_internal_post", "Micropost"),
        (NODE, "portal_internal_page", "Page"),
        (PAGE, "portal_internal_page", "Page"),
    ],
    ids=["node-post", "node-page", "page"],
)
async def test_internal_content_is_not_found_for_contacts(
    api: Api, world: World, viewer: str, query: str, key: str, type_name: str
) -> None:
    # given
    user = world.users()[viewer]
    # when
    internal = await api(query, {"id": gid(getattr(world, key))}, as_user=user)
    absent = await api(query, {"id": missing(type_name)}, as_user=user)
    # then
    assert internal.codes == ["NOT_FOUND"]
    assert answer(internal) == answer(absent)


@pytest.mark.parametrize("viewer", ["anna", "max"])
async def test_internal_content_is_absent_from_project_lists_for_contacts(
    api: Api, world: World, viewer: str
) -> None:
    # when
    result = await api(PROJECT_CONTENT, {"id": gid(world.portal)}, as_user=world.users()[viewer])
    # then
    assert result.errors == []
    project = result.data["project"]
    assert project["timeline"]["totalCount"] == 1
    assert names(project["timeline"], "body") == [world.portal_post.body]
    assert project["pages"]["totalCount"] == 1
    assert names(project["pages"], "title") == [world.portal_page.title]
    text = json.dumps(result.body)
    assert "hold the discount" not in text
    assert "pricing internals" not in text


async def test_staff_see_internal_content_in_project_lists(api: Api, world: World) -> None:
    # when
    result = await api(PROJECT_CONTENT, {"id": gid(world.portal)}, as_user=world.sam)
    # then
    assert result.errors == []
    project = result.data["project"]
    assert project["timeline"]["totalCount"] == 2
    assert world.portal_internal_post.body in names(project["timeline"], "body")
    assert project["pages"]["totalCount"] == 2
    assert world.portal_internal_page.title in names(project["pages"], "title")


@pytest.mark.parametrize(
    ("query", "key", "field", "value"),
    [
        (NODE, "portal_internal_post", "body", "Acme internal: hold the discount"),
        (NODE, "portal_internal_page", "title", "Acme pricing internals"),
        (PAGE, "portal_internal_page", "title", "Acme pricing internals"),
    ],
    ids=["node-post", "node-page", "page"],
)
async def test_staff_read_internal_content_by_id(
    api: Api, world: World, query: str, key: str, field: str, value: str
) -> None:
    # when
    result = await api(query, {"id": gid(getattr(world, key))}, as_user=world.sam)
    # then
    assert result.errors == []
    [found] = result.data.values()
    assert found[field] == value


async def test_a_document_one_customers_client_persisted_is_unknown_to_another_customer(
    api: Api, world: World
) -> None:
    # given Anna's client persisted a search with a literal (automatic persisted queries)
    document = '{ search(query: "acme merger talks") { totalCount } }'
    digest = hashlib.sha256(document.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}

    async def send(user: User, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {api.token_for(user)}"}
        response = await api.client.post("/graphql", json=body, headers=headers)
        return dict(response.json())

    persisted = await send(world.anna, {"query": document, "extensions": extensions})
    # when Gina's client (Globex) and Max's (Acme) send only the hash
    gina = await send(world.gina, {"extensions": extensions})
    max_ = await send(world.max, {"extensions": extensions})
    # then whether somebody sent that text does not reach Globex
    assert "errors" not in persisted
    assert [e["extensions"]["code"] for e in gina["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "errors" not in max_
