"""The KPIs' arithmetic: percentiles, periods, weeks, and the 7 days of self-service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import kpis
from domain.errors import BadUserInput
from domain.kpis import Facts, Interval, Period, Preset, RequestFact, SessionFact


def test_the_median_and_the_90th_percentile_by_nearest_rank() -> None:
    assert kpis.median([]) is None
    assert kpis.median([4.0, 1.0, 3.0]) == 3.0
    assert kpis.median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert kpis.p90([5.0]) == 5.0
    assert kpis.p90([float(n) for n in range(1, 11)]) == 9.0  # 9 of 10 take at most 9
    assert kpis.p90([float(n) for n in range(1, 12)]) == 10.0  # ceil(9.9) = 10th value
    assert kpis.share(1, 3) == 33.33
    assert kpis.share(0, 0) is None


def test_presets_previous_periods_and_weeks_cut_to_the_period() -> None:
    today = date(2026, 3, 10)  # a Tuesday
    assert Period.preset(Preset.LAST_7_DAYS, today) == Period(date(2026, 3, 4), today)
    assert Period.preset(Preset.THIS_MONTH, today) == Period(date(2026, 3, 1), today)
    assert Period.preset(Preset.LAST_MONTH, today) == Period(date(2026, 2, 1), date(2026, 2, 28))
    period = Period(date(2026, 3, 4), date(2026, 3, 17))  # Wednesday to Tuesday
    assert period.previous() == Period(date(2026, 2, 18), date(2026, 3, 3))
    assert [(b.start.day, b.end.day) for b in period.buckets(Interval.WEEK)] == [
        (4, 8),
        (9, 15),
        (16, 17),
    ]
    assert len(period.buckets(Interval.DAY)) == 14
    with pytest.raises(BadUserInput):
        Period.checked(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(BadUserInput):
        Period.checked(date(2020, 1, 1), date(2026, 1, 1))


def test_a_session_is_self_served_unless_a_request_follows_within_7_days() -> None:
    read = datetime(2026, 3, 2, 10, tzinfo=UTC)
    session = SessionFact(read, contact=1)
    assert kpis.self_served(session, [])
    assert kpis.self_served(session, [read - timedelta(minutes=1)])
    assert not kpis.self_served(session, [read + timedelta(days=7)])
    assert kpis.self_served(session, [read + timedelta(days=7, seconds=1)])


def test_a_series_from_the_index_by_day_equals_each_bucket_computed_alone() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    facts = Facts(
        requests=[
            RequestFact(
                n,
                f"R-{n}",
                start + timedelta(days=n % 9),
                first_response_at=start + timedelta(days=n % 9, hours=1),
                first_response_hours=float(n % 5),
                resolved_at=start + timedelta(days=n % 11),
                resolution_hours=float(n),
                sent_back=n % 3 == 0,
            )
            for n in range(1, 40)
        ],
        active=[(n % 4, date(2026, 2, 20) + timedelta(days=n)) for n in range(30)],
        sessions=[SessionFact(start + timedelta(days=n), n % 2) for n in range(8)],
        submissions={0: [start + timedelta(days=3)]},
    )
    period = Period(date(2026, 3, 1), date(2026, 3, 14))
    for kpi in kpis.KPIS.values():
        for interval in Interval:
            alone = [(b.start, kpi.measure(facts, b).value) for b in period.buckets(interval)]
            assert kpi.series(facts, period, interval) == alone, (kpi.key, interval)
