"""Errors a client may see, each with its ``extensions.code`` from the API contract.

They are plain exceptions: the layer that answers a client gives them their form (a GraphQL
error in graphql_schema/errors.py, a JSON body with an HTTP status in app/files.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.wording import duration


class AppError(Exception):
    """An expected failure whose message is safe to show to the client.

    ``message`` is that text; ``extensions`` the details a client reads besides it:
    ``code`` (the class's :attr:`code`, one of :data:`ERROR_CODES` or a protocol's own such
    as ``PERSISTED_QUERY_NOT_FOUND``) and the keyword arguments given (``field``,
    ``reason``, ``retryAfter``...), JSON values with camelCase names.
    """

    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"

    def __init__(
        self, what: str = "object", *, looked_up: tuple[type, int] | None = None, **extensions: Any
    ) -> None:
        super().__init__(
            f"No {what} with that ID exists, or you may not see it. Check the ID.", **extensions
        )
        # The client is told only NOT_FOUND. After the answer has gone, the audit trail checks
        # whether the (model, id) looked up exists outside the caller's scope: a probe across
        # tenants, or a stale link. Checking before answering would make the answer's timing
        # tell the two apart.
        self.looked_up = looked_up


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"


class InputProblems(BadUserInput):
    """Several things wrong with one input, reported at once (every problem of a request
    form): the client receives each of ``problems`` as its own error, with its own
    ``extensions`` (``field``...). ``message`` joins them, for a reader of one error."""

    def __init__(self, problems: Sequence[AppError]) -> None:
        if not problems:
            raise ValueError("InputProblems needs at least one problem")
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems = tuple(problems)


class Conflict(AppError):
    code = "CONFLICT"


class RateLimited(AppError):
    code = "RATE_LIMITED"


class MfaRequired(AppError):
    """The password was right; now a code from the authenticator app (or a recovery
    code) with ``completeLogin`` and the ``mfaToken`` in the error's extensions."""

    code = "MFA_REQUIRED"


class MfaEnrolmentRequired(AppError):
    """The password was right, and this account must set up two-factor sign-in first:
    ``enrollTotp`` and ``confirmTotp`` with the ``enrolmentToken`` in the extensions."""

    code = "MFA_ENROLMENT_REQUIRED"


class ServiceUnavailable(AppError):
    """A service the API depends on (the database, Redis) does not answer for a moment;
    nothing was changed unless the error says otherwise. ``retryAfter`` (seconds, also the
    ``Retry-After`` header over HTTP) says when to try again."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"The service is unavailable for a moment. Try again in {duration(retry_after)}.",
            retryAfter=retry_after,
        )
        self.retry_after = retry_after


ERROR_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "RATE_LIMITED",
        "MFA_REQUIRED",
        "MFA_ENROLMENT_REQUIRED",
        "SERVICE_UNAVAILABLE",
        "INTERNAL",
    }
)
