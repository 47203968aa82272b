"""Recording what contacts read and search, for the KPIs, and deleting it when it is old.

Only contacts are recorded (staff reading their customers' pages is the provider's work,
not the customer's use). Each recording is one short transaction of upserts on counters
(models/interactions.py; on PostgreSQL a read's is one statement of them): a read adds 1
to the object's count of the contact's customer for the day, notes that the contact was
active that day and, once per sign-in session, when the session first read something; a
search adds 1 to its terms' count of the day (and to the count of those that found
nothing). Recording never fails the request that reads: an error
is logged and the read answers as usual.

The counts are kept ``EXTRANET_INTERACTIONS_KEPT_DAYS`` days: :func:`purge_interactions`
deletes older ones, run daily by the ``interactions.purge`` job (scheduled by the first
activity of each day, and by itself for the next day).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise import connections
from tortoise.models import Model

from actions._common import now
from actions.jobs import JobContext, enqueue, job_handler
from actions.unit_of_work import unit_of_work
from models import (
    ContactActivityDay,
    ContentKind,
    ContentReadCount,
    ReadingSession,
    SearchCount,
    User,
)

log = logging.getLogger(__name__)

PURGE = "interactions.purge"
TERMS_MAX_LENGTH = 200


def _dialect() -> str:
    return str(connections.get("default").capabilities.dialect)


def _marks(count: int) -> list[str]:
    """``count`` placeholders in the database's style."""
    if _dialect() == "sqlite":
        return ["?"] * count
    return [f"${n}" for n in range(1, count + 1)]


async def _insert(
    model: type[Model], values: dict[str, Any], conflict: str, then: str = "NOTHING"
) -> bool:
    """INSERT ``values`` into ``model``'s table, ``ON CONFLICT (conflict) DO then`` (one
    statement on SQLite and PostgreSQL); answers whether a row was inserted or updated."""
    table = model._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(values)}) "  # noqa: S608 (names of ours)
        f"VALUES ({', '.join(_marks(len(values)))}) "
        f"ON CONFLICT ({conflict}) DO {then.format(table=table)} RETURNING id"
    )
    _, rows = await connections.get("default").execute_query(sql, list(values.values()))
    return bool(rows)


async def _recorded(what: str, writes: Callable[[], Awaitable[None]]) -> None:
    """Run ``writes`` in a unit of work of their own; a failure is logged, never raised (a
    count lost is better than a read refused)."""
    try:
        async with unit_of_work():
            await writes()
    except Exception:
        log.warning("Could not record %s", what, exc_info=True)


def _customer_of(viewer: User) -> int | None:
    """The customer a contact's interactions count for; None for staff (not recorded)."""
    if viewer.is_staff or viewer.customer_id is None:
        return None
    return int(viewer.customer_id)


def session_key(session_id: str) -> str:
    """What a reading session is stored as: a digest of the session's ID."""
    return hashlib.sha256(session_id.encode()).hexdigest()


async def _note_activity(viewer: User, customer_id: int, moment: datetime) -> None:
    """The contact was active on ``moment``'s day; the first activity of a day schedules
    that day's purge."""
    values = {"user_id": viewer.id, "customer_id": customer_id, "day": _day(moment)}
    if await _insert(ContactActivityDay, values, "user_id, day"):
        await schedule_purge(moment)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


async def record_read(
    viewer: User,
    kind: ContentKind,
    object_id: int,
    session_id: str | None,
    *,
    moment: datetime | None = None,
) -> None:
    """Count a read by ``viewer`` of the page, library document or project timeline
    ``object_id`` (see the module's docstring); nothing for staff. Never raises."""
    customer_id = _customer_of(viewer)
    if customer_id is None:
        return
    at = moment or now()

    if _dialect() != "sqlite":
        await _record_read_in_one_statement(viewer, customer_id, kind, object_id, session_id, at)
        return

    async def writes() -> None:
        read = {"kind": kind.value, "object_id": object_id, "customer_id": customer_id}
        await _insert(
            ContentReadCount,
            {**read, "day": _day(at), "reads": 1},
            "kind, object_id, customer_id, day",
            "UPDATE SET reads = {table}.reads + 1",
        )
        await _note_activity(viewer, customer_id, at)
        if session_id:
            session = {"session_key": session_key(session_id), "user_id": viewer.id}
            first = {"customer_id": customer_id, "first_read_at": at}
            await _insert(ReadingSession, {**session, **first}, "session_key")

    await _recorded(f"a read of {kind.value} {object_id}", writes)


async def _record_read_in_one_statement(
    viewer: User,
    customer_id: int,
    kind: ContentKind,
    object_id: int,
    session_id: str | None,
    at: datetime,
) -> None:
    """What :func:`record_read` writes, as one statement on PostgreSQL (data-modifying
    common table expressions: one round trip instead of a transaction of three upserts, and
    atomic all the same); the day's purge is scheduled afterwards by the read that first
    marked the contact active that day. Never raises."""
    day = _day(at)
    reads = ContentReadCount._meta.db_table
    days = ContactActivityDay._meta.db_table
    sessions = ReadingSession._meta.db_table
    values: list[Any] = [kind.value, object_id, customer_id, day, viewer.id]
    session = "SELECT 1 WHERE FALSE"
    if session_id:
        values += [session_key(session_id), at]
        session = (
            f"INSERT INTO {sessions} (session_key, user_id, customer_id, first_read_at) "  # noqa: S608
            "VALUES ($6, $5, $3, $7) ON CONFLICT (session_key) DO NOTHING RETURNING id"
        )
    sql = (
        f"WITH counted AS (INSERT INTO {reads} (kind, object_id, customer_id, day, reads) "  # noqa: S608 (names of ours)
        f"VALUES ($1, $2, $3, $4, 1) ON CONFLICT (kind, object_id, customer_id, day) "
        f"DO UPDATE SET reads = {reads}.reads + 1 RETURNING id), "
        f"active AS (INSERT INTO {days} (user_id, customer_id, day) VALUES ($5, $3, $4) "
        "ON CONFLICT (user_id, day) DO NOTHING RETURNING id), "
        f"opened AS ({session}) "
        "SELECT (SELECT count(*) FROM counted) AS counted, "
        "(SELECT count(*) FROM active) AS active, (SELECT count(*) FROM opened) AS opened"
    )
    what = f"a read of {kind.value} {object_id}"
    try:
        _, rows = await connections.get("default").execute_query(sql, values)
    except Exception:
        log.warning("Could not record %s", what, exc_info=True)
        return
    if rows and rows[0]["active"]:

        async def purge() -> None:
            await schedule_purge(at)

        await _recorded(f"the purge after {what}", purge)


async def record_search(
    viewer: User, query: str, *, found: bool, moment: datetime | None = None
) -> None:
    """Count a search by ``viewer`` with the terms of ``query`` (normalised; cut to
    :data:`TERMS_MAX_LENGTH` characters) and whether it ``found`` anything; nothing for
    staff or for a query without terms. Never raises."""
    customer_id = _customer_of(viewer)
    terms = " ".join(query.casefold().split())[:TERMS_MAX_LENGTH]
    if customer_id is None or not terms:
        return
    at = moment or now()

    async def writes() -> None:
        await _insert(
            SearchCount,
            {
                "customer_id": customer_id,
                "day": _day(at),
                "terms": terms,
                "searches": 1,
                "found_nothing": 0 if found else 1,
            },
            "customer_id, day, terms",
            "UPDATE SET searches = {table}.searches + 1, "
            "found_nothing = {table}.found_nothing + excluded.found_nothing",
        )
        await _note_activity(viewer, customer_id, at)

    await _recorded("a search", writes)


async def schedule_purge(moment: datetime) -> None:
    """Schedule the purge of the day after ``moment`` (at 00:00 UTC), once per day; inside
    the caller's unit of work."""
    day = moment.astimezone(UTC).date() + timedelta(days=1)
    due = datetime.combine(day, time(), tzinfo=UTC)
    await enqueue(PURGE, {}, run_at=due, key=f"{PURGE}:{day.isoformat()}")


async def purge_interactions(before: datetime | date) -> int:
    """Delete the interaction counts of days before ``before`` (a date, or an aware
    datetime whose UTC date is taken) and the reading sessions that first read before it;
    answers how many rows were deleted."""
    day = before.astimezone(UTC).date() if isinstance(before, datetime) else before
    start = datetime.combine(day, time(), tzinfo=UTC)
    async with unit_of_work():
        deleted = await ContentReadCount.filter(day__lt=day).delete()
        deleted += await SearchCount.filter(day__lt=day).delete()
        deleted += await ContactActivityDay.filter(day__lt=day).delete()
        deleted += await ReadingSession.filter(first_read_at__lt=start).delete()
    return deleted


@job_handler(PURGE, max_attempts=3)
async def purge_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete the interaction counts older than ``EXTRANET_INTERACTIONS_KEPT_DAYS``, and
    schedule the next day's purge."""
    deleted = await purge_interactions(
        ctx.now - timedelta(days=ctx.settings.interactions_kept_days)
    )
    if deleted:
        log.info("Deleted %d interaction counts past their retention", deleted)
    async with unit_of_work():
        await schedule_purge(ctx.now)
