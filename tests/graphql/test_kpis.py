"""KPIs: exact figures on a small known world, the same for the provider and the customer,
traceable to their records, by day and week, and refused to whoever may not read them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from actions import interactions, requests
from graphql_schema.relay import global_id
from models import (
    ContentKind,
    DocumentType,
    LibraryDocument,
    RequestStatus,
    RequestStatusChange,
    ServiceRequest,
    User,
)
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import TICKET_ANSWERS, World

# The period: Monday 2 to Sunday 8 November 2026; the one before: 26 October to 1 November.
# Business hours of the world's calendar: Monday to Friday, 9:00 to 17:00 UTC.
PERIOD = {"from": "2026-11-02", "to": "2026-11-08"}

KPIS = """
query ($customerId: ID, $period: KpiPeriodInput, $interval: KpiInterval!) {
  kpis(customerId: $customerId, period: $period) {
    period { from to days } previousPeriod { from to days }
    figures { key value previousValue unit definition
      series(interval: $interval) { start value } }
  }
}
"""
RECORDS = """
query ($customerId: ID, $period: KpiPeriodInput, $first: Int!, $after: String) {
  kpis(customerId: $customerId, period: $period) {
    submitted { records(first: $first, after: $after) { totalCount
      pageInfo { hasNextPage endCursor } edges { node { label contribution } } } }
    firstResponseMedian { records(first: 10) { edges { node { kind label contribution
      node { __typename ... on Request { number } } } } } }
    reads { records(first: 10) { edges { node { kind label contribution
      node { __typename ... on Page { title } ... on LibraryDocument { title } } } } } }
    searches { records(first: 10) { edges { node { kind label contribution } } } }
    selfServiceRate { records(first: 10) { edges { node { label contribution outOf } } } }
  }
}
"""


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def _request(
    world: World,
    bus: EventBus,
    requester: User,
    submitted: datetime,
    *,
    responded: datetime | None = None,
    resolved: datetime | None = None,
    sent_back: tuple[datetime, datetime] | None = None,
) -> ServiceRequest:
    """A support ticket of ``requester`` with this history (the world's SLA: first response
    within 4 business hours, resolution within 40)."""
    request = await requests.submit_request(
        requester, bus, type_id=world.support_type.id, title="Readings", answers=TICKET_ANSWERS
    )
    await RequestStatusChange.filter(request_id=request.id).update(created_at=submitted)
    changes: list[tuple[RequestStatus, RequestStatus, datetime]] = []
    if sent_back is not None:
        changes += [
            (RequestStatus.RECEIVED, RequestStatus.NEEDS_INFO, sent_back[0]),
            (RequestStatus.NEEDS_INFO, RequestStatus.IN_PROGRESS, sent_back[1]),
        ]
    if resolved is not None:
        changes.append((RequestStatus.IN_PROGRESS, RequestStatus.RESOLVED, resolved))
    for before, after, moment in changes:
        change = await RequestStatusChange.create(
            request_id=request.id, from_status=before, to_status=after, actor_id=world.sam.id
        )
        await RequestStatusChange.filter(id=change.id).update(created_at=moment)
    await ServiceRequest.filter(id=request.id).update(
        created_at=submitted,
        first_response_at=responded,
        resolved_at=resolved,
        status=RequestStatus.RESOLVED if resolved else RequestStatus.IN_PROGRESS,
    )
    return request


async def _known_world(world: World, bus: EventBus) -> dict[str, Any]:
    # the previous period: one request answered in 1 hour, resolved in 6
    await _request(
        world, bus, world.max, at(28, 9, 10), responded=at(28, 10, 10), resolved=at(28, 15, 10)
    )
    # the period
    r1 = await _request(world, bus, world.max, at(2, 9), responded=at(2, 11), resolved=at(3, 13))
    r2 = await _request(
        world,
        bus,
        world.max,
        at(2, 16),
        responded=at(3, 11),
        resolved=at(6, 17),
        sent_back=(at(4, 9), at(4, 12)),
    )
    r3 = await _request(world, bus, world.max, at(4, 9), responded=at(5, 10))
    r4 = await _request(world, bus, world.mia, at(7, 10))
    await _request(world, bus, world.gus, at(2, 10))  # Globex's: in "all customers" only
    document = await LibraryDocument.create(
        customer_id=world.acme.id,
        title="Price list",
        type=DocumentType.PRICE_LIST,
        owner_id=world.sam.id,
        valid_from=at(1, 0, 10),
    )
    page = world.portal_page
    # reads: max twice on Tuesday (one session), once on Wednesday (another), the document
    # once on Friday in that session; mia the timeline on Monday morning
    await interactions.record_read(world.max, ContentKind.PAGE, page.id, "s1", moment=at(3, 10))
    await interactions.record_read(world.max, ContentKind.PAGE, page.id, "s1", moment=at(3, 11))
    await interactions.record_read(world.max, ContentKind.PAGE, page.id, "s2", moment=at(4, 11))
    await interactions.record_read(
        world.max, ContentKind.DOCUMENT, document.id, "s2", moment=at(6, 9)
    )
    await interactions.record_read(
        world.mia, ContentKind.TIMELINE, world.portal.id, "s3", moment=at(2, 8)
    )
    # staff reads are not counted
    await interactions.record_read(world.sam, ContentKind.PAGE, page.id, "s9", moment=at(3, 10))
    # searches: found once, found nothing twice; anna's before both periods
    await interactions.record_search(world.max, "Invoice  March", found=True, moment=at(3, 12))
    await interactions.record_search(world.max, "warranty", found=False, moment=at(5, 12))
    await interactions.record_search(world.max, "=cmd|' /C calc'!A0", found=False, moment=at(5, 13))
    await interactions.record_search(world.anna, "price", found=True, moment=at(20, 9, 10))
    # a read of Globex's on the same page id space, never in Acme's figures
    await interactions.record_read(world.gus, ContentKind.PAGE, page.id, "s4", moment=at(3, 10))
    return {"requests": [r1, r2, r3, r4], "page": page, "document": document}


EXPECTED = {
    # key: (value, previous value)
    "submitted": (4, 1),
    "resolved": (2, 1),
    "firstResponseMedian": (3, 1),  # 2, 3 and 9 business hours
    "firstResponseP90": (9, 1),
    "resolutionMedian": (22.5, 6),  # 12 and 33 business hours
    "resolutionP90": (33, 6),
    "slaCompliance": (50, 100),  # R1 and R2 met, R3 answered late, R4 never answered
    "completeOnSubmission": (75, 100),  # R2 was sent back to NEEDS_INFO
    "activeContactsWeekly": (2, 0),  # max and mia read in the period's last 7 days
    "activeContactsMonthly": (3, 1),  # and anna searched on 20 October
    "selfServiceRate": (33.33, None),  # s2 only: s1 and s3 led to requests within 7 days
    "reads": (4, 0),
    "searches": (3, 0),
    "searchesWithoutResults": (2, 0),
}


def _figures(result: Any) -> dict[str, Any]:
    assert result.errors == [], result.errors
    return {figure["key"]: figure for figure in result.data["kpis"]["figures"]}


async def test_the_figures_of_a_known_world_are_exact_and_the_same_for_both_sides(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _known_world(world, bus)
    variables = {"customerId": gid(world.acme), "period": PERIOD, "interval": "DAY"}
    # when
    staff = await api(KPIS, variables, as_user=world.sam)
    lead = await api(KPIS, variables, as_user=world.anna)
    # then
    figures = _figures(staff)
    found = {key: (f["value"], f["previousValue"]) for key, f in figures.items()}
    assert found == EXPECTED
    assert staff.data == lead.data
    assert staff.data["kpis"]["previousPeriod"] == {
        "from": "2026-10-26",
        "to": "2026-11-01",
        "days": 7,
    }
    assert figures["firstResponseMedian"]["unit"] == "BUSINESS_HOURS"
    assert "median" in figures["firstResponseMedian"]["definition"]
    # the series fills the empty days: 0 for counts, null for times
    assert [p["value"] for p in figures["submitted"]["series"]] == [2, 0, 1, 0, 0, 1, 0]
    assert [p["start"] for p in figures["submitted"]["series"]][::6] == [
        "2026-11-02",
        "2026-11-08",
    ]
    assert [p["value"] for p in figures["firstResponseMedian"]["series"]] == [
        2,
        3,
        None,
        9,
        None,
        None,
        None,
    ]
    by_week = await api(KPIS, {**variables, "interval": "WEEK"}, as_user=world.sam)
    assert [p["value"] for p in _figures(by_week)["submitted"]["series"]] == [4]
    # all customers together: Globex's request and read count too
    everyone = _figures(await api(KPIS, {**variables, "customerId": None}, as_user=world.stan))
    assert everyone["submitted"]["value"] == 5
    assert everyone["reads"]["value"] == 5


async def test_each_figure_lists_exactly_the_records_it_was_computed_from(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    known = await _known_world(world, bus)
    variables = {"customerId": gid(world.acme), "period": PERIOD, "first": 3}
    numbers = [r.reference for r in known["requests"]]
    # when
    staff = await api(RECORDS, variables, as_user=world.sam)
    lead = await api(RECORDS, variables, as_user=world.anna)
    # then
    assert staff.errors == []
    assert lead.errors == []
    submitted = staff.data["kpis"]["submitted"]["records"]
    assert submitted["totalCount"] == 4
    assert submitted["pageInfo"]["hasNextPage"]
    rest = await api(
        RECORDS, {**variables, "after": submitted["pageInfo"]["endCursor"]}, as_user=world.sam
    )
    pages = submitted["edges"] + rest.data["kpis"]["submitted"]["records"]["edges"]
    assert [e["node"] for e in pages] == [{"label": n, "contribution": 1} for n in numbers]
    first_response = staff.data["kpis"]["firstResponseMedian"]["records"]["edges"]
    assert [(e["node"]["node"]["number"], e["node"]["contribution"]) for e in first_response] == [
        (numbers[0], 2),
        (numbers[1], 3),
        (numbers[2], 9),
    ]
    reads = [e["node"] for e in staff.data["kpis"]["reads"]["records"]["edges"]]
    assert [(r["kind"], r["label"], r["contribution"]) for r in reads] == [
        ("Page", world.portal_page.title, 3),
        ("LibraryDocument", "Price list", 1),
    ]
    # staff see the terms searched; the lead contact counts per day
    staff_searches = [e["node"] for e in staff.data["kpis"]["searches"]["records"]["edges"]]
    assert staff_searches == [
        {"kind": "Terms", "label": "=cmd|' /c calc'!a0", "contribution": 1},
        {"kind": "Terms", "label": "invoice march", "contribution": 1},
        {"kind": "Terms", "label": "warranty", "contribution": 1},
    ]
    lead_searches = [e["node"] for e in lead.data["kpis"]["searches"]["records"]["edges"]]
    assert lead_searches == [
        {"kind": "Day", "label": "2026-11-03", "contribution": 1},
        {"kind": "Day", "label": "2026-11-05", "contribution": 2},
    ]
    sessions = [e["node"] for e in lead.data["kpis"]["selfServiceRate"]["records"]["edges"]]
    assert sessions == [
        {"label": "2026-11-02", "contribution": 0, "outOf": 1},
        {"label": "2026-11-03", "contribution": 0, "outOf": 1},
        {"label": "2026-11-04", "contribution": 1, "outOf": 1},
    ]
    # and apart from the search terms, the lead contact's drill-down is the staff's
    del staff.data["kpis"]["searches"], lead.data["kpis"]["searches"]
    assert staff.data == lead.data


async def test_only_staff_and_the_customers_lead_contact_read_its_kpis(
    api: Api, world: World
) -> None:
    # given
    query = "query ($c: ID) { kpis(customerId: $c) { submitted { value } } }"
    acme = {"c": gid(world.acme)}
    # when
    allowed = [await api(query, acme, as_user=who) for who in (world.sam, world.stan, world.anna)]
    other_lead = await api(query, acme, as_user=world.gina)
    member = await api(query, acme, as_user=world.max)
    lead_for_all = await api(query, {"c": None}, as_user=world.anna)
    missing = await api(query, {"c": global_id("Customer", 99999)}, as_user=world.sam)
    # then
    assert [r.errors for r in allowed] == [[], [], []]
    assert other_lead.codes == ["NOT_FOUND"]
    assert other_lead.data == {"kpis": None}
    assert member.codes == ["FORBIDDEN"]
    assert member.data == {"kpis": None}
    assert lead_for_all.codes == ["FORBIDDEN"]
    assert missing.codes == ["NOT_FOUND"]


async def test_a_period_is_a_preset_or_two_dates_in_order(api: Api, world: World) -> None:
    # given
    query = "query ($p: KpiPeriodInput) { kpis(period: $p) { period { days } } }"
    # when
    preset = await api(query, {"p": {"preset": "LAST_7_DAYS"}}, as_user=world.sam)
    default = await api(query, {}, as_user=world.sam)
    backwards = await api(
        query, {"p": {"from": "2026-11-08", "to": "2026-11-02"}}, as_user=world.sam
    )
    both = await api(
        query, {"p": {"preset": "LAST_7_DAYS", "from": "2026-11-02"}}, as_user=world.sam
    )
    # then
    assert preset.data["kpis"]["period"]["days"] == 7
    assert default.data["kpis"]["period"]["days"] == 30
    assert backwards.codes == ["BAD_USER_INPUT"]
    assert both.codes == ["BAD_USER_INPUT"]


async def test_reading_through_the_api_is_counted_for_the_readers_customer_only(
    api: Api, world: World
) -> None:
    # given
    read = "query ($id: ID!) { page(id: $id) { title } }"
    search = 'query { search(query: "zzzunfindable") { totalCount } }'
    figures = (
        "query ($c: ID) { kpis(customerId: $c, period: {preset: LAST_7_DAYS}) { "
        "reads { value records(first: 5) { edges { node { label } } } } "
        "searchesWithoutResults { value } activeContactsWeekly { value } "
        "selfServiceRate { value } } }"
    )
    # when
    assert (await api(read, {"id": gid(world.portal_page)}, as_user=world.max)).errors == []
    assert (await api(read, {"id": gid(world.portal_page)}, as_user=world.sam)).errors == []
    assert (await api(search, as_user=world.max)).errors == []
    acme = await api(figures, {"c": gid(world.acme)}, as_user=world.anna)
    globex = await api(figures, {"c": gid(world.globex)}, as_user=world.gina)
    # then
    assert acme.data["kpis"] == {
        "reads": {"value": 1, "records": {"edges": [{"node": {"label": world.portal_page.title}}]}},
        "searchesWithoutResults": {"value": 1},
        "activeContactsWeekly": {"value": 1},
        "selfServiceRate": {"value": 100},
    }
    assert globex.data["kpis"]["reads"]["value"] == 0


async def test_the_counts_older_than_the_retention_are_purged(world: World) -> None:
    # given
    await interactions.record_read(world.max, ContentKind.PAGE, 1, "s1", moment=at(3, 10))
    await interactions.record_search(world.max, "x", found=True, moment=at(5, 10))
    # when
    deleted = await interactions.purge_interactions(at(4, 0))
    kept = await interactions.purge_interactions(at(4, 0))
    # then
    assert deleted == 3  # the read, its day of activity and its session
    assert kept == 0


async def test_a_kpi_table_downloads_as_csv_under_the_same_rules(
    client: httpx.AsyncClient, api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _known_world(world, bus)
    base = f"/kpis/searches.csv?customerId={gid(world.acme)}&from=2026-11-02&to=2026-11-08"

    async def get(path: str, who: User | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {api.token_for(who)}"} if who else {}
        return await client.get(path, headers=headers)

    # when
    staff = await get(base, world.sam)
    lead = await get(base, world.anna)
    series = await get(base.replace("searches", "submitted") + "&table=series", world.anna)
    other = await get(base, world.gina)
    member = await get(base, world.max)
    anonymous = await get(base, None)
    unknown = await get(base.replace("searches", "nothing"), world.sam)
    # then
    assert staff.status_code == 200
    assert staff.headers["content-type"].startswith("text/csv")
    assert staff.text.splitlines() == [
        "kind,id,label,contribution,outOf",
        "Terms,,'=cmd|' /c calc'!a0,1.0,",
        "Terms,,invoice march,1.0,",
        "Terms,,warranty,1.0,",
    ]
    assert lead.text.splitlines()[1:] == ["Day,,2026-11-03,1.0,", "Day,,2026-11-05,2.0,"]
    assert series.text.splitlines() == [
        "start,value",
        "2026-11-02,2.0",
        "2026-11-03,0.0",
        "2026-11-04,1.0",
        "2026-11-05,0.0",
        "2026-11-06,0.0",
        "2026-11-07,1.0",
        "2026-11-08,0.0",
    ]
    statuses = [r.status_code for r in (other, member, anonymous, unknown)]
    assert statuses == [404, 403, 401, 404]
