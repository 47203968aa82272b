"""Log lines: one JSON object a line (``EXTRANET_LOG_FORMAT=json``, production's default)
or text, each carrying what the request it belongs to is.

Every line has ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, and the
request's ``request_id`` (the client's ``X-Request-ID`` when it sends a sane one, else
made here; the answer carries it back in ``X-Request-ID``), ``operation`` (the GraphQL
operation's name), ``user`` (the signed-in user's pseudonymous ID, never a name or an
e-mail address) and ``trace_id`` (the OpenTelemetry trace's when tracing is on, else the
incoming ``traceparent``'s, else one made for the request); empty outside a request.
``exception`` holds a traceback.

Nothing secret is written: the code logs no password, token or message body, and every
line is scrubbed of what looks like one anyway (access tokens by their prefix, JWTs,
``Bearer …``, and ``token=``, ``signature=``, ``password=`` or ``code=`` values), so a
slip does not leak.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
OPERATION: contextvars.ContextVar[str] = contextvars.ContextVar("operation", default="")
USER: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="")
TRACE_ID: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")

_SECRETS = (
    (re.compile(r"\b(xnt_[ps]at_)[A-Za-z0-9]+"), r"\1[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt redacted]"),
    (re.compile(r"(?i)\b(bearer)\s+\S+"), r"\1 [redacted]"),
    (
        re.compile(r"(?i)\b(\w*token|signature|sig|\w*password|\w*secret|code)=([^&\s\"']+)"),
        r"\1=[redacted]",
    ),
    (
        re.compile(r'(?i)("\w*(?:token|password|secret)"\s*:\s*)"(?:[^"\\]|\\.)*"'),
        r'\1"[redacted]"',
    ),
    (re.compile(r"\b(whsec_)[A-Za-z0-9+/=_-]+"), r"\1[redacted]"),
    (re.compile(r"(/mail/unsubscribe/)[^/?#\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(reply\+)[a-z2-7]+@"), r"\1[redacted]@"),
)

# Where the trace ID of the current span comes from when tracing is on (infra/tracing.py).
current_trace_id: Callable[[], str] = lambda: ""  # noqa: E731


def scrub(text: str) -> str:
    """``text`` without what looks like a token, a signature or a password."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _trace_id() -> str:
    return current_trace_id() or TRACE_ID.get()


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": REQUEST_ID.get(),
            "operation": OPERATION.get(),
            "user": USER.get(),
            "trace_id": _trace_id(),
        }
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A record as ``LEVEL logger [request_id operation user]: message`` (development)."""

    def format(self, record: logging.LogRecord) -> str:
        where = " ".join(filter(None, (REQUEST_ID.get(), OPERATION.get(), USER.get())))
        text = f"{record.levelname} {record.name}{f' [{where}]' if where else ''}: "
        text += record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return scrub(text)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send every logger's lines (uvicorn's included) to standard error in ``log_format``
    (``json`` or ``text``); :data:`QUIET` loggers only from WARNING on."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    quieten()


# Loggers that write statements, their values or mail envelopes below WARNING.
QUIET = ("tortoise", "aiosqlite", "asyncpg", "mail.log")


def quieten() -> dict[str, int]:
    """Only WARNING and above from :data:`QUIET`; answers their levels before."""
    levels = {name: logging.getLogger(name).level for name in QUIET}
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return levels


def uvicorn_log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: every process it starts logs as :func:`configure` says."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "extranet": {"()": f"{__name__}.{formatter(log_format).__class__.__name__}"}
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "extranet",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "INFO", "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }


def request_id_of(given: str | None) -> str:
    """The client's request ID when it is sane (1-128 of ``A-Z a-z 0-9 . _ : -``), else a
    new one (32 hex digits)."""
    if given and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return secrets.token_hex(16)


def trace_id_of(traceparent: str | None) -> str:
    """The trace ID of a W3C ``traceparent`` header, else a new one (32 hex digits)."""
    found = _TRACEPARENT.fullmatch(traceparent.strip()) if traceparent else None
    return found.group(1) if found else secrets.token_hex(16)


class RequestIds:
    """Pure ASGI middleware: each HTTP request and websocket gets its request ID and trace
    ID for its log lines, and an HTTP answer carries the request ID in ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        request_id = request_id_of(_header(headers, b"x-request-id"))
        request_token = REQUEST_ID.set(request_id)
        trace_token = TRACE_ID.set(trace_id_of(_header(headers, b"traceparent")))
        operation_token, user_token = OPERATION.set(""), USER.set("")
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            REQUEST_ID.reset(request_token)
            TRACE_ID.reset(trace_token)
            OPERATION.reset(operation_token)
            USER.reset(user_token)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None
