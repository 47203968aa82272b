"""Attachments of concept pages: versions by name, contents sniffed and stored by hash,
uploads bounded per user (a rate and a quota) and per customer (a quota), and deletion."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import filetype
from tortoise.functions import Sum

from actions import search_index
from actions._common import audit, now
from actions.pages import writable_page
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import AppError, BadUserInput, Forbidden, NotFound, RateLimited
from domain.wording import duration, size
from infra.storage import BlobStorage, StoredBlob, TooLarge
from models import (
    Attachment,
    AuditEntry,
    BusinessDocument,
    Customer,
    Page,
    Project,
    RequestAttachment,
    User,
    Visibility,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from tortoise.queryset import QuerySet

    from infra.settings import Settings

NAME_MAX_LENGTH = 200
RATE_WINDOW = 60  # seconds
FALLBACK_NAME = "attachment"
# Joiners that some scripts (Persian, the Indic scripts, emoji sequences) need inside words;
# every other format character (the bidirectional controls among them) is taken out.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _visible_text(name: str) -> str:
    """The name without folders, control, format (bidi) or separator characters; other
    spaces become plain spaces, runs of them one; NFC-normalised; trimmed of dots and
    spaces at either end. Possibly empty."""
    name = unicodedata.normalize("NFC", name)
    name = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category in _DROPPED and char not in _KEPT_FORMAT:
            continue
        kept.append(" " if category == "Zs" else char)
    return unicodedata.normalize("NFC", " ".join("".join(kept).split())).strip(". ")


def clean_name(name: str) -> str:
    """A file name as people see it: no folders, no control or bidirectional-control
    characters, NFC, not empty, at most NAME_MAX_LENGTH characters (BAD_USER_INPUT,
    field ``name``, otherwise). ``invoice\\u202efdp.exe`` is stored as ``invoicefdp.exe``,
    the name the bytes really spell."""
    cleaned = _visible_text(name)
    if not cleaned:
        raise BadUserInput("Give the file a name, for example `quote.pdf`.", field="name")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise BadUserInput(f"A file name is at most {NAME_MAX_LENGTH} characters.", field="name")
    return cleaned


def display_name(name: str) -> str:
    """A stored name as it is shown and sent with a download: cleaned like a new one (names
    stored before the cleaning existed included); never empty."""
    return _visible_text(name)[:NAME_MAX_LENGTH] or FALLBACK_NAME


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


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """Bounds on uploads: ``max_bytes`` per file; ``per_minute`` uploads by one user within
    any 60 seconds, a deletion counting as an upload (deleting makes no room); ``user_quota``
    bytes of the files one user uploaded that are still attached; ``customer_quota`` bytes
    of the files on one customer's pages."""

    max_bytes: int
    per_minute: int
    user_quota: int
    customer_quota: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_bytes=settings.attachment_max_bytes,
            per_minute=settings.attachment_uploads_per_minute,
            user_quota=settings.attachment_user_quota_bytes,
            customer_quota=settings.attachment_customer_quota_bytes,
        )


def too_large(limit: int) -> BadUserInput:
    return BadUserInput(
        f"The file is larger than the limit of {size(limit)}.", field="file", maxBytes=limit
    )


async def _total(query: QuerySet[Attachment]) -> int:
    rows = await query.annotate(total=Sum("size")).values_list("total", flat=True)
    return int(cast("int | None", rows[0]) or 0) if rows else 0


async def _check_rate(actor: User, limits: UploadLimits) -> None:
    """RATE_LIMITED (``retryAfter``: seconds) once the actor's uploads of the last minute
    and their deletions of the last minute reach ``per_minute`` (a file uploaded and
    deleted within the minute counts once, by its deletion)."""
    since = now() - timedelta(seconds=RATE_WINDOW)
    uploads = Attachment.filter(uploaded_by_id=actor.id, created_at__gte=since)
    deletions = AuditEntry.filter(
        action="attachment.deleted", actor_id=actor.id, created_at__gte=since
    )
    newest: list[datetime] = []
    for changes in (uploads, deletions):
        times = changes.order_by("-created_at").limit(limits.per_minute)
        newest += cast("list[datetime]", await times.values_list("created_at", flat=True))
    if len(newest) < limits.per_minute:
        return
    # one more fits once the per_minute-th newest change has left the window
    newest.sort(reverse=True)
    frees_at = newest[limits.per_minute - 1] + timedelta(seconds=RATE_WINDOW)
    retry_after = max(1, math.ceil((frees_at - now()).total_seconds()))
    raise RateLimited(
        f"You may upload at most {limits.per_minute} files a minute (deleting one counts "
        f"as an upload). Try again in {duration(retry_after)}.",
        retryAfter=retry_after,
    )


async def _room(actor: User, customer_id: int, limits: UploadLimits) -> tuple[int, AppError]:
    """The bytes a file may still have under both quotas, and the error that refuses one
    that does not fit (BAD_USER_INPUT, field ``file``, with ``quotaBytes`` and
    ``usedBytes``)."""
    used_by_user = await _total(Attachment.filter(uploaded_by_id=actor.id))
    used_by_customer = await _total(Attachment.filter(page__project__customer_id=customer_id))
    user_room = limits.user_quota - used_by_user
    customer_room = limits.customer_quota - used_by_customer
    if user_room <= customer_room:
        return user_room, BadUserInput(
            f"Your attachments use {size(used_by_user)} of your {size(limits.user_quota)}, and "
            "this file does not fit. Delete files you no longer need.",
            field="file",
            quota="user",
            quotaBytes=limits.user_quota,
            usedBytes=used_by_user,
        )
    return customer_room, BadUserInput(
        f"The attachments of this customer use {size(used_by_customer)} of their "
        f"{size(limits.customer_quota)}, and this file does not fit. Delete files that are "
        "no longer needed.",
        field="file",
        quota="customer",
        quotaBytes=limits.customer_quota,
        usedBytes=used_by_customer,
    )


async def attach(
    actor: User,
    storage: BlobStorage,
    *,
    page_id: int,
    name: str,
    chunks: AsyncIterator[bytes],
    limits: UploadLimits,
    declared_size: int | None = None,
) -> Attachment:
    """Store the file and record it as the next version of ``name`` on the page.

    Refused before any byte is read: a bad name (BAD_USER_INPUT), a page the actor may not
    write (NOT_FOUND / FORBIDDEN), too many uploads (RATE_LIMITED with ``retryAfter``), a
    ``declared_size`` (the request's Content-Length, in bytes) over the size limit
    (``maxBytes``) or over a quota (``quotaBytes``). The content is read only up to what
    both limits allow.
    """
    name = clean_name(name)
    page, project = await writable_page(actor, page_id)
    await _check_rate(actor, limits)
    room, over_quota = await _room(actor, project.customer_id, limits)
    if declared_size is not None and declared_size > limits.max_bytes:
        raise too_large(limits.max_bytes)
    if room <= 0 or (declared_size is not None and declared_size > room):
        raise over_quota
    try:
        blob: StoredBlob = await storage.put(chunks, min(limits.max_bytes, room))
    except TooLarge:
        raise (too_large(limits.max_bytes) if room >= limits.max_bytes else over_quota) from None
    try:
        if blob.size == 0:
            raise BadUserInput("The file is empty.", field="file")
        attachment = await _record(actor, page, project, name, blob, limits)
    except BaseException:
        await storage.discard(blob, content_used(blob.key))
        raise
    await storage.keep(blob)  # back in place if a deletion of the same content took it
    return attachment


def content_used(key: str) -> Callable[[], Awaitable[bool]]:
    """Whether any attachment (of a page or a request) or business document's PDF holds
    the content ``key`` (asked when it is forgotten)."""

    async def used() -> bool:
        return (
            await Attachment.exists(content_key=key)
            or await RequestAttachment.exists(content_key=key)
            or await BusinessDocument.exists(pdf_key=key)
        )

    return used


async def _record(
    actor: User, page: Page, project: Project, name: str, blob: StoredBlob, limits: UploadLimits
) -> Attachment:
    async with unit_of_work():
        # uploads of one user, of one customer and on one page are counted in turn
        await User.filter(id=actor.id).select_for_update().get()
        await Customer.filter(id=project.customer_id).select_for_update().get()
        await Page.filter(id=page.id).select_for_update().get()  # versions are numbered in turn
        await _check_rate(actor, limits)
        room, over_quota = await _room(actor, project.customer_id, limits)
        if blob.size > room:
            raise over_quota
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
        await search_index.forget_attachments([a.id for a in older])
        await search_index.index_attachment(attachment, page)
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


async def delete_attachment(
    actor: User, storage: BlobStorage, attachment_id: int, limits: UploadLimits
) -> Page:
    """Delete one version of a file: its row, its content when no other version or page
    holds the same content, its search entry (the previous version, if any, is found
    instead); audited as ``attachment.deleted``. Returns the page it was on.

    Whoever uploaded it may delete it, and so may staff who may write on the page; others
    who can see it get FORBIDDEN; an attachment out of sight is NOT_FOUND. Deletions count
    with uploads against ``limits.per_minute`` (RATE_LIMITED). A link to it in a page's
    text stays as it was and answers 404.
    """
    attachment = await policy.get_visible(
        policy.visible_attachments(actor), attachment_id, "attachment"
    )
    page = await Page.get(id=attachment.page_id)
    if not await policy.can_delete_attachment(actor, attachment, page):
        raise Forbidden(
            "Only whoever uploaded this file, or staff who may write on the page, may delete it."
        )
    await _check_rate(actor, limits)
    async with unit_of_work():
        await Page.filter(id=page.id).select_for_update().get()
        if not await Attachment.filter(id=attachment.id).delete():
            raise NotFound("attachment")  # deleted meanwhile
        await search_index.forget_attachments([attachment.id])
        latest = (
            await Attachment.filter(page_id=page.id, name=attachment.name)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.version < attachment.version:
            await search_index.index_attachment(latest, page)
        await audit(
            "attachment.deleted",
            actor=actor,
            target=f"attachment:{attachment.id}",
            page=page.id,
            name=attachment.name,
            version=attachment.version,
            size=attachment.size,
            uploadedBy=attachment.uploaded_by_id,
        )
    await storage.forget(attachment.content_key, content_used(attachment.content_key))
    return page
