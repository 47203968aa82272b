"""Background jobs (actions/jobs.py, app/runner.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from actions.jobs import JobContext, claim_due, enqueue, job_handler, run_claimed
from actions.unit_of_work import unit_of_work
from models import Job, JobStatus

RAN: list[dict[str, Any]] = []


@job_handler("tests.record")
async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
    RAN.append(payload)


async def test_a_committed_job_runs_once(app: Starlette) -> None:
    RAN.clear()
    async with unit_of_work():
        await enqueue("tests.record", {"n": 1})
    now = datetime.now(UTC)
    claims = await claim_due(now, leased_by="w/1", lease=timedelta(seconds=30), limit=5, kinds={"tests.record"})
    assert len(claims) == 1
    outcome = await run_claimed(claims[0], bus=None, settings=app.state.settings, now=lambda: now)
    assert outcome.status == JobStatus.DONE
    assert RAN == [{"n": 1}]
    job = await Job.get(id=claims[0].id)
    assert job.status == JobStatus.DONE
