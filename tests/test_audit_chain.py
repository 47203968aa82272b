"""The audit trail's hash chain: concurrent writers never fork it, entries name people by
pseudonym, and ``extranet verify-audit`` names the first entry changed by hand."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from pathlib import Path

from starlette.applications import Starlette
from tortoise import connections

from actions._common import audit
from actions.unit_of_work import unit_of_work
from infra.settings import Settings
from models import AuditEntry
from tests.world import World

EXTRANET = str(Path(sys.executable).parent / "extranet")


async def verify_audit(settings: Settings) -> subprocess.CompletedProcess[str]:
    """``extranet verify-audit`` run by an operator against the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": "memory://",
        "EXTRANET_SECRET_KEY": settings.secret_key,
        "EXTRANET_ENV": "development",
    }
    return await asyncio.to_thread(
        subprocess.run,
        [EXTRANET, "verify-audit"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_concurrent_writers_extend_one_chain_that_verify_audit_checks(
    app: Starlette, world: World, settings: Settings
) -> None:
    # given a world whose making was audited, when twenty writers append at once
    async def write(n: int) -> None:
        async with unit_of_work():
            await audit("test.appended", actor=world.sam, target=f"user:{world.max.id}", n=n)

    await asyncio.gather(*(write(n) for n in range(20)))
    # then the entries form one chain: sequences 1..N without gaps, each naming the last
    entries = await AuditEntry.all().order_by("sequence")
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert all(e.previous_hash == p.entry_hash for p, e in itertools.pairwise(entries))
    appended = [e for e in entries if e.action == "test.appended"]
    assert sorted(int(str(e.details["n"])) for e in appended) == list(range(20))
    # and they name the people by pseudonym, not by e-mail address
    assert {(e.actor_ref, e.subject_ref, e.subject_id) for e in appended} == {
        (world.sam.pseudonym, world.max.pseudonym, world.max.id)
    }
    assert world.max.pseudonym
    assert world.max.pseudonym not in world.max.email

    passed = await verify_audit(settings)
    assert passed.returncode == 0, passed.stderr
    assert f"{len(entries)} entries checked" in passed.stdout

    # when someone edits an entry's details by hand in the database
    edited = appended[3]
    await connections.get("default").execute_query(
        "UPDATE audit_entries SET target = 'user:1' WHERE id = " + str(int(edited.id))  # noqa: S608
    )
    failed = await verify_audit(settings)
    # then verify-audit fails naming that entry
    assert failed.returncode == 1
    assert f"audit entry {edited.id} (sequence {edited.sequence})" in failed.stderr
    assert "was changed" in failed.stderr
