"""What waits for the viewer: the items of their dashboard, each with its reason and since
when, read in a handful of indexed queries (README "Dashboard").

Staff: open requests assigned to them that need a step of theirs (``ASSIGNED``), open
requests nobody is assigned to of the customers whose account team they are on
(``UNASSIGNED``), open requests of those customers or assigned to them whose SLA clock is
breached (``SLA_BREACHED``) or within ``sla_warning_minutes`` of its breach
(``SLA_AT_RISK``), and top-level posts of a customer's contact on a project they are a
member of (or of those customers) that no staff member replied to within
``unanswered_post_hours`` business hours, of the last :data:`UNANSWERED_WITHIN_DAYS` days
(``UNANSWERED_POST``).

Contacts: the requests they asked or take part in that wait for their information
(``NEEDS_INFO``), their customer's quotes waiting for a decision (``QUOTE_DECISION``, lead
contacts, who decide them) and library documents waiting for their acknowledgement
(``ACKNOWLEDGEMENT``).

Everyone: their unread mentions (``MENTION``) and replies (``REPLY``), and their edits of
pages kept as drafts after a conflict (``KEPT_DRAFT``).

A request appears once, under its most pressing reason (breached, at risk, assigned,
unassigned). Items are ordered by ``since``, the longest waiting first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from tortoise.expressions import Q, RawSQL, Subquery

from actions import library
from actions._common import now
from actions.request_reminders import DEFAULT_CALENDAR
from domain import policy
from domain.business_hours import BusinessCalendar
from domain.sla import RequestHistory, SlaTargets, StatusChange, compute_sla
from infra.lru import LRU
from infra.settings import Settings
from models import (
    AccountTeamMembership,
    BusinessDocument,
    BusinessDocumentKind,
    BusinessDocumentStatus,
    DocumentVersion,
    LibraryDocument,
    Micropost,
    Notification,
    NotificationReason,
    Page,
    PageDraft,
    Project,
    ProjectMembership,
    RequestParticipant,
    RequestStatus,
    RequestStatusChange,
    Role,
    ServiceRequest,
    SlaPolicy,
    User,
)
from models import BusinessCalendar as CalendarRow

S = RequestStatus
NEEDS_STAFF_STEP = (S.RECEIVED, S.IN_PROGRESS, S.APPROVED)
"""Open statuses in which the request waits for the provider (not for the customer)."""
OPEN = (*NEEDS_STAFF_STEP, S.NEEDS_INFO)


class ActionReason(StrEnum):
    """Why an item waits for the viewer (the ``kind`` of the dashboard's counts)."""

    SLA_BREACHED = "SLA_BREACHED"
    SLA_AT_RISK = "SLA_AT_RISK"
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    UNANSWERED_POST = "UNANSWERED_POST"
    KEPT_DRAFT = "KEPT_DRAFT"
    NEEDS_INFO = "NEEDS_INFO"
    QUOTE_DECISION = "QUOTE_DECISION"
    MENTION = "MENTION"
    REPLY = "REPLY"
    ACKNOWLEDGEMENT = "ACKNOWLEDGEMENT"


ActionObject = ServiceRequest | Micropost | Page | BusinessDocument | LibraryDocument | Notification
_MODELS: dict[str, type[ActionObject]] = {
    model.__name__: model
    for model in (ServiceRequest, Micropost, Page, BusinessDocument, LibraryDocument, Notification)
}


@dataclass(frozen=True, slots=True)
class ActionItem:
    """One thing waiting for the viewer since ``since`` (aware), for ``reason``: the row
    ``pk`` of the model named ``kind``, already read (``row``) or read by :func:`rows_of`
    when it is shown."""

    reason: ActionReason
    since: datetime
    kind: str
    pk: int
    row: ActionObject | None = None

    @classmethod
    def of(cls, reason: ActionReason, since: datetime, row: ActionObject) -> ActionItem:
        return cls(reason, since, type(row).__name__, int(row.pk), row)

    @property
    def key(self) -> tuple[datetime, str, str, int]:
        """The order of the list, and the position a cursor names."""
        return (self.since, self.reason.value, self.kind, self.pk)


async def rows_of(items: Sequence[ActionItem]) -> list[ActionObject]:
    """The rows of ``items``, in order; those not read yet in one query per model."""
    wanted: dict[str, set[int]] = {}
    for item in items:
        if item.row is None:
            wanted.setdefault(item.kind, set()).add(item.pk)
    found: dict[tuple[str, int], ActionObject] = {}
    for kind, ids in wanted.items():
        model = _MODELS[kind]
        for row in await model.filter(id__in=sorted(ids)):
            found[(kind, int(row.pk))] = row
    return [item.row or found[(item.kind, item.pk)] for item in items]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The viewer's items in :attr:`ActionItem.key` order, and how many of each reason."""

    items: Sequence[ActionItem]

    @property
    def counts(self) -> dict[ActionReason, int]:
        counts: dict[ActionReason, int] = {}
        for item in self.items:
            counts[item.reason] = counts.get(item.reason, 0) + 1
        return counts


async def dashboard(viewer: User, settings: Settings, moment: datetime | None = None) -> Dashboard:
    """What waits for ``viewer`` as of ``moment`` (now when None); see the module."""
    moment = moment or now()
    items: list[ActionItem] = []
    if viewer.is_staff:
        customers = await _team_customers(viewer)
        items += await _staff_requests(viewer, customers, settings, moment)
        items += await _unanswered_posts(viewer, customers, settings, moment)
    else:
        items += await _waiting_for_information(viewer)
        items += await _quotes_to_decide(viewer, moment)
        items += await _to_acknowledge(viewer)
    items += await _mentions_and_replies(viewer)
    items += await _kept_drafts(viewer)
    return Dashboard(sorted(items, key=lambda item: item.key))


async def action_count(viewer: User, settings: Settings) -> int:
    """How many items :func:`dashboard` lists for the viewer now."""
    return len((await dashboard(viewer, settings)).items)


# -- staff ----------------------------------------------------------------------------------


async def _team_customers(viewer: User) -> list[int]:
    rows = AccountTeamMembership.filter(user_id=viewer.id).values_list("customer_id", flat=True)
    return [int(str(value)) for value in await rows]


@dataclass(frozen=True, slots=True)
class _Standing:
    """What a request's recorded history says for the dashboard, whatever the time:
    ``entered_at``, when it entered its status; ``breach_at``, when an SLA clock breached
    or breaches if nothing changes (None: none will); ``warn_at``, when the first running
    clock reaches its warning (None: no warning to come)."""

    entered_at: datetime
    breach_at: datetime | None = None
    warn_at: datetime | None = None

    def reason(self, moment: datetime) -> tuple[ActionReason, datetime] | None:
        """SLA_BREACHED or SLA_AT_RISK as of ``moment`` with since when, or None."""
        if self.breach_at is not None and self.breach_at <= moment:
            return ActionReason.SLA_BREACHED, self.breach_at
        if self.warn_at is not None and self.warn_at <= moment:
            return ActionReason.SLA_AT_RISK, self.warn_at
        return None


_Key = tuple[Any, ...]
_STANDINGS: LRU[_Key, _Standing] = LRU(50_000)
"""Standings by everything they are computed from (the request's version, its policy's
targets and calendar, the warning time): a request changed since has another key."""


def _standing(
    history: RequestHistory,
    sla: tuple[BusinessCalendar, SlaTargets] | None,
    warn_minutes: int,
    moment: datetime,
) -> _Standing:
    entered_at = history.spells()[-1][0]
    if sla is None:
        return _Standing(entered_at)
    state = compute_sla(history, sla[0], sla[1], now=moment)
    breaches = [c.breached_at or (c.breaches_at if c.running else None) for c in state.clocks]
    warnings = [c.warning_at(warn_minutes) for c in state.clocks] if warn_minutes > 0 else []
    return _Standing(
        entered_at,
        min((at for at in breaches if at is not None), default=None),
        min((at for at in warnings if at is not None), default=None),
    )


@dataclass(frozen=True, slots=True)
class _OpenRequest:
    """What the dashboard reads of an open request to decide whether it waits for staff."""

    id: int
    customer_id: int
    request_type_id: int
    assignee_id: int | None
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None


async def _standings(
    requests: Sequence[_OpenRequest], settings: Settings, moment: datetime
) -> dict[int, _Standing]:
    """Each request's standing: from the process's cache when the request has not changed
    since it was computed (every change of a request saves it, moving ``updated_at``;
    its submission and first response are in the key too),
    otherwise from its history (one query for all of them) replayed against its SLA
    policy (domain/sla.py)."""
    policies = {
        (row.request_type_id, row.customer_id): row
        for row in await SlaPolicy.filter(
            request_type_id__in=sorted({r.request_type_id for r in requests})
        )
    }
    calendars = {
        row.id: _parsed(row.definition)
        for row in await CalendarRow.filter(
            id__in=sorted({p.calendar_id for p in policies.values()})
        )
    }
    found: dict[int, _Standing] = {}
    missing: dict[int, tuple[_Key, tuple[BusinessCalendar, SlaTargets] | None]] = {}
    for request in requests:
        policy_row = policies.get((request.request_type_id, request.customer_id)) or policies.get(
            (request.request_type_id, None)
        )
        sla = None
        if policy_row is not None and policy_row.calendar_id in calendars:
            targets = SlaTargets(policy_row.first_response_minutes, policy_row.resolution_minutes)
            sla = (calendars[policy_row.calendar_id], targets)
        key = (
            request.id,
            request.status,
            request.created_at,
            request.updated_at,
            request.first_response_at,
            sla,
            settings.sla_warning_minutes,
        )
        cached = _STANDINGS.get(key)
        if cached is not None:
            found[request.id] = cached
        else:
            missing[request.id] = (key, sla)
    if missing:
        changes: dict[int, list[StatusChange]] = {request_id: [] for request_id in missing}
        rows = (
            RequestStatusChange.filter(request_id__in=list(missing), from_status__not_isnull=True)
            .order_by("created_at", "id")
            .values_list("request_id", "to_status", "created_at")
        )
        for request_id, to_status, at in await rows:
            changes[int(str(request_id))].append(StatusChange(at, to_status))
        for row in await ServiceRequest.filter(id__in=list(missing)):
            key, sla = missing[row.id]
            history = RequestHistory(
                submitted_at=row.created_at,
                changes=tuple(changes[row.id]),
                first_response_at=row.first_response_at,
            )
            standing = _standing(history, sla, settings.sla_warning_minutes, moment)
            found[row.id] = _STANDINGS.put(key, standing)
    return found


async def _staff_requests(
    viewer: User, customers: Sequence[int], settings: Settings, moment: datetime
) -> list[ActionItem]:
    mine = Q(assignee_id=viewer.id)
    if customers:
        mine |= Q(customer_id__in=list(customers))
    columns = (
        "id",
        "customer_id",
        "request_type_id",
        "assignee_id",
        "status",
        "created_at",
        "updated_at",
        "first_response_at",
    )
    values = ServiceRequest.filter(mine, status__in=list(OPEN), closed=False).values_list(*columns)
    rows = [_OpenRequest(*row) for row in await values]
    if not rows:
        return []
    standings = await _standings(rows, settings, moment)
    items = []
    for row in rows:
        standing = standings[row.id]
        late = standing.reason(moment)
        if late is not None:
            reason, since = late
        elif row.assignee_id == viewer.id and row.status in NEEDS_STAFF_STEP:
            reason, since = ActionReason.ASSIGNED, standing.entered_at
        elif row.assignee_id is None and row.status in NEEDS_STAFF_STEP:
            reason, since = ActionReason.UNASSIGNED, standing.entered_at
        else:
            continue
        items.append(ActionItem(reason, since, "ServiceRequest", row.id))
    return items


def _parsed(definition: dict[str, Any]) -> BusinessCalendar:
    """The calendar of a stored definition; one object per definition, so that the
    business-time caches keyed by calendar find it by identity."""
    return _calendar_of(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS).decode())


@functools.lru_cache(maxsize=64)
def _calendar_of(definition: str) -> BusinessCalendar:
    return BusinessCalendar.from_json(orjson.loads(definition))


async def _calendar() -> BusinessCalendar:
    """The working time that business hours are counted in: the first business calendar
    defined, or Monday to Friday 09:00-17:00 UTC."""
    row = await CalendarRow.all().order_by("id").first()
    return DEFAULT_CALENDAR if row is None else _parsed(row.definition)


UNANSWERED_WITHIN_DAYS = 30
"""How far back the dashboard looks for unanswered posts: a customer's post older than
this has left it (answered elsewhere, or no longer waiting for a reply here)."""

_ANSWERED = RawSQL(
    "CASE WHEN EXISTS (SELECT 1 FROM microposts answer JOIN users staff "
    "ON staff.id = answer.author_id WHERE answer.parent_id = microposts.id "
    "AND staff.customer_id IS NULL) THEN 1 ELSE 0 END"
)
"""1 when a staff member (a user of no customer) replied to the post, else 0."""


async def _unanswered_posts(
    viewer: User, customers: Sequence[int], settings: Settings, moment: datetime
) -> list[ActionItem]:
    """Top-level posts of the last :data:`UNANSWERED_WITHIN_DAYS` days by a customer's
    contact on the projects the viewer is a member of or whose customer's account team
    they are on, without a staff reply, older than ``unanswered_post_hours`` business
    hours (read through the index on ``(project_id, parent_id, created_at)``, each post's
    replies through the one on ``parent_id``)."""
    member_of = ProjectMembership.filter(user_id=viewer.id).values("project_id")
    scope = Q(id__in=Subquery(member_of))
    if customers:
        scope |= Q(customer_id__in=list(customers))
    projects = [int(str(i)) for i in await Project.filter(scope).values_list("id", flat=True)]
    if not projects:
        return []
    hours = settings.unanswered_post_hours
    posts = await Micropost.annotate(answered=_ANSWERED).filter(
        project_id__in=projects,
        parent_id=None,
        created_at__gt=moment - timedelta(days=UNANSWERED_WITHIN_DAYS),
        created_at__lte=moment - timedelta(hours=hours),
        author__customer_id__not_isnull=True,
        answered=0,
    )
    if not posts:
        return []
    calendar = await _calendar()
    items = []
    for post in posts:
        due = calendar.add_business_seconds(post.created_at, hours * 3600)
        if due <= moment:
            items.append(ActionItem.of(ActionReason.UNANSWERED_POST, due, post))
    return items


# -- contacts -------------------------------------------------------------------------------


async def _waiting_for_information(viewer: User) -> list[ActionItem]:
    joined = Subquery(RequestParticipant.filter(user_id=viewer.id).values("request_id"))
    rows = await ServiceRequest.filter(
        Q(requester_id=viewer.id) | Q(id__in=joined),
        customer_id=viewer.customer_id,
        status=S.NEEDS_INFO,
    )
    entered = await _entered_status(rows)
    return [ActionItem.of(ActionReason.NEEDS_INFO, entered[row.id], row) for row in rows]


async def _entered_status(requests: Sequence[ServiceRequest]) -> dict[int, datetime]:
    """When each request entered its current status (its latest recorded change)."""
    entered = {request.id: request.created_at for request in requests}
    if requests:
        rows = RequestStatusChange.filter(request_id__in=list(entered)).values_list(
            "request_id", "created_at"
        )
        for request_id, at in await rows:
            key = int(str(request_id))
            entered[key] = max(entered[key], at)
    return entered


async def _quotes_to_decide(viewer: User, moment: datetime) -> list[ActionItem]:
    """Quotes SENT and not past their due date (after it a quote is EXPIRED and can no
    longer be decided, even before its stored status catches up)."""
    if viewer.role is not Role.CUSTOMER_ADMIN or viewer.customer_id is None:
        return []
    rows = await BusinessDocument.filter(
        Q(due_date=None) | Q(due_date__gte=moment.astimezone(UTC).date()),
        customer_id=viewer.customer_id,
        kind=BusinessDocumentKind.QUOTE,
        status=BusinessDocumentStatus.SENT,
    )
    return [ActionItem.of(ActionReason.QUOTE_DECISION, row.created_at, row) for row in rows]


async def _to_acknowledge(viewer: User) -> list[ActionItem]:
    ids = await library.needs_acknowledgement(viewer)
    if not ids:
        return []
    published: dict[int, datetime] = {}
    for document_id, at in await DocumentVersion.filter(
        document_id__in=ids, deleted_at=None
    ).values_list("document_id", "created_at"):
        key = int(str(document_id))
        published[key] = max(published.get(key, at), at)
    return [
        ActionItem.of(ActionReason.ACKNOWLEDGEMENT, published.get(row.id, row.created_at), row)
        for row in await LibraryDocument.filter(id__in=ids)
    ]


# -- everyone -------------------------------------------------------------------------------

_NOTIFIED = {
    NotificationReason.MENTIONED: ActionReason.MENTION,
    NotificationReason.REPLIED: ActionReason.REPLY,
}


async def _mentions_and_replies(viewer: User) -> list[ActionItem]:
    """Unread, and of events the viewer may still read (checked on those events alone)."""
    rows = await Notification.filter(user_id=viewer.id, read_at=None, reason__in=list(_NOTIFIED))
    if not rows:
        return []
    events = policy.visible_events(viewer).filter(id__in=sorted({r.event_id for r in rows}))
    readable = {int(str(i)) for i in await events.values_list("id", flat=True)}
    return [
        ActionItem.of(_NOTIFIED[row.reason], row.created_at, row)
        for row in rows
        if row.event_id in readable
    ]


async def _kept_drafts(viewer: User) -> list[ActionItem]:
    drafts = await PageDraft.filter(
        author_id=viewer.id, page_id__in=Subquery(policy.visible_pages(viewer).values("id"))
    )
    if not drafts:
        return []
    pages = {page.id: page for page in await Page.filter(id__in=[d.page_id for d in drafts])}
    return [ActionItem.of(ActionReason.KEPT_DRAFT, d.updated_at, pages[d.page_id]) for d in drafts]
