"""Text means what people typed: mentions and topics come from the Markdown a post shows
(never from code, addresses or autolinks), a mention notifies once per post, and a topic
is one whole word in any script, found by every spelling of it."""

from __future__ import annotations

from typing import Any

import pytest

from actions import microposts, watches
from domain.text import normalise_topic
from graphql_schema.relay import topic_global_id
from models import (
    Micropost,
    MicropostTopic,
    Notification,
    NotificationReason,
    Topic,
    User,
    Watch,
    WatchLevel,
    WatchTargetKind,
)
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.migration_steps import run_step
from tests.world import World

POST = """
mutation ($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) {
    micropost { id bodyHtml mentions { handle } topics { name } } } }
"""
EDIT = """
mutation ($id: ID!, $body: String!) {
  editMicropost(input: {micropostId: $id, body: $body}) {
    micropost { mentions { handle } topics { name } } } }
"""
NODE = "query ($id: ID!) { node(id: $id) { ... on Topic { name } } }"
TOPIC = "query ($name: String!) { topic(name: $name) { name microposts { totalCount } } }"


async def _post(api: Api, world: World, body: str, author: User | None = None) -> dict[str, Any]:
    result = await api(
        POST, {"project": gid(world.portal), "body": body}, as_user=author or world.sam
    )
    assert result.errors == [], result.errors
    return result.data["postMicropost"]["micropost"]  # type: ignore[no-any-return]


async def _edit(api: Api, world: World, post_id: str, body: str) -> dict[str, Any]:
    result = await api(EDIT, {"id": post_id, "body": body}, as_user=world.sam)
    assert result.errors == [], result.errors
    return result.data["editMicropost"]["micropost"]  # type: ignore[no-any-return]


async def _mentions_of(user: User) -> int:
    return await Notification.filter(user_id=user.id, reason=NotificationReason.MENTIONED).count()


async def _topic(api: Api, world: World, name: str) -> Result:
    return await api(TOPIC, {"name": name}, as_user=world.sam)


@pytest.mark.parametrize(
    "body",
    [
        "Try this:\n\n~~~\n@max #deploy\n~~~\n",
        "Try this:\n\n    @max #deploy\n",
        "see `foo\n@max #deploy` here",
        "```text\n@max #deploy\n```",
        "Docs: [the guide](https://docs.example/@max#deploy) and <https://x.example/@max>",
        "Write to <max@acme.example> or max@acme.example",
        "![@max #deploy](/files/diagram.png)",
    ],
    ids=["tilde-fence", "indented", "span-across-lines", "fence", "urls", "mail", "image"],
)
async def test_code_addresses_and_links_mention_nobody_and_name_no_topic(
    api: Api, world: World, body: str
) -> None:
    before = await _mentions_of(world.max)
    post = await _post(api, world, body)
    assert post["mentions"] == []
    assert post["topics"] == []
    assert await _mentions_of(world.max) == before
    assert await Topic.filter(name="deploy").count() == 0


async def test_after_a_four_backtick_fence_a_real_mention_counts(api: Api, world: World) -> None:
    # the inner ``` does not close the fence; the fence ends at ````, and @anna is prose
    body = "````\n```\n@max\n````\n@anna, see above #review"
    before_max, before_anna = await _mentions_of(world.max), await _mentions_of(world.anna)
    post = await _post(api, world, body)
    assert post["mentions"] == [{"handle": "anna"}]
    assert post["topics"] == [{"name": "review"}]
    assert await _mentions_of(world.anna) == before_anna + 1
    assert await _mentions_of(world.max) == before_max
    # the HTML shown is the same parse: @max inside the code block, @anna in a paragraph
    assert "<pre><code>```\n@max\n</code></pre>" in post["bodyHtml"]
    assert "<p>@anna, see above #review</p>" in post["bodyHtml"]


async def test_prose_around_code_still_mentions(api: Api, world: World) -> None:
    post = await _post(api, world, "**@max** please check `@anna` and [ask @anna](/pages/1)")
    assert sorted(m["handle"] for m in post["mentions"]) == ["anna", "max"]


async def test_a_mention_taken_out_and_put_back_notifies_once(api: Api, world: World) -> None:
    before = await _mentions_of(world.max)
    post = await _post(api, world, "Thanks @max")
    assert await _mentions_of(world.max) == before + 1
    assert (await _edit(api, world, post["id"], "Thanks"))["mentions"] == []
    again = await _edit(api, world, post["id"], "Thanks @max!")
    assert again["mentions"] == [{"handle": "max"}]
    await _edit(api, world, post["id"], "Thanks all")
    await _edit(api, world, post["id"], "Thanks @max, again")
    assert await _mentions_of(world.max) == before + 1


async def test_a_mention_added_by_an_edit_notifies_once(api: Api, world: World) -> None:
    before = await _mentions_of(world.anna)
    post = await _post(api, world, "Status update")
    await _edit(api, world, post["id"], "Status update for @anna")
    await _edit(api, world, post["id"], "Status update")
    await _edit(api, world, post["id"], "Status update for @anna, done")
    assert await _mentions_of(world.anna) == before + 1


@pytest.mark.parametrize(
    ("typed", "stored", "lookups"),
    [
        ("#cafe\u0301", "caf\u00e9", ["café", "cafe\u0301", "#CAFÉ", "CAFE\u0301"]),
        ("#क्षत्रिय", "क्षत्रिय", ["क्षत्रिय", "#क्षत्रिय"]),
        ("#Straße", "strasse", ["STRASSE", "straße", "#Strasse"]),
        ("#Ελλάδα", "ελλάδα", ["ΕΛΛΆΔΑ", "ελλάδα"]),
        ("#snake_case-name2", "snake_case-name2", ["Snake_Case-Name2"]),
    ],
    ids=["decomposed-accent", "devanagari", "sharp-s", "greek", "connectors"],
)
async def test_a_topic_is_the_whole_word_found_by_every_spelling(
    api: Api, world: World, typed: str, stored: str, lookups: list[str]
) -> None:
    post = await _post(api, world, f"Notes {typed}, more later")
    assert post["topics"] == [{"name": stored}]
    for spelling in lookups:
        found = await _topic(api, world, spelling)
        assert found.data == {"topic": {"name": stored, "microposts": {"totalCount": 1}}}, spelling


async def test_every_spelling_of_a_word_is_one_topic(api: Api, world: World) -> None:
    spellings = ["#Cafe\u0301", "#CAFÉ", "#café", "#cafe\u0301"]
    for spelling in spellings:
        await _post(api, world, f"{spelling} opens at nine")
    assert await Topic.filter(name="café").count() == 1
    assert await Topic.all().count() == 2  # and #launch of the world
    found = await _topic(api, world, "café")
    assert found.data == {"topic": {"name": "café", "microposts": {"totalCount": 4}}}


async def test_a_word_that_is_not_a_topic_is_not_found(api: Api, world: World) -> None:
    for name in ["#42", "two words", "", "#", "café!"]:
        assert (await _topic(api, world, name)).codes == ["NOT_FOUND"], name


async def test_topics_stored_under_old_spellings_are_merged_and_keep_their_posts(
    api: Api, world: World, bus: EventBus
) -> None:
    # given topics stored before names were normalised: the same word spelled three ways
    sharp = await Topic.create(name="straße")
    plain = await Topic.create(name="strasse")
    upper = await Topic.create(name="STRASSE")
    posts = [
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body=b)
        for b in ("one", "two", "three")
    ]
    await MicropostTopic.create(micropost_id=posts[0].id, topic_id=sharp.id)
    await MicropostTopic.create(micropost_id=posts[1].id, topic_id=plain.id)
    await MicropostTopic.create(micropost_id=posts[2].id, topic_id=upper.id)
    await MicropostTopic.create(micropost_id=posts[2].id, topic_id=sharp.id)
    for user, topic in ((world.max, sharp), (world.anna, upper), (world.anna, plain)):
        await watches.watch(
            user, kind=WatchTargetKind.TOPIC, target_id=topic.id, level=WatchLevel.WATCHING
        )
    # when the migration runs
    await run_step("0013_text_normalisation", "topic_names")
    # then one topic remains, named in its normal form, with every post and watcher
    [kept] = await Topic.filter(name__in=["straße", "strasse", "STRASSE"])
    assert kept.name == "strasse"
    assert kept.id == plain.id  # the one already so named keeps its ID
    links = await MicropostTopic.filter(topic_id=kept.id)
    assert sorted(link.micropost_id for link in links) == sorted(p.id for p in posts)
    topic_watches = await Watch.filter(kind=WatchTargetKind.TOPIC).order_by("user_id")
    assert {(w.user_id, w.topic_id, w.target_key) for w in topic_watches} == {
        (world.max.id, kept.id, f"TOPIC:{kept.id}"),
        (world.anna.id, kept.id, f"TOPIC:{kept.id}"),
    }
    found = await _topic(api, world, "Straße")
    assert found.data == {"topic": {"name": "strasse", "microposts": {"totalCount": 3}}}
    # an ID a client kept from before finds it too
    for old_name in ("straße", "STRASSE"):
        by_id = await api(NODE, {"id": topic_global_id(old_name)}, as_user=world.sam)
        assert by_id.data == {"node": {"name": "strasse"}}
    # and a post that uses the word now joins the same topic
    await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="#STRAßE works"
    )
    assert await Micropost.filter(topic_links__topic_id=kept.id).count() == 4


def test_topic_names_normalise_to_one_form() -> None:
    assert normalise_topic("#Cafe\u0301") == normalise_topic("café") == "café"
    assert normalise_topic("launch-") == "launch"
    assert normalise_topic("a" * 65) is None
    assert normalise_topic("#2fa") is None
