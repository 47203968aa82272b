"""The baseline of benchmarks/timeline_throughput.py: one Starlette route on an asyncpg pool
that answers the timeline page with the same JSON as the GraphQL query, serialised with orjson.

It does the reads and writes the product needs for that answer, by hand: the bearer token's
signature, audience and expiry (python-jose, HS256, the same key), the viewer and whether
their sign-in session still lasts (one query), whether they may see the project, the page of
top-level posts they may see with their authors, the posts' topics, the replies each reader
may see counted, and the read recorded for a contact (three upserts in one transaction, as
``actions.interactions.record_read``). What it leaves out is GraphQL: no parsing, validation,
resolvers or field permissions.

    DATABASE_URL=postgres://... EXTRANET_SECRET_KEY=... uvicorn benchmarks.raw_timeline:app

``POST /timeline`` takes ``{"projectId": <int>, "first": <int>}`` with
``Authorization: Bearer <access token>``; 401 without a live session, 404 for a project out
of the viewer's sight.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from jose import JWTError, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.collector import tune_collector

SECRET = os.environ.get("EXTRANET_SECRET_KEY", "")
AUDIENCE = os.environ.get("EXTRANET_TOKEN_AUDIENCE", "extranet-api")
ISSUER = os.environ.get("EXTRANET_TOKEN_ISSUER", "extranet")
STAFF = ("ADMIN", "STAFF")

VIEWER = """SELECT id, role, customer_id FROM users WHERE id = $1 AND is_active AND id NOT IN
  (SELECT user_id FROM refresh_tokens WHERE family = $2 AND revoked_at IS NOT NULL)"""
MEMBER_PROJECTS = "SELECT project_id FROM project_memberships WHERE user_id = $3"
READ = """INSERT INTO interaction_reads (kind, object_id, customer_id, day, reads)
  VALUES ('TIMELINE', $1, $2, $3, 1) ON CONFLICT (kind, object_id, customer_id, day)
  DO UPDATE SET reads = interaction_reads.reads + 1"""
ACTIVE = """INSERT INTO interaction_activity_days (user_id, customer_id, day) VALUES ($1, $2, $3)
  ON CONFLICT (user_id, day) DO NOTHING"""
SESSION = """INSERT INTO interaction_sessions (session_key, user_id, customer_id, first_read_at)
  VALUES ($1, $2, $3, $4) ON CONFLICT (session_key) DO NOTHING"""
TOPICS = """SELECT l.micropost_id, t.name FROM micropost_topics l JOIN topics t ON t.id = l.topic_id
  WHERE l.micropost_id = ANY($1::int[]) ORDER BY t.name"""

pool: asyncpg.Pool | None = None


def _scope(role: str) -> str:
    """The visibility filter on ``microposts m`` joined with ``projects p`` for a role, with
    $2 the viewer's customer and $3 the viewer (policy.visible_microposts)."""
    if role in STAFF:
        return "TRUE"
    scope = "p.customer_id = $2 AND m.visibility = 'SHARED'"
    if role == "CUSTOMER_MEMBER":
        scope += f" AND m.project_id IN ({MEMBER_PROJECTS})"
    return scope


def _project(role: str) -> str:
    if role in STAFF:
        return "SELECT id FROM projects WHERE id = $1 AND $2::int IS NULL AND $3::int > 0"
    sql = "SELECT id FROM projects WHERE id = $1 AND customer_id = $2"
    if role == "CUSTOMER_MEMBER":
        sql += f" AND id IN ({MEMBER_PROJECTS})"
    return sql if role != "CUSTOMER_ADMIN" else sql + " AND $3::int > 0"


def _posts(role: str) -> str:
    return f"""SELECT m.id, m.body_html, m.created_at, u.id AS author_id, u.name AS author_name
  FROM microposts m JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.author_id
  WHERE m.project_id = $1 AND m.parent_id IS NULL AND ({_scope(role)})
  ORDER BY m.id DESC LIMIT $4"""  # noqa: S608 (fixed text)


def _replies(role: str) -> str:
    return f"""SELECT m.parent_id, count(*) FROM microposts m JOIN projects p ON p.id = m.project_id
  WHERE m.parent_id = ANY($1::int[]) AND ({_scope(role)}) AND $4::int > 0
  GROUP BY m.parent_id"""  # noqa: S608 (fixed text)


def _gid(kind: str, key: int) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def _cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{key}".encode()).decode()


def _claims(authorization: str | None) -> tuple[int, str] | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
        return int(claims["sub"]), str(claims["sid"])
    except (JWTError, KeyError, ValueError):
        return None


async def timeline(request: Request) -> Response:
    claims = _claims(request.headers.get("authorization"))
    if claims is None:
        return Response(b'{"error":"sign in"}', 401, media_type="application/json")
    body = orjson.loads(await request.body())
    project_id, first = int(body["projectId"]), int(body["first"])
    assert pool is not None
    async with pool.acquire() as db:
        viewer = await db.fetchrow(VIEWER, *claims)
        if viewer is None:
            return Response(b'{"error":"sign in"}', 401, media_type="application/json")
        role, customer_id = viewer["role"], viewer["customer_id"]
        args = (customer_id, viewer["id"])
        if await db.fetchval(_project(role), project_id, *args) is None:
            return Response(b'{"error":"not found"}', 404, media_type="application/json")
        if role not in STAFF:  # a contact's read is counted (actions.interactions)
            at = datetime.now(UTC)
            async with db.transaction():
                await db.execute(READ, project_id, customer_id, at.date())
                await db.execute(ACTIVE, viewer["id"], customer_id, at.date())
                key = hashlib.sha256(claims[1].encode()).hexdigest()
                await db.execute(SESSION, key, viewer["id"], customer_id, at)
        rows = await db.fetch(_posts(role), project_id, *args, first + 1)
        page = rows[:first]
        ids = [row["id"] for row in page]
        topics: dict[int, list[dict[str, str]]] = defaultdict(list)
        for post, name in await db.fetch(TOPICS, ids):
            topics[post].append({"name": name})
        counts = dict(await db.fetch(_replies(role), ids, *args, 1))
    edges: list[dict[str, Any]] = [
        {
            "cursor": _cursor(row["id"]),
            "node": {
                "id": _gid("Micropost", row["id"]),
                "bodyHtml": row["body_html"],
                "createdAt": row["created_at"].isoformat(),
                "author": {"id": _gid("User", row["author_id"]), "name": row["author_name"]},
                "replyCount": counts.get(row["id"], 0),
                "topics": topics.get(row["id"], []),
            },
        }
        for row in page
    ]
    info = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
    data = {"project": {"timeline": {"pageInfo": info, "edges": edges}}}
    return Response(orjson.dumps({"data": data}), media_type="application/json")


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    global pool
    tune_collector()
    # the size of the product's pool (tortoise's asyncpg default)
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=5)
    try:
        yield
    finally:
        await pool.close()


app = Starlette(routes=[Route("/timeline", timeline, methods=["POST"])], lifespan=lifespan)
