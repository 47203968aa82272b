"""KPIs attacked from outside: periods at the edges of the calendar answer BAD_USER_INPUT
(never a failure) in the API and in the CSV route; another customer's IDs, members, tokens
and anonymous callers get nothing but an error; figures over a weekend and a period with
ten requests are what a hand count gives; every series of a long period is cheap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from actions._common import now
from domain.kpis import KPIS, Facts, Interval, Period, ReadFact, RequestFact
from domain.scopes import ALL_SCOPES
from models import User
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.graphql.test_access_tokens import token_of
from tests.graphql.test_kpis import _request, at
from tests.world import World

FIGURES = """
query ($c: ID, $p: KpiPeriodInput) {
  kpis(customerId: $c, period: $p) {
    period { from to days } previousPeriod { from to }
    submitted { value series(interval: WEEK) { start value } }
  }
}
"""


async def _csv(client: httpx.AsyncClient, api: Api, query: str, who: User | None) -> Any:
    headers = {"Authorization": f"Bearer {api.token_for(who)}"} if who else {}
    return await client.get(f"/kpis/submitted.csv?{query}", headers=headers)


async def test_periods_at_the_edges_of_the_calendar_are_refused_clearly_or_answered(
    api: Api, world: World, client: httpx.AsyncClient
) -> None:
    # given
    today = now().date()
    acme = gid(world.acme)
    refused = {
        "the first years": ({"from": "0001-01-01", "to": "0001-01-07"}, "1970-01-01"),
        "the last days": ({"from": "9999-12-25", "to": "9999-12-31"}, "today"),
        "the future": (
            {"from": f"{today.year + 1}-01-01", "to": f"{today.year + 1}-01-31"},
            "today",
        ),
        "backwards": ({"from": "2026-11-08", "to": "2026-11-02"}, "before"),
        "too long": ({"from": "2024-01-01", "to": "2026-01-31"}, "731 days"),
        "no such day": ({"from": "2026-02-29", "to": "2026-03-01"}, "Date"),
        "a moment in a time zone": (
            {"from": "2026-11-02T00:00:00+05:00", "to": "2026-11-08"},
            "Date",
        ),
    }
    # when
    answers = {
        name: await api(FIGURES, {"c": acme, "p": period}, as_user=world.sam)
        for name, (period, _) in refused.items()
    }
    leap = await api(
        FIGURES, {"c": acme, "p": {"from": "2024-02-26", "to": "2024-03-03"}}, as_user=world.anna
    )
    csv = {
        query: await _csv(client, api, f"customerId={acme}&{query}", world.anna)
        for query in (
            "from=0001-01-01&to=0001-01-02",
            "from=9999-12-30&to=9999-12-31",
            f"from={today.year + 1}-01-01&to={today.year + 1}-01-02",
            "from=2026-02-29&to=2026-03-01",
        )
    }
    # then every one is BAD_USER_INPUT whose message says what to change, and nothing else
    for name, (_, hint) in refused.items():
        answer = answers[name]
        assert answer.codes == ["BAD_USER_INPUT"], (name, answer.errors)
        assert hint in answer.errors[0]["message"], (name, answer.errors)
        assert not (answer.body.get("data") or {}).get("kpis"), name
    for query, response in csv.items():
        assert response.status_code == 400, (query, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # a week around a leap day: seven days, the previous week before it
    assert leap.errors == []
    assert leap.data["kpis"]["period"] == {"from": "2024-02-26", "to": "2024-03-03", "days": 7}
    assert leap.data["kpis"]["previousPeriod"] == {"from": "2024-02-19", "to": "2024-02-25"}
    assert leap.data["kpis"]["submitted"]["series"] == [{"start": "2024-02-26", "value": 0}]


async def test_kpis_of_another_customer_answer_nothing_whoever_and_however_asks(
    api: Api, world: World, bus: EventBus, client: httpx.AsyncClient
) -> None:
    # given Acme figures with a request, a search and a read
    await _request(world, bus, world.max, at(2, 9), responded=at(2, 11))
    acme = {"c": gid(world.acme), "p": {"from": "2026-11-02", "to": "2026-11-08"}}
    full = (
        "query ($c: ID, $p: KpiPeriodInput) { kpis(customerId: $c, period: $p) { "
        "figures { key value records(first: 5) { totalCount edges { node { label } } } } } }"
    )
    token = await token_of(api, world.anna, list(ALL_SCOPES))
    # when
    callers = {
        "another lead contact": await api(full, acme, as_user=world.gina),
        "another contact": await api(full, acme, as_user=world.gus),
        "a member": await api(full, acme, as_user=world.max),
        "the lead contact's token": await api(full, acme, token=token),
        "anonymous": await api(full, acme),
        "a request's ID": await api(
            full, {**acme, "c": gid(world.acme_request)}, as_user=world.anna
        ),
    }
    csv = {
        "another lead contact": await _csv(
            client, api, f"customerId={gid(world.acme)}", world.gina
        ),
        "a member": await _csv(client, api, f"customerId={gid(world.acme)}", world.max),
        "anonymous": await _csv(client, api, f"customerId={gid(world.acme)}", None),
    }
    token_csv = await client.get(
        f"/kpis/submitted.csv?customerId={gid(world.acme)}",
        headers={"Authorization": f"Bearer {token}"},
    )
    # then an error and nothing else: no figure, no count, no record
    codes = {name: answer.codes for name, answer in callers.items()}
    assert codes == {
        "another lead contact": ["NOT_FOUND"],
        "another contact": ["NOT_FOUND"],
        "a member": ["FORBIDDEN"],
        "the lead contact's token": ["FORBIDDEN"],
        "anonymous": ["UNAUTHENTICATED"],
        "a request's ID": ["NOT_FOUND"],
    }
    assert all(not (a.body.get("data") or {}).get("kpis") for a in callers.values())
    assert {name: r.status_code for name, r in csv.items()} == {
        "another lead contact": 404,
        "a member": 403,
        "anonymous": 401,
    }
    assert token_csv.status_code == 403
    assert all("text/csv" not in r.headers["content-type"] for r in [*csv.values(), token_csv])
    assert all("ACME" not in r.text for r in [*csv.values(), token_csv])


def test_every_series_of_two_years_gathers_each_days_facts_once_for_all_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given two years of facts: a request, a read and a day of activity every day
    period = Period(date(2024, 12, 2), date(2026, 12, 1))
    days = [period.start + timedelta(days=n) for n in range(period.days)]
    moments = [datetime.combine(day, time(10), tzinfo=UTC) for day in days]
    facts = Facts(
        requests=[
            RequestFact(n, f"ACME-{n}", at, at + timedelta(hours=2), None, 2.0)
            for n, at in enumerate(moments)
        ],
        reads=[ReadFact("PAGE", 1, day, 3) for day in days],
        active=[(n % 5, day) for n, day in enumerate(days)],
    )
    gathered: list[tuple[date, date]] = []
    within = Facts.within

    def counted(self: Facts, start: date, end: date) -> Facts:
        gathered.append((start, end))
        return within(self, start, end)

    monkeypatch.setattr(Facts, "within", counted)
    # when every figure's series is asked for, by day and by week (one query may ask all)
    series = {
        (kpi.key, interval): kpi.series(facts, period, interval)
        for kpi in KPIS.values()
        for interval in Interval
    }
    # then each day is there, and the facts of each day or week were gathered once (not
    # once per figure: 14 times two years of days is seconds of a busy server)
    assert len(series["submitted", Interval.DAY]) == period.days == 730
    assert {value for _, value in series["submitted", Interval.DAY]} == {1}
    assert series["firstResponseMedian", Interval.WEEK][1] == (date(2024, 12, 9), 2)
    assert series["activeContactsMonthly", Interval.DAY][40] == (days[40], 5)
    weeks = len(period.buckets(Interval.WEEK))
    assert len(gathered) == period.days + weeks


async def test_times_over_a_weekend_median_and_p90_of_ten_requests_match_a_hand_count(
    api: Api, world: World, bus: EventBus
) -> None:
    # given (business hours: Monday to Friday, 9:00 to 17:00 UTC) eight requests of
    # Tuesday 3 November answered after 1 to 8 hours; one of Friday 16:00 answered on
    # Monday 10:00 (2 business hours); one of Saturday noon answered on Tuesday noon (8 on
    # Monday and 3 on Tuesday: 11)
    for hours in range(1, 9):
        await _request(world, bus, world.max, at(3, 9), responded=at(3, 9 + hours))
    await _request(world, bus, world.max, at(6, 16), responded=at(9, 10))
    await _request(world, bus, world.mia, at(7, 12), responded=at(10, 12))
    figures = (
        "query ($c: ID, $p: KpiPeriodInput) { kpis(customerId: $c, period: $p) { "
        "firstResponseMedian { value previousValue records(first: 20) { edges { node { "
        "contribution } } } } firstResponseP90 { value } slaCompliance { value } "
        "submitted { value series(interval: WEEK) { start value } } } }"
    )
    variables = {"c": gid(world.acme), "p": {"from": "2026-11-02", "to": "2026-11-15"}}
    # when
    staff = await api(figures, variables, as_user=world.sam)
    lead = await api(figures, variables, as_user=world.anna)
    # then sorted 1 2 2 3 4 5 6 7 8 11: the median 4.5, the 9th of ten 8
    assert staff.errors == []
    kpis = staff.data["kpis"]
    median = kpis["firstResponseMedian"]
    assert (median["value"], median["previousValue"]) == (4.5, None)
    assert [e["node"]["contribution"] for e in median["records"]["edges"]] == [
        1,
        2,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        11,
    ]
    assert kpis["firstResponseP90"]["value"] == 8
    # every resolution clock (40 business hours) has run out unresolved by now
    assert kpis["slaCompliance"]["value"] == 0
    assert kpis["submitted"]["series"] == [
        {"start": "2026-11-02", "value": 10},
        {"start": "2026-11-09", "value": 0},
    ]
    assert lead.data == staff.data
