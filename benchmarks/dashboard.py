"""Time of the ``dashboard`` query on a database of a million events and ten thousand
requests.

Seeds the volume once (customers, staff and contacts through the actions; requests, their
status history, posts, events, notifications, quotes and drafts by bulk inserts of many
rows per statement), then sends the dashboard query ``--runs`` times for each role over
the application's ASGI interface in this process and prints p50, p95 and the slowest time
of each request: wall-clock time, and CPU time of the process (all its threads: the
database driver's too), which a machine busy with other work inflates far less. ``me``
is measured the same way, for the cost of any signed-in query.

SQLite (a file, kept with ``--keep PATH``; an existing seeded file is measured again
without seeding)::

    .venv/bin/python benchmarks/dashboard.py [--events 1000000] [--requests 10000] [--runs 200]

PostgreSQL, in an empty database that the script migrates and fills::

    createdb -h 127.0.0.1 -U postgres dashboard_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dashboard_bench \\
        .venv/bin/python benchmarks/dashboard.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import connections  # noqa: E402
from tortoise.models import Model  # noqa: E402

from actions import accounts, customers, projects, request_types  # noqa: E402
from app.db import migrate  # noqa: E402
from app.main import create_app  # noqa: E402
from domain.business_hours import BusinessCalendar as Calendar  # noqa: E402
from domain.request_forms import SUPPORT_TICKET  # noqa: E402
from domain.tokens import issue_access_token  # noqa: E402
from infra.settings import Settings, load_settings  # noqa: E402
from models import (  # noqa: E402
    AccountTeamMembership,
    BusinessDocument,
    Event,
    Micropost,
    Notification,
    PageDraft,
    Project,
    RequestStatusChange,
    Role,
    ServiceRequest,
    User,
)
from models import Page as PageRow  # noqa: E402

CUSTOMERS = 100
STAFF = 20
TEAMS_PER_STAFF = 5
CONTACTS_PER_CUSTOMER = 4  # one lead contact, three members
PROJECTS_PER_CUSTOMER = 2
POSTS = 100_000
NOTIFICATIONS_PER_USER = 400
BATCH = 2_000
SESSION = "benchmark-session"

DASHBOARD = """
query Dashboard { dashboard {
  actionCount counts { kind count }
  items(first: 20) { totalCount edges { cursor node { reason since object { __typename
    ... on Request { title status } ... on Micropost { body } ... on Page { title }
    ... on BusinessDocument { title } ... on LibraryDocument { title }
    ... on Notification { reason } } } } } } }
"""


def _complete(model: type[Model], row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the defaults the ORM would give the fields it leaves out."""
    done = dict(row)
    for name, field in model._meta.fields_map.items():
        if name in done or name not in model._meta.fields_db_projection or field.pk:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            done[name] = datetime.now(UTC)
        elif field.default is not None:
            done[name] = field.default() if callable(field.default) else field.default
    return done


ME = "query Me { me { name } }"
"""For comparison: the cost of any signed-in query."""


def _columns(model: type[Model], row: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The database columns and values of ``row`` (field names), converted as the ORM
    would write them."""
    meta = model._meta
    columns, values = [], []
    for name, value in row.items():
        field = meta.fields_map[name]
        columns.append(meta.fields_db_projection[name])
        values.append(field.to_db_value(value, model))
    return columns, values


async def _insert(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` in statements of many rows each (a few thousand values at most)."""
    if not rows:
        return
    keys = {key for row in rows for key in row}
    rows = [_complete(model, {key: row.get(key) for key in sorted(keys)}) for row in rows]
    client = connections.get("default")
    postgres = str(client.capabilities.dialect) == "postgres"
    columns, _ = _columns(model, rows[0])
    per_statement = max(1, min(BATCH, 30_000 // len(columns)))
    table = model._meta.db_table
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values: list[Any] = []
        groups = []
        for row in chunk:
            _, converted = _columns(model, row)
            if postgres:
                first = len(values)
                groups.append(
                    "(" + ", ".join(f"${first + i + 1}" for i in range(len(converted))) + ")"
                )
            else:
                groups.append("(" + ", ".join("?" for _ in converted) + ")")
            values += converted
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(groups)}"  # noqa: S608
        await client.execute_query(sql, values)


def _spread(rng: random.Random, moment: datetime, days: int) -> datetime:
    return moment - timedelta(seconds=rng.uniform(0, days * 86400))


async def _people() -> tuple[int, list[User], dict[int, list[User]], list[Project]]:
    """The support request type (with an SLA); customers with their staff, contacts and
    projects, made by the actions."""
    admin = await accounts.create_user(
        email="admin@provider.example", name="Admin", role=Role.ADMIN, password=None
    )
    calendar = await request_types.set_business_calendar(
        admin, name="Office hours", definition=Calendar().to_json()
    )
    support = await request_types.create_request_type(
        admin, name="Support ticket", form=SUPPORT_TICKET
    )
    await request_types.set_sla_policy(
        admin,
        type_id=support.id,
        calendar_id=calendar.id,
        first_response_minutes=4 * 60,
        resolution_minutes=5 * 8 * 60,
    )
    staff = [
        await accounts.create_user(
            email=f"staff{i}@provider.example", name=f"Staff {i}", role=Role.STAFF, password=None
        )
        for i in range(STAFF)
    ]
    contacts: dict[int, list[User]] = {}
    all_projects: list[Project] = []
    for c in range(CUSTOMERS):
        customer = await customers.create_customer(None, name=f"Customer {c}", slug=f"c{c}")
        team = [staff[(c + k) % STAFF] for k in range(STAFF * TEAMS_PER_STAFF // CUSTOMERS)]
        for member in team:
            await AccountTeamMembership.create(customer_id=customer.id, user_id=member.id)
        people = []
        for k in range(CONTACTS_PER_CUSTOMER):
            role = Role.CUSTOMER_ADMIN if k == 0 else Role.CUSTOMER_MEMBER
            people.append(
                await accounts.create_user(
                    email=f"p{k}@c{c}.example",
                    name=f"Contact {c}.{k}",
                    role=role,
                    password=None,
                    customer=customer,
                )
            )
        contacts[customer.id] = people
        for p in range(PROJECTS_PER_CUSTOMER):
            all_projects.append(
                await projects.create_project(
                    team[0],
                    customer_id=customer.id,
                    name=f"Project {c}.{p}",
                    member_ids=[person.id for person in people[1:]],
                )
            )
    return support.id, staff, contacts, all_projects


async def seed(events: int, requests: int) -> None:
    """The volume: ``requests`` requests and ``events`` events, and the rest around them."""
    rng = random.Random(19)  # noqa: S311 (made-up data, the same on every run)
    moment = datetime.now(UTC)
    started = time.perf_counter()
    support_id, staff, contacts, all_projects = await _people()
    print(f"people in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    teams: dict[int, list[int]] = {}
    for membership in await AccountTeamMembership.all():
        teams.setdefault(membership.customer_id, []).append(membership.user_id)
    customer_ids = sorted(contacts)
    projects_of: dict[int, list[Project]] = {}
    for project in all_projects:
        projects_of.setdefault(project.customer_id, []).append(project)
    customer_of_project = {p.id: p.customer_id for p in all_projects}

    # requests and their status history
    statuses = (
        ["RESOLVED"] * 14
        + ["RECEIVED", "IN_PROGRESS", "NEEDS_INFO", "APPROVED"]
        + ["IN_PROGRESS"] * 2
    )
    request_rows: list[dict[str, Any]] = []
    numbers = dict.fromkeys(customer_ids, 0)
    for i in range(requests):
        customer_id = customer_ids[i % len(customer_ids)]
        numbers[customer_id] += 1
        status = rng.choice(statuses)
        created = _spread(rng, moment, 365 if status == "RESOLVED" else 20)
        open_ = status != "RESOLVED"
        request_rows.append(
            {
                "created_at": created,
                "customer_id": customer_id,
                "project_id": rng.choice(projects_of[customer_id]).id,
                "request_type_id": support_id,
                "number": numbers[customer_id],
                "reference": f"C{customer_id}-{numbers[customer_id]}",
                "title": f"Request {i}",
                "requester_id": rng.choice(contacts[customer_id]).id,
                "assignee_id": None
                if open_ and rng.random() < 0.2
                else rng.choice(teams[customer_id]),
                "status": status,
                "answers": {},
                "first_response_at": None
                if status == "RECEIVED"
                else created + timedelta(hours=rng.uniform(0.5, 30)),
                "resolved_at": created + timedelta(days=rng.uniform(1, 10)) if not open_ else None,
                "closed": False,
                "updated_at": created,
            }
        )
    await _insert(ServiceRequest, request_rows)
    ids = await ServiceRequest.all().order_by("id").values_list("id", flat=True)
    changes: list[dict[str, Any]] = []
    for request_id, row in zip(ids, request_rows, strict=True):
        created = row["created_at"]
        path = {
            "RECEIVED": [],
            "IN_PROGRESS": ["IN_PROGRESS"],
            "NEEDS_INFO": ["IN_PROGRESS", "NEEDS_INFO"],
            "APPROVED": ["IN_PROGRESS", "APPROVED"],
            "RESOLVED": ["IN_PROGRESS", "RESOLVED"],
        }[row["status"]]
        before: str | None = None
        at = created
        for to in ["RECEIVED", *path]:
            changes.append(
                {
                    "created_at": at,
                    "request_id": request_id,
                    "from_status": before,
                    "to_status": to,
                    "actor_id": row["requester_id"]
                    if before is None
                    else row["assignee_id"] or staff[0].id,
                }
            )
            before, at = to, at + timedelta(hours=rng.uniform(1, 20))
    await _insert(RequestStatusChange, changes)

    # posts: contacts ask, staff mostly answer
    post_rows = []
    for i in range(POSTS // 2):
        project = rng.choice(all_projects)
        post_rows.append(
            {
                "created_at": _spread(rng, moment, 365),
                "project_id": project.id,
                "author_id": rng.choice(contacts[project.customer_id]).id,
                "body": f"Question {i}",
                "body_html": f"<p>Question {i}</p>",
                "visibility": "SHARED",
            }
        )
    await _insert(Micropost, post_rows)
    questions = await Micropost.all().order_by("id").values_list("id", "project_id", "created_at")
    replies = []
    for post_id, project_id, created in questions:
        if rng.random() < 0.97:
            customer_id = customer_of_project[project_id]
            replies.append(
                {
                    "created_at": created + timedelta(hours=rng.uniform(0.2, 6)),
                    "project_id": project_id,
                    "author_id": rng.choice(teams[customer_id]),
                    "parent_id": post_id,
                    "body": "Answer",
                    "body_html": "<p>Answer</p>",
                    "visibility": "SHARED",
                }
            )
    await _insert(Micropost, replies)
    posts = await Micropost.all().order_by("id").values_list("id", "project_id", "author_id")

    # events up to the volume asked: the posts' and requests', then edits of posts
    event_rows: list[dict[str, Any]] = []
    for post_id, project_id, author_id in posts:
        event_rows.append(_post_event("MICROPOST_POSTED", post_id, project_id, author_id, moment))
    for request_id, row in zip(ids, request_rows, strict=True):
        event_rows.append(
            {
                "created_at": row["created_at"],
                "kind": "REQUEST_SUBMITTED",
                "customer_id": row["customer_id"],
                "request_id": request_id,
                "actor_id": row["requester_id"],
                "visibility": "SHARED",
                "payload": {
                    "requestId": request_id,
                    "reference": row["reference"],
                    "title": row["title"],
                },
            }
        )
    for index in range(len(event_rows)):
        event_rows[index]["customer_id"] = (
            event_rows[index].get("customer_id")
            or (customer_of_project[event_rows[index]["project_id"]])
        )
    written = 0
    chunk: list[dict[str, Any]] = event_rows
    while written < events:
        chunk = chunk[: events - written]
        await _insert(Event, chunk)
        written += len(chunk)
        chunk = []
        for _ in range(min(100_000, events - written)):
            post_id, project_id, author_id = rng.choice(posts)
            row = _post_event("MICROPOST_EDITED", post_id, project_id, author_id, moment)
            row["customer_id"] = customer_of_project[project_id]
            chunk.append(row)
        print(f"  {written:,} events", file=sys.stderr, flush=True)

    # notifications: mostly read; five unread mentions each, on posts of their customers
    posted: dict[int, list[int]] = {}
    for event_id, customer_id in await Event.filter(kind="MICROPOST_POSTED").values_list(
        "id", "customer_id"
    ):
        posted.setdefault(int(str(customer_id)), []).append(int(str(event_id)))
    first_event = await Event.all().order_by("id").first()
    last_event = await Event.all().order_by("-id").first()
    assert first_event is not None
    assert last_event is not None
    people = [(p, c) for c, group in contacts.items() for p in group]
    people += [
        (member, customer_ids[index % len(customer_ids)]) for index, member in enumerate(staff)
    ]
    notification_rows = []
    for person, customer_id in people:
        mentions = rng.sample(posted[customer_id], 5)
        read = rng.sample(range(first_event.id, last_event.id + 1), NOTIFICATIONS_PER_USER)
        for k, event_id in enumerate([*mentions, *(e for e in read if e not in mentions)]):
            notification_rows.append(
                {
                    "created_at": _spread(rng, moment, 365),
                    "user_id": person.id,
                    "event_id": event_id,
                    "reason": "MENTIONED" if k < 5 else "WATCHING",
                    "read_at": None if k < 5 else moment,
                }
            )
    await _insert(Notification, notification_rows)

    # business documents: quotes waiting, the rest decided or invoiced
    documents = []
    for customer_id in customer_ids:
        for k in range(50):
            quote = k < 20
            documents.append(
                {
                    "created_at": _spread(rng, moment, 365),
                    "customer_id": customer_id,
                    "kind": "QUOTE" if quote else "INVOICE",
                    "number": f"D-{k}",
                    "title": f"Document {k}",
                    "issue_date": moment.date(),
                    "net_amount": 1000,
                    "gross_amount": 1190,
                    "currency": "EUR",
                    "status": ("SENT" if k < 3 else "ACCEPTED") if quote else "PAID",
                    "published_by_id": teams[customer_id][0],
                }
            )
    await _insert(BusinessDocument, documents)

    # a kept draft of each staff member
    for index, member in enumerate(staff):
        page = await PageRow.create(
            project_id=all_projects[index].id, title="Concept", created_by_id=member.id
        )
        await PageDraft.create(page_id=page.id, author_id=member.id, base_revision=1, body="x")
    print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _post_event(
    kind: str, post_id: int, project_id: int, author_id: int, moment: datetime
) -> dict[str, Any]:
    return {
        "created_at": moment,
        "kind": kind,
        "project_id": project_id,
        "actor_id": author_id,
        "visibility": "SHARED",
        "micropost_id": post_id,
        "payload": {"micropostId": post_id, "authorId": author_id},
    }


def _p(values: list[float], percent: int) -> float:
    """The ``percent`` percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * percent / 100) - 1)]


async def measure(app: Any, settings: Settings, runs: int) -> None:
    staff = await User.filter(role=Role.STAFF).order_by("id").first()
    lead = await User.filter(role=Role.CUSTOMER_ADMIN).order_by("id").first()
    member = await User.filter(role=Role.CUSTOMER_MEMBER).order_by("id").first()
    assert staff is not None, "seed the database first"
    assert lead is not None
    assert member is not None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        cases = [("staff", staff, DASHBOARD), ("lead contact", lead, DASHBOARD)]
        cases += [("contact", member, DASHBOARD), ("(me, staff)", staff, ME)]
        for role, user, query in cases:
            token = issue_access_token(settings, user.id, SESSION)
            headers = {"Authorization": f"Bearer {token}"}
            times, cpu = [], []
            count = None
            for run in range(runs + 5):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = await client.post("/graphql", json={"query": DASHBOARD}, headers=headers)
                took = (time.perf_counter() - started) * 1000
                took_cpu = (time.process_time() - started_cpu) * 1000
                body = orjson.loads(response.content)
                assert not body.get("errors"), body["errors"]
                count = body["data"]["dashboard"]["actionCount"] if query is DASHBOARD else 0
                if run >= 5:  # the first ones warm the caches
                    times.append(took)
                    cpu.append(took_cpu)
            print(
                f"{role:13} items {count:4}  wall p50 {_p(times, 50):6.1f} p95 {_p(times, 95):6.1f}"
                f"  cpu p50 {_p(cpu, 50):6.1f} p95 {_p(cpu, 95):6.1f}  max {max(times):6.1f} ms"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", help="the SQLite file to seed (or measure again)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite://{args.keep or Path(tmp) / 'db.sqlite3'}"
        await migrate(url)
        env = {
            "DATABASE_URL": url,
            "EXTRANET_ENV": "development",
            "EXTRANET_SECRET_KEY": "benchmark-secret-key-long-enough-for-hs256",
            "EXTRANET_ATTACHMENTS_DIR": str(Path(tmp) / "files"),
            "EXTRANET_SMTP_URL": f"maildir://{Path(tmp) / 'mail'}",
            "EXTRANET_JOBS_ENABLED": "false",
        }
        settings = load_settings(env)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            if not await ServiceRequest.exists():
                await seed(args.events, args.requests)
            print(
                f"{await Event.all().count():,} events, "
                f"{await ServiceRequest.all().count():,} requests, "
                f"{await Micropost.all().count():,} posts, "
                f"{await Notification.all().count():,} notifications"
            )
            await measure(app, settings, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
