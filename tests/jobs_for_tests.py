"""Job kinds of the tests only. tests/test_jobs.py imports this module; a worker process
that a test starts imports it through ``EXTRANET_JOB_MODULES=tests.jobs_for_tests`` (with
the repository on PYTHONPATH). No production path imports it."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from actions.jobs import JobContext, RetryAt, enqueue, job_handler
from actions.unit_of_work import unit_of_work

# What the in-process handlers did, as (kind, payload, attempt, now); tests clear it.
RAN: list[tuple[str, dict[str, Any], int, Any]] = []
GATES: dict[str, asyncio.Event] = {}  # named gates a "tests.wait" job waits at


@job_handler("tests.record")
async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
    RAN.append((ctx.kind, payload, ctx.attempt, ctx.now))


@job_handler("tests.fail", max_attempts=3)
async def fail(ctx: JobContext, payload: dict[str, Any]) -> None:
    RAN.append((ctx.kind, payload, ctx.attempt, ctx.now))
    raise RuntimeError(f"attempt {ctx.attempt} failed on purpose")


@job_handler("tests.later", max_attempts=2)
async def later(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The first attempt asks to be tried again an hour later; the second succeeds."""
    RAN.append((ctx.kind, payload, ctx.attempt, ctx.now))
    if ctx.attempt == 1:
        raise RetryAt(ctx.now + timedelta(hours=1), "the receiver is closed for an hour")


@job_handler("tests.chain")
async def chain(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Enqueues a "tests.record" job due at once."""
    RAN.append((ctx.kind, payload, ctx.attempt, ctx.now))
    async with unit_of_work(ctx.bus):
        await enqueue("tests.record", {"after": payload.get("n")})


@job_handler("tests.wait")
async def wait(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Waits at the gate ``payload["gate"]`` (in this process) until a test opens it."""
    RAN.append((ctx.kind, payload, ctx.attempt, ctx.now))
    await GATES.setdefault(payload["gate"], asyncio.Event()).wait()
    RAN.append(("tests.wait done", payload, ctx.attempt, ctx.now))


@job_handler("tests.block_in_worker", max_attempts=3)
async def block_in_worker(ctx: JobContext, payload: dict[str, Any]) -> None:
    """For a worker process: appends ``<pid> <attempt>`` to ``started`` in the directory
    ``payload["dir"]``, waits until a file ``release`` exists there, then appends the same
    line to ``done``. The test counts the lines."""
    folder = Path(payload["dir"])
    line = f"{os.getpid()} {ctx.attempt}\n"
    with (folder / "started").open("a") as started:
        started.write(line)
    while not (folder / "release").exists():  # noqa: ASYNC110 (made by another process)
        await asyncio.sleep(0.01)
    with (folder / "done").open("a") as done:
        done.write(line)
