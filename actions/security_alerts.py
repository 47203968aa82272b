"""Suspicious-activity alerts: noticing (the rules of domain/security_rules.py), raising
(an alert row, an audit entry, mail to who must know), acknowledging and resolving.

What a request does is cheap: a counting rule adds to a counter in the store of the
sign-in limits (:func:`count`), a new sign-in or a token's new address records a job in
the transaction that already writes (:func:`signed_in`, :func:`token_used_from_new_address`).
The alert is written by the background runner (jobs ``security.flag`` and
``security.sign_in``), never on the request's path.

Who is told of a new alert: every active administrator, and the lead contacts of the
customer whose contact the alert is about, by mail (the outbox). Triggers of the same rule
and subject coalesce into the alert that is not resolved yet and was last triggered within
``security_coalesce_window`` seconds: its ``count`` grows, nobody is mailed again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from actions import retention
from actions._common import REASON_MAX_LENGTH, audit, limited_text, now
from actions.jobs import JobContext, enqueue, job_handler
from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import Conflict
from domain.mail import OutgoingMessage
from domain.security_rules import counter_key, crossed, network_of, summary, threshold
from domain.throttle import AttemptStore
from infra.settings import Settings
from models import Role, SecurityAlert, SecurityAlertState, SecurityRule, SeenNetwork, User

log = logging.getLogger(__name__)

FLAG_JOB = "security.flag"
SIGN_IN_JOB = "security.sign_in"
SIGN_IN = "sign_in"  # SeenNetwork.kind of sign-in networks
OPEN_STATES = (SecurityAlertState.OPEN, SecurityAlertState.ACKNOWLEDGED)


# -- noticing (on the request's path: cheap, and never failing the request) ------------


async def count(
    store: AttemptStore | None,
    settings: Settings,
    rule: SecurityRule,
    subject: str,
    *,
    user_id: int | None,
    address: str,
    weight: int = 1,
) -> bool:
    """Count ``weight`` events of a counting rule for ``subject`` (``user:7``,
    ``address:198.51.100.4``); when the count reaches a multiple of the rule's threshold
    within its window, schedule the alert. True when it did. A store that does not answer
    is logged, not raised: the request goes on."""
    if store is None or weight < 1:
        return False
    limit = threshold(settings, rule)
    try:
        key = counter_key(rule, subject)
        after = 0
        for _ in range(weight):
            after = await store.fail(key, limit.window)
        if not crossed(after - weight, after, limit.count):
            return False
        async with unit_of_work():
            await _flag_later(
                rule, subject, user_id, address, {"count": after, "windowSeconds": limit.window}
            )
    except Exception:
        log.warning("Counting %s for the suspicious-activity rules failed", rule, exc_info=True)
        return False
    return True


async def signed_in(user: User, address: str) -> None:
    """Have the background runner check a sign-in's network (``NEW_NETWORK_SIGN_IN``)."""
    async with unit_of_work():
        await enqueue(SIGN_IN_JOB, {"user": user.id, "address": address[:64]})


async def token_used_from_new_address(token_id: int, user_id: int, address: str) -> None:
    """An access token that was used before is used from a new address
    (``TOKEN_NEW_ADDRESS``); call in the unit of work that records the use."""
    await _flag_later(
        SecurityRule.TOKEN_NEW_ADDRESS,
        f"token:{token_id}",
        user_id,
        address,
        {"tokenId": token_id},
    )


async def _flag_later(
    rule: SecurityRule, subject: str, user_id: int | None, address: str, details: dict[str, Any]
) -> None:
    payload = {
        "rule": rule.value,
        "subject": subject,
        "user": user_id,
        "address": address[:64],
        "details": details,
    }
    await enqueue(FLAG_JOB, payload)


# -- raising (in the background runner) -------------------------------------------------


@job_handler(FLAG_JOB)
async def _flag(ctx: JobContext, payload: dict[str, Any]) -> None:
    await raise_alert(
        ctx.settings,
        SecurityRule(payload["rule"]),
        payload["subject"],
        user_id=payload.get("user"),
        address=payload.get("address", ""),
        details=payload.get("details") or {},
        at=ctx.now,
    )


def network_hash(settings: Settings, address: str) -> str:
    """The keyed hash (64 hex digits) that stands for the network of ``address``
    (:func:`domain.security_rules.network_of`); the network itself is not kept."""
    key = hmac.new(settings.secret_key.encode(), b"security-network", hashlib.sha256).digest()
    return hmac.new(key, network_of(address).encode(), hashlib.sha256).hexdigest()


@job_handler(SIGN_IN_JOB)
async def _check_sign_in(ctx: JobContext, payload: dict[str, Any]) -> None:
    """``NEW_NETWORK_SIGN_IN``: the network is recorded as seen; an alert when the account
    signed in before, not from this network lately, and has two-factor sign-in off."""
    async with unit_of_work():  # a deployment that people sign in to is purged daily
        await retention.schedule_purge(ctx.now)
    user = await User.get_or_none(id=payload["user"])
    if user is None:
        return
    address = str(payload.get("address", ""))
    digest = network_hash(ctx.settings, address)
    fresh = ctx.now - timedelta(days=ctx.settings.security_new_network_days)
    mine = SeenNetwork.filter(kind=SIGN_IN, subject_id=user.id)
    try:
        async with unit_of_work():
            seen = await mine.filter(network_hash=digest).first()
            if seen is not None:
                await SeenNetwork.filter(id=seen.id).update(last_seen_at=ctx.now)
                if _aware(seen.last_seen_at) >= fresh:
                    return
            elif not await mine.exists():  # the account's first sign-in: nothing to compare
                await SeenNetwork.create(
                    kind=SIGN_IN, subject_id=user.id, network_hash=digest, last_seen_at=ctx.now
                )
                return
            else:
                await SeenNetwork.create(
                    kind=SIGN_IN, subject_id=user.id, network_hash=digest, last_seen_at=ctx.now
                )
            if user.totp_secret:
                return
            details: dict[str, Any] = {"network": network_of(address)}
            if seen is not None:
                details["lastSeenAt"] = _aware(seen.last_seen_at).isoformat()
            await raise_alert(
                ctx.settings,
                SecurityRule.NEW_NETWORK_SIGN_IN,
                f"user:{user.id}",
                user_id=user.id,
                address=address,
                details=details,
                at=ctx.now,
            )
    except IntegrityError:  # a sign-in beside this one recorded the network first
        return


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def raise_alert(
    settings: Settings,
    rule: SecurityRule,
    subject: str,
    *,
    user_id: int | None,
    address: str,
    details: dict[str, Any],
    at: datetime,
) -> SecurityAlert:
    """Record a trigger of ``rule`` for ``subject``: coalesced into the alert of that rule
    and subject that is not resolved and was last triggered within the coalescing window,
    else a new alert (audited as ``security.alert``, mailed to the administrators and the
    subject's lead contacts). Answers the alert."""
    since = at - timedelta(seconds=settings.security_coalesce_window)
    async with unit_of_work():
        current = (
            await SecurityAlert.filter(
                rule=rule, subject_key=subject, state__in=OPEN_STATES, last_seen_at__gte=since
            )
            .order_by("-id")
            .first()
        )
        if current is not None:
            await SecurityAlert.filter(id=current.id).update(
                count=F("count") + 1,
                last_seen_at=at,
                details={**current.details, **details},
                address=address[:64] or current.address,
            )
            return await SecurityAlert.get(id=current.id)
        user = await User.get_or_none(id=user_id) if user_id is not None else None
        alert = await SecurityAlert.create(
            rule=rule,
            subject_key=subject[:100],
            user_id=user.id if user else None,
            customer_id=user.customer_id if user else None,
            address=address[:64],
            details=details,
            first_seen_at=at,
            last_seen_at=at,
        )
        await audit(
            "security.alert",
            actor=None,
            subject=user,
            target=f"SecurityAlert:{alert.id}",
            client_address=address,
            rule=rule.value,
            user=user.id if user else None,
        )
        await _mail_about(settings, alert, user)
    return alert


async def _mail_about(settings: Settings, alert: SecurityAlert, user: User | None) -> None:
    """Mail the active administrators and, for an alert about a contact, their customer's
    lead contacts (service accounts are not mailed)."""
    told = User.filter(is_active=True, role=Role.ADMIN)
    people = list(await told)
    if alert.customer_id is not None:
        people += await User.filter(
            is_active=True, role=Role.CUSTOMER_ADMIN, customer_id=alert.customer_id
        )
    about = f"the account of {user.name} ({user.email})" if user else "no account in particular"
    paragraphs = [
        f"{summary(alert.rule)}: {about}, from the address {alert.address or 'unknown'}.",
        "Look at it in the security alerts and acknowledge it, or resolve it with a note "
        "once you know what happened. Further triggers are counted on the same alert.",
    ]
    for person in {p.id: p for p in people}.values():
        if person.email.endswith(".invalid"):
            continue
        await queue_mail(
            OutgoingMessage(
                to_address=person.email,
                to_user_id=person.id,
                template="notice",
                subject=f"Security alert: {summary(alert.rule)}",
                context={"heading": summary(alert.rule), "paragraphs": paragraphs, "link": None},
                category=None,
                thread_key=f"security-alert-{alert.id}",
            )
        )


# -- handling (administrators; lead contacts for their own contacts) -----------------------


async def _alert_of(viewer: User, alert_id: int) -> SecurityAlert:
    return await policy.get_visible(
        policy.visible_security_alerts(viewer), alert_id, "security alert"
    )


async def acknowledge(viewer: User, alert_id: int, *, client_address: str = "") -> SecurityAlert:
    """Mark an open alert ACKNOWLEDGED by ``viewer`` (someone looks into it). NOT_FOUND for
    an alert out of the viewer's sight; CONFLICT for a resolved one. Acknowledging an
    acknowledged alert changes nothing."""
    async with unit_of_work():
        alert = await _alert_of(viewer, alert_id)
        if alert.state is SecurityAlertState.RESOLVED:
            raise Conflict("This alert is resolved already.")
        if alert.state is SecurityAlertState.OPEN:
            moment = now()
            await SecurityAlert.filter(id=alert.id).update(
                state=SecurityAlertState.ACKNOWLEDGED,
                acknowledged_by_id=viewer.id,
                acknowledged_at=moment,
            )
            await audit(
                "security.alert_acknowledged",
                actor=viewer,
                target=f"SecurityAlert:{alert.id}",
                client_address=client_address,
            )
        return await SecurityAlert.get(id=alert.id)


async def resolve(
    viewer: User, alert_id: int, note: str, *, client_address: str = ""
) -> SecurityAlert:
    """Mark an alert RESOLVED by ``viewer`` with ``note`` (what happened; at most 2,000
    characters); a later trigger opens a new alert. NOT_FOUND for an alert out of the
    viewer's sight; CONFLICT for a resolved one; BAD_USER_INPUT for a note too long."""
    text = limited_text(note.strip(), "note", REASON_MAX_LENGTH)
    async with unit_of_work():
        alert = await _alert_of(viewer, alert_id)
        if alert.state is SecurityAlertState.RESOLVED:
            raise Conflict("This alert is resolved already.")
        moment = now()
        await SecurityAlert.filter(id=alert.id).update(
            state=SecurityAlertState.RESOLVED,
            resolved_by_id=viewer.id,
            resolved_at=moment,
            resolution_note=text,
            acknowledged_by_id=alert.acknowledged_by_id or viewer.id,
            acknowledged_at=alert.acknowledged_at or moment,
        )
        await audit(
            "security.alert_resolved",
            actor=viewer,
            target=f"SecurityAlert:{alert.id}",
            client_address=client_address,
        )
        return await SecurityAlert.get(id=alert.id)
