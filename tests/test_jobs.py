"""Background jobs: recorded in the cause's transaction, run once, retried, leased
(actions/jobs.py, app/runner.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from actions.jobs import RetryAt, backoff, cancel, claim_due, enqueue, run_claimed
from actions.unit_of_work import unit_of_work
from app.runner import JobRunner
from infra.settings import SettingsError, load_settings
from models import Job, JobStatus
from tests import jobs_for_tests
from tests.jobs_for_tests import GATES, RAN
from tests.live import EXTRANET, until

ROOT = Path(__file__).resolve().parent.parent
LEASE = timedelta(seconds=60)


@pytest.fixture(autouse=True)
def _nothing_ran_yet() -> None:
    RAN.clear()
    GATES.clear()


@pytest.fixture
def jobs(app: Starlette) -> JobRunner:
    return app.state.jobs  # type: ignore[no-any-return]


def ran(kind: str) -> list[dict[str, Any]]:
    return [payload for k, payload, _, _ in RAN if k == kind]


async def test_a_job_of_a_rolled_back_unit_does_not_exist(jobs: JobRunner) -> None:
    async def action() -> None:
        async with unit_of_work():
            await enqueue("tests.record", {"n": 1})
            raise RuntimeError("the action failed")

    # when the action that enqueued it fails
    with pytest.raises(RuntimeError, match="the action failed"):
        await action()

    # then there is nothing to run
    assert await Job.all().count() == 0
    assert await jobs.run_due(datetime.now(UTC) + timedelta(days=1)) == 0
    assert RAN == []


async def test_enqueue_outside_a_unit_of_work_is_refused() -> None:
    with pytest.raises(RuntimeError, match="unit_of_work"):
        await enqueue("tests.record", {"n": 1})


async def test_a_committed_job_runs_once(jobs: JobRunner) -> None:
    # given
    async with unit_of_work():
        await enqueue("tests.record", {"n": 1})

    # when / then
    assert await jobs.run_due() == 1
    assert await jobs.run_due(datetime.now(UTC) + timedelta(days=1)) == 0
    assert ran("tests.record") == [{"n": 1}]
    job = await Job.get()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
    assert job.last_error is None
    assert job.finished_at is not None


async def test_run_due_runs_only_what_is_due_at_that_time(jobs: JobRunner) -> None:
    now = datetime.now(UTC)
    async with unit_of_work():
        await enqueue("tests.record", {"n": "in an hour"}, run_at=now + timedelta(hours=1))
        await enqueue("tests.record", {"n": "in two hours"}, run_at=now + timedelta(hours=2))

    assert await jobs.run_due(now) == 0
    assert await jobs.run_due(now + timedelta(minutes=90)) == 1
    assert ran("tests.record") == [{"n": "in an hour"}]
    # a handler's clock is the runner's
    assert RAN[0][3] == now + timedelta(minutes=90)


async def test_jobs_that_a_job_enqueues_run_in_the_same_call(jobs: JobRunner) -> None:
    async with unit_of_work():
        await enqueue("tests.chain", {"n": 7})

    assert await jobs.run_due() == 2
    assert ran("tests.record") == [{"after": 7}]


async def test_a_key_replaces_the_pending_jobs_payload_and_time(jobs: JobRunner) -> None:
    now = datetime.now(UTC)
    # given a job scheduled under a key
    async with unit_of_work():
        await enqueue("tests.record", {"v": 1}, run_at=now + timedelta(hours=1), key="remind:1")

    # when it is scheduled again under that key
    async with unit_of_work():
        await enqueue("tests.record", {"v": 2}, run_at=now + timedelta(hours=3), key="remind:1")

    # then one job is pending, with the second payload and time
    job = await Job.get()
    assert (job.payload, job.run_at, job.key) == ({"v": 2}, now + timedelta(hours=3), "remind:1")
    assert await jobs.run_due(now + timedelta(hours=2)) == 0
    assert await jobs.run_due(now + timedelta(hours=3)) == 1
    assert ran("tests.record") == [{"v": 2}]

    # and once it ran, the key schedules a new job
    async with unit_of_work():
        await enqueue("tests.record", {"v": 3}, key="remind:1")
    assert await Job.filter(key="remind:1").count() == 2


async def test_cancel_drops_the_pending_job_of_a_key(jobs: JobRunner) -> None:
    async with unit_of_work():
        await enqueue("tests.record", {"v": 1}, key="remind:2")
        await enqueue("tests.record", {"v": 2}, key="remind:3")

    async with unit_of_work():
        assert await cancel("remind:2") is True
        assert await cancel("remind:2") is False

    assert await jobs.run_due() == 1
    assert ran("tests.record") == [{"v": 2}]


async def test_a_failing_job_is_retried_with_backoff_then_failed(jobs: JobRunner) -> None:
    now = datetime.now(UTC)
    async with unit_of_work():
        await enqueue("tests.fail", {"n": 1}, run_at=now)

    # the first attempt fails: tried again after the backoff
    assert await jobs.run_due(now) == 1
    job = await Job.get()
    assert (job.status, job.attempts, job.leased_by) == (JobStatus.PENDING, 1, None)
    assert "attempt 1 failed on purpose" in (job.last_error or "")
    second = job.run_at
    assert now + backoff(1) <= second <= now + backoff(1) + timedelta(seconds=5)
    assert await jobs.run_due(second - timedelta(seconds=1)) == 0

    # the second fails too, and waits twice as long
    assert await jobs.run_due(second) == 1
    job = await Job.get()
    third = job.run_at
    assert backoff(2) == 2 * backoff(1)
    assert second + backoff(2) <= third <= second + backoff(2) + timedelta(seconds=5)

    # the third is its last (max_attempts=3)
    assert await jobs.run_due(third) == 1
    job = await Job.get()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert "attempt 3 failed on purpose" in (job.last_error or "")
    assert await jobs.run_due(third + timedelta(days=1)) == 0
    assert [attempt for _, _, attempt, _ in RAN] == [1, 2, 3]


async def test_a_handler_chooses_when_to_be_tried_again(jobs: JobRunner) -> None:
    now = datetime.now(UTC)
    async with unit_of_work():
        await enqueue("tests.later", {"n": 1}, run_at=now)

    assert await jobs.run_due(now) == 1
    job = await Job.get()
    assert (job.status, job.run_at) == (JobStatus.PENDING, now + timedelta(hours=1))
    assert job.last_error == "the receiver is closed for an hour"
    assert await jobs.run_due(now + timedelta(minutes=59)) == 0

    assert await jobs.run_due(now + timedelta(hours=1)) == 1
    job = await Job.get()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)


def test_retry_at_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        RetryAt(datetime(2030, 1, 1, 12, 0))


async def test_a_job_whose_lease_ran_out_is_claimed_again(jobs: JobRunner, app: Starlette) -> None:
    now = datetime.now(UTC)
    async with unit_of_work():
        await enqueue("tests.record", {"n": 1}, run_at=now)
    # given a worker that claimed it and then stopped answering
    [stale] = await claim_due(
        now, leased_by="gone:1/1", lease=LEASE, limit=5, kinds={"tests.record"}
    )
    assert await jobs.run_due(now + LEASE - timedelta(seconds=1)) == 0  # its lease holds

    # when its lease has run out, another worker runs it
    assert await jobs.run_due(now + LEASE + timedelta(seconds=1)) == 1
    job = await Job.get()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)

    # and the first worker, waking up, overwrites nothing
    outcome = await run_claimed(stale, bus=None, settings=app.state.settings, now=lambda: now)
    assert outcome.recorded is False
    again = await Job.get()
    assert (again.status, again.attempts, again.leased_by) == (
        JobStatus.DONE,
        2,
        job.leased_by,
    )


async def test_a_retry_gives_way_to_a_newer_job_of_its_key(jobs: JobRunner, app: Starlette) -> None:
    now = datetime.now(UTC)
    async with unit_of_work():
        await enqueue("tests.fail", {"v": 1}, run_at=now, key="sync:1")
    [running] = await claim_due(now, leased_by="w:1/1", lease=LEASE, limit=1, kinds={"tests.fail"})
    # while it runs, the key is scheduled again
    async with unit_of_work():
        await enqueue("tests.fail", {"v": 2}, run_at=now + timedelta(hours=1), key="sync:1")

    # when the running one fails, it is not tried again beside the newer one
    outcome = await run_claimed(running, bus=None, settings=app.state.settings, now=lambda: now)
    assert outcome.status == JobStatus.PENDING
    [job] = await Job.filter(key="sync:1")
    assert (job.payload, job.status, job.attempts) == ({"v": 2}, JobStatus.PENDING, 0)


async def test_run_due_inside_a_unit_of_work_is_refused(jobs: JobRunner) -> None:
    async def inside() -> None:
        async with unit_of_work():
            await jobs.run_due()

    with pytest.raises(RuntimeError, match="outside a unit_of_work"):
        await inside()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EXTRANET_JOBS", "sometimes", "EXTRANET_JOBS must be on or off"),
        ("EXTRANET_JOBS_LEASE", "0.5", "EXTRANET_JOBS_LEASE must be at least 1"),
        ("EXTRANET_JOBS_POLL_INTERVAL", "soon", "EXTRANET_JOBS_POLL_INTERVAL must be a number"),
        ("EXTRANET_JOB_MODULES", "tests/jobs.py", "EXTRANET_JOB_MODULES is a comma-separated"),
    ],
)
def test_a_bad_job_setting_names_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({name: value})


def test_job_settings_take_decimals_and_lists() -> None:
    settings = load_settings(
        {
            "EXTRANET_JOBS": "off",
            "EXTRANET_JOBS_POLL_INTERVAL": "0.25",
            "EXTRANET_JOBS_LEASE": "90",
            "EXTRANET_JOB_MODULES": "a.b, c",
        }
    )
    assert settings.jobs_enabled is False
    assert (settings.jobs_poll_interval, settings.jobs_lease) == (0.25, 90.0)
    assert settings.job_modules == ("a.b", "c")


async def test_two_runners_claim_disjoint_jobs(app: Starlette) -> None:
    now = datetime.now(UTC)
    async with unit_of_work():
        for n in range(6):
            await enqueue("tests.record", {"n": n}, run_at=now)
    first, second = JobRunner(app.state.settings, None), JobRunner(app.state.settings, None)

    # when both claim at the same time
    claims = await asyncio.gather(
        *(
            claim_due(now, leased_by=runner.worker, lease=LEASE, limit=3, kinds={"tests.record"})
            for runner in (first, second)
        )
    )

    # then each has three, and no job is in both
    ids = [{claim.id for claim in some} for some in claims]
    assert [len(some) for some in ids] == [3, 3]
    assert not ids[0] & ids[1]
    assert await Job.filter(status=JobStatus.RUNNING).count() == 6


def ran_count(kind: str, count: int) -> Callable[[], bool]:
    return lambda: len(ran(kind)) == count


@asynccontextmanager
async def polling(app: Starlette, **changes: Any) -> AsyncIterator[JobRunner]:
    """A runner of this process's database whose loop is on."""
    runner = JobRunner(replace(app.state.settings, jobs_enabled=True, **changes), None)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop(grace=5)


async def test_a_committed_job_wakes_the_runner_of_its_process(app: Starlette) -> None:
    # given a runner that would look for due jobs again only in a minute
    async with polling(app, jobs_poll_interval=60.0) as runner:
        for n in (1, 2):
            # when a job is committed
            async with unit_of_work():
                await enqueue("tests.record", {"n": n})

            # then it runs at once
            await until(ran_count("tests.record", n), what=f"job {n} ran")
            await until(lambda: not runner._running, what=f"job {n} is recorded")
    assert await Job.filter(status=JobStatus.DONE).count() == 2


async def test_due_jobs_that_no_module_handles_are_left_and_reported(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    async with unit_of_work():
        await enqueue("retired.kind", {"n": 1})
    assert await app.state.jobs.run_due() == 0

    with caplog.at_level(logging.WARNING, logger="app.runner"):
        async with polling(app):
            await until(
                lambda: "{'retired.kind': 1}" in caplog.text, what="a warning naming the kind"
            )
    assert (await Job.get()).status == JobStatus.PENDING


async def test_a_slow_job_does_not_hold_up_the_others(app: Starlette) -> None:
    async with polling(app, jobs_concurrency=2):
        async with unit_of_work():
            await enqueue("tests.wait", {"gate": "slow"})
        await until(lambda: bool(ran("tests.wait")), what="the slow job started")

        async with unit_of_work():
            await enqueue("tests.record", {"n": 1})
        await until(lambda: ran("tests.record") == [{"n": 1}], what="the other job ran")

        GATES["slow"].set()
        await until(lambda: bool(ran("tests.wait done")), what="the slow job finished")


async def test_stopping_gives_back_the_leases_of_unfinished_jobs(app: Starlette) -> None:
    # given a job that runs when the runner stops
    async with polling(app) as runner:
        async with unit_of_work():
            await enqueue("tests.wait", {"gate": "never"})
        await until(lambda: bool(ran("tests.wait")), what="the job started")
        job = await Job.get()
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)

        # when it stops without waiting
        await runner.stop(grace=0)

    # then the job is pending again, its attempt not counted, for another worker to run
    job = await Job.get()
    assert (job.status, job.attempts, job.leased_by, job.leased_until) == (
        JobStatus.PENDING,
        0,
        None,
        None,
    )
    assert not ran("tests.wait done")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_a_job_whose_worker_is_killed_runs_again_elsewhere_once(
    app: Starlette, tmp_path: Path
) -> None:
    """Two `extranet worker` processes on the test database; the one running a job is
    killed (SIGKILL) in the middle of it; the other runs it once its lease has run out,
    and not before; the job completes once."""
    settings = app.state.settings
    folder = tmp_path
    async with unit_of_work():
        await enqueue("tests.block_in_worker", {"dir": str(folder)})
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": "memory://",
        "EXTRANET_SECRET_KEY": settings.secret_key,
        "EXTRANET_JOB_MODULES": jobs_for_tests.__name__,
        "PYTHONPATH": str(ROOT),
        "EXTRANET_JOBS_LEASE": "2",
        "EXTRANET_JOBS_POLL_INTERVAL": "0.1",
    }
    logs = [(folder / f"worker-{n}.log").open("w") for n in (1, 2)]
    workers = [
        await asyncio.create_subprocess_exec(
            EXTRANET,
            "worker",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for log in logs
    ]
    by_pid = {worker.pid: worker for worker in workers}
    try:
        # given one worker running the job
        await until(lambda: len(_lines(folder / "started")) == 1, 60, what="a worker started it")
        first_pid = int(_lines(folder / "started")[0].split()[0])
        first = await Job.get()
        assert first.status == JobStatus.RUNNING
        assert first.leased_until is not None

        # while it runs, its lease is extended, and the other worker (polling) leaves it
        await until(
            lambda: datetime.now(UTC) > first.leased_until + timedelta(seconds=0.5),  # type: ignore[operator]
            10,
            what="the first lease's end",
        )
        held = await Job.get()
        assert held.leased_by == first.leased_by
        assert held.leased_until is not None
        assert held.leased_until > first.leased_until
        assert len(_lines(folder / "started")) == 1

        # when that worker is killed mid-job
        by_pid[first_pid].send_signal(signal.SIGKILL)
        await by_pid[first_pid].wait()

        # then the other runs it again, once its lease has run out
        await until(lambda: len(_lines(folder / "started")) == 2, 30, what="a second attempt")
        second_pid, attempt = map(int, _lines(folder / "started")[1].split())
        assert second_pid != first_pid
        assert second_pid in by_pid
        assert attempt == 2
        (folder / "release").touch()

        async def done() -> bool:
            return (await Job.get()).status == JobStatus.DONE

        await until(done, 30, what="the job is done")
        # and it completed once
        assert _lines(folder / "done") == [f"{second_pid} 2"]
        job = await Job.get()
        assert job.attempts == 2
        assert job.last_error is None
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.terminate()
        for worker in workers:
            try:
                await asyncio.wait_for(worker.wait(), 15)
            except TimeoutError:
                worker.kill()
                await worker.wait()
        for log in logs:
            log.close()
