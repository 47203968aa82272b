"""Extraction of the text of library versions in the background, for search.

Each new version enqueues one ``library.extract`` job (key ``library:<version>:text``).
The job reads the file from storage (at most :data:`MAX_FILE_BYTES`) and extracts its text
(domain/extraction.py) in a child process killed at a deadline of :data:`DEADLINE`
seconds, never on the request path nor in the server's threads. The outcome is recorded
on the version: EXTRACTED with the text, or NOT_EXTRACTABLE with the reason (encrypted,
malformed, huge, a zip bomb, too slow); the document's search entry is written again then
(it reads its current version's text).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from actions import library
from actions.jobs import JobContext, job_handler
from actions.unit_of_work import unit_of_work
from domain import extraction
from infra.storage import DirectoryStorage
from models import DocumentVersion, LibraryDocument, TextStatus

DEADLINE = 20.0  # seconds
MAX_FILE_BYTES = 50 * 1024 * 1024


async def _content(ctx: JobContext, key: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in DirectoryStorage(ctx.settings.attachments_dir).read(key):
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise extraction.NotExtractable("The file is too large to read its text.")
        chunks.append(chunk)
    return b"".join(chunks)


async def extract(data: bytes, content_type: str, deadline: float = DEADLINE) -> str:
    """The text, extracted by a child process (``python -m domain.extraction``);
    NotExtractable when the file is refused, when the child fails in any way, or after
    ``deadline`` seconds (the child is killed then: a hostile file keeps no thread or CPU
    busy)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "domain.extraction",
        content_type,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        output, _ = await asyncio.wait_for(child.communicate(data), deadline)
    except TimeoutError:
        raise extraction.NotExtractable(
            f"Reading the text took longer than {deadline:g} seconds."
        ) from None
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    try:
        answer = json.loads(output)
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and isinstance(answer.get("text"), str):
        return str(answer["text"])
    error = answer.get("error") if isinstance(answer, dict) else None
    raise extraction.NotExtractable(
        error if isinstance(error, str) and error else "The file could not be read."
    )


@job_handler("library.extract", max_attempts=3)
async def run_extraction(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Extract one version's text and record the outcome (once; a version keeps it)."""
    version = await DocumentVersion.get_or_none(id=int(payload["version"]))
    if version is None or version.text_status is not TextStatus.PENDING:
        return
    try:
        data = await _content(ctx, version.content_key)
        text, status, error = await extract(data, version.content_type), TextStatus.EXTRACTED, ""
    except extraction.NotExtractable as refused:
        text, status, error = "", TextStatus.NOT_EXTRACTABLE, str(refused)[:200]
    async with unit_of_work():
        await DocumentVersion.filter(id=version.id).update(
            text=text, text_status=status, text_error=error
        )
        document = await LibraryDocument.get_or_none(id=version.document_id)
        if document is not None:
            await library.reindex(document)  # search finds the current version's text
