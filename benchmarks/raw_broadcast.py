"""The baseline: a plain Starlette websocket endpoint that sends one pre-serialised JSON
frame to every connection, and resumes a reconnecting client from an in-memory list.
Run by benchmarks/fanout.py as its own server process, with the same garbage collector
settings as the extranet server.

Protocol: a client opens ``/ws`` and sends one text message, ``{"type": "resume", "after":
null}`` or ``{"type": "resume", "after": n}``, where ``n`` is the number of frames it has
seen; the server sends every frame broadcast after the n-th (none for ``null``), then
every new one. ``POST /broadcast`` with a frame as its body appends it to the list, sends
it to every connection and answers the number of frames broadcast so far (the cursor to
resume after it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.collector import tune_collector

CONNECTIONS: set[WebSocket] = set()
FRAMES: list[str] = []  # every frame broadcast, in order: frame n has cursor n + 1


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        hello = json.loads(await websocket.receive_text())
        after = hello.get("after")
        sent = len(FRAMES) if after is None else int(after)
        while sent < len(FRAMES):  # what it missed, in order, then it joins the broadcast
            await websocket.send_text(FRAMES[sent])
            sent += 1
        CONNECTIONS.add(websocket)  # nothing awaited since the last check: no frame is lost
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        CONNECTIONS.discard(websocket)


async def broadcast(request: Request) -> PlainTextResponse:
    frame = (await request.body()).decode()
    FRAMES.append(frame)
    await asyncio.gather(*(ws.send_text(frame) for ws in list(CONNECTIONS)), return_exceptions=True)
    return PlainTextResponse(str(len(FRAMES)))


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    tune_collector()
    yield


app = Starlette(
    routes=[WebSocketRoute("/ws", socket), Route("/broadcast", broadcast, methods=["POST"])],
    lifespan=lifespan,
)
