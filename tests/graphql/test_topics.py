from strawberry import relay

from actions import microposts
from graphql_schema.relay import topic_global_id
from models import MicropostTopic, Visibility
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

TOPIC = "query ($name: String!) { topic(name: $name) { name microposts { totalCount } } }"
NODE = "query ($id: ID!) { node(id: $id) { ... on Topic { name } } }"
WATCH = """mutation ($id: ID!) {
  watch(input: {targetId: $id}) { watch { target { ... on Topic { name } } } } }"""


async def test_a_hashtag_used_only_by_another_customer_is_unknown(
    api: Api, world: World, bus: EventBus
) -> None:
    # given an Acme-only topic
    post = await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="#acme-merger talks"
    )
    [link] = await MicropostTopic.filter(micropost_id=post.id).select_related("topic")
    # when a Globex contact asks for it by name and by ID
    by_name = await api(TOPIC, {"name": "acme-merger"}, as_user=world.gina)
    by_id = await api(NODE, {"id": gid(link.topic)}, as_user=world.gina)
    # then it answers as a topic that does not exist
    assert by_name.data == {"topic": None}
    assert by_name.codes == ["NOT_FOUND"]
    assert by_id.data == {"node": None}
    assert by_id.codes == ["NOT_FOUND"]
    assert "merger" not in str(by_name.body) + str(by_id.body)


async def test_a_shared_hashtag_lists_only_the_viewers_posts(api: Api, world: World) -> None:
    # #launch is used by Acme and Globex posts
    staff = await api(TOPIC, {"name": "#Launch"}, as_user=world.stan)
    globex = await api(TOPIC, {"name": "launch"}, as_user=world.gus)
    assert staff.data == {"topic": {"name": "launch", "microposts": {"totalCount": 2}}}
    assert globex.data == {"topic": {"name": "launch", "microposts": {"totalCount": 1}}}


POST = """mutation ($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { topics { id name } } } }"""


async def test_a_topic_id_tells_nothing_about_who_used_the_name_before(
    api: Api, world: World, bus: EventBus
) -> None:
    # given #loyalty-secret, used so far only in another customer's post and an internal note
    await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="#loyalty-secret for Acme"
    )
    await microposts.post_micropost(
        world.olivia,
        bus,
        project_id=world.loyalty.id,
        body="#loyalty-secret internal",
        visibility=Visibility.INTERNAL,
    )
    # when a Globex contact posts a new topic beside it
    posted = await api(
        POST,
        {"project": gid(world.loyalty), "body": "#fresh123 #loyalty-secret"},
        as_user=world.gus,
    )
    topics = posted.data["postMicropost"]["micropost"]["topics"]
    # then both IDs are made of their names alone: nothing tells which name was in use before
    assert topics == [
        {"id": topic_global_id("fresh123"), "name": "fresh123"},
        {"id": topic_global_id("loyalty-secret"), "name": "loyalty-secret"},
    ]
    assert {relay.GlobalID.from_id(t["id"]).node_id for t in topics} == {
        "fresh123",
        "loyalty-secret",
    }
    # and the IDs still work, for whoever may see the topic
    for topic in topics:
        found = await api(NODE, {"id": topic["id"]}, as_user=world.gus)
        assert found.data == {"node": {"name": topic["name"]}}
    watched = await api(WATCH, {"id": topics[1]["id"]}, as_user=world.gus)
    assert watched.data == {"watch": {"watch": {"target": {"name": "loyalty-secret"}}}}


async def test_an_id_of_a_topic_nobody_used_answers_like_a_foreign_one(
    api: Api, world: World, bus: EventBus
) -> None:
    await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="#acme-only plans"
    )
    answers = []
    for name in ("acme-only", "never-used"):
        by_id = await api(NODE, {"id": topic_global_id(name)}, as_user=world.gina)
        watched = await api(WATCH, {"id": topic_global_id(name)}, as_user=world.gina)
        answers.append((by_id.body, watched.codes, watched.errors[0]["message"]))
    assert answers[0] == answers[1]
    assert answers[0][1] == ["NOT_FOUND"]
