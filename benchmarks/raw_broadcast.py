"""The baseline: a plain Starlette websocket endpoint that sends one pre-serialised JSON
frame to every connection. Run by benchmarks/fanout.py as its own server process, with the
same garbage collector settings as the extranet server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.collector import tune_collector

CONNECTIONS: set[WebSocket] = set()


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    CONNECTIONS.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        CONNECTIONS.discard(websocket)


async def broadcast(request: Request) -> PlainTextResponse:
    frame = (await request.body()).decode()
    await asyncio.gather(*(ws.send_text(frame) for ws in list(CONNECTIONS)))
    return PlainTextResponse(str(len(CONNECTIONS)))


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    tune_collector()
    yield


app = Starlette(
    routes=[WebSocketRoute("/ws", socket), Route("/broadcast", broadcast, methods=["POST"])],
    lifespan=lifespan,
)
