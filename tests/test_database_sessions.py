"""Pooled PostgreSQL connections go back to the pool without a reset query (app/db.py), so
no code may leave state on a database session: advisory locks only for the transaction,
settings only with SET LOCAL, no LISTEN, no cursor declared outside a transaction."""

import re
from pathlib import Path

from app.db import PooledConnection

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["actions", "app", "domain", "graphql_schema", "infra", "models", "realtime"]
# SQL is written in capitals here; prose that says "listen" or "set" is not SQL
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\s*\(|\bLISTEN\s+[\"\w]"
    r"|\bDECLARE\s+\w+\s+(\w+\s+)*CURSOR\s+WITH\s+HOLD"
    r"|[\"']\s*SET\s+(?!LOCAL\b)(SESSION\s+)?\w+\s*(=|TO\b)"
)


def _sources() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found.append(path)
    return found


def test_no_statement_leaves_state_on_a_pooled_session() -> None:
    # given the product's code (the migrations run on connections of their own)
    sources = _sources()
    assert len(sources) > 100
    # when it is searched for statements whose effect outlives their transaction
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SESSION_STATE.search(line)
    ]
    # then there are none
    assert offending == []


def test_the_search_finds_session_state() -> None:
    for statement in (
        '"SELECT pg_advisory_lock($1)"',
        "'SET statement_timeout = 5'",
        '"SET SESSION search_path TO x"',
        '"LISTEN events"',
        '"DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1"',
    ):
        assert SESSION_STATE.search(statement), statement
    for statement in ('"SELECT pg_advisory_xact_lock($1)"', '"SET LOCAL statement_timeout = 5"'):
        assert not SESSION_STATE.search(statement), statement


def test_a_pooled_connection_has_no_reset_query() -> None:
    assert PooledConnection.get_reset_query(object()) == ""  # type: ignore[arg-type]
