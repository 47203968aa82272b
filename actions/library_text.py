"""Extraction of the text of library versions in the background, for search.

Each new version enqueues one ``library.extract`` job (key ``library:<version>:text``).
The job reads the file from storage (at most :data:`MAX_FILE_BYTES`) and extracts its text
(domain/extraction.py) in a worker thread with a deadline of :data:`DEADLINE` seconds,
never on the request path. The outcome is recorded on the version: EXTRACTED with the text,
or NOT_EXTRACTABLE with the reason (encrypted, malformed, huge, a zip bomb, too slow); the
document's search entry is written again then (it reads its current version's text).
"""

from __future__ import annotations

import asyncio
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
    """The text, extracted in a worker thread; NotExtractable after ``deadline`` seconds
    (the thread is left to finish on its own; its result is dropped) or when the reader
    fails in any way."""
    work = asyncio.to_thread(extraction.extract_text, data, content_type)
    try:
        return await asyncio.wait_for(work, deadline)
    except TimeoutError:
        raise extraction.NotExtractable(
            f"Reading the text took longer than {deadline:g} seconds."
        ) from None
    except extraction.NotExtractable:
        raise
    except Exception as error:  # a reader's own failure on a hostile file
        raise extraction.NotExtractable("The file could not be read.") from error


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
