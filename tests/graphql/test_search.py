"""Full-text search: ranked hits with highlighted snippets, only from what the reader may
read (SQLite FTS5 in the default run, PostgreSQL full-text search in CI's second run)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from actions import microposts, pages
from models import User, Visibility
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.migration_steps import run_step
from tests.world import World

SEARCH = """
query ($q: String!, $first: Int = 20, $after: String) {
  search(query: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      snippet
      node { __typename ... on Page { id title } ... on Micropost { id body } }
    } }
  }
}
"""


async def _search(api: Api, reader: User, query: str, **variables: Any) -> Result:
    return await api(SEARCH, {"q": query, **variables}, as_user=reader)


def _found(result: Result) -> list[dict[str, Any]]:
    assert result.errors == [], result.errors
    return [edge["node"] for edge in result.data["search"]["edges"]]


def _ids(result: Result) -> list[str]:
    return [hit["node"]["id"] for hit in _found(result)]


async def _following_pages(api: Api, reader: User, query: str, first: Result) -> list[str]:
    """The IDs on the pages after ``first`` (of the same size), in order."""
    size = len(_found(first))
    seen: list[str] = []
    info = first.data["search"]["pageInfo"]
    while info["hasNextPage"]:
        more = await _search(api, reader, query, first=size, after=info["endCursor"])
        seen += _ids(more)
        info = more.data["search"]["pageInfo"]
    return seen


async def test_pages_and_posts_are_found_with_their_matches_marked(
    api: Api, world: World, bus: EventBus
) -> None:
    await pages.update_page(
        world.sam,
        bus,
        page_id=world.portal_page.id,
        base_revision=1,
        body="The loading dock schedules slots.\n\nA <b>bold</b> plan for docking.",
    )
    await microposts.post_micropost(
        world.max, bus, project_id=world.portal.id, body="Who books the docks tomorrow?"
    )
    # when anna searches with another form of the word
    hits = _found(await _search(api, world.anna, "dock"))
    # then both are found (stemmed), with the match marked and the text escaped
    kinds = {hit["node"]["__typename"] for hit in hits}
    assert kinds == {"Page", "Micropost"}
    page_hit = next(h for h in hits if h["node"]["__typename"] == "Page")
    assert "<mark>" in page_hit["snippet"]
    assert "<b>" not in page_hit["snippet"]
    post_hit = next(h for h in hits if h["node"]["__typename"] == "Micropost")
    assert post_hit["snippet"].count("<mark>") == 1


async def test_a_title_match_ranks_above_a_body_match(
    api: Api, world: World, bus: EventBus
) -> None:
    body_only = await pages.create_page(
        world.sam,
        bus,
        project_id=world.portal.id,
        title="Meeting notes",
        body="We discussed the forklift rota and other things at length.",
    )
    in_title = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Forklift rota", body="Mondays."
    )
    assert _ids(await _search(api, world.sam, "forklift"))[:2] == [gid(in_title), gid(body_only)]


async def test_a_contact_never_finds_another_customers_or_internal_text(
    api: Api, world: World, bus: EventBus
) -> None:
    # given the same words in Acme's shared and internal text, and in Globex's text
    words = "quarterly tariff renegotiation"
    shared = await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body=f"Agenda: {words}"
    )
    internal = await microposts.post_micropost(
        world.sam,
        bus,
        project_id=world.portal.id,
        body=f"{words} {words} {words}",  # the best match of all
        visibility=Visibility.INTERNAL,
    )
    globex = await pages.create_page(
        world.olivia, bus, project_id=world.loyalty.id, title=words.title(), body=words
    )
    # when each searches
    staff = _ids(await _search(api, world.sam, words))
    anna = await _search(api, world.anna, words)
    gina = await _search(api, world.gina, words)
    # then staff find all three, each contact only their own customer's shared text
    assert set(staff) == {gid(shared), gid(internal), gid(globex)}
    assert _ids(anna) == [gid(shared)]
    assert anna.data["search"]["totalCount"] == 1
    assert _ids(gina) == [gid(globex)]
    for acme in (gid(shared), gid(internal), "Agenda"):
        assert acme not in str(gina.body)
    assert gid(internal) not in str(anna.body)


async def test_a_member_finds_only_projects_they_belong_to(
    api: Api, world: World, bus: EventBus
) -> None:
    # the pilot project is Acme's, but max is not a member of it
    pilot = await pages.create_page(
        world.sam, bus, project_id=world.pilot.id, title="Telematics units", body="Twelve."
    )
    assert _ids(await _search(api, world.anna, "telematics")) == [gid(pilot)]
    assert _ids(await _search(api, world.max, "telematics")) == []
    assert _ids(await _search(api, world.mia, "telematics")) == []


async def test_an_edit_replaces_what_is_found(api: Api, world: World, bus: EventBus) -> None:
    await pages.update_page(
        world.sam, bus, page_id=world.portal_page.id, base_revision=1, body="Pallet racking"
    )
    assert _ids(await _search(api, world.anna, "racking")) == [gid(world.portal_page)]
    await pages.update_page(
        world.sam, bus, page_id=world.portal_page.id, base_revision=2, body="Shelving"
    )
    assert _ids(await _search(api, world.anna, "racking")) == []
    post = await microposts.post_micropost(
        world.max, bus, project_id=world.portal.id, body="Ask about cranes"
    )
    await microposts.edit_micropost(world.max, bus, micropost_id=post.id, body="Ask about hoists")
    assert _ids(await _search(api, world.anna, "cranes")) == []
    assert _ids(await _search(api, world.anna, "hoists")) == [gid(post)]


async def test_results_come_in_pages(api: Api, world: World, bus: EventBus) -> None:
    for n in range(5):
        await microposts.post_micropost(
            world.sam, bus, project_id=world.portal.id, body=f"Gate {n} opens at six"
        )
    first = await _search(api, world.anna, "gate", first=2)
    seen = _ids(first) + await _following_pages(api, world.anna, "gate", first)
    assert len(seen) == len(set(seen)) == 5
    assert first.data["search"]["totalCount"] == 5


async def test_the_last_word_may_be_the_start_of_one(api: Api, world: World, bus: EventBus) -> None:
    post = await microposts.post_micropost(
        world.max, bus, project_id=world.portal.id, body="Refrigerated containers arrive"
    )
    assert _ids(await _search(api, world.anna, "refrigerated contain")) == [gid(post)]
    assert _ids(await _search(api, world.anna, "contain refrigerated")) == [gid(post)]
    assert _ids(await _search(api, world.anna, "containers missing")) == []


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "AND OR NOT (",
        "dock* -x",
        "NEAR(a b)",
        "col:dock",
        "x'; DROP TABLE pages; --",
    ],
)
async def test_search_syntax_in_a_query_is_just_text(api: Api, world: World, query: str) -> None:
    result = await _search(api, world.anna, query)
    assert result.errors == []


@pytest.mark.parametrize(("query", "reason"), [("", "one word"), ("?!", "one word")])
async def test_a_query_without_words_is_bad_input(
    api: Api, world: World, query: str, reason: str
) -> None:
    result = await _search(api, world.anna, query)
    assert result.codes == ["BAD_USER_INPUT"]
    assert reason in result.errors[0]["message"]
    assert result.data == {"search": None}


async def test_a_query_too_long_or_a_foreign_cursor_is_bad_input(api: Api, world: World) -> None:
    assert (await _search(api, world.anna, "dock " * 50)).codes == ["BAD_USER_INPUT"]
    cursor_of_another_list = "Y3Vyc29yOjE="
    result = await _search(api, world.anna, "dock", after=cursor_of_another_list)
    assert result.codes == ["BAD_USER_INPUT"]


def _search_cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "raw",
    [
        "search:1.0:99999999999999999999",
        "search:1.0:-99999999999999999999",
        "search:1.0:9223372036854775808",
        "search:1e308:2147483648",
        "search:1.0:0",
        "search:1.0:" + "9" * 4000,
    ],
)
async def test_a_search_cursor_with_an_id_no_result_can_have_is_bad_input(
    api: Api, world: World, raw: str
) -> None:
    result = await _search(api, world.max, "kick", after=_search_cursor(raw))
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["extensions"]["field"] == "after"


async def test_a_search_cursor_at_the_largest_id_pages_on(api: Api, world: World) -> None:
    first = await _search(api, world.max, "kick")
    assert _found(first) != []
    above_every_hit = _search_cursor(f"search:1e300:{2**31 - 1}")
    assert _found(await _search(api, world.max, "kick", after=above_every_hit)) == _found(first)


# One corpus, the same hits on SQLite (the default run) and PostgreSQL (CI's second run).
CORPUS = {
    "email": "Send the rota to anna@acme.example before Friday",
    "version": "Upgrade the scanners to firmware 2.5.1 tonight",
    "older": "Firmware 1.2.5 had the scanner bug",
    "accents": "Herr Müller confirmed the café order",
    "plain": "Mr Muller will sign for the cafe",
    "identifier": "The job sync_inventory_nightly failed; see PROJ-1234 and getUserName()",
    "short_words": "To be or not to be, that is the rota",
    "stems": "The skies were generously lit",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("anna@acme.example", {"email"}),
        ("acme.example", {"email"}),
        ("2.5.1", {"version"}),
        ("1.2.5", {"older"}),
        ("1.2", {"older"}),
        ("firmware", {"version", "older"}),
        ("müller", {"accents", "plain"}),
        ("Muller", {"accents", "plain"}),
        ("CAFÉ", {"accents", "plain"}),
        ("cafe\u0301", {"accents", "plain"}),
        ("sync_inventory_nightly", {"identifier"}),
        ("PROJ-1234", {"identifier"}),
        ("getUserName", {"identifier"}),
        ("not to be", {"short_words"}),
        ("the rota", {"email", "short_words"}),
        ("scanner", {"version", "older"}),
        ("2.5.1 müller", set()),
        # both stem words in Porter's way: "general" and "generously" are one stem, as are
        # "ski" and "skies"
        ("general", {"stems"}),
        ("ski", {"stems"}),
    ],
)
async def test_both_databases_find_the_same(
    api: Api, world: World, bus: EventBus, query: str, expected: set[str]
) -> None:
    posted = {
        gid(
            await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body=body)
        ): name
        for name, body in CORPUS.items()
    }
    result = await _search(api, world.anna, query)
    assert {posted[found] for found in _ids(result)} == expected
    assert result.data["search"]["totalCount"] == len(expected)


async def test_pages_of_hits_never_repeat_while_posts_are_written(
    api: Api, world: World, bus: EventBus
) -> None:
    async def post(body: str) -> str:
        made = await microposts.post_micropost(
            world.max, bus, project_id=world.portal.id, body=body
        )
        return gid(made)

    # given quokka posts of different lengths, so that their scores differ
    before = [await post("quokka " + "and more words " * n + "about the quokka") for n in range(7)]
    first = await _search(api, world.anna, "quokka", first=3)
    page_one = _ids(first)
    assert len(page_one) == 3
    # when new matching posts are made, one better and one worse than anything so far
    await post("quokka quokka quokka")
    await post("a long post that mentions a quokka once " + "among other words " * 20)
    # then the next pages go on where the first ended: nothing from page one again
    seen = page_one + await _following_pages(api, world.anna, "quokka", first)
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)


async def test_the_index_made_again_by_its_migration_finds_what_was_written_before(
    api: Api, world: World, bus: EventBus
) -> None:
    posted = await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="Ping anna@acme.example about 2.5.1"
    )
    # when the index goes back to the English one (where PostgreSQL found neither) and is
    # made again from the stored text
    await run_step("0013_text_normalisation", "english_words")
    await run_step("0013_text_normalisation", "search_words")
    # then what was written before is found as it would be now
    for query in ("anna@acme.example", "2.5.1", "about"):
        assert _ids(await _search(api, world.anna, query)) == [gid(posted)], query
