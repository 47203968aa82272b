"""Background jobs: work recorded durably to run at a time, once (actions/jobs.py writes
them, app/runner.py runs them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields

from models._base import TimestampedModel


class JobStatus(StrEnum):
    PENDING = "PENDING"  # waits for its run_at (also between attempts)
    RUNNING = "RUNNING"  # claimed: a worker holds its lease until leased_until
    DONE = "DONE"
    FAILED = "FAILED"  # its last attempt failed and it has no attempts left


class Job(TimestampedModel):
    """One piece of background work of a ``kind`` (the name its handler registered), with a
    JSON ``payload``, due at ``run_at``.

    A ``key`` names work that is scheduled at most once: at most one PENDING job has a given
    key (a partial unique index, made by the migration because both databases have them but
    the ORM can declare them on PostgreSQL only); enqueueing the key again replaces that
    job's payload and run_at. The key stays on the row after it ran, for its history.

    A worker claims a job by setting it RUNNING with a lease: ``leased_by`` (the worker
    and the claim, unique per claim) until ``leased_until``. A lease that runs out (its
    worker died) lets another worker claim the job again; a worker whose lease was taken
    over finds ``leased_by`` changed and writes nothing."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=100)
    key = fields.CharField(max_length=200, null=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    run_at = fields.DatetimeField(description="when it is due (UTC)")
    status = fields.CharEnumField(JobStatus, max_length=8, default=JobStatus.PENDING)
    attempts = fields.IntField(default=0, description="claims so far, this one included")
    leased_until = fields.DatetimeField(null=True)
    leased_by = fields.CharField(max_length=120, null=True)
    last_error = fields.TextField(null=True)
    started_at = fields.DatetimeField(null=True, description="when its last attempt began")
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "jobs"
        indexes = (("status", "run_at"),)  # what a claim looks for (and expired leases)
