"""Exports of a person's data: a ZIP of everything about them, made in the background.

:func:`request_export` records a PENDING export and its job (a user for themselves, an
administrator on behalf of anybody); the job (:func:`make_export`) writes the ZIP into the
blob storage: one JSON file per kind of data (``profile.json``, ``posts.json``, ...; see
:data:`EXPORTED`) and ``files/`` with the files they uploaded. The export is READY for
:data:`EXPORT_KEPT`; its download link (app/files.py) is valid five minutes for the person
it is about or the one who asked for it, and then both the file and the row are deleted.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from tortoise import Tortoise
from tortoise.expressions import Q

from actions._common import audit, now
from actions.jobs import JobContext, enqueue, job_handler
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import Forbidden, NotFound
from infra.storage import BlobStorage, DirectoryStorage
from models import AuditEntry, ExportStatus, PersonalDataExport, Role, User

EXPORT_JOB = "personal_data.export"
EXPIRE_JOB = "personal_data.expire"
EXPORT_KEPT = timedelta(hours=24)
"""How long a finished export can be downloaded; then its file and row are deleted."""
EXPORT_MAX_BYTES = 2 * 1024**3

_SECRET_COLUMNS = frozenset(
    {
        "token_hash",
        "code_hash",
        "password_hash",
        "totp_secret",
        "totp_pending_secret",
        "totp_last_step",
        "unsubscribe_token",
        "digest",
        "family",
        "message_token",
        "secret",
        "previous_secret",
        "address_hash",
    }
)


@dataclass(frozen=True, slots=True)
class Exported:
    """``file`` (JSON) of the ZIP holds the rows of ``table`` whose ``column`` names the
    person, without secrets (hashes of tokens and codes)."""

    file: str
    table: str
    column: str


EXPORTED: tuple[Exported, ...] = (
    Exported("posts.json", "microposts", "author_id"),
    Exported("post_edits.json", "micropost_edits", "editor_id"),
    Exported("mentions.json", "micropost_mentions", "user_id"),
    Exported("pages_created.json", "pages", "created_by_id"),
    Exported("page_revisions.json", "page_revisions", "author_id"),
    Exported("page_drafts.json", "page_drafts", "author_id"),
    Exported("attachments.json", "attachments", "uploaded_by_id"),
    Exported("requests.json", "service_requests", "requester_id"),
    Exported("request_messages.json", "request_messages", "author_id"),
    Exported("request_participations.json", "request_participants", "user_id"),
    Exported("request_files.json", "request_attachments", "uploaded_by_id"),
    Exported("notifications.json", "notifications", "user_id"),
    Exported("watches.json", "watches", "user_id"),
    Exported("access_tokens.json", "access_tokens", "user_id"),
    Exported("sessions.json", "refresh_tokens", "user_id"),
    Exported("sign_in_networks.json", "known_sign_in_addresses", "user_id"),
    Exported("project_memberships.json", "project_memberships", "user_id"),
    Exported("mail_preferences.json", "mail_preferences", "user_id"),
    Exported("mail_quiet_hours.json", "mail_quiet_hours", "user_id"),
    Exported("mail.json", "outgoing_mails", "user_id"),
    Exported("library_acknowledgements.json", "library_acknowledgements", "user_id"),
    Exported("library_downloads.json", "library_downloads", "user_id"),
    Exported("library_versions.json", "library_document_versions", "uploaded_by_id"),
    Exported("activity_days.json", "interaction_activity_days", "user_id"),
    Exported("reading_sessions.json", "interaction_sessions", "user_id"),
    Exported("security_alerts.json", "security_alerts", "user_id"),
)
"""The files of an export besides ``profile.json``, ``audit.json`` and ``files/``."""

_PROFILE = (
    "id",
    "pseudonym",
    "email",
    "handle",
    "name",
    "role",
    "customer_id",
    "is_active",
    "created_at",
    "last_login_at",
    "totp_enabled_at",
    "time_zone",
    "locale",
    "deactivated_at",
)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)


async def request_export(actor: User, *, user_id: int | None = None) -> PersonalDataExport:
    """Ask for an export of the data about ``user_id`` (default: the actor). Others than
    the actor: administrators only (FORBIDDEN otherwise, NOT_FOUND out of sight)."""
    subject = actor
    if user_id is not None and user_id != actor.id:
        subject = await policy.get_visible(policy.visible_users(actor), user_id, "user")
        if actor.role is not Role.ADMIN:
            raise Forbidden("Only administrators export the data of somebody else.")
    async with unit_of_work():
        export = await PersonalDataExport.create(user_id=subject.id, requested_by_id=actor.id)
        await enqueue(EXPORT_JOB, {"export": export.id})
        await audit(
            "personal_data.export_requested",
            actor=actor,
            subject=subject,
            target=f"personal_data_export:{export.id}",
        )
    return export


def visible_exports(viewer: User) -> Any:
    """The exports the viewer may see and download: about them or asked by them."""
    return PersonalDataExport.filter(Q(user_id=viewer.id) | Q(requested_by_id=viewer.id))


async def exports_of(viewer: User) -> list[PersonalDataExport]:
    """The viewer's exports not expired yet, newest first."""
    return list(
        await visible_exports(viewer)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now()))
        .order_by("-id")
    )


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export as app/files.py streams it."""

    name: str
    size: int
    content_key: str
    content_type: str = "application/zip"


async def for_download(viewer: User, export_id: int) -> ExportFile:
    """The READY export ``export_id`` if it is about the viewer or they asked for it and it
    has not expired; NOT_FOUND otherwise."""
    export = await visible_exports(viewer).get_or_none(
        id=export_id, status=ExportStatus.READY, expires_at__gt=now()
    )
    if export is None or export.content_key is None:
        raise NotFound("export")
    async with unit_of_work():
        await audit(
            "personal_data.export_downloaded",
            actor=viewer,
            subject=export.user_id,
            target=f"personal_data_export:{export.id}",
        )
    return ExportFile(f"personal-data-{export.user_id}.zip", int(export.size), export.content_key)


def _table_rows(table: str) -> Any:
    for model in Tortoise.apps["models"].values():
        if model._meta.db_table == table:
            return model
    return None


async def _rows(table: str, column: str, user_id: int) -> list[dict[str, Any]] | None:
    model = _table_rows(table)
    if model is None:
        return None
    rows: list[dict[str, Any]] = (
        await model.filter(**{column: user_id}).order_by(model._meta.pk_attr).values()
    )
    return [{k: v for k, v in row.items() if k not in _SECRET_COLUMNS} for row in rows]


async def _audit_rows(user_id: int) -> list[dict[str, Any]]:
    """Entries about them, and those they made that are about nobody else."""
    about = Q(subject_id=user_id) | (Q(actor_id=user_id) & (Q(subject_id=None)))
    return [
        {
            "sequence": e.sequence,
            "createdAt": e.created_at,
            "action": e.action,
            "byThem": e.actor_id == user_id,
            "aboutThem": e.subject_id == user_id,
            **_told(e),
            "clientAddress": e.client_address,
        }
        for e in await AuditEntry.filter(about).order_by("sequence", "id")
    ]


def _told(entry: AuditEntry) -> dict[str, Any]:
    """The target and details of ``entry`` as the person may read them: a refusal keeps
    the fields refused but not which of the IDs asked for exist out of their sight (an ID
    of another customer answers as one that does not exist)."""
    details = dict(entry.details)
    if entry.action != "permission.denied":
        return {"target": entry.target, "details": details}
    details.pop("outside_scope", None)
    fields = details.get("fields")
    first = fields[0] if isinstance(fields, list) and fields else ""
    return {"target": str(first), "details": details}


async def build_zip(user: User, storage: BlobStorage) -> bytes:
    """The export of ``user``'s data as ZIP bytes (see the module docstring)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        profile = {field: getattr(user, field) for field in _PROFILE}
        archive.writestr("profile.json", _json(profile))
        for exported in EXPORTED:
            rows = await _rows(exported.table, exported.column, user.id)
            if rows is not None:
                archive.writestr(exported.file, _json(rows))
        archive.writestr("audit.json", _json(await _audit_rows(user.id)))
        for table in ("attachments", "request_attachments", "library_document_versions"):
            for row in await _rows(table, "uploaded_by_id", user.id) or []:
                name = f"files/{table}/{row['id']}-{_safe(str(row.get('name') or 'file'))}"
                content = b"".join([chunk async for chunk in storage.read(row["content_key"])])
                archive.writestr(name, content)
    return buffer.getvalue()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "file"


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@job_handler(EXPORT_JOB, max_attempts=3)
async def make_export(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Write the ZIP of a PENDING export and make it READY for EXPORT_KEPT."""
    export = await PersonalDataExport.get_or_none(id=int(payload["export"]))
    if export is None or export.status is not ExportStatus.PENDING:
        return
    user = await User.get(id=export.user_id)
    storage = DirectoryStorage(ctx.settings.attachments_dir)
    data = await build_zip(user, storage)
    blob = await storage.put(_once(data), EXPORT_MAX_BYTES)
    async with unit_of_work():
        updated = await PersonalDataExport.filter(id=export.id, status=ExportStatus.PENDING).update(
            status=ExportStatus.READY,
            content_key=blob.key,
            size=blob.size,
            ready_at=ctx.now,
            expires_at=ctx.now + EXPORT_KEPT,
        )
        if updated:
            await enqueue(EXPIRE_JOB, {"export": export.id}, run_at=ctx.now + EXPORT_KEPT)
    if updated:
        await storage.keep(blob)
    else:  # erased meanwhile
        await storage.discard(blob, export_file_used(blob.key))


def export_file_used(key: str) -> Callable[[], Awaitable[bool]]:
    """Whether an export still holds the file ``key`` (for BlobStorage.forget)."""

    async def still_used() -> bool:
        return await PersonalDataExport.exists(content_key=key)

    return still_used


@job_handler(EXPIRE_JOB, max_attempts=5)
async def expire_export(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete an export past its time, and its file."""
    export = await PersonalDataExport.get_or_none(id=int(payload["export"]))
    if export is None:
        return
    async with unit_of_work():
        await PersonalDataExport.filter(id=export.id).delete()
    if export.content_key:
        storage = DirectoryStorage(ctx.settings.attachments_dir)
        await storage.forget(export.content_key, export_file_used(export.content_key))
