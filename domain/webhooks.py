"""Webhooks: the retry schedule, the message a delivery sends, and its signature headers.

Deliveries follow the Standard Webhooks specification (https://www.standardwebhooks.com):
each POST carries ``webhook-id`` (the same on every attempt of one event at one endpoint),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>``
of ``id.timestamp.body``; during a secret's rotation two, space-separated). The body is
``{"type", "cursor", "timestamp", "data"}``.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""After the first attempt (immediately) fails, the next ones follow after these delays;
when the eighth fails too, the endpoint is paused."""
ATTEMPTS = len(RETRY_DELAYS) + 1
PROBE_EVERY = timedelta(minutes=30)
"""A paused endpoint is sent its pending event this often; a 2xx answer resumes it."""
TIMEOUT = 15.0
"""Seconds an attempt may take in all (connecting, sending, the answer)."""
RESPONSE_KEPT = 1024
"""Bytes of an answer's body kept in the delivery log."""
ROTATION_OVERLAP = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation, by default."""
ROTATION_OVERLAP_MOST = timedelta(days=7)
DELIVER_JOB = "webhooks.deliver"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not one)
SECRET_BYTES = 32


def next_retry(failures: int) -> timedelta | None:
    """How long after ``failures`` consecutive failed attempts (1 or more) the next is due,
    or None when the schedule is spent (the endpoint is paused)."""
    if failures < 1:
        return timedelta(0)
    return RETRY_DELAYS[failures - 1] if failures <= len(RETRY_DELAYS) else None


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def deliver_key(endpoint_id: int) -> str:
    """The key of an endpoint's delivery job: one pending pass per endpoint."""
    return f"{DELIVER_JOB}:{endpoint_id}"


def webhook_id(endpoint_id: int, event_id: int) -> str:
    """The ``webhook-id`` of an event at an endpoint: the same on every attempt."""
    return f"msg_{endpoint_id}_{event_id}"


def global_id(type_name: str, object_id: int) -> str:
    """An object's ID as the API gives it out (``base64("Type:id")``)."""
    return base64.b64encode(f"{type_name}:{object_id}".encode()).decode()


_ID_TYPES = {
    "micropostId": "Micropost",
    "parentId": "Micropost",
    "pageId": "Page",
    "authorId": "User",
    "assigneeId": "User",
    "previousAssigneeId": "User",
    "userId": "User",
    "requestId": "Request",
}


def event_data(
    payload: dict[str, Any],
    *,
    customer_id: int | None,
    project_id: int | None,
    request_id: int | None,
    actor_id: int,
    visibility: str,
) -> dict[str, Any]:
    """What an event says, as the API names things: the ids of objects as their global IDs
    (``customerId``, ``projectId``, ``requestId``, ``actorId`` and the payload's own)."""
    data: dict[str, Any] = {
        "customerId": None if customer_id is None else global_id("Customer", customer_id),
        "projectId": None if project_id is None else global_id("Project", project_id),
        "requestId": None if request_id is None else global_id("Request", request_id),
        "actorId": global_id("User", actor_id),
        "visibility": visibility,
    }
    for key, value in payload.items():
        kind = _ID_TYPES.get(key)
        data[key] = global_id(kind, value) if kind and isinstance(value, int) else value
    return data


def message(event_type: str, cursor: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON body of a delivery."""
    body = {
        "type": event_type,
        "cursor": cursor,
        "timestamp": occurred_at.isoformat(),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def signature_headers(
    message_id: str, sent_at: datetime, body: bytes, signing_secrets: Iterable[str]
) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery signed with each of ``signing_secrets``
    (the current one first). Raises ValueError without a secret."""
    text = body.decode()
    signatures = [Webhook(secret).sign(message_id, sent_at, text) for secret in signing_secrets]
    if not signatures:
        raise ValueError("A delivery is signed with at least one secret")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "Extranet-Webhooks/1",
    }
