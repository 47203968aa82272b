"""Every error a client receives carries a contract code; unexpected ones are masked.

This is where the domain's errors (:class:`domain.errors.AppError`, plain exceptions with a
code) become GraphQL errors: :func:`graphql_error` for one raised anywhere (a resolver, a
subscription's stream, a persisted query refused before execution), :func:`error_body` for
an HTTP answer that is not a GraphQL execution (uploads, downloads, a service away).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from graphql import GraphQLError, GraphQLFormattedError
from strawberry.extensions import MaskErrors
from tortoise.exceptions import IntegrityError

from domain.availability import as_unavailable
from domain.errors import ERROR_CODES, AppError, InputProblems

log = logging.getLogger("extranet.errors")


def graphql_error(error: AppError, located: GraphQLError | None = None) -> GraphQLError:
    """``error`` as the client sees it: its message, ``extensions`` (``code`` first, then
    the details) and, when ``located`` wraps it, the locations and path of the field that
    raised it. ``original_error`` stays ``error`` (the audit of denials reads it)."""
    return GraphQLError(
        error.message,
        nodes=located.nodes if located else None,
        source=located.source if located else None,
        positions=located.positions if located else None,
        path=located.path if located else None,
        original_error=error,
        extensions=dict(error.extensions),
    )


def formatted(error: AppError) -> GraphQLFormattedError:
    """``error`` as one entry of a response's ``errors``: ``{"message", "extensions"}``."""
    return graphql_error(error).formatted


def error_body(error: AppError) -> dict[str, Any]:
    """A JSON response body holding ``error`` alone: ``{"errors": [{"message",
    "extensions"}]}``, as a GraphQL response refused before execution has it."""
    return {"errors": [formatted(error)]}


class ErrorCodes(MaskErrors):
    """Give each error an ``extensions.code``.

    Errors raised on purpose keep their code. A service that did not answer (the database,
    Redis), wherever it failed, is SERVICE_UNAVAILABLE with ``retryAfter``, in production
    and development alike. Errors outside execution (syntax, validation, variable coercion)
    are the client's: BAD_USER_INPUT. Anything else is a defect: it is logged with a
    reference the client also gets, and its text never leaves the server in production.
    """

    def _is_production(self) -> bool:
        settings = getattr(self.execution_context.context, "settings", None)
        return bool(getattr(settings, "is_production", True))

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        production = self._is_production()
        return [self._shape(each, production) for error in errors for each in _each_problem(error)]

    @staticmethod
    def _shape(error: GraphQLError, production: bool) -> GraphQLError:
        if isinstance(error.original_error, AppError):
            return graphql_error(error.original_error, error)
        extensions = dict(error.extensions or {})
        if extensions.get("code") in ERROR_CODES:
            return error
        unavailable = as_unavailable(error)
        if unavailable is not None:
            message, extensions = unavailable.message, dict(unavailable.extensions)
        elif concurrent_change(error.original_error):
            log.warning("Refused as a concurrent change: %s", error.original_error)
            extensions = {"code": "CONFLICT"}
            message = CONCURRENT_CHANGE
        elif error.path is None:
            extensions["code"] = "BAD_USER_INPUT"
            message = error.message
        else:
            reference = secrets.token_hex(6)
            log.error(
                "Unexpected error at %s (reference %s)",
                ".".join(map(str, error.path)),
                reference,
                exc_info=error.original_error or error,
            )
            extensions = {"code": "INTERNAL", "reference": reference}
            message = f"Something went wrong on our side (reference {reference})."
            if not production:
                message = f"{message} {error.message}"
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )


def _each_problem(error: GraphQLError) -> list[GraphQLError]:
    """``error`` alone, or one error per problem when it wraps :class:`InputProblems`
    (each at the same path and locations)."""
    if isinstance(error.original_error, InputProblems):
        return [graphql_error(problem, error) for problem in error.original_error.problems]
    return [error]


CONCURRENT_CHANGE = (
    "Another request changed the same thing at the same time (the same name, member or "
    "item was added, or what this refers to was removed): fetch it again and retry."
)
_CONSTRAINT_SQLSTATES = frozenset({"23505", "23503"})  # unique, foreign key
_CONSTRAINT_SQLITE = frozenset(
    {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_FOREIGNKEY"}
)


def concurrent_change(error: BaseException | None) -> bool:
    """Whether ``error`` is a unique or foreign-key violation of the database: what the
    actions checked beforehand changed under them (two requests adding the same slug,
    member or watch at once, or a row removed meanwhile), on PostgreSQL or SQLite alike."""
    if not isinstance(error, IntegrityError):
        return False
    cause = error.args[0] if error.args else error.__cause__
    return (
        getattr(cause, "sqlstate", None) in _CONSTRAINT_SQLSTATES
        or getattr(cause, "sqlite_errorname", None) in _CONSTRAINT_SQLITE
    )


def escaped(error: GraphQLError) -> bool:
    """An exception that no code path turned into a coded error (strawberry answers one
    raised by an extension's hook with its own text)."""
    original = error.original_error
    code = (error.extensions or {}).get("code")
    return (
        code not in ERROR_CODES
        and original is not None
        and not isinstance(original, GraphQLError | AppError)
    )


def coded_escape(error: GraphQLError, *, production: bool = True) -> GraphQLError:
    """The answer for an :func:`escaped` error: a service that did not answer is
    SERVICE_UNAVAILABLE; text that is not Unicode (an unpaired surrogate, which no UTF-8
    can encode) is the client's BAD_USER_INPUT; anything else INTERNAL with a reference
    that the log also holds, and the exception's text only outside production."""
    unavailable = as_unavailable(error.original_error)
    if unavailable is not None:
        return graphql_error(unavailable)
    if concurrent_change(error.original_error):
        log.warning("Refused as a concurrent change: %s", error.original_error)
        return GraphQLError(
            CONCURRENT_CHANGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "CONFLICT"},
        )
    if isinstance(error.original_error, UnicodeError):
        return GraphQLError(
            "The request holds text that is not Unicode (an unpaired surrogate): send "
            "characters outside the Basic Multilingual Plane as surrogate pairs.",
            extensions={"code": "BAD_USER_INPUT"},
        )
    reference = secrets.token_hex(6)
    log.error("Unexpected error (reference %s)", reference, exc_info=error.original_error)
    message = f"Something went wrong on our side (reference {reference})."
    return GraphQLError(
        message if production else f"{message} {error.message}",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "reference": reference},
    )
