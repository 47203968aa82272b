"""Time of the web client's timeline query (``ProjectTimeline``, 20 posts), without and with
tracing.

Starts the application in this process (a fresh SQLite database with the demo data and
40 more posts on the portal project), signs in a project member, and sends the query
``--requests`` times per round over its ASGI interface, in rounds that alternate tracing
off and on (``--rounds`` of each), so that the machine's load falls on both alike. With
tracing on, spans go through the SDK's batch processor to an exporter: ``--exporter otlp``
(the default) sends them as OTLP/HTTP protobuf, as deployed, to a stand-in collector in a
process of its own on 127.0.0.1 (it reads each batch and answers 200); ``console`` serialises
them as indented JSON into /dev/null (several times the CPU of protobuf). With
``--resolvers`` a third mode also times every resolver (slow-resolver spans over 100 ms).
Prints the p50 and p95 of each mode and the growth of the p95 against tracing off.

    .venv/bin/python benchmarks/timeline_query.py [--requests 300] [--rounds 3]
        [--exporter otlp|console] [--resolvers]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _app import benchmark_app  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from actions import microposts  # noqa: E402
from app.demo import load_demo  # noqa: E402
from graphql_schema.process import trace_slow_resolvers  # noqa: E402
from graphql_schema.relay import global_id  # noqa: E402
from graphql_schema.schema import schema  # noqa: E402
from infra import tracing  # noqa: E402
from models import Project  # noqa: E402

QUERY = (ROOT / "clients" / "operations" / "ProjectTimeline.graphql").read_text()
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""


async def measure(client: httpx.AsyncClient, token: str, project: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        reply = await client.post(
            "/graphql",
            json={"query": QUERY, "variables": {"id": project}},
            headers={"Authorization": f"Bearer {token}"},
        )
        times.append(time.perf_counter() - started)
        assert "errors" not in reply.json(), reply.text
    return times


# A stand-in OTLP/HTTP collector: reads each request's body and answers 200 (empty protobuf).
COLLECTOR = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Collector(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Collector).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--resolvers",
        action="store_true",
        help="also measure tracing with slow-resolver spans (EXTRANET_TRACE_RESOLVERS_OVER_MS)",
    )
    parser.add_argument("--exporter", choices=["otlp", "console"], default="otlp")
    args = parser.parse_args()
    provider = TracerProvider()
    collector = None
    if args.exporter == "otlp":
        port = free_port()
        collector = subprocess.Popen([sys.executable, "-c", COLLECTOR, str(port)])
        endpoint = f"http://127.0.0.1:{port}/v1/traces"
        exporter: SpanExporter = OTLPSpanExporter(endpoint=endpoint)
    else:
        devnull = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 (open for the whole run)
        exporter = ConsoleSpanExporter(out=devnull)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    async with benchmark_app() as app:
        users = await load_demo(app.state.bus)
        portal = await Project.filter(name__icontains="portal").first()
        assert portal is not None
        for n in range(40):
            await microposts.post_micropost(
                users["sam"], app.state.bus, project_id=portal.id,
                body=f"Post {n} about #launch with **Markdown**",
            )  # fmt: skip
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post("/graphql", json={"query": LOGIN, "variables": {
                "email": "max@acme.example", "password": "demo-extranet-2026"}})  # fmt: skip
            token = login.json()["data"]["login"]["accessToken"]
            project = global_id("Project", portal.id)
            await measure(client, token, project, 50)  # warm-up
            modes = ["off", "on", *(["on+resolvers"] if args.resolvers else [])]
            results: dict[str, list[float]] = {mode: [] for mode in modes}
            extensions = schema.extensions
            for _ in range(args.rounds):
                for mode in modes:
                    if mode != "off":
                        tracing.install(provider, resolver_threshold_ms=100)
                    if mode == "on+resolvers":
                        trace_slow_resolvers(schema)
                    results[mode] += await measure(client, token, project, args.requests)
                    tracing.uninstall()
                    schema.extensions = extensions
    provider.shutdown()
    if collector is not None:
        collector.terminate()
        collector.wait()
    off = results["off"]
    for mode, times in results.items():
        growth = (p95(times) / p95(off) - 1) * 100
        print(
            f"tracing {mode:12}: p50 {statistics.median(times) * 1000:6.2f} ms   "
            f"p95 {p95(times) * 1000:6.2f} ms ({growth:+.1f} %)   ({len(times)} requests)"
        )


if __name__ == "__main__":
    asyncio.run(main())
