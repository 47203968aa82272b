"""Receive an endpoint's webhooks: verify each signature, skip what was already seen, print
the events in log order, and on start pull whatever was missed while it was down.

Usage::

    EXTRANET_URL=https://extranet.example EXTRANET_TOKEN=xnt_sat_... \\
    WEBHOOK_ENDPOINT_ID=... WEBHOOK_SECRET=whsec_... \\
        python webhook_receiver.py --port 8000 --state receiver-state.json

``WEBHOOK_SECRET`` is the endpoint's ``secret``; ``EXTRANET_TOKEN`` needs the scope
``webhooks:read`` (for ``webhookEvents``). Register ``http(s)://<this host>:<port>/`` as
the endpoint's URL.

- A delivery whose signature (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``, Standard Webhooks) does not verify is answered 401 and ignored.
- A delivery whose ``webhook-id`` was seen before (a retry whose answer was lost, a manual
  redelivery) is answered 204 and not printed again.
- Every new event is printed as one JSON line on standard output, ``{"type", "cursor",
  "timestamp", "webhookId", "data", "via"}`` (``via``: ``push`` or ``pull``), and its cursor
  is written to the state file before the delivery is answered, so an event is printed
  at least once and, within the last 1,000 events, at most once.
- On start, before it listens, it asks ``webhookEvents(endpointId, after: <the state
  file's cursor>)`` for what came while it was down (the server delivers an endpoint's
  events one at a time in log order, and retries the first one that failed until it
  succeeds, so the events pulled come before anything pushed later).

It prints ``listening on http://HOST:PORT/`` on standard error once it accepts deliveries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20  # bytes
REMEMBERED = 1000  # webhook-ids kept for de-duplication
PAGE = 100  # events per webhookEvents call

EVENTS = """
query ($endpointId: ID!, $after: String, $first: Int!) {
  webhookEvents(endpointId: $endpointId, after: $after, first: $first) {
    type cursor timestamp webhookId data
  }
}"""


class State:
    """The last cursor printed and the webhook-ids seen, kept in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        saved = json.loads(path.read_text()) if path.exists() else {}
        self.cursor: str | None = saved.get("cursor")
        self.seen: deque[str] = deque(saved.get("seen", []), maxlen=REMEMBERED)

    def accept(self, event: dict[str, Any], via: str) -> bool:
        """Print the event and remember it, unless its webhook-id was seen; whether it was
        new."""
        with self.lock:
            if event["webhookId"] in self.seen:
                return False
            print(json.dumps({**event, "via": via}, sort_keys=True), flush=True)
            self.seen.append(event["webhookId"])
            self.cursor = event["cursor"]
            self._save()
            return True

    def _save(self) -> None:
        partial = self.path.with_suffix(self.path.suffix + ".tmp")
        partial.write_text(json.dumps({"cursor": self.cursor, "seen": list(self.seen)}))
        os.replace(partial, self.path)


def catch_up(url: str, token: str, endpoint_id: str, state: State) -> int:
    """Pull and print the events after the state's cursor; how many were new."""
    new = 0
    with httpx.Client(base_url=url.rstrip("/") + "/", timeout=30) as http:
        while True:
            answer = http.post(
                "graphql",
                json={
                    "query": EVENTS,
                    "variables": {"endpointId": endpoint_id, "after": state.cursor, "first": PAGE},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            body = answer.json()
            if body.get("errors"):
                raise SystemExit(f"webhookEvents failed: {body['errors'][0].get('message')}")
            events = body["data"]["webhookEvents"]
            for event in events:
                new += state.accept(event, "pull")
            if len(events) < PAGE:
                return new


def handler(webhook: Webhook, state: State) -> type[BaseHTTPRequestHandler]:
    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            body = self.rfile.read(length)
            try:
                payload = webhook.verify(body, {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError:
                self._answer(401)
                return
            event = {
                "type": payload["type"],
                "cursor": payload["cursor"],
                "timestamp": payload["timestamp"],
                "webhookId": self.headers["webhook-id"],
                "data": payload["data"],
            }
            state.accept(event, "push")
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # standard output is for the events

    return Receive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--state", type=Path, default=Path("receiver-state.json"))
    options = parser.parse_args()
    try:
        url, token = os.environ["EXTRANET_URL"], os.environ["EXTRANET_TOKEN"]
        endpoint_id, secret = os.environ["WEBHOOK_ENDPOINT_ID"], os.environ["WEBHOOK_SECRET"]
    except KeyError as missing:
        raise SystemExit(f"{missing.args[0]} must be set") from None

    state = State(options.state)
    caught_up = catch_up(url, token, endpoint_id, state)
    print(f"caught up: {caught_up} missed event(s)", file=sys.stderr, flush=True)
    # One delivery at a time, as the server sends them: printed in the order received.
    server = HTTPServer((options.host, options.port), handler(Webhook(secret), state))
    print(f"listening on http://{options.host}:{options.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
