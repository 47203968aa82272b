"""Attachments of concept pages: versions by name, contents sniffed and stored by hash."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator

import filetype
from tortoise.transactions import in_transaction

from app import policy, search
from app.actions._common import audit
from app.actions.pages import writable_page
from app.errors import BadUserInput
from app.storage import BlobStorage, StoredBlob, TooLarge
from models import Attachment, Page, User, Visibility

NAME_MAX_LENGTH = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_name(name: str) -> str:
    """A file name as people see it: no folders, no control characters, not empty."""
    name = unicodedata.normalize("NFC", name).strip()
    name = _UNSAFE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(". ")
    if not name:
        raise BadUserInput("Give the file a name, for example `quote.pdf`.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise BadUserInput(f"A file name is at most {NAME_MAX_LENGTH} characters.", field="name")
    return name


def sniff(head: bytes) -> str:
    """The content type from the content itself, never from what the client says."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut off at the end
            return "application/octet-stream"
    return "text/plain"


async def attach(
    actor: User,
    storage: BlobStorage,
    *,
    page_id: int,
    name: str,
    chunks: AsyncIterator[bytes],
    max_bytes: int,
) -> Attachment:
    """Store the file and record it as the next version of ``name`` on the page."""
    name = clean_name(name)
    page, _project = await writable_page(actor, page_id)  # before any byte is read
    try:
        blob: StoredBlob = await storage.put(chunks, max_bytes)
    except TooLarge:
        raise BadUserInput(
            f"The file is larger than the limit of {max_bytes} bytes.",
            field="file",
            maxBytes=max_bytes,
        ) from None
    try:
        if blob.size == 0:
            raise BadUserInput("The file is empty.", field="file")
        return await _record(actor, page, name, blob)
    except BaseException:
        if not await Attachment.exists(content_key=blob.key):
            await storage.forget(blob.key)
        raise


async def _record(actor: User, page: Page, name: str, blob: StoredBlob) -> Attachment:
    async with in_transaction():
        await Page.filter(id=page.id).select_for_update().get()  # versions are numbered in turn
        latest = await Attachment.filter(page_id=page.id, name=name).order_by("-version").first()
        version = latest.version + 1 if latest else 1
        attachment = await Attachment.create(
            page_id=page.id,
            name=name,
            version=version,
            content_type=sniff(blob.head),
            size=blob.size,
            content_key=blob.key,
            uploaded_by_id=actor.id,
        )
        older = await Attachment.filter(page_id=page.id, name=name, version__lt=version)
        await search.forget_attachments([a.id for a in older])
        await search.index_attachment(attachment, page)
    return attachment


async def for_download(viewer: User, attachment_id: int) -> Attachment:
    """The attachment, if the viewer may read its page now; INTERNAL downloads are audited."""
    attachment = await policy.get_visible(
        policy.visible_attachments(viewer), attachment_id, "attachment"
    )
    page = await Page.get(id=attachment.page_id)
    if page.visibility is Visibility.INTERNAL:
        await audit(
            "attachment.downloaded",
            actor=viewer,
            target=f"attachment:{attachment.id}",
            page=page.id,
        )
    return attachment
