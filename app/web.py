"""The web client (``clients/web``), served by the application: its page at ``/`` and its
built files under ``/assets/`` (gzipped, from the ``.gz`` copies the build writes, to a
browser that accepts it). Without a build, ``/`` says how to make one.

In development, GraphiQL too: its page at ``GET /graphql`` (``Accept: text/html``) and its
files under ``/graphiql/`` (``clients/graphiql``: GraphiQL's, React's and ReactDOM's built
files as npm installs them, and the script that starts it), all from this server."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from infra.settings import PROJECT_ROOT

WEB_CLIENT_DIR = PROJECT_ROOT / "clients" / "web" / "dist"

# The client loads nothing from elsewhere; the server's sanitised HTML may link out, and
# shows images of other servers as links (domain/markdown.py): no image from elsewhere is
# loaded, so none can tell another server who read a page and when.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Extranet: web client not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>The web client is not built</h1>
<p>The server runs, but <code>clients/web/dist/</code> is missing. Build the client with
Node.js 20 and npm, then reload this page:</p>
<pre>make web</pre>
<p>(or <code>cd clients/web &amp;&amp; npm ci &amp;&amp; npm run build</code>).
<code>make run</code> builds it too when npm is installed.</p>
<p>The API is at <a href="/graphql">/graphql</a>.</p>
</body></html>
"""


def _accepts_gzip(scope: Scope) -> bool:
    """Whether the request's ``Accept-Encoding`` takes gzip (and does not refuse it, q=0)."""
    for part in Headers(scope=scope).get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower().removeprefix("q=").strip() if params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


class _Assets(StaticFiles):
    """Built files; their names carry a content hash, so they never change. A file with a
    gzip copy beside it (``name.gz``, written by ``clients/web/build.mjs``) is sent as that
    copy (``Content-Encoding: gzip``) when the request accepts gzip; every answer for such a
    file says ``Vary: Accept-Encoding``, so a cache keeps the two apart."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            _, packed = await anyio.to_thread.run_sync(self.lookup_path, f"{path}.gz")
        except (OSError, ValueError):  # a name no file can have: the parent answers 404
            packed = None
        if packed is None or path.endswith(".gz"):
            return await super().get_response(path, scope)
        if not _accepts_gzip(scope):
            response = await super().get_response(path, scope)
        else:
            response = await super().get_response(f"{path}.gz", scope)
            if response.status_code == 200:
                media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
                if media_type.startswith("text/"):
                    media_type += "; charset=utf-8"
                response.headers["Content-Type"] = media_type
                response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.directory is None or not await anyio.Path(self.directory).is_dir():  # unbuilt
            raise HTTPException(404)  # a JSON NOT_FOUND, as any other path (app/main.py)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if message["status"] == 200:
                    headers["Cache-Control"] = "public, max-age=31536000, immutable"
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def web_client_routes(directory: Path = WEB_CLIENT_DIR) -> list[BaseRoute]:
    """``/`` (the client's page, or how to build it) and ``/assets/…``."""

    async def index(_request: Request) -> Response:
        page = directory / "index.html"
        response: Response
        if page.is_file():
            response = FileResponse(page, media_type="text/html; charset=utf-8")
        else:
            response = HTMLResponse(NOT_BUILT, status_code=503)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-cache"
        return response

    return [
        Route("/", index, methods=["GET"]),
        Mount("/assets", app=_Assets(directory=directory / "assets", check_dir=False)),
    ]


GRAPHIQL_DIR = PROJECT_ROOT / "clients" / "graphiql"
# What /graphiql/<name> serves: these files and no others.
GRAPHIQL_FILES = {
    "react.production.min.js": "node_modules/react/umd/react.production.min.js",
    "react-dom.production.min.js": "node_modules/react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "node_modules/graphiql/graphiql.min.js",
    "graphiql.min.css": "node_modules/graphiql/graphiql.min.css",
    "start.js": "start.js",
}
# GraphiQL sets styles from its scripts and embeds its fonts; it talks to /graphql only.
GRAPHIQL_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
GRAPHIQL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Extranet: GraphiQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style></head>
<body><div id="graphiql">Loading…</div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/graphiql/start.js"></script>
</body></html>
"""
GRAPHIQL_NOT_INSTALLED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Extranet: GraphiQL not installed</title>
</head><body>
<h1>GraphiQL is not installed</h1>
<p>The API answers at <code>/graphql</code>, but GraphiQL's files
(<code>clients/graphiql/node_modules/</code>) are missing. Install them with Node.js 20 and
npm, then reload this page:</p>
<pre>make web</pre>
<p>(or <code>cd clients/graphiql &amp;&amp; npm ci</code>).</p>
</body></html>
"""


def graphiql_installed(directory: Path = GRAPHIQL_DIR) -> bool:
    return all((directory / path).is_file() for path in GRAPHIQL_FILES.values())


def graphiql_page(directory: Path = GRAPHIQL_DIR) -> Response:
    """GraphiQL's page (scripts from ``/graphiql/`` only), or 503 saying how to install it."""
    response: Response
    if graphiql_installed(directory):
        response = HTMLResponse(GRAPHIQL_PAGE)
    else:
        response = HTMLResponse(GRAPHIQL_NOT_INSTALLED, status_code=503)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = GRAPHIQL_CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


def graphiql_routes(directory: Path = GRAPHIQL_DIR) -> list[BaseRoute]:
    """``/graphiql/<name>``: the files of :data:`GRAPHIQL_FILES` (404 for any other name or
    while they are not installed)."""

    async def asset(request: Request) -> Response:
        relative = GRAPHIQL_FILES.get(request.path_params["name"])
        path = directory / relative if relative else None
        if path is None or not path.is_file():
            raise HTTPException(404)  # a JSON NOT_FOUND, as any other path (app/main.py)
        media_type = "text/css" if path.suffix == ".css" else "text/javascript"
        response = FileResponse(path, media_type=f"{media_type}; charset=utf-8")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-cache"
        return response

    return [Route("/graphiql/{name}", asset, methods=["GET"])]
