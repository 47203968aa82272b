"""Background jobs: work recorded in the transaction of its cause, run later, once.

A module registers what a kind of job does::

    @job_handler("requests.remind", max_attempts=8)
    async def remind(ctx: JobContext, payload: dict[str, Any]) -> None:
        async with unit_of_work(ctx.bus) as work:
            ...  # its own writes; ctx.now is the time to use, not the clock

and an action records one inside its unit of work, so that it exists if and only if the
action committed::

    async with unit_of_work(bus) as work:
        ...
        await enqueue("requests.remind", {"request": r.id}, run_at=due, key=f"remind:{r.id}")

app/runner.py runs them: it claims due jobs with a lease (:func:`claim_due`), calls their
handler outside any transaction of its own, and records the outcome (:func:`run_claimed`)
only if its lease still holds. A handler that raises is tried again after an exponential
backoff (:func:`backoff`), or at the time it names by raising :class:`RetryAt`; after its
``max_attempts`` the job is FAILED and logged. A job runs at least once, and more than once
only when its worker stopped mid-job (the lease ran out): handlers make their effects
idempotent (a unique row, a check of what is already done) where a repeat would be seen.

This module is the only writer of the ``jobs`` table.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from actions.unit_of_work import current_unit, unit_of_work
from infra import tracing
from infra.settings import Settings
from models import Job, JobStatus
from realtime.bus import EventBus

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
BACKOFF_FIRST = timedelta(seconds=15)  # after the first failure; doubled after each next one
BACKOFF_MOST = timedelta(hours=1)
ERROR_CHARS = 4000  # of a failure's traceback kept in last_error


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler is given besides its payload.

    ``now`` (aware, UTC) is the runner's clock at the claim: handlers use it instead of
    reading the clock, so tests can move time. ``attempt`` counts from 1."""

    bus: EventBus | None
    settings: Settings
    job_id: int
    attempt: int
    now: datetime
    kind: str
    key: str | None = None


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobHandler:
    kind: str
    run: Handler
    max_attempts: int


_handlers: dict[str, JobHandler] = {}  # filled by @job_handler when a module is imported


def job_handler(
    kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine function as what a job of ``kind`` does, tried at
    most ``max_attempts`` times (at least 1). A ``kind`` is a dotted name that starts with
    its module's area (``requests.remind``). Raises ValueError when another function
    already handles ``kind``."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if not kind or len(kind) > 100:
        raise ValueError("A job kind is a name of 1 to 100 characters")

    def register(run: Handler) -> Handler:
        known = _handlers.get(kind)
        name = f"{run.__module__}.{run.__qualname__}"
        if known is not None and f"{known.run.__module__}.{known.run.__qualname__}" != name:
            raise ValueError(f"Job kind {kind!r} is already handled by {known.run.__qualname__}")
        _handlers[kind] = JobHandler(kind, run, max_attempts)
        return run

    return register


def handler_for(kind: str) -> JobHandler | None:
    return _handlers.get(kind)


def registered_kinds() -> frozenset[str]:
    """The kinds this process can run (those whose modules it imported)."""
    return frozenset(_handlers)


class RetryAt(Exception):
    """Raised by a handler to be tried again at ``when`` (aware; a naive one raises
    ValueError) instead of after the backoff; it counts as an attempt, and after the last
    one the job is FAILED."""

    def __init__(self, when: datetime, reason: str = "") -> None:
        _utc(when, "RetryAt(when)")  # a naive time fails the handler like any other error
        super().__init__(reason or f"retry at {when.isoformat()}")
        self.when = when
        self.reason = reason


# Waking this process's runners when a job was committed here: a process-wide signal like
# a POSIX one (every runner of the process polls once more), not data.
_wakers: set[Callable[[], None]] = set()


def on_enqueued(wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` after each commit in this process that enqueued a job; answers the
    function that stops it."""
    _wakers.add(wake)
    return lambda: _wakers.discard(wake)


def _wake() -> None:
    for wake in list(_wakers):
        try:
            wake()
        except RuntimeError:  # its event loop has closed: that runner is gone
            _wakers.discard(wake)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")
    return moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _dialect() -> str:
    return str(connections.get("default").capabilities.dialect)


def _marks(start: int, count: int) -> list[str]:
    """Placeholders ``start`` .. ``start + count - 1`` in the database's style."""
    if _dialect() == "sqlite":
        return ["?"] * count
    return [f"${n}" for n in range(start, start + count)]


async def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
) -> None:
    """Record a job of ``kind`` with ``payload`` (JSON), due at ``run_at`` (aware; None:
    now), in the unit of work open in this task: it exists once that commits and never
    if it rolls back. With a ``key`` (keys are global: start them with the kind), a
    PENDING job of that key is replaced (its kind, payload and run_at), so there is at
    most one; a job of that key that is running already is left to finish.

    Raises RuntimeError outside a unit of work, TypeError for a payload that is not JSON,
    ValueError for a naive ``run_at`` or a key longer than 200 characters."""
    work = current_unit()
    if work is None:
        raise RuntimeError("enqueue() records a job in the caller's unit_of_work: open one first.")
    payload = tracing.with_origin(payload)  # its run is a span of this operation's trace
    text = json.dumps(payload)
    due = utc_now() if run_at is None else _utc(run_at, "run_at")
    if key is not None and not 0 < len(key) <= 200:
        raise ValueError("A job key is 1 to 200 characters")
    if key is None:
        await Job.create(kind=kind, payload=payload, run_at=due)
    else:
        marks = _marks(1, 5)
        await connections.get("default").execute_query(
            "INSERT INTO jobs (kind, key, payload, run_at, created_at, status, attempts) "  # noqa: S608
            f"VALUES ({', '.join(marks)}, 'PENDING', 0) "
            "ON CONFLICT (key) WHERE status = 'PENDING' DO UPDATE SET "
            "kind = excluded.kind, payload = excluded.payload, run_at = excluded.run_at",
            [kind, key, text, due, utc_now()],
        )
    work.after_commit("the job runners of this process", _wake)


async def drop_payloads_naming(*texts: str) -> int:
    """Delete the jobs not running whose payload holds any of ``texts`` (case-insensitive),
    such as a person's e-mail address when their data is erased; answers how many."""
    sqlite = _dialect() == "sqlite"
    column = "payload" if sqlite else "payload::text"
    dropped = 0
    for text in texts:
        mark = _marks(1, 1)[0]
        like = "LIKE" if sqlite else "ILIKE"
        _, rows = await connections.get("default").execute_query(
            f"DELETE FROM jobs WHERE status <> 'RUNNING' AND {column} {like} {mark} "  # noqa: S608
            "RETURNING id",
            [f"%{text}%"],
        )
        dropped += len(rows)
    return dropped


async def cancel(key: str) -> bool:
    """Drop the PENDING job of ``key``, in the unit of work open in this task; answers
    whether there was one. A job of that key that is running already is left to finish.
    Raises RuntimeError outside a unit of work."""
    if current_unit() is None:
        raise RuntimeError("cancel() drops a job in the caller's unit_of_work: open one first.")
    return bool(await Job.filter(key=key, status=JobStatus.PENDING).delete())


# The runner's side -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """A job this worker holds the lease of, as :func:`claim_due` claimed it."""

    id: int
    kind: str
    key: str | None
    payload: dict[str, Any]
    attempt: int
    leased_by: str
    claimed_at: datetime
    run_at: datetime


def backoff(attempt: int) -> timedelta:
    """How long after failed attempt ``attempt`` (1-based) the next one is due: 15 s, then
    doubled each time, at most an hour."""
    delay: timedelta = BACKOFF_FIRST * 2 ** (attempt - 1)
    return min(delay, BACKOFF_MOST)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def claim_due(
    now: datetime,
    *,
    leased_by: str,
    lease: timedelta,
    limit: int,
    kinds: Collection[str],
    exclude: Collection[int] = (),
) -> list[Claim]:
    """Claim at most ``limit`` jobs of ``kinds`` due at ``now`` (PENDING with run_at at or
    before it, or RUNNING with a lease that ran out before it), oldest first, leaving out
    the ids ``exclude``: each becomes RUNNING, one attempt more, leased by ``leased_by``
    (unique per claim) until ``now + lease``. One statement: on PostgreSQL the rows are
    chosen ``FOR UPDATE SKIP LOCKED``, so concurrent workers claim disjoint jobs; SQLite
    has one writer at a time."""
    if limit < 1 or not kinds:
        return []
    now = _utc(now, "now")
    kinds, exclude = sorted(kinds), sorted(exclude)
    sqlite = _dialect() == "sqlite"
    if sqlite:
        where_kind = f"kind IN ({', '.join('?' * len(kinds))})"
        where_id = f"AND id NOT IN ({', '.join('?' * len(exclude))})" if exclude else ""
        due = (
            f"SELECT id FROM jobs WHERE {where_kind} {where_id} AND ((status = 'PENDING' AND "  # noqa: S608
            "run_at <= ?) OR (status = 'RUNNING' AND leased_until < ?)) ORDER BY run_at, id "
            "LIMIT ?"
        )
        sql = (
            "UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1, leased_by = ?, "  # noqa: S608
            f"leased_until = ?, started_at = ? WHERE id IN ({due}) "
            "RETURNING id, kind, key, payload, attempts, run_at"
        )
        values: list[Any] = [leased_by, now + lease, now, *kinds, *exclude, now, now, limit]
    else:
        sql = (
            "WITH due AS (SELECT id FROM jobs WHERE kind = ANY($4::text[]) "
            "AND NOT (id = ANY($5::bigint[])) AND ((status = 'PENDING' AND run_at <= $3) "
            "OR (status = 'RUNNING' AND leased_until < $3)) ORDER BY run_at, id LIMIT $6 "
            "FOR UPDATE SKIP LOCKED) "
            "UPDATE jobs SET status = 'RUNNING', attempts = jobs.attempts + 1, leased_by = $1, "
            "leased_until = $2, started_at = $3 FROM due WHERE jobs.id = due.id "
            "RETURNING jobs.id, jobs.kind, jobs.key, jobs.payload, jobs.attempts, jobs.run_at"
        )
        values = [leased_by, now + lease, now, kinds, exclude, limit]
    async with unit_of_work():
        _, rows = await connections.get("default").execute_query(sql, values)
    claims = [
        Claim(
            id=int(row["id"]),
            kind=row["kind"],
            key=row["key"],
            payload=_json(row["payload"]),
            attempt=int(row["attempts"]),
            leased_by=leased_by,
            claimed_at=now,
            run_at=_aware(row["run_at"]),
        )
        for row in rows
    ]
    return sorted(claims, key=lambda c: (c.run_at, c.id))


def _held(claim: Claim) -> dict[str, Any]:
    """The rows of ``claim`` while its lease is this worker's."""
    return {"id": claim.id, "leased_by": claim.leased_by, "status": JobStatus.RUNNING}


async def extend_lease(claim: Claim, until: datetime) -> bool:
    """Hold ``claim``'s lease until ``until``; answers False when it is no longer this
    worker's (taken over after it ran out, or the job finished)."""
    async with unit_of_work():
        return bool(await Job.filter(**_held(claim)).update(leased_until=_utc(until, "until")))


async def release(claims: Iterable[Claim]) -> None:
    """Give the leases of ``claims`` back, as if they had not been claimed (shutting down):
    PENDING again, due as before, the attempt not counted."""
    for claim in claims:
        await _back_to_pending(claim, claim.run_at, error=None, counted=False)


async def _back_to_pending(
    claim: Claim, run_at: datetime, *, error: str | None, counted: bool = True
) -> bool:
    """PENDING again at ``run_at``, if the lease is still this worker's (answered). Another
    PENDING job of the same key, enqueued while this one ran, replaces it (as an enqueue of
    that key would have): this one is dropped."""
    changes: dict[str, Any] = {
        "status": JobStatus.PENDING,
        "run_at": _utc(run_at, "run_at"),
        "leased_by": None,
        "leased_until": None,
    }
    if error is not None:
        changes["last_error"] = error
    if not counted:
        changes["attempts"] = F("attempts") - 1
    try:
        async with unit_of_work():
            return bool(await Job.filter(**_held(claim)).update(**changes))
    except IntegrityError:
        async with unit_of_work():
            dropped = bool(await Job.filter(**_held(claim)).delete())
        log.info(
            "Job %s (%s) was replaced by a newer one of key %r", claim.id, claim.kind, claim.key
        )
        return dropped


async def _finish(claim: Claim, status: JobStatus, now: datetime, error: str | None) -> bool:
    async with unit_of_work():
        return bool(
            await Job.filter(**_held(claim)).update(
                status=status, finished_at=now, leased_until=None, last_error=error
            )
        )


def _error_text(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error))
    return text if len(text) <= ERROR_CHARS else "…" + text[-ERROR_CHARS:]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a claimed job: ``status`` DONE, PENDING (to be tried again at
    ``retry_at``) or FAILED; ``recorded`` is False when the lease had been taken over
    (nothing was written)."""

    status: JobStatus
    recorded: bool
    retry_at: datetime | None = None
    error: str | None = None


async def run_claimed(
    claim: Claim,
    *,
    bus: EventBus | None,
    settings: Settings,
    now: Callable[[], datetime],
) -> Outcome:
    """Run ``claim``'s handler (in no transaction: it opens its own units of work) and
    record the outcome, if the lease is still this worker's. ``now()`` is the runner's
    clock. A job whose last attempt ran out of lease (its worker stopped) and has no
    attempts left is FAILED without running. Cancelling the call cancels the handler and
    records nothing (:func:`release` gives the lease back)."""
    handler = handler_for(claim.kind)
    if handler is None:  # claimed only by kind, so another module's registry changed
        raise LookupError(f"No handler for job kind {claim.kind!r}")
    if claim.attempt > handler.max_attempts:
        error = (
            f"Its worker stopped during attempt {claim.attempt - 1} of {handler.max_attempts} "
            "(the lease ran out)."
        )
        return await _failed(claim, handler, now(), error)
    context = JobContext(
        bus=bus,
        settings=settings,
        job_id=claim.id,
        attempt=claim.attempt,
        now=claim.claimed_at,
        kind=claim.kind,
        key=claim.key,
    )
    try:
        await handler.run(context, dict(claim.payload))
    except RetryAt as retry:
        return await _retry(claim, handler, now(), _utc(retry.when, "RetryAt.when"), str(retry))
    except Exception as error:
        at = now()
        return await _retry(claim, handler, at, at + backoff(claim.attempt), _error_text(error))
    recorded = await _finish(claim, JobStatus.DONE, now(), None)
    if not recorded:
        log.warning("Job %s (%s) finished after its lease was taken over", claim.id, claim.kind)
    return Outcome(JobStatus.DONE, recorded)


async def _retry(
    claim: Claim, handler: JobHandler, now: datetime, when: datetime, error: str
) -> Outcome:
    if claim.attempt >= handler.max_attempts:
        return await _failed(claim, handler, now, error)
    log.warning(
        "Job %s (%s) attempt %s of %s failed; next at %s: %s",
        claim.id, claim.kind, claim.attempt, handler.max_attempts, when.isoformat(),
        error.strip().splitlines()[-1] if error.strip() else "",
    )  # fmt: skip
    held = await _back_to_pending(claim, when, error=error)
    return Outcome(JobStatus.PENDING, held, retry_at=when, error=error)


async def _failed(claim: Claim, handler: JobHandler, now: datetime, error: str) -> Outcome:
    recorded = await _finish(claim, JobStatus.FAILED, now, error)
    log.error(
        "Job %s (%s%s) FAILED after %s attempt(s): %s",
        claim.id, claim.kind, f", key {claim.key!r}" if claim.key else "",
        min(claim.attempt, handler.max_attempts), error,
    )  # fmt: skip
    return Outcome(JobStatus.FAILED, recorded, error=error)


async def next_due(kinds: Collection[str]) -> datetime | None:
    """When the next PENDING job of ``kinds`` is due, or None (a read)."""
    if not kinds:
        return None
    job = (
        await Job.filter(status=JobStatus.PENDING, kind__in=list(kinds))
        .order_by("run_at")
        .only("id", "run_at")
        .first()
    )
    return None if job is None else _aware(job.run_at)


async def unknown_kinds_due(kinds: Collection[str], now: datetime) -> dict[str, int]:
    """How many PENDING jobs due at ``now`` are of kinds not in ``kinds`` (no module of this
    process handles them), by kind (a read)."""
    due = Job.filter(status=JobStatus.PENDING, run_at__lte=_utc(now, "now"))
    counted: dict[str, int] = {}
    for kind in await due.exclude(kind__in=list(kinds)).values_list("kind", flat=True):
        counted[str(kind)] = counted.get(str(kind), 0) + 1
    return counted


async def prune_done(before: datetime) -> int:
    """Delete DONE jobs that finished before ``before`` (FAILED ones are kept for a look);
    answers how many."""
    async with unit_of_work():
        return int(
            await Job.filter(status=JobStatus.DONE, finished_at__lt=_utc(before, "before")).delete()
        )
