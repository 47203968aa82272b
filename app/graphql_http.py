"""GraphQL over HTTP at ``/graphql``, as the GraphQL-over-HTTP specification describes it.

* ``POST`` with ``Content-Type: application/json`` runs queries and mutations. Any other
  body type (none, ``text/plain``, form types) is refused with ``415``: a browser page
  of another site cannot send a JSON body without asking first (a CORS preflight), so no
  such page can make a state change on someone's behalf.
* ``GET`` runs queries only (``?query=…&variables=<JSON>&operationName=…&extensions=
  <JSON>``), persisted-query hashes included; a mutation over ``GET`` is refused with
  ``405`` and ``Allow: POST``. Other methods are ``405`` with ``Allow: GET, POST``.
* The answer's media type follows ``Accept``: ``application/graphql-response+json`` when
  the client prefers it (then a request that did not reach execution, refused while
  parsing, validating, within the request limits, coercing variables or resolving a
  persisted query, has no ``data`` entry and answers ``400``, or ``404`` for
  ``PERSISTED_QUERY_NOT_FOUND``, ``403`` for ``FORBIDDEN``, ``503`` for
  ``SERVICE_UNAVAILABLE``); ``application/json`` otherwise (no ``Accept``, ``*/*``), with
  ``200`` for every well-formed request as before. ``406`` when neither is acceptable.
* Pages of the sites in ``EXTRANET_CORS_ALLOWED_ORIGINS`` (by default those of
  ``EXTRANET_WS_ALLOWED_ORIGINS``) may call the API from a browser (CORS, with any request
  header, no cookies: credentials travel in ``Authorization``); other sites' preflights
  are refused with ``400``. A plain ``OPTIONS`` answers ``204`` with ``Allow``.
* A request that is not a well-formed GraphQL request (a body that is not JSON, a batch,
  no query, a query or variables of the wrong type) answers ``400`` with a GraphQL error
  (``BAD_USER_INPUT``, ``extensions.reason``), in JSON, never as plain text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from app.web import graphiql_page
from graphql_schema.context import Context
from infra.settings import Settings

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
REQUEST_BODY_TYPES = (JSON,)

# The status of an answer whose request never reached execution, by its first error's
# code (application/graphql-response+json only); any other code is a 400.
STATUS_BEFORE_EXECUTION = {
    "PERSISTED_QUERY_NOT_FOUND": 404,
    "FORBIDDEN": 403,
    "UNAUTHENTICATED": 401,
    "SERVICE_UNAVAILABLE": 503,
}

_MEDIA_RANGE = re.compile(r"^\s*([^\s;/]+)/([^\s;]+)\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the endpoint does not run: its HTTP status, a message saying what to do,
    the ``extensions.reason``, and headers (``Allow``)."""

    status: int
    message: str
    reason: str
    code: str = "BAD_USER_INPUT"
    headers: dict[str, str] = field(default_factory=dict)


class Refused(HTTPException):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.status, refusal.message)
        self.refusal = refusal


def negotiate(accept: str | None) -> str | None:
    """The answer's media type for an ``Accept`` header: ``application/graphql-response+json``
    or ``application/json`` (also for no header, ``*/*`` and ``application/*``), the one
    with the higher ``q`` (graphql-response+json on a tie); None when neither is acceptable."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        match = _MEDIA_RANGE.match(item)
        if match is None:
            continue
        kind, subtype, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
        quality = 1.0
        for parameter in rest.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        media = f"{kind}/{subtype}"
        candidates: list[tuple[int, str]] = []
        if media == GRAPHQL_RESPONSE_JSON:
            candidates = [(2, GRAPHQL_RESPONSE_JSON)]
        elif media == JSON:
            candidates = [(1, JSON)]
        elif media in ("*/*", "application/*"):
            candidates = [(0, JSON)]  # a wildcard gets the long-standing type
        for preference, chosen in candidates:
            if best is None or (quality, preference) > best[:2]:
                best = (quality, preference, chosen)
    return best[2] if best is not None else None


def execution_started(result: ExecutionResult) -> bool:
    """Whether the operation ran: it has data, or an error at a field's path. Refusals
    before execution (parse, validation, request limits, variables, persisted queries)
    carry no path."""
    return result.data is not None or any(error.path for error in result.errors or ())


def status_before_execution(errors: list[GraphQLError] | None) -> int:
    for error in errors or ():
        code = (error.extensions or {}).get("code")
        if isinstance(code, str) and code in STATUS_BEFORE_EXECUTION:
            return STATUS_BEFORE_EXECUTION[code]
    return 400


def operation_type(text: str, operation_name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the operation ``text`` names (or its only one); None when the text does
    not parse or names no such operation (the answer then says why)."""
    try:
        document = parse(text, max_tokens=max_tokens, no_location=True)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None


def refusal_response(refusal: Refusal, media_type: str | None) -> Response:
    """The JSON answer to a refused request: one GraphQL error, no ``data``."""
    extensions = {"code": refusal.code}
    if refusal.reason:
        extensions["reason"] = refusal.reason
    error = {"message": refusal.message, "extensions": extensions}
    return Response(
        json.dumps({"errors": [error]}, separators=(",", ":")),
        status_code=refusal.status,
        media_type=f"{media_type or JSON}; charset=utf-8",
        headers=refusal.headers,
    )


METHOD_NOT_ALLOWED = Refusal(
    405,
    "Send GraphQL requests with GET (queries) or POST (application/json).",
    "METHOD_NOT_ALLOWED",
    headers={"Allow": "GET, HEAD, POST"},
)
MUTATION_OVER_GET = Refusal(
    405,
    "Mutations run over POST (application/json) only, never over GET.",
    "METHOD_NOT_ALLOWED",
    headers={"Allow": "POST"},
)
SUBSCRIPTION_OVER_HTTP = Refusal(
    400,
    "Subscriptions run over the websocket at /graphql (graphql-transport-ws), not over HTTP.",
    "SUBSCRIPTION_OVER_HTTP",
)
UNSUPPORTED_MEDIA_TYPE = Refusal(
    415,
    "Send the request body as JSON with Content-Type: application/json.",
    "UNSUPPORTED_MEDIA_TYPE",
    headers={"Accept-Post": JSON},
)
NOT_ACCEPTABLE = Refusal(
    406,
    f"This endpoint answers in {GRAPHQL_RESPONSE_JSON} or {JSON}: accept one of them.",
    "NOT_ACCEPTABLE",
)
MALFORMED_JSON = Refusal(
    400,
    "The request body (or the variables or extensions of a GET) is not valid JSON.",
    "MALFORMED_JSON",
)
NO_QUERY = Refusal(
    400, "Send the GraphQL document in `query` (or a persisted query's hash).", "NO_QUERY"
)
GRAPHIQL_OFF = Refusal(
    404,
    "GraphiQL is served in development only; send GraphQL requests with GET or POST.",
    "",
    code="NOT_FOUND",
)


def _without_body(message: Message) -> Message:
    if message["type"] == "http.response.body":
        return {**message, "body": b""}
    return message


class GraphQLOverHTTP(GraphQL[Context, None]):
    """Strawberry's ASGI view answering as described in this module."""

    settings: Settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "HEAD":  # the answer a GET would get, without its body
            await self(
                {**scope, "method": "GET"}, receive, lambda message: send(_without_body(message))
            )
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        request.state.graphql_media_type = media_type
        response: Response
        if request.method not in ("GET", "POST"):
            if request.method == "OPTIONS":
                response = Response(status_code=204, headers={"Allow": "GET, HEAD, POST, OPTIONS"})
            else:
                response = refusal_response(METHOD_NOT_ALLOWED, media_type)
        elif media_type is None and not self.should_render_graphql_ide(request):
            response = refusal_response(NOT_ACCEPTABLE, JSON)
        else:
            try:
                response = await self.run(request)
            except Refused as refused:
                response = refusal_response(refused.refusal, media_type)
            except HTTPException as error:  # strawberry's own checks of the request
                response = refusal_response(
                    _from_strawberry(error.status_code, error.reason), media_type
                )
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: object) -> bool:
        """GraphiQL for a browser's page load (``Accept: text/html``, no parameters); a
        client's ``GET`` with only a persisted query's hash (``Accept: */*``) is run."""
        method = getattr(request, "method", "")
        params = getattr(request, "query_params", {})
        headers = getattr(request, "headers", {})
        return (
            method == "GET"
            and not any(params.get(name) for name in ("query", "extensions", "variables"))
            and "text/html" in (headers.get("accept") or "")
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        if not self.graphql_ide:
            raise Refused(GRAPHIQL_OFF)
        return graphiql_page()

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = getattr(request.state, "graphql_media_type", None) or JSON
        request.state.graphql_sub_response = sub_response
        return sub_response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type.strip().lower() not in REQUEST_BODY_TYPES:
                raise Refused(UNSUPPORTED_MEDIA_TYPE)
        return await super().parse_http_body(request)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        if (
            request_adapter.method == "GET"
            and isinstance(request_data, GraphQLRequestData)
            and isinstance(request_data.query, str)
        ):
            # before anything is looked up or remembered for a document sent over GET
            kind = operation_type(
                request_data.query,
                request_data.operation_name,
                self.settings.query_limits.max_tokens,
            )
            _refuse_over(request_adapter.method, kind)
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            root_value=root_value,
            sub_response=sub_response,
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
        """Run a document (a persisted query's text by now); a mutation over GET is
        refused once parsed, a subscription over HTTP before that, neither runs."""
        query = request_data.query
        if isinstance(query, str) and "subscription" in query:  # the keyword, or no such one
            limits = self.settings.query_limits
            kind = operation_type(query, request_data.operation_name, limits.max_tokens)
            _refuse_over(request_adapter.method, kind)
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """With ``application/graphql-response+json``, a request that did not reach
        execution has no ``data`` and a 4xx (or 503) status."""
        response = await super().process_result(request, result)
        if getattr(
            request.state, "graphql_media_type", None
        ) == GRAPHQL_RESPONSE_JSON and not execution_started(result):
            response.pop("data", None)
            sub_response = getattr(request.state, "graphql_sub_response", None)
            if isinstance(sub_response, Response) and not sub_response.status_code:
                sub_response.status_code = status_before_execution(result.errors)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{sub_response.media_type or JSON}; charset=utf-8"
        return response


def _refuse_over(method: str, kind: OperationType | None) -> None:
    if kind is OperationType.MUTATION and method == "GET":
        raise Refused(MUTATION_OVER_GET)
    if kind is OperationType.SUBSCRIPTION:
        raise Refused(SUBSCRIPTION_OVER_HTTP)


def _from_strawberry(status: int, reason: str) -> Refusal:
    """Strawberry's plain-text refusals of a malformed request, as JSON errors."""
    if status == 405:
        return METHOD_NOT_ALLOWED
    if status == 404:
        return GRAPHIQL_OFF
    if reason == "Unsupported content type":
        return UNSUPPORTED_MEDIA_TYPE
    if reason == "Batching is not enabled":
        return Refusal(400, "Send one operation per request: batches are not run.", "BATCH")
    if reason == "No GraphQL query found in the request":
        return NO_QUERY
    if reason.startswith("mutations are not allowed"):  # over GET, once the text is known
        return MUTATION_OVER_GET
    if reason.startswith(("Can't get GraphQL operation type", "Unknown operation named")):
        return Refusal(
            400, f"{reason.rstrip('.')}: name one operation of the document.", "UNKNOWN_OPERATION"
        )
    if reason == "Unable to parse request body as JSON":
        return MALFORMED_JSON
    return Refusal(status, reason, "MALFORMED_REQUEST")


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such path: 404 ``NOT_FOUND``; a method the path does not
    take: 405 ``BAD_USER_INPUT`` with ``reason`` ``METHOD_NOT_ALLOWED`` and ``Allow``) as
    JSON GraphQL errors, like every other error of the API."""
    status = getattr(error, "status_code", 500)
    headers = dict(getattr(error, "headers", None) or {})
    if status == 404:
        message = "Nothing is served at this address: the API is at /graphql."
        refusal = Refusal(404, message, "", code="NOT_FOUND", headers=headers)
    elif status == 405:
        allowed = headers.get("Allow", "")
        refusal = Refusal(
            405,
            f"This address answers {allowed or 'other methods'}, not {request.method}.",
            "METHOD_NOT_ALLOWED",
            headers=headers,
        )
    else:
        refusal = Refusal(status, str(getattr(error, "detail", "")), "", headers=headers)
    return refusal_response(refusal, JSON)


class _CORS(CORSMiddleware):
    """Starlette's CORS middleware; a refused preflight says why in a JSON error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refusal = Refusal(
            400,
            f"{bytes(response.body).decode()}: this site may not call the API from a browser "
            "page (EXTRANET_CORS_ALLOWED_ORIGINS).",
            "CORS_REFUSED",
            code="FORBIDDEN",
        )
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("access-")}
        refused = refusal_response(refusal, JSON)
        refused.headers.update(headers)
        return refused


def cors(settings: Settings) -> Middleware:
    """CORS for the pages of ``settings.cors_allowed_origins`` (none: same-origin only)."""
    return Middleware(
        _CORS,
        allow_origins=list(settings.cors_allowed_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["*"],  # credentials are never ambient: no cookie is read
        allow_credentials=False,
        expose_headers=["Retry-After", "Content-Disposition"],
        max_age=600,
    )
