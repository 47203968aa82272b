"""Talking to the server: the operations of clients/operations over HTTP with gql, as the
signed-in user, renewing the access token with ``refreshSession`` when it runs out."""

from __future__ import annotations

from contextlib import AsyncExitStack
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from extranet_client.config import Tokens, TokenStore
from extranet_client.operations import operation_document

OPERATIONS_DIR = Path(__file__).resolve().parents[2] / "operations"
HTTP_TIMEOUT = 30.0


@cache
def operation(name: str) -> GraphQLRequest:
    """The document of ``clients/operations/<name>.graphql``, with the fragments it spreads."""
    return GraphQLRequest(operation_document(OPERATIONS_DIR / f"{name}.graphql"))


def request(name: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(operation(name), variable_values=variables or None)


class ApiError(Exception):
    """The server refused: its first error's message and ``extensions``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0] if errors else {}
        super().__init__(str(first.get("message") or "The server refused the request."))
        self.errors = errors
        self.extensions: dict[str, Any] = dict(first.get("extensions") or {})

    @property
    def code(self) -> str | None:
        code = self.extensions.get("code")
        return code if isinstance(code, str) else None


class NotSignedIn(Exception):
    """No session for the server, or it ended."""

    def __init__(self, server: str) -> None:
        super().__init__(f"Not signed in to {server}: run `extranet-client login`.")


def graphql_url(server: str) -> str:
    return server.rstrip("/") + "/graphql"


def websocket_url(server: str) -> str:
    url = graphql_url(server)
    return "ws" + url.removeprefix("http") if url.startswith("http") else url


class Api:
    """A connection to one server, as the user whose session the store keeps for it."""

    def __init__(self, server: str, store: TokenStore) -> None:
        self.server = server.rstrip("/")
        self.store = store
        self.client = Client(
            transport=HTTPXAsyncTransport(url=graphql_url(self.server), timeout=HTTP_TIMEOUT),
            execute_timeout=HTTP_TIMEOUT,
        )
        self._session: AsyncClientSession | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Api:
        self._session = await self._stack.enter_async_context(self.client)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._session = None
        await self._stack.aclose()

    async def anonymous(self, name: str, **variables: Any) -> dict[str, Any]:
        """Run an operation without signing in (login, refreshSession, logout)."""
        return await self._execute(request(name, **variables), None)

    async def call(self, name: str, **variables: Any) -> dict[str, Any]:
        """Run an operation as the signed-in user; an expired token is renewed once."""
        tokens = await self.tokens()
        try:
            return await self._execute(request(name, **variables), tokens.access_token)
        except ApiError as error:
            if error.code != "UNAUTHENTICATED":
                raise
        tokens = await self.refresh(stale=tokens)
        return await self._execute(request(name, **variables), tokens.access_token)

    async def tokens(self) -> Tokens:
        """The session, with an access token that is good for a while yet."""
        tokens = self.store.load(self.server)
        if tokens is None:
            raise NotSignedIn(self.server)
        return tokens if tokens.fresh() else await self.refresh(stale=tokens)

    async def refresh(self, stale: Tokens) -> Tokens:
        """Exchange the refresh token for a new pair, unless another client of the user
        did so meanwhile; a refused refresh token ends the session."""
        with self.store.locked():
            saved = self.store.load(self.server)
            if saved is None:
                raise NotSignedIn(self.server)
            if saved.access_token != stale.access_token and saved.fresh():
                return saved
            try:
                data = await self.anonymous("RefreshSession", refreshToken=saved.refresh_token)
            except ApiError as error:
                if error.code in ("UNAUTHENTICATED", "FORBIDDEN"):
                    self.store.forget(self.server)
                    raise NotSignedIn(self.server) from error
                raise
            tokens = Tokens.from_session(saved.email, data["refreshSession"])
            self.store.save(self.server, tokens)
            return tokens

    async def _execute(self, req: GraphQLRequest, token: str | None) -> dict[str, Any]:
        assert self._session is not None, "use `async with Api(...)`"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            data = await self._session.execute(req, extra_args={"headers": headers})
        except TransportQueryError as error:
            raise ApiError(list(error.errors or [{"message": str(error)}])) from error
        except TransportError as error:
            raise ConnectionError(f"{self.server} answered unexpectedly: {error}") from error
        return dict(data)
