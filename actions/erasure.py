"""Erasing a person: their personal data goes everywhere, a unique tombstone stays.

:func:`erase_user` rewrites the user row into a tombstone ("Former contact 17 of Acme",
"Former staff member 3": a number per customer, or among the staff) that can never sign in
again, deletes the rows that are only about the person (:data:`ERASURE_MAP`, treatment
``DELETE``), keeps what they wrote and did under the tombstone (``KEEP``), and replaces
their name, e-mail address and ``@handle`` in other people's text (mentions, mail, the
search index) with the tombstone's. The audit trail stays whole: its hashes cover only
pseudonymous content (domain/audit_chain.py), and the client addresses of the entries by
or about them, outside the hashes, are blanked. README "Personal data" lists the map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from tortoise import Tortoise, connections
from tortoise.expressions import Q
from tortoise.models import Model

from actions import _text_sweep, jobs, personal_data, search_index
from actions._common import audit, now
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Conflict, Forbidden
from domain.text import read_post
from infra.storage import BlobStorage
from models import (
    AccessToken,
    Customer,
    Event,
    ExternalId,
    ExternalKind,
    Invitation,
    Micropost,
    MicropostEdit,
    OutgoingMail,
    Page,
    PageRevision,
    PendingMail,
    PersonalDataExport,
    RequestMessage,
    SearchDocument,
    ServiceAccount,
    User,
)
from realtime.bus import EventBus


class Treatment(StrEnum):
    DELETE = "DELETE"  # the rows go
    KEEP = "KEEP"  # the rows stay, naming the tombstone


@dataclass(frozen=True, slots=True)
class Holding:
    """A column that names a user: ``table.column``, what erasure does with its rows."""

    table: str
    column: str
    treatment: Treatment
    what: str


D, K = Treatment.DELETE, Treatment.KEEP
ERASURE_MAP: tuple[Holding, ...] = (
    Holding("refresh_tokens", "user_id", D, "sign-in sessions"),
    Holding("recovery_codes", "user_id", D, "two-factor recovery codes"),
    Holding("access_tokens", "user_id", D, "their access tokens"),
    Holding("access_tokens", "created_by_id", K, "tokens they made for service accounts"),
    Holding("password_reset_tokens", "user_id", D, "password reset links"),
    Holding("known_sign_in_addresses", "user_id", D, "networks they signed in from"),
    Holding("invitations", "user_id", D, "the invitation that made their account"),
    Holding("invitations", "invited_by_id", K, "invitations they sent"),
    Holding("mail_preferences", "user_id", D, "mail preferences"),
    Holding("mail_quiet_hours", "user_id", D, "quiet hours"),
    Holding("pending_mails", "user_id", D, "notifications waiting for their digest"),
    Holding("used_reply_tokens", "user_id", D, "reply-by-mail addresses used"),
    Holding("outgoing_mails", "user_id", D, "mail queued or sent to them"),
    Holding("notifications", "user_id", D, "their inbox"),
    Holding("watches", "user_id", D, "what they watch"),
    Holding("page_drafts", "author_id", D, "unsaved drafts"),
    Holding("library_reminders", "user_id", D, "validity reminders"),
    Holding("library_downloads", "user_id", D, "documents they downloaded"),
    Holding("library_acknowledgements", "user_id", K, "documents they acknowledged"),
    Holding("interaction_activity_days", "user_id", D, "activity counts"),
    Holding("interaction_sessions", "user_id", D, "reading sessions"),
    Holding("personal_data_exports", "user_id", D, "exports of their data (files too)"),
    Holding("personal_data_exports", "requested_by_id", K, "exports they asked for others"),
    Holding("project_memberships", "user_id", D, "project memberships"),
    Holding("account_team_memberships", "user_id", D, "account team memberships"),
    Holding("security_alerts", "user_id", K, "alerts about them (client address blanked)"),
    Holding("security_alerts", "acknowledged_by_id", K, "alerts they acknowledged"),
    Holding("security_alerts", "resolved_by_id", K, "alerts they resolved"),
    Holding("audit_entries", "actor_id", K, "audit entries (client address blanked)"),
    Holding("audit_entries", "subject_id", K, "audit entries (client address blanked)"),
    Holding("microposts", "author_id", K, "posts and comments"),
    Holding("micropost_edits", "editor_id", K, "earlier versions of posts"),
    Holding("micropost_mentions", "user_id", K, "mentions of them (text rewritten)"),
    Holding("pages", "created_by_id", K, "pages"),
    Holding("page_revisions", "author_id", K, "page revisions"),
    Holding("attachments", "uploaded_by_id", K, "page attachments"),
    Holding("request_attachments", "uploaded_by_id", K, "request files"),
    Holding("service_requests", "requester_id", K, "requests"),
    Holding("service_requests", "assignee_id", K, "requests assigned"),
    Holding("request_messages", "author_id", K, "replies and notes"),
    Holding("request_participants", "user_id", K, "request participations"),
    Holding("request_status_changes", "actor_id", K, "request status changes"),
    Holding("request_types", "default_assignee_id", K, "default assignee (staff)"),
    Holding("project_status_changes", "actor_id", K, "project status changes"),
    Holding("events", "actor_id", K, "the event log"),
    Holding("business_documents", "published_by_id", K, "business documents published"),
    Holding("business_documents", "decided_by_id", K, "quotes accepted or declined"),
    Holding("library_documents", "owner_id", K, "library documents owned"),
    Holding("library_document_versions", "uploaded_by_id", K, "library versions"),
    Holding("library_document_versions", "deleted_by_id", K, "library versions deleted"),
    Holding("persisted_documents", "registered_by_id", K, "persisted queries"),
    Holding("service_accounts", "created_by_id", K, "service accounts made"),
    Holding("service_accounts", "user_id", K, "a machine's user (no person)"),
    Holding("webhook_endpoints", "owner_id", K, "webhook endpoints"),
)
"""Every column naming a user, and what erasure does with its rows (tests check that every
foreign key to ``users`` is listed)."""

ADDRESS_COLUMNS = {
    ("audit_entries", "actor_id"): "client_address",
    ("audit_entries", "subject_id"): "client_address",
    ("security_alerts", "user_id"): "address",
}
"""Client addresses blanked on the rows kept that are by or about the person."""

_ERASED_DOMAIN = "erased.invalid"


def _models_by_table() -> dict[str, type[Model]]:
    return {m._meta.db_table: m for m in Tortoise.apps["models"].values()}


def tombstone_label(number: int, customer: Customer | None) -> str:
    if customer is not None:
        return f"Former contact {number} of {customer.name}"
    return f"Former staff member {number}"


@dataclass(frozen=True, slots=True)
class _Replacer:
    """Replaces the person's name, e-mail address and ``@handle`` in text with the
    tombstone's (case-insensitive)."""

    name: str
    email: str
    handle: str
    label: str
    new_handle: str

    def patterns(self) -> list[tuple[re.Pattern[str], str]]:
        return [
            (re.compile(re.escape(self.email), re.I), f"{self.new_handle}@{_ERASED_DOMAIN}"),
            (
                re.compile(rf"(?<![\w@/])@{re.escape(self.handle)}(?![\w-]|\.\w)", re.I),
                f"@{self.new_handle}",
            ),
            (re.compile(rf"(?<!\w){re.escape(self.name)}(?!\w)", re.I), self.label),
        ]

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.patterns():
            text = pattern.sub(replacement.replace("\\", "\\\\"), text)
        return text

    def holders(self, *columns: str) -> Q:
        """Rows whose ``columns`` may hold the name, address or handle."""
        query = Q()
        for column in columns:
            for needle in (self.name, self.email, f"@{self.handle}"):
                query |= Q(**{f"{column}__icontains": needle})
        return query


async def _rewrite_text(replace: _Replacer) -> None:
    """The person's name, address and handle in other people's text, and the index."""
    for post in await Micropost.filter(replace.holders("body")):
        post.body = replace(post.body)
        post.body_html = read_post(post.body).html
        await post.save(update_fields=["body", "body_html"])
        await search_index.index_micropost(post)
    for edit in await MicropostEdit.filter(replace.holders("previous_body")):
        edit.previous_body = replace(edit.previous_body)
        await edit.save(update_fields=["previous_body"])
    for message in await RequestMessage.filter(replace.holders("body", "body_html")):
        message.body, message.body_html = replace(message.body), replace(message.body_html)
        await message.save(update_fields=["body", "body_html"])
    for page in await Page.filter(replace.holders("title", "body", "body_html")):
        page.title, page.body = replace(page.title), replace(page.body)
        page.body_html = replace(page.body_html)
        await page.save(update_fields=["title", "body", "body_html"])
    for revision in await PageRevision.filter(replace.holders("title", "body", "summary")):
        revision.title, revision.body = replace(revision.title), replace(revision.body)
        revision.summary = replace(revision.summary)
        await revision.save(update_fields=["title", "body", "summary"])
    for doc in await SearchDocument.filter(replace.holders("title", "body")):
        doc.title, doc.body = replace(doc.title), replace(doc.body)
        await search_index.rewrite(doc)
    for mail in await OutgoingMail.filter(
        id__in=await _json_holders("outgoing_mails", "context", replace)
    ) + await OutgoingMail.filter(replace.holders("subject")):
        mail.subject = replace(mail.subject)
        mail.context = cast(dict[str, Any], _text_sweep.replaced_json(mail.context, replace))
        await mail.save(update_fields=["subject", "context"])
    for event in await Event.filter(id__in=await _json_holders("events", "payload", replace)):
        event.payload = cast(dict[str, Any], _text_sweep.replaced_json(event.payload, replace))
        await event.save(update_fields=["payload"])


async def _json_holders(table: str, column: str, replace: _Replacer) -> list[int]:
    """IDs of the rows of ``table`` whose JSON ``column`` may hold the person's name,
    address or handle (matched as text)."""
    client = connections.get("default")
    sqlite = str(client.capabilities.dialect) == "sqlite"
    text, like, mark = (column, "LIKE", "?") if sqlite else (f"{column}::text", "ILIKE", "$1")
    found: set[int] = set()
    for needle in (replace.name, replace.email, f"@{replace.handle}"):
        _, rows = await client.execute_query(
            f"SELECT id FROM {table} WHERE {text} {like} {mark}",  # noqa: S608 (our names)
            [f"%{needle}%"],
        )
        found.update(int(row["id"]) for row in rows)
    return sorted(found)


async def _next_number(customer_id: int | None) -> int:
    erased = User.filter(customer_id=customer_id, tombstone_number__not_isnull=True)
    last = await erased.order_by("-tombstone_number").first()
    return (last.tombstone_number or 0) + 1 if last is not None else 1


async def may_erase(actor: User, user_id: int) -> User:
    """The user ``actor`` may erase: administrators anybody but themselves, a lead contact
    a contact of their own customer; others FORBIDDEN, users out of sight NOT_FOUND; a service
    account's user is no person (BAD_USER_INPUT, FORBIDDEN but for administrators)."""
    target = await policy.get_visible(policy.visible_users(actor), user_id, "user")
    if not policy.can_erase_user(actor, target):
        raise Forbidden("Only administrators, and lead contacts for their own contacts, erase.")
    if await ServiceAccount.exists(user_id=target.id):
        if not actor.is_admin:
            raise Forbidden("Only administrators manage service accounts.")
        raise BadUserInput("This is a service account, not a person: deactivate it instead.")
    if target.id == actor.id:
        raise BadUserInput("You cannot erase your own account; ask an administrator.")
    if target.erased_at is not None:
        raise Conflict("This person's data was erased already.")
    return target


async def erase_user(
    actor: User,
    bus: EventBus | None,
    *,
    user_id: int,
    storage: BlobStorage | None = None,
    client_address: str = "",
) -> User:
    """Erase the personal data of user ``user_id`` (see the module docstring); answers the
    tombstone; the files of their exports leave ``storage``. Errors: NOT_FOUND (not
    visible), FORBIDDEN, BAD_USER_INPUT (oneself), CONFLICT (erased already)."""
    target = await may_erase(actor, user_id)
    async with unit_of_work(bus) as work:
        user = await User.filter(id=target.id).select_for_update().get()
        if user.erased_at is not None:
            raise Conflict("This person's data was erased already.")
        customer = await Customer.get_or_none(id=user.customer_id) if user.customer_id else None
        number = await _next_number(user.customer_id)
        label = tombstone_label(number, customer)
        new_handle = f"former-{'contact' if customer else 'staff'}-{number}"
        replace = _Replacer(user.name, user.email, user.handle, label, new_handle)
        email = user.email
        moment = now()
        by_table = _models_by_table()
        tokens = await AccessToken.filter(user_id=user.id).values_list("id", flat=True)
        for holding in ERASURE_MAP:
            model = by_table.get(holding.table)
            if model is None:
                continue
            rows = model.filter(**{holding.column: user.id})
            if holding.treatment is Treatment.DELETE:
                await rows.delete()
            elif (address := ADDRESS_COLUMNS.get((holding.table, holding.column))) is not None:
                await rows.update(**{address: ""})
        seen = by_table.get("security_seen_networks")
        if seen is not None:  # networks of their sign-ins and of their tokens' use
            await seen.filter(
                Q(kind="sign_in", subject_id=user.id) | Q(kind="token", subject_id__in=tokens)
            ).delete()
        await PendingMail.filter(user_id=user.id).delete()
        await Invitation.filter(email=email).delete()
        await OutgoingMail.filter(to_address=email).delete()
        await ExternalId.filter(kind=ExternalKind.USER, object_id=user.id).delete()
        exports = await PersonalDataExport.filter(user_id=user.id).values_list(
            "content_key", flat=True
        )
        await PersonalDataExport.filter(user_id=user.id).delete()
        await jobs.drop_payloads_naming(email)
        await _rewrite_text(replace)
        await _text_sweep.sweep((replace.name, replace.email, f"@{replace.handle}"), replace)
        await search_index.compact()  # the old words out of the index's pages too
        user.name, user.handle = label, new_handle
        user.email = f"{new_handle}.{user.id}@{_ERASED_DOMAIN}"
        user.password_hash = None
        user.totp_secret = user.totp_pending_secret = None
        user.totp_enabled_at = user.totp_last_step = None
        user.last_login_at = None
        user.time_zone, user.locale = "UTC", "en"
        user.is_active = False
        user.deactivated_at = user.deactivated_at or moment
        user.erased_at, user.tombstone_number = moment, number
        await user.save()
        await audit(
            "user.erased",
            actor=actor,
            subject=user,
            target=f"user:{user.id}",
            client_address=client_address,
        )
        work.sessions_ended(user.id)
    if storage is not None:
        for key in {str(k) for k in exports if k}:
            await storage.forget(key, personal_data.export_file_used(key))
    return user
