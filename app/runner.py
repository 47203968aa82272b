"""The background job runner: one per server process (``app.state.jobs``), or alone in
``extranet worker``.

It claims due jobs with a lease (actions/jobs.py ``claim_due``: one short statement, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that N processes claim disjoint jobs), runs
each handler in a task of its own (at most ``EXTRANET_JOBS_CONCURRENCY`` at once, so one
slow job does not hold up the others), extends the lease while the handler runs (every
quarter of ``EXTRANET_JOBS_LEASE``), and records the outcome only while the lease is
still its own. A process that dies mid-job stops extending its leases: once one runs
out, another worker claims that job again. A job committed in this process wakes the
runner at once; other work is found by polling every ``EXTRANET_JOBS_POLL_INTERVAL``
seconds, or sooner when the next job is due sooner. On shutdown it stops claiming, lets
running jobs finish within ``EXTRANET_JOBS_SHUTDOWN_GRACE`` seconds, and gives the
leases of the rest back. Leases are times of the workers' clocks: keep the hosts'
clocks synchronised (NTP); a lease lasts far longer than their drift.

Why not a library: none of the well-kept ones serves both databases with leases and
records a job in the transaction of its cause. procrastinate is PostgreSQL-only
(LISTEN/NOTIFY, its own functions), and arq, saq and rq keep their queues in Redis, so a
job could be lost or run for an action that rolled back. The embedded default (SQLite,
one process) needs no other service, and the same table serves PostgreSQL.

Tests run jobs deterministically with :meth:`JobRunner.run_due`, with the polling loop
off (``EXTRANET_JOBS=off``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import count

from actions.jobs import (
    Claim,
    Outcome,
    claim_due,
    extend_lease,
    next_due,
    on_enqueued,
    prune_done,
    registered_kinds,
    release,
    run_claimed,
    unknown_kinds_due,
    utc_now,
)
from actions.unit_of_work import current_unit
from infra import metrics, tracing
from infra.settings import Settings
from realtime.bus import EventBus

log = logging.getLogger(__name__)

# The modules whose import registers job handlers (@job_handler), one a line.
JOB_MODULES: tuple[str, ...] = (
    "actions.account_lifecycle",
    "actions.business_documents",
    "actions.idempotency",
    "actions.interactions",
    "actions.library",
    "actions.library_text",
    "actions.mail",
    "actions.mail_notifications",
    "actions.personal_data",
    "actions.request_reminders",
    "actions.retention",
    "actions.security_alerts",
    "actions.webhooks",
)

DONE_KEPT = timedelta(days=7)  # DONE jobs are deleted after this; FAILED ones are kept
PRUNE_EVERY = 3600.0  # seconds between two deletions of old DONE jobs
SHORTEST_WAIT = 0.05  # seconds between two polls, at least


def import_job_modules(extra: Iterable[str] = ()) -> None:
    """Import :data:`JOB_MODULES` and ``extra`` (EXTRANET_JOB_MODULES), registering their
    handlers. Raises ImportError naming a module that cannot be imported."""
    for name in (*JOB_MODULES, *extra):
        importlib.import_module(name)


class JobRunner:
    """Runs this process's share of the due jobs. :meth:`start` begins polling (the app's
    lifespan does when EXTRANET_JOBS is on), :meth:`stop` ends it; :meth:`run_due` runs
    what is due at a given time, now, in the caller's task."""

    def __init__(
        self,
        settings: Settings,
        bus: EventBus | None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        import_job_modules(settings.job_modules)
        self.settings = settings
        self.bus = bus
        self.clock = clock
        self.worker = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = timedelta(seconds=settings.jobs_lease)
        self.concurrency = settings.jobs_concurrency
        self._claims = count(1)
        self._running: dict[asyncio.Task[Outcome | None], Claim] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._unsubscribe: Callable[[], None] | None = None
        self._pruned_at = 0.0

    @property
    def running(self) -> bool:
        """Whether the polling loop runs."""
        return self._loop is not None and not self._loop.done()

    def _lease_name(self) -> str:
        """``leased_by`` of one claim: this worker (host, process, a random suffix) and a
        counter, so a claim of this worker is told from its earlier ones."""
        return f"{self.worker}/{next(self._claims)}"

    async def start(self) -> None:
        """Begin claiming and running due jobs in the background."""
        if self.running:
            return
        self._stopping = False
        loop = asyncio.get_running_loop()
        event = self._wake

        def wake() -> None:
            loop.call_soon_threadsafe(event.set)

        self._unsubscribe = on_enqueued(wake)
        self._loop = asyncio.create_task(self._poll(), name=f"job runner {self.worker}")
        log.info(
            "Job runner %s started: %s (poll every %s s, lease %s s, %s at once)",
            self.worker,
            ", ".join(sorted(registered_kinds())) or "no job kinds",
            self.settings.jobs_poll_interval,
            self.settings.jobs_lease,
            self.concurrency,
        )

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming; wait up to ``grace`` seconds (EXTRANET_JOBS_SHUTDOWN_GRACE) for
        running jobs to finish, then cancel the others and give their leases back."""
        grace = self.settings.jobs_shutdown_grace if grace is None else grace
        self._stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._wake.set()
        if self._loop is not None:
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        running = dict(self._running)
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        if late:
            claims = [running[task] for task in late]
            log.warning(
                "Job runner %s stopped with %s job(s) unfinished; their leases are given back",
                self.worker,
                len(claims),
            )
            try:
                await release(claims)
            except Exception:  # their leases run out instead
                log.exception("Giving back the leases of unfinished jobs failed")

    async def run_due(self, now: datetime | None = None) -> int:
        """Run, one after the other in this task, every job due at ``now`` (aware;
        default: the clock at each claim), those whose lease ran out by then, and those
        that these jobs enqueue that are due too; each at most once per call. Answers how
        many ran. Raises RuntimeError inside a unit of work."""
        if current_unit() is not None:
            raise RuntimeError(
                "run_due() runs jobs in their own transactions: call it outside a unit_of_work."
            )
        ran: set[int] = set()
        kinds = registered_kinds()
        while True:
            claims = await claim_due(
                self.clock() if now is None else now,
                leased_by=self._lease_name(),
                lease=self.lease,
                limit=1,
                kinds=kinds,
                exclude=ran,
            )
            if not claims:
                return len(ran)
            ran.add(claims[0].id)
            await self._run(claims[0])

    async def _run(self, claim: Claim) -> Outcome | None:
        """Run ``claim`` while extending its lease; None when the lease was taken over
        (the handler is then cancelled: another worker runs the job)."""
        started = time.monotonic()
        metrics.JOBS_LAG.observe(max(0.0, (claim.claimed_at - claim.run_at).total_seconds()))

        def now() -> datetime:
            return claim.claimed_at + timedelta(seconds=time.monotonic() - started)

        job = asyncio.create_task(
            tracing.in_job_span(
                claim.kind,
                claim.payload,
                run_claimed(claim, bus=self.bus, settings=self.settings, now=now),
            ),
            name=f"job {claim.id} ({claim.kind})",
        )
        beat = self.lease.total_seconds() / 4
        try:
            while True:
                done, _ = await asyncio.wait({job}, timeout=beat)
                if done:
                    outcome = job.result()
                    metrics.JOBS.labels(claim.kind, outcome.status.value.lower()).inc()
                    return outcome
                try:
                    held = await extend_lease(claim, now() + self.lease)
                except Exception:  # the database is away: try again at the next beat
                    log.warning("Extending the lease of job %s failed", claim.id, exc_info=True)
                    continue
                if not held and not job.done():
                    log.warning(
                        "Job %s (%s): its lease was taken over; stopping this run",
                        claim.id,
                        claim.kind,
                    )
                    job.cancel()
                    await asyncio.gather(job, return_exceptions=True)
                    return None
        except asyncio.CancelledError:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            raise

    async def _poll(self) -> None:
        kinds = registered_kinds()
        interval = self.settings.jobs_poll_interval
        while not self._stopping:
            self._wake.clear()
            wait = interval
            try:
                free = self.concurrency - len(self._running)
                if free > 0:
                    now = self.clock()
                    claims = await claim_due(
                        now,
                        leased_by=self._lease_name(),
                        lease=self.lease,
                        limit=free,
                        kinds=kinds,
                    )
                    for claim in claims:
                        self._start(claim)
                    if len(claims) == free:
                        continue  # there may be more: claim again once a slot is free
                    upcoming = await next_due(kinds)
                    if upcoming is not None:
                        wait = min(wait, (upcoming - self.clock()).total_seconds())
                await self._housekeeping()
            except Exception:
                log.warning("Claiming background jobs failed; trying again", exc_info=True)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait, SHORTEST_WAIT))

    def _start(self, claim: Claim) -> None:
        task = asyncio.create_task(self._run(claim), name=f"job {claim.id} ({claim.kind})")
        self._running[task] = claim

        def finished(task: asyncio.Task[Outcome | None]) -> None:
            self._running.pop(task, None)
            if not task.cancelled() and task.exception() is not None:
                log.error(
                    "Job %s (%s) broke the runner", claim.id, claim.kind, exc_info=task.exception()
                )
            self._wake.set()  # a slot is free

        task.add_done_callback(finished)

    async def _housekeeping(self) -> None:
        """Hourly: delete old DONE jobs; warn of due jobs of kinds nobody here handles."""
        if time.monotonic() - self._pruned_at < PRUNE_EVERY and self._pruned_at:
            return
        self._pruned_at = time.monotonic()
        deleted = await prune_done(self.clock() - DONE_KEPT)
        if deleted:
            log.info("Deleted %s background job(s) done more than %s ago", deleted, DONE_KEPT)
        unknown = await unknown_kinds_due(registered_kinds(), self.clock())
        if unknown:  # a module missing from JOB_MODULES, or kinds of another version
            log.warning("Due jobs that no module of this process handles: %s", unknown)
