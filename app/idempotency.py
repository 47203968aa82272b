"""``Idempotency-Key``: a mutation sent again is answered, not done again.

A ``POST /graphql`` of a mutation by a signed-in caller with an ``Idempotency-Key`` header
(1 to 255 visible ASCII characters; a random UUID is the usual choice) is recorded with a
hash of its body (query, variables, operation name). Within 24 hours, the same key of the
same caller:

* with the same body is answered with the first answer (status and body), with
  ``Idempotent-Replayed: true``, and nothing is done again;
* with another body answers ``409`` with a ``CONFLICT`` error (``reason``
  ``IDEMPOTENCY_KEY_REUSED``);
* while the first request is still running answers ``409`` with a ``CONFLICT`` error
  (``reason`` ``IDEMPOTENCY_KEY_IN_USE``) and ``Retry-After: 1``: try again shortly.

An answer with a 5xx status is not kept (the repeat runs again). Queries, requests without
a signed-in caller and websockets ignore the header. Records are pruned by a background
job once their 24 hours are over.

The caller is the credential: a person's sessions share their keys, but each access token
for machines has keys of its own, so a narrower token never receives an answer made with
wider rights. A replay goes only to that same caller, who must still be signed in (a
revoked token or a deactivated account is refused as without a key); it returns the
answer as it was, even if the caller's rights changed since. The database keeps a hash of
the key and the answer encrypted (AES-256-GCM) with a key derived from the Idempotency-Key
and the server's secret key: a reader of the database cannot recover an answer (such as
a new access token) nor the key that would replay it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from graphql import OperationType
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actions import idempotency
from app.graphql_http import operation_type
from domain.auth import authenticate
from infra.settings import Settings

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_SEALED = "v1:"
"""The prefix of an encrypted stored answer."""


def stored_key(key: str) -> str:
    """What the database keeps of an Idempotency-Key: its SHA-256, hexadecimal."""
    return hashlib.sha256(b"idempotency-key\0" + key.encode()).hexdigest()


def _answer_key(secret: str, caller: str, key: str) -> bytes:
    message = f"idempotency-answer\0{caller}\0{key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def seal(secret: str, caller: str, key: str, body: str) -> str:
    """``body`` encrypted for the database (``v1:`` and base64 of nonce and ciphertext)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_answer_key(secret, caller, key)).encrypt(nonce, body.encode(), None)
    return _SEALED + base64.b64encode(nonce + sealed).decode()


def unseal(secrets: list[str], caller: str, key: str, stored: str) -> str | None:
    """The answer :func:`seal` encrypted, with any of ``secrets``; None if none opens it."""
    if not stored.startswith(_SEALED):
        return None
    try:
        raw = base64.b64decode(stored.removeprefix(_SEALED), validate=True)
    except ValueError:
        return None
    for secret in secrets:
        try:
            plain = AESGCM(_answer_key(secret, caller, key)).decrypt(raw[:12], raw[12:], None)
        except (InvalidTag, ValueError):
            continue
        return plain.decode()
    return None


def _error(status: int, message: str, reason: str, code: str = "CONFLICT") -> tuple[int, bytes]:
    body = {"errors": [{"message": message, "extensions": {"code": code, "reason": reason}}]}
    return status, json.dumps(body, separators=(",", ":")).encode()


async def _answer(
    send: Send, status: int, body: bytes, media_type: str, headers: dict[str, str]
) -> None:
    raw = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def request_hash(document: dict[str, Any]) -> str:
    """What makes two requests the same: query, variables and operation name."""
    essence = {k: document.get(k) for k in ("query", "variables", "operationName", "extensions")}
    return hashlib.sha256(json.dumps(essence, sort_keys=True).encode()).hexdigest()


class IdempotentMutations:
    """Wraps the GraphQL endpoint: see the module's description."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        json_type = "application/json; charset=utf-8"
        if not _KEY.match(key):
            status, body = _error(
                400,
                "Idempotency-Key is 1 to 255 visible ASCII characters: send a random UUID.",
                "IDEMPOTENCY_KEY_INVALID",
                code="BAD_USER_INPUT",
            )
            await _answer(send, status, body, json_type, {})
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        caller = await self._caller(headers)
        document = self._mutation(raw)
        if caller is None or document is None:
            await self.app(scope, replay, send)
            return
        digest = request_hash(document)
        claim = await idempotency.claim(caller, stored_key(key), digest)
        record = claim.record
        answer = None
        if not claim.run and record.status is not None and record.request_hash == digest:
            secrets = [self.settings.secret_key, *self.settings.previous_secret_keys]
            answer = unseal(secrets, caller, key, record.body)
            if answer is None:  # sealed with a key no longer known: run it again
                await idempotency.release(record)
                claim = await idempotency.claim(caller, stored_key(key), digest)
                record = claim.record
        if not claim.run:
            if record.request_hash != digest:
                status, body = _error(
                    409,
                    "This Idempotency-Key was used for another request: use a new key for a "
                    "new request.",
                    "IDEMPOTENCY_KEY_REUSED",
                )
                await _answer(send, status, body, json_type, {})
            elif record.status is None:
                status, body = _error(
                    409,
                    "The first request with this Idempotency-Key is still running: try again "
                    "in a moment to receive its answer.",
                    "IDEMPOTENCY_KEY_IN_USE",
                )
                await _answer(send, status, body, json_type, {"Retry-After": "1"})
            else:
                await _answer(
                    send,
                    record.status,
                    (answer or "").encode(),
                    record.media_type or json_type,
                    {"Idempotent-Replayed": "true"},
                )
            return
        await self._run(scope, replay, send, record, caller, key)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, record: Any, caller: str, key: str
    ) -> None:
        status = 500
        media_type = ""
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, media_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        media_type = value.decode()
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await idempotency.release(record)
            raise
        if status >= 500:
            await idempotency.release(record)
        else:
            sealed = seal(self.settings.secret_key, caller, key, b"".join(body).decode())
            await idempotency.finish(record, status, media_type, sealed)

    async def _caller(self, headers: Headers) -> str | None:
        authentication = await authenticate(self.settings, headers.get("authorization"))
        signed_in = authentication.signed_in
        if signed_in is None:
            return None
        if signed_in.token is not None:  # an access token's keys are its own
            return f"token:{signed_in.token.id}"
        return f"user:{signed_in.user.id}"

    def _mutation(self, raw: bytes) -> dict[str, Any] | None:
        """The request's JSON when it is one mutation; None otherwise (left to the
        endpoint, which answers or refuses it)."""
        try:
            document = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("query"), str):
            return None
        name = document.get("operationName")
        kind = operation_type(
            document["query"],
            name if isinstance(name, str) else None,
            self.settings.query_limits.max_tokens,
        )
        return document if kind is OperationType.MUTATION else None
