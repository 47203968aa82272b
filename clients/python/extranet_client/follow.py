"""``follow``: a project's timeline, live, over the graphql-transport-ws websocket.

The subscription starts after a cursor (the project's ``timelineCursor`` when it was looked
up) and every event carries its own. When the connection drops (the network, a server
restart, an access token that ran out), the client connects again with the last cursor it
printed: the server replays what happened meanwhile from its event log, so no event is lost
or shown twice.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from gql import Client
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from extranet_client.api import Api, ApiError, request, websocket_url

FIRST_DELAY = 0.5
MAX_DELAY = 15.0
# The server closes a socket with 4403 when its access token expires or is refused, or its
# session ended (the reason's first word says which; 4401 on older servers): renew the token
# before connecting again, but for too many sockets of this user, which waiting solves.
TOKEN_CLOSE_CODES = frozenset({4401, 4403})
TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"


class Follower:
    """Prints the events of one project as they come, resuming after ``cursor``."""

    def __init__(
        self,
        api: Api,
        project_id: str,
        cursor: str,
        out: TextIO = sys.stdout,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.api = api
        self.project_id = project_id
        self.cursor = cursor
        self.out = out
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self.delay = FIRST_DELAY  # before connecting again; doubles while connecting fails
        self.pause = FIRST_DELAY

    async def run(self) -> None:
        """Follow until interrupted; an ApiError (no access any more) ends it."""
        renew = False
        while True:
            try:
                tokens = await self.api.tokens()
                if renew:
                    tokens = await self.api.refresh(stale=tokens)
                    renew = False
                await self._stream(tokens.access_token)
                self.say(f"The server ended the subscription; again in {self._pause():.1f} s.")
            except TransportQueryError as error:
                self._refused(list(error.errors or [{"message": str(error)}]))
                continue
            except (TransportError, OSError, TimeoutError) as error:
                code, reason = _closed(error)
                renew = code in TOKEN_CLOSE_CODES and not reason.startswith(TOO_MANY_CONNECTIONS)
                self.say(f"Connection lost; reconnecting in {self._pause():.1f} s.")
            await asyncio.sleep(self.pause)
            self.delay = min(self.delay * 2, MAX_DELAY)

    def _pause(self) -> float:
        """The wait before connecting again: between half the delay and all of it, at random,
        so that clients that lost a restarting server together do not all come back at once."""
        self.pause = self.delay / 2 + random.uniform(0, self.delay / 2)  # noqa: S311 (timing)
        return self.pause

    async def _stream(self, access_token: str) -> None:
        transport = WebsocketsTransport(
            url=websocket_url(self.api.server),
            init_payload={"authorization": f"Bearer {access_token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=10,
            ack_timeout=10,
        )
        async with Client(transport=transport) as session:
            self.delay = FIRST_DELAY
            self.say(f"Connected; following events after {self.cursor}.")
            subscription = request("ProjectEvents", projectId=self.project_id, after=self.cursor)
            async for data in session.subscribe(subscription):
                self.show(data["projectTimeline"])

    def _refused(self, errors: list[dict[str, Any]]) -> None:
        """A refusal to resume from: RATE_LIMITED (the client fell behind) names the cursor;
        anything else (no access any more) ends following."""
        error = ApiError(errors)
        resume = error.extensions.get("resumeAfter")
        if error.code == "RATE_LIMITED" and isinstance(resume, str):
            self.say("Fell behind; resuming.")
            self.cursor = resume
            return
        raise error

    def show(self, event: dict[str, Any]) -> None:
        cursor = event.get("cursor")
        if event.get("__typename") == "ResyncRequired":
            self.say("Older events are no longer kept; carrying on from here.")
        else:
            print(describe(event), file=self.out, flush=True)
        if isinstance(cursor, str):
            self.cursor = cursor


def describe(event: dict[str, Any]) -> str:
    """One event as a line (a post's further lines indented under it)."""
    when = _local_time(event.get("occurredAt"))
    who = (event.get("actor") or {}).get("name", "Somebody")
    kind = event.get("__typename")
    if kind in ("MicropostPosted", "MicropostEdited"):
        post = event.get("micropost") or {}
        verb = "edited a post" if kind == "MicropostEdited" else "posted"
        if kind == "MicropostPosted" and post.get("parent"):
            verb = "replied"
        text = _indent(str(post.get("body") or post.get("bodyHtml") or ""))
        return f"{when}  {who} {verb}: {text}"
    if kind == "ProjectStatusChanged":
        reason = f" ({event['reason']})" if event.get("reason") else ""
        change = f"{event.get('fromStatus')} -> {event.get('toStatus')}"
        return f"{when}  {who} changed the status {change}{reason}"
    if kind in ("PageCreated", "PageUpdated"):
        page = event.get("page") or {}
        title = page.get("title", "a page")
        if kind == "PageCreated":
            return f'{when}  {who} created the page "{title}"'
        summary = f": {event['summary']}" if event.get("summary") else ""
        return (
            f'{when}  {who} updated the page "{title}" to revision {event.get("revision")}{summary}'
        )
    return f"{when}  {who}: {kind}"


def _local_time(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _indent(text: str) -> str:
    return text.rstrip("\n").replace("\n", "\n" + " " * 6)


def _closed(error: BaseException) -> tuple[int | None, str]:
    """The websocket close code and reason behind a transport error (None and "" when the
    server sent none)."""
    seen: BaseException | None = error
    while seen is not None:
        received = getattr(seen, "rcvd", None)
        code = getattr(received, "code", None)
        if isinstance(code, int):
            return code, str(getattr(received, "reason", "") or "")
        seen = seen.__cause__ or seen.__context__
    return None, ""
