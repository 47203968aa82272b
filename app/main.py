"""The ASGI application: one Starlette app, one lifespan, one GraphQL endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, GraphQLFormattedError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    _OperationStreamClosed as OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    PingMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from actions import access_tokens
from app import document_files, files, kpi_csv
from app.collector import bursts, tune_collector
from app.db import close_database, open_database
from app.graphql_http import GraphQLOverHTTP, cors, http_error
from app.headers import ExtranetStarlette
from app.health import healthz, readyz
from app.idempotency import IdempotentMutations
from app.mail_gateway import start_gateway
from app.metrics import (
    OperationNames,
    error_codes,
    keep_sampling,
    metrics_endpoint,
    observe_operation,
    process_exited,
    registered_names,
    serve_on_port,
)
from app.persisted import OPERATIONS_DIR, PersistedQueries, document_cache, operation_documents
from app.request_size import LimitedRequests
from app.runner import JobRunner
from app.sending import run_now
from app.session_watch import SessionWatches
from app.unavailable import ServiceBoundary
from app.unsubscribe import unsubscribe_routes
from app.web import graphiql_routes, web_client_routes
from domain.auth import (
    access_claims,
    access_token_sign_in,
    bearer_token,
    session_user,
    signed_out_reason,
)
from domain.availability import as_unavailable, retry_after
from domain.errors import AppError
from domain.scopes import looks_like_token
from domain.throttle import LoginThrottle, attempt_store
from domain.tokens import AccessClaims
from graphql_schema.context import Closer, Context, build_context
from graphql_schema.errors import formatted, graphql_error
from graphql_schema.loaders import SharedRowLoaders
from graphql_schema.process import ProcessState, trace_slow_resolvers
from graphql_schema.schema import schema
from graphql_schema.sharing import Delivery, SharedPayloads
from infra import logging as logs
from infra import metrics, tracing
from infra.logging import RequestIds
from infra.redis_clients import redis_connections
from infra.settings import Settings, load_settings
from infra.storage import DirectoryStorage
from realtime.activity import foreground_of, keep_renewed
from realtime.bus import EventBus
from realtime.sockets import keep_counted, socket_registry

log = logging.getLogger("extranet")


def _malformed_subscribe(message: Mapping[str, object]) -> str | None:
    """Why a ``subscribe`` message is not one graphql-transport-ws allows (an ``id`` that is
    not text JSON can carry back, a ``payload`` that is not an object of the request's
    fields and types), or None."""
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        return "Invalid subscribe message: id must be a non-empty string."
    try:
        operation_id.encode()
    except UnicodeEncodeError:
        return "Invalid subscribe message: id holds an unpaired surrogate."
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "Invalid subscribe message: payload must be an object."
    for name, (kind, words) in _SUBSCRIBE_FIELDS.items():
        if payload.get(name) is not None and not isinstance(payload[name], kind):
            return f"Invalid subscribe message: payload.{name} must be {words}."
    return None


_SUBSCRIBE_FIELDS: dict[str, tuple[type, str]] = {  # a query not text is refused where read
    "operationName": (str, "a string"),
    "variables": (dict, "an object"),
    "extensions": (dict, "an object"),
}


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler; each operation's root value is a
    :class:`Delivery`, through which its subscription's events are sent as shared frames."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.websocket.close(code=SESSION_ENDED_CODE, reason=refused.reason)
        waiting = self.connection_init_timeout_task
        if self.connection_init_received and waiting is not None:
            waiting.cancel()  # it would only return: no coroutine held while it sleeps on

    async def handle_ping(self, message: PingMessage) -> None:
        """A ping may say whether the client is in the foreground (``{"foreground":
        false}`` when the web client's tab is hidden): see realtime/activity.py."""
        foreground = foreground_of(message.get("payload"))
        context = self.context
        if foreground is not None and context.viewer is not None and context.socket_key:
            view = cast("ExtranetGraphQL", self.view)
            with contextlib.suppress(Exception):  # activity only decides about mail
                await view.bus.activity.mark(context.viewer.id, context.socket_key, foreground)
        await super().handle_ping(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        problem = _malformed_subscribe(message)
        if problem is not None:  # the protocol's answer to an invalid message
            await self.websocket.close(code=4400, reason=problem)
            return
        try:
            await self._subscribe(message)
        except Exception as failure:  # a service did not answer: this operation fails, typed
            error = as_unavailable(failure)
            if error is None or message.get("id") in self.operations:
                raise
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [formatted(error)]}
            )

    async def _subscribe(self, message: SubscribeMessage) -> None:
        view = cast("ExtranetGraphQL", self.view)
        if (
            self.connection_acknowledged
            and message.get("id") not in self.operations
            and not await self.context.still_signed_in()  # every operation authenticates
        ):
            await self.websocket.close(code=SESSION_ENDED_CODE, reason=SESSION_ENDED)
            return
        most = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and message.get("id") not in self.operations
            and most is not None
            and len(self.operations) >= most
        ):
            refusal = _subscription_limit(most)
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal]})
            return
        payload = message.get("payload")
        if (
            self.connection_acknowledged
            and message.get("id") not in self.operations
            and isinstance(payload, dict)
        ):
            # a persisted query's hash stands for its text; a refused one ends here
            try:
                query = await view.persisted.resolve(
                    payload.get("query"), payload.get("extensions"), self.context.viewer
                )
            except AppError as error:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [formatted(error)]}
                )
                return
            if query is not None:
                payload = {**payload, "query": query}
                message = {**message, "payload": payload}
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """strawberry's (0.341), except that each operation's root value is its own
        :class:`Delivery`: its subscription resolvers send their events through it as
        shared frames (graphql_schema/subscriptions.py ``Frames``)."""
        view = cast("ExtranetGraphQL", self.view)
        operation_label = view.operation_names.label(operation.operation_name, operation.query)
        logs.OPERATION.set(operation_label)
        observe_operation(operation_label, "websocket", None, ())
        metrics.SUBSCRIPTIONS_ACTIVE.inc()
        delivery = Delivery(
            self._send_text,
            view.shared_payloads,
            operation_id=operation.id,
            query=operation.query,
            variables=operation.variables,
            operation_name=operation.operation_name,
            write_now=self._write_now,
        )
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=delivery,
                operation_name=operation.operation_name,
            )
            async with contextlib.aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            metrics.SUBSCRIPTIONS_ACTIVE.dec()

    _writing: asyncio.Task[None] | None = None
    """A frame :meth:`_write_now` handed to a task because the socket made it wait."""
    _broken: BaseException | None = None
    """What a frame :meth:`_write_now` wrote raised; the next :meth:`_send_text` raises it."""

    def _write_now(self, text: str) -> bool:
        """Write a text frame from the calling task (the fan-out's), without waiting: True
        once it is written, or on its way in a task of its own when the socket made it wait
        (every later message waits for it); False, with nothing sent, while such a frame is
        on its way or after a write failed (:meth:`_send_text` then waits, or raises)."""
        if self._broken is not None or self._writing is not None:
            return False
        websocket = cast("ASGIWebSocketAdapter", self.websocket)
        try:
            writing = run_now(websocket.ws.send_text(text))
        except Exception as error:
            self._broken = error
            return False
        if writing is not None:
            self._writing = writing
            writing.add_done_callback(self._written)
        return True

    def _written(self, writing: asyncio.Task[None]) -> None:
        self._writing = None
        if writing.cancelled():
            self._broken = WebSocketDisconnect(1006)
        elif (error := writing.exception()) is not None:
            self._broken = error

    async def _after_writing(self) -> None:
        """Until the frame :meth:`_write_now` handed to a task is written (or failed)."""
        writing = self._writing
        if writing is not None:
            await asyncio.wait((writing,))  # cancelling the waiter leaves the frame be

    async def send_message(self, message: Message) -> None:
        """strawberry's, after any frame still on its way (messages keep their order)."""
        await self._after_writing()
        await super().send_message(message)

    async def _send_text(self, text: str) -> None:
        await self._after_writing()
        broken, self._broken = self._broken, None
        if isinstance(broken, WebSocketDisconnect):
            raise WebSocketDisconnected from broken
        if broken is not None:
            raise broken
        websocket = cast("ASGIWebSocketAdapter", self.websocket)
        try:
            await websocket.ws.send_text(text)
        except WebSocketDisconnect as gone:
            raise WebSocketDisconnected from gone


class ExtranetGraphQL(GraphQLOverHTTP):
    """Strawberry's ASGI view with the typed per-request context, answering HTTP as
    app/graphql_http.py describes (GET for queries, media types, JSON refusals)."""

    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, settings: Settings, bus: EventBus) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,  # queries only: mutations over GET are 405
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
            max_subscriptions_per_connection=settings.ws_max_subscriptions,
            allowed_origins=settings.ws_allowed_origins,
        )
        self.settings = settings
        self.bus = bus
        self.shared_rows = SharedRowLoaders()
        self.process = ProcessState()
        self.shared_payloads = SharedPayloads()
        self.session_watches = SessionWatches(bus, SESSION_ENDED_CODE, SESSION_ENDED)
        self.operation_names = OperationNames(
            registered_names(operation_documents(OPERATIONS_DIR)),
            settings.metrics_max_operations,
        )
        # the stores keep their data in the bus's Redis (one pool per process), if it has one
        self.sockets = socket_registry(bus.redis, settings.broadcast_namespace)
        self.throttle = LoginThrottle(attempt_store(bus.redis, settings.broadcast_namespace))
        self.persisted = PersistedQueries(
            settings.persisted_queries,
            document_cache(
                bus.redis,
                settings.broadcast_namespace,
                settings.persisted_query_cache_size,
            ),
            schema._schema,
            settings.query_limits,
            operation_documents(OPERATIONS_DIR),
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run the request's document, or the persisted one its hash names
        (app/persisted.py); a refused hash or text answers with one coded error."""
        started = time.perf_counter()
        operation = self.operation_names.label(request_data.operation_name, request_data.query)
        logs.OPERATION.set(operation)
        if context.viewer is not None:
            logs.USER.set(context.viewer.pseudonym)
        try:
            query = await self.persisted.resolve(
                request_data.query, request_data.extensions, context.viewer
            )
        except AppError as error:
            errors = [graphql_error(error)]
            observe_operation(operation, "http", time.perf_counter() - started, error_codes(errors))
            return ExecutionResult(data=None, errors=errors)
        with tracing.operation_span(operation, "http", request.headers):
            result = await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=replace(request_data, query=query),
            )
        seconds = time.perf_counter() - started
        codes = error_codes(result.errors)
        observe_operation(operation, "http", seconds, codes)
        if context.viewer is not None:  # signed in by this request (login)
            logs.USER.set(context.viewer.pseudonym)
        if codes:  # what went wrong, by code: never the variables or the text
            level = logging.ERROR if "INTERNAL" in codes else logging.INFO
            log.log(level, "%s answered in %.1f ms with %s", operation, seconds * 1000, codes)
        wait = retry_after(result.errors)
        if wait is not None:  # a service did not answer: 503, and when to try again
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(wait)
        return result

    def decode_json(self, data: str | bytes) -> object:
        """JSON of a request body or a websocket message; nesting too deep for the parser
        (``[[[[…]]]]`` 100,000 levels) is malformed JSON like any other (400 over HTTP,
        close 4400 over a websocket), not a server error."""
        try:
            return super().decode_json(data)
        except RecursionError as error:
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from error

    def parse_json(self, data: str | bytes) -> Any:
        """A request body is a JSON object: strawberry reads fields of whatever JSON it
        gets, and a string or a number made it fail with a 500."""
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):  # a list is a batch, refused with a 400 later
            raise HTTPException(400, "The request body must be a JSON object.")
        return parsed

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        sub_response = response if isinstance(response, Response) else None
        context = await build_context(
            request,
            sub_response,
            self.settings,
            self.bus,
            self.shared_rows,
            self.throttle,
            self.process,
        )
        request.state.extranet_context = context
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket with ``{"authorization": "Bearer …"}`` in connection_init.

        A socket that is refused, and one whose access token expires, is closed with 4403,
        which graphql-ws clients retry (calling ``connectionParams`` again for a fresh
        token); the close reason starts with why (:data:`CLOSE_REASONS`).
        """
        bursts().opened()  # a reconnect storm defers full collections (app/collector.py)
        params = context.connection_params or {}
        context.connection_params = None  # read here only: the socket keeps no copy of its token
        raw = params.get("authorization") or params.get("Authorization")
        token = bearer_token(raw if isinstance(raw, str) else None)
        claims = access_claims(self.settings, token)
        scopes = None
        if token is not None and looks_like_token(token):  # an access token for machines
            signed_in = await access_token_sign_in(token)
            if signed_in is not None and signed_in.token is not None:
                await access_tokens.record_use(signed_in.token, context.client_address)
                claims = AccessClaims(signed_in.user.id, signed_in.session_id, signed_in.expires_at)
                scopes = signed_in.scopes
        if claims is None:
            expired = signed_out_reason(self.settings, token, None) == "TOKEN_EXPIRED"
            raise ConnectionRefused(EXPIRED_CREDENTIALS if expired else BAD_CREDENTIALS)
        watch = None
        if isinstance(context.request, WebSocket):  # closes the socket when the session ends
            watch = self.session_watches.watch(context.request, claims.user_id, claims.session_id)
            context.closers.append(watch)
        user = await session_user(claims.user_id, claims.session_id)
        if user is None:
            raise ConnectionRefused(SESSION_ENDED)
        # uncounted, no socket is served: Redis away closes it with 1011 (ServiceBoundary)
        key = await self.sockets.open(user.id, self.settings.ws_max_connections_per_user)
        if key is None:
            most = self.settings.ws_max_connections_per_user
            raise ConnectionRefused(f"{TOO_MANY_CONNECTIONS}: at most {most} open at once.")
        context.socket_key = key
        metrics.WEBSOCKETS_OPEN.inc()
        logs.USER.set(user.pseudonym)
        context.act_as(user, claims.session_id, scopes)
        foreground = foreground_of(params)
        await self.bus.activity.mark(user.id, key, True if foreground is None else foreground)
        if isinstance(context.request, WebSocket):
            context.closers.append(
                _close_at_expiry(context.request, claims.expires_at, context.closers)
            )
        if watch is not None:  # before the ack: every operation, checked itself, comes after
            await watch.until_listening()
        return UNSET  # type: ignore[no-any-return]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            context = scope.get("state", {}).get("extranet_context")
            if isinstance(context, Context):
                for task in context.closers:
                    task.cancel()
                if context.socket_key is not None:
                    metrics.WEBSOCKETS_OPEN.dec()
                if context.socket_key is not None and context.viewer is not None:
                    try:
                        await self.sockets.close(context.viewer.id, context.socket_key)
                        await self.bus.activity.mark(context.viewer.id, context.socket_key, False)
                    except Exception:  # it stops counting when its renewals stop
                        log.exception("Uncounting a websocket failed")


def _close_at_expiry(
    websocket: WebSocket, expires_at: int, closers: list[Closer]
) -> asyncio.TimerHandle:
    """A timer (a task would hold its coroutine for the socket's whole life) that closes the
    websocket (4403) when its access token expires, at ``expires_at`` (seconds since the
    epoch); the closing task joins ``closers``."""

    def expire() -> None:
        closers.append(asyncio.ensure_future(_close_expired(websocket)))

    return asyncio.get_running_loop().call_later(max(0.0, expires_at - time.time()), expire)


async def _close_expired(websocket: WebSocket) -> None:
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(code=SESSION_ENDED_CODE, reason=EXPIRED_CREDENTIALS)


# A socket refused at connection_init, or ended later, is closed with 4403: graphql-ws
# clients retry it (4401 they take as final), calling connectionParams again for a token.
# The reason's first word tells why: a token to renew, a session to sign in to again, or
# too many sockets of the same user.
SESSION_ENDED_CODE = 4403
BAD_CREDENTIALS = "TOKEN_INVALID: send a valid access token in connection_init."
EXPIRED_CREDENTIALS = "TOKEN_EXPIRED: the access token expired; connect again with a fresh one."
SESSION_ENDED = "SESSION_ENDED: the session has ended or the account was removed; sign in again."
TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
CLOSE_REASONS = ("TOKEN_INVALID", "TOKEN_EXPIRED", "SESSION_ENDED", TOO_MANY_CONNECTIONS)


class ConnectionRefused(Exception):
    """A websocket refused at connection_init: closed with 4403 and ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _subscription_limit(most: int) -> GraphQLFormattedError:
    """The error of a subscribe beyond the connection's ``most`` operations at once."""
    message = f"Subscription limit reached: at most {most} operations at once on a connection."
    extensions = {"code": "BAD_USER_INPUT", "limit": "subscriptions", "maximum": most}
    return GraphQLError(message, extensions=extensions).formatted


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    redis = redis_connections(settings.broadcast_url)  # the process's pool, closed last
    bus = EventBus(settings.broadcast_url, settings.broadcast_namespace, redis)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        traced = tracing.configure(settings.trace_resolvers_over_ms)  # when OTEL_* asks
        if traced and settings.trace_resolvers_over_ms:  # timing every resolver costs
            trace_slow_resolvers(schema)
        await open_database(settings.database_url)
        await bus.connect()
        tune_collector()
        renewals = asyncio.create_task(keep_counted(graphql.sockets), name="websocket count")
        if settings.jobs_enabled:
            await jobs.start()
        activity = asyncio.create_task(keep_renewed(bus.activity), name="activity")
        sampling = asyncio.create_task(keep_sampling(settings.jobs_enabled), name="metrics")
        if settings.metrics_port:
            serve_on_port(settings.metrics_port)
        gateway = None
        if settings.mail_gateway:  # replies by mail, posted and published by this process
            host, _, port = settings.mail_gateway.rpartition(":")
            gateway = await start_gateway(settings, bus, host, int(port))
        try:
            yield
        finally:
            if gateway is not None:
                gateway.close()
                await gateway.wait_closed()
            await jobs.stop()  # running jobs finish first (within a grace period)
            bursts().end()
            renewals.cancel()
            activity.cancel()
            sampling.cancel()
            await asyncio.gather(renewals, activity, sampling, return_exceptions=True)
            await graphql.sockets.aclose()
            await graphql.process.denials.settled()
            await bus.disconnect()
            await graphql.throttle.store.close()
            await graphql.persisted.close()
            await close_database()
            if redis is not None:
                await redis.aclose()
            process_exited()

    graphql = ExtranetGraphQL(settings, bus)
    jobs = JobRunner(settings, bus)  # polls only when started (EXTRANET_JOBS)
    # 413, or a 1009 close; a mutation with an Idempotency-Key is answered once
    limited = LimitedRequests(IdempotentMutations(graphql, settings), settings.max_body_bytes)
    app = ExtranetStarlette(  # every HTTP response: nosniff, no-store (app/headers.py)
        routes=[
            Route("/graphql", limited),  # other methods: a JSON 405 (app/graphql_http.py)
            WebSocketRoute("/graphql", limited),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/pages/{page}/attachments", files.upload, methods=["POST"]),
            Route("/requests/attachments", files.upload_for_requests, methods=["POST"]),
            Route(
                "/request-attachments/{attachment}", files.download_request_file, methods=["GET"]
            ),
            Route("/attachments/{attachment}", files.download, methods=["GET"]),
            Route(
                "/business-documents/{document}/pdf",
                document_files.upload_pdf,
                methods=["POST"],
            ),
            Route(
                "/business-documents/{document}/pdf",
                document_files.download_pdf,
                methods=["GET"],
            ),
            Route(
                "/library/documents/{document}/versions",
                files.upload_library_version,
                methods=["POST"],
            ),
            Route("/library/versions/{version}", files.download_library_version, methods=["GET"]),
            Route("/personal-data/exports/{export}", files.download_personal_data, methods=["GET"]),
            Route("/kpis/{kpi}.csv", kpi_csv.download, methods=["GET"]),
            *unsubscribe_routes(),
            *web_client_routes(),
            *(graphiql_routes() if settings.graphiql else []),
        ],
        lifespan=lifespan,
        # request IDs for log lines; CORS on 503s too
        middleware=[Middleware(RequestIds), cors(settings), Middleware(ServiceBoundary)],
        exception_handlers={StarletteHTTPException: http_error},  # 404, 405: JSON errors
    )
    if settings.trusted_proxies:  # the client address that sign-in limits and audit use
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.state.settings = settings
    app.state.storage = DirectoryStorage(settings.attachments_dir)
    app.state.redis = redis
    app.state.bus = bus
    app.state.graphql = graphql
    app.state.jobs = jobs
    return app
