from app.actions import microposts
from models import MicropostTopic
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

TOPIC = "query ($name: String!) { topic(name: $name) { name microposts { totalCount } } }"
NODE = "query ($id: ID!) { node(id: $id) { ... on Topic { name } } }"


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
