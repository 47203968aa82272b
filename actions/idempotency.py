"""The records of requests sent with an ``Idempotency-Key`` (app/idempotency.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from actions import jobs
from actions._common import now
from actions.unit_of_work import unit_of_work
from models import IdempotentRequest

KEPT_FOR = timedelta(hours=24)
"""How long an answer is replayed to repeats of its request."""
PRUNE = "idempotency.prune"
ABANDONED_AFTER = timedelta(minutes=5)
"""A first request still unanswered after this long is taken to have died with its process:
the next repeat runs in its place."""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a request with a key does: run (``record`` is its claim, answer it with
    :func:`finish`), or answer with ``record`` (a finished first answer, another body's
    record, or one still running)."""

    record: IdempotentRequest
    run: bool


async def claim(caller: str, key: str, request_hash: str) -> Claim:
    """Claim ``key`` of ``caller`` for this request, unless a live record has it."""
    for _ in range(3):
        moment = now()
        async with unit_of_work():
            found = await IdempotentRequest.get_or_none(caller=caller, key=key)
            stale = found is not None and (
                found.expires_at <= moment
                or (found.status is None and found.created_at <= moment - ABANDONED_AFTER)
            )
            if found is not None and not stale:
                return Claim(found, run=False)
            if found is not None:
                await IdempotentRequest.filter(id=found.id).delete()
        try:
            async with unit_of_work():
                record = await IdempotentRequest.create(
                    caller=caller,
                    key=key,
                    request_hash=request_hash,
                    expires_at=moment + KEPT_FOR,
                )
                # one pruning job for each hour in which records expire
                hour = record.expires_at.replace(minute=0, second=0, microsecond=0)
                due = hour + timedelta(hours=1)
                await jobs.enqueue(PRUNE, {}, run_at=due, key=f"{PRUNE}:{due.isoformat()}")
            return Claim(record, run=True)
        except IntegrityError:
            continue  # another request claimed it meanwhile: read theirs
    raise RuntimeError("Could not claim an idempotency key")  # pragma: no cover


async def finish(record: IdempotentRequest, status: int, media_type: str, body: str) -> None:
    """Keep the first answer to replay it to repeats."""
    async with unit_of_work():
        await IdempotentRequest.filter(id=record.id).update(
            status=status, media_type=media_type, body=body
        )


async def release(record: IdempotentRequest) -> None:
    """Forget a claim whose request failed unexpectedly: a repeat runs it again."""
    async with unit_of_work():
        await IdempotentRequest.filter(id=record.id).delete()


async def prune(moment: datetime | None = None) -> int:
    """Delete the records past their 24 hours; how many."""
    async with unit_of_work():
        return await IdempotentRequest.filter(expires_at__lte=moment or now()).delete()


@jobs.job_handler(PRUNE, max_attempts=3)
async def prune_job(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    """Delete the records of idempotency keys past their 24 hours."""
    await prune(ctx.now)
