"""Which failures mean "a service is unavailable", and what a client is told then."""

from __future__ import annotations

import asyncpg
import pytest
from graphql import GraphQLError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.applications import Starlette
from tortoise.exceptions import IntegrityError, OperationalError

from app.db import CONNECT_TIMEOUT, tortoise_config
from domain.availability import as_unavailable, required_service, retry_after, unavailable_cause
from domain.errors import BadUserInput, ServiceUnavailable
from graphql_schema import denials
from graphql_schema.errors import ErrorCodes, formatted
from models import PersistedDocument
from tests.conftest import Api
from tests.world import World


def _wrapped(error: BaseException) -> OperationalError:
    """``error`` as the ORM passes it on: raised from it."""
    try:
        raise OperationalError("query failed") from error
    except OperationalError as wrapper:
        return wrapper


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        TimeoutError(),
        RedisConnectionError("Connection closed by server."),
        BusyLoadingError("Redis is loading the dataset in memory"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        _wrapped(asyncpg.AdminShutdownError("terminating connection")),
        GraphQLError("[Errno 111] Connection refused", original_error=ConnectionRefusedError()),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_a_service_that_does_not_answer_is_service_unavailable(failure: Exception) -> None:
    error = as_unavailable(failure)
    assert isinstance(error, ServiceUnavailable)
    assert formatted(error)["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5}
    assert "refused" not in error.message
    assert "Errno" not in error.message


@pytest.mark.parametrize(
    "failure",
    [
        ValueError("invalid literal"),
        IntegrityError("duplicate key value violates unique constraint"),
        _wrapped(asyncpg.UndefinedColumnError("column does not exist")),
        BadUserInput("title must not be empty.", field="title"),
        FileNotFoundError("no such attachment"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_other_failures_are_not_service_unavailable(failure: Exception) -> None:
    assert unavailable_cause(failure) is None
    assert as_unavailable(failure) is None


def test_a_protection_whose_store_fails_raises_service_unavailable() -> None:
    with pytest.raises(ServiceUnavailable), required_service():
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")
    with pytest.raises(KeyError), required_service():  # a defect stays a defect
        raise KeyError("count")


def test_the_retry_hint_is_read_from_the_errors() -> None:
    assert retry_after([BadUserInput("no"), ServiceUnavailable(7)]) == 7
    assert retry_after([BadUserInput("no")]) is None
    assert retry_after(None) is None


async def test_the_registry_of_operations_fails_closed_when_the_database_is_away(
    api: Api, world: World, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a server that runs only registered operations, and a database that is away
    monkeypatch.setattr(app.state.graphql.persisted, "registered_only", True)

    def away(*_args: object, **_kwargs: object) -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    monkeypatch.setattr(PersistedDocument, "filter", away)
    # when a document that is not among the clients' operations is sent
    answer = await api("query NotRegistered { me { name } }", as_user=world.anna)
    # then it does not run unchecked: 503, typed, nothing internal
    assert answer.status == 503
    assert answer.codes == ["SERVICE_UNAVAILABLE"]
    assert "refused" not in answer.errors[0]["message"]


async def test_a_denial_is_recorded_once_the_database_answers_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[tuple[object, ...]] = []

    async def write(*entry: object) -> None:
        attempts.append(entry)
        if len(attempts) == 1:
            raise ConnectionRefusedError(111, "Connect call failed")

    monkeypatch.setattr(denials, "_write", write)
    monkeypatch.setattr(denials, "RETRY_AFTER", 0)
    await denials._record(None, "192.0.2.1", "Probe", ["customer"], [])
    assert len(attempts) == 2  # tried again, not dropped


@pytest.mark.parametrize("production", [True, False])
@pytest.mark.parametrize("path", [None, ["projectTimeline"]], ids=["before", "during"])
def test_a_graphql_error_from_a_service_that_is_away_is_typed_without_its_text(
    production: bool, path: list[str] | None
) -> None:
    # the answer a subscribe that raced the outage got: internal text, BAD_USER_INPUT
    raced = GraphQLError(
        "[Errno 111] Connection refused", path=path, original_error=ConnectionRefusedError()
    )
    shaped = ErrorCodes._shape(raced, production)
    assert shaped.extensions == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5}
    assert "Errno" not in shaped.message
    assert shaped.path == path


def test_a_postgresql_server_that_does_not_answer_is_given_up_after_a_few_seconds() -> None:
    def url(database_url: str) -> str:
        return str(tortoise_config(database_url)["connections"]["default"])

    assert url("postgresql://app@db.internal/extranet") == (
        f"postgres://app@db.internal/extranet?timeout={CONNECT_TIMEOUT}"
    )
    assert url("postgres://app@db/x?maxsize=9").endswith(f"maxsize=9&timeout={CONNECT_TIMEOUT}")
    assert url("postgres://app@db/x?timeout=30").endswith("?timeout=30")  # the operator's
    assert url("sqlite://var/extranet.sqlite3") == "sqlite://var/extranet.sqlite3"
