"""How late notification mail is, past its batching window, with the job runner under load.

    .venv/bin/python benchmarks/mail_delay.py --contacts 200 --busy-per-second 40

A fresh SQLite database (benchmarks/_app.py) with one customer, one staff member and N
contacts on one project. A job runner polls as in production (EXTRANET_JOBS_POLL_INTERVAL,
EXTRANET_JOBS_CONCURRENCY), while a background task keeps enqueuing ``bench.busy`` jobs
(each one database query and 20 ms of waiting) at the given rate, and the notification
mail's own ``mail.send`` jobs write to a Maildir. Posts mention the contacts, one each, at
random intervals; nobody has a client open, so each mention becomes a one-item batch.

The runner's clock runs one batching window ahead of the real one, so a batch is due the
moment its notification is recorded: the real time from a post to its mail being queued is
what the mail comes later than the window (the lateness a person sees on top of their
window). It prints p50, p95 and the largest lateness, and whether p95 stays within 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _app import benchmark_app

from actions import accounts, customers, microposts, projects
from actions.jobs import JobContext, enqueue, job_handler
from actions.unit_of_work import unit_of_work
from app.runner import JobRunner
from domain.mail_schedule import DEFAULT_WINDOW
from models import Role, User
from models.jobs import Job, JobStatus
from models.mail import OutgoingMail


@job_handler("bench.busy")
async def busy(ctx: JobContext, payload: dict[str, Any]) -> None:
    await User.filter(id=1).exists()
    await asyncio.sleep(0.02)


async def keep_busy(per_second: float) -> None:
    while True:
        async with unit_of_work():
            await enqueue("bench.busy", {})
        await asyncio.sleep(1 / per_second)


async def run(contacts: int, per_second: float, spread: float) -> None:
    async with benchmark_app(EXTRANET_JOBS="off") as app:
        bus = app.state.bus
        staff = await accounts.create_user(
            email="staff@bench.example", name="Staff", role=Role.STAFF, password=None
        )
        customer = await customers.create_customer(None, name="Bench", account_team_ids=[staff.id])
        people = [
            await accounts.create_user(
                email=f"c{n}@bench.example",
                name=f"Contact {n}",
                role=Role.CUSTOMER_MEMBER,
                password=None,
                customer=customer,
            )
            for n in range(contacts)
        ]
        project = await projects.create_project(
            staff, customer_id=customer.id, name="Bench", member_ids=[p.id for p in people]
        )
        ahead = timedelta(minutes=DEFAULT_WINDOW)
        runner = JobRunner(app.state.settings, bus, clock=lambda: datetime.now(UTC) + ahead)
        load = asyncio.create_task(keep_busy(per_second))
        await runner.start()
        posted: dict[str, float] = {}
        try:
            for person in people:
                await asyncio.sleep(random.uniform(0, spread))  # noqa: S311 (not a secret)
                posted[person.email] = time.time()
                await microposts.post_micropost(
                    staff, bus, project_id=project.id, body=f"@{person.handle} have a look"
                )
            deadline = time.monotonic() + 600
            while await OutgoingMail.filter(template="notification").count() < contacts:
                if time.monotonic() > deadline:
                    raise TimeoutError("not every mail was queued within 10 minutes")
                await asyncio.sleep(0.2)
            backlog = await Job.filter(kind="bench.busy", status=JobStatus.PENDING).count()
        finally:
            load.cancel()
            await runner.stop()
        mails = await OutgoingMail.filter(template="notification")
        late = sorted(m.created_at.timestamp() - posted[m.to_address] for m in mails)
        p95 = late[max(0, int(len(late) * 0.95) - 1)]
        print(
            f"{contacts} mails, busy jobs at {per_second}/s, poll every "
            f"{app.state.settings.jobs_poll_interval} s, {runner.concurrency} at once"
        )
        print(
            f"lateness past the window: p50 {statistics.median(late):.2f} s, "
            f"p95 {p95:.2f} s, max {late[-1]:.2f} s"
        )
        print(f"busy jobs still waiting when the last mail was queued: {backlog}")
        print(f"p95 within the window + 30 s: {'yes' if p95 <= 30 else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--busy-per-second", type=float, default=40.0)
    parser.add_argument("--spread", type=float, default=0.2, help="most seconds between posts")
    args = parser.parse_args()
    asyncio.run(run(args.contacts, args.busy_per_second, args.spread))


if __name__ == "__main__":
    main()
