"""Requests per second of one timeline page (50 posts with author, topics, replyCount,
bodyHtml) on PostgreSQL, against a raw asyncpg + orjson endpoint answering the same JSON.

Creates a database of its own on ``--postgres`` (dropped at the end), migrates it, loads
the demo data and ``--posts`` more top-level posts on the portal project (Markdown bodies,
one to three #topics each, every fifth staff post INTERNAL, replies to every third post,
some of them INTERNAL). Then two server processes, one uvicorn each, on loopback ports:
``extranet serve`` (EXTRANET_ENV=production, ``memory://`` fan-out unless
``--broadcast-url``, background jobs on, mail off) and ``benchmarks/raw_timeline.py``. Both
answers are compared field by field before anything is measured, once the product's
background jobs (the seeded posts' notifications) are done.

Each side, in turn and ``--runs`` times, gets ``wrk`` with ``--connections`` concurrent
keep-alive connections (``apt-get install wrk``) sending the page as the demo project
member (``--viewer``) for ``--seconds`` after a warm-up; requests per second come from
wrk, server CPU per request from ``/proc/<pid>/stat`` (the client's CPU is not counted).
Prints each run, the ratio product ÷ raw of the same run, and with several runs the
median and range. ``--profile FILE`` records the product server's stacks during its first
measured round with py-spy (raw, collapsed format).

    .venv/bin/python benchmarks/timeline_throughput.py [--runs 3] [--seconds 10]
        [--connections 32] [--posts 200] [--first 50] [--profile /tmp/timeline.txt]
        [--product-only --node "id bodyHtml"]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout import cpu_seconds, free_port, wait_http  # the servers' helpers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "benchmark-secret-key-that-is-long-enough-for-hs256"  # noqa: S105 (a throwaway)
LOGIN = """mutation ($email: String!) { login(input: {email: $email,
  password: "demo-extranet-2026"}) { accessToken } }"""
PROJECTS = "{ projects { edges { node { id name } } } }"
POST = """mutation ($p: ID!, $b: String!, $v: Visibility!, $r: ID) {
  postMicropost(input: {projectId: $p, body: $b, visibility: $v, inReplyToId: $r}) {
  micropost { id } } }"""
NODE = "id bodyHtml createdAt author { id name } replyCount topics { name }"
TIMELINE = """query Timeline($id: ID!, $first: Int!) {
  project(id: $id) {
    timeline(first: $first) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { %s } }
    }
  }
}"""
TOPICS = ["launch", "yard-tests", "booking", "mobile", "design", "hosting", "budget"]
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {authorization}
local failed = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failed = failed + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("failed %d\\n", failed))
end
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string for these texts


def wrk(url: str, script: Path, connections: int, seconds: float) -> tuple[float, int, int]:
    """Requests per second, requests done and failed requests of one wrk round."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{round(seconds)}s"]
    command += ["--timeout", "30s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    failed = int(re.search(r"failed (\d+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, done, failed + (int(non_2xx.group(1)) if non_2xx else 0)


def measure(
    name: str, pid: int, url: str, script: Path, args: argparse.Namespace, profile: str | None
) -> dict[str, float]:
    wrk(url, script, args.connections, 2)  # warm-up
    profiler = None
    if profile:
        command = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--rate", "200"]
        command += ["--format", "raw", "--output", profile, "--nonblocking"]
        profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    cpu0 = cpu_seconds(pid)
    rate, done, failed = wrk(url, script, args.connections, args.seconds)
    cpu = cpu_seconds(pid) - cpu0
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(60)
    if failed:
        raise RuntimeError(f"{name}: {failed} of {done} requests failed")
    row = {"rps": rate, "cpu_ms": cpu / done * 1000, "requests": done}
    print(
        f"  {name:>8}: {rate:7.1f} req/s   {row['cpu_ms']:6.2f} ms CPU/request   ({done} requests)"
    )
    return row


async def settled(pid: int, most: float = 180) -> float:
    """Seconds until the server's background jobs (notifications of the seeded posts) are
    done: its CPU stays under 2 % for two seconds in a row."""
    started = time.perf_counter()
    quiet = 0
    while quiet < 4 and time.perf_counter() - started < most:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        quiet = quiet + 1 if cpu_seconds(pid) - before < 0.01 else 0
    return time.perf_counter() - started


async def seed(base: str, args: argparse.Namespace) -> tuple[dict[str, str], str, int]:
    """Tokens by email, the portal's global ID and its database id, after adding the posts."""
    async with httpx.AsyncClient(timeout=120) as http:

        async def gql(query: str, token: str = "", **variables: Any) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            reply = (await http.post(base, json={"query": query, "variables": variables},
                                     headers=headers)).json()  # fmt: skip
            assert "errors" not in reply, reply
            return dict(reply["data"])

        emails = ["sam@provider.example", "anna@acme.example", "max@acme.example"]
        tokens = {e: (await gql(LOGIN, email=e))["login"]["accessToken"] for e in emails}
        edges = (await gql(PROJECTS, tokens["max@acme.example"]))["projects"]["edges"]
        [portal] = [e["node"]["id"] for e in edges if e["node"]["name"].startswith("Warehouse")]
        authors = ["sam@provider.example", "anna@acme.example", "max@acme.example"]
        for n in range(args.posts):
            author = authors[n % 3]
            internal = author.startswith("sam") and n % 5 == 0
            tags = " ".join(f"#{TOPICS[(n + k) % len(TOPICS)]}" for k in range(1 + n % 3))
            body = (
                f"Update {n} on the **portal**: the _booking flow_ step {n % 7} is done.\n\n"
                f"- checked on mobile\n- see [the plan](https://example.com/plan/{n})\n\n{tags}"
            )
            post = await gql(POST, tokens[author], p=portal, b=body,
                             v="INTERNAL" if internal else "SHARED", r=None)  # fmt: skip
            if n % 3 == 0:
                parent = post["postMicropost"]["micropost"]["id"]
                for k, replier in enumerate(("max@acme.example", "sam@provider.example")):
                    if internal and k == 0:
                        continue  # an INTERNAL post is answered by staff only
                    secret = k == 1 and n % 2 == 0
                    await gql(POST, tokens[replier], p=portal, b=f"Reply {k} to {n}",
                              v="INTERNAL" if secret else "SHARED", r=parent)  # fmt: skip
        # the portal's database id, from its global ID
        import base64

        pk = int(base64.b64decode(portal).decode().split(":")[1])
        return tokens, portal, pk


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--viewer", default="max@acme.example")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--broadcast-url", default="memory://")
    parser.add_argument("--profile", metavar="FILE", help="py-spy stacks of the product server")
    parser.add_argument("--product-only", action="store_true")
    parser.add_argument(
        "--node",
        default=NODE,
        help="the selection on each post, to see what each field costs (with --product-only "
        "unless it is the default: the raw endpoint answers the default only)",
    )
    args = parser.parse_args()

    name = f"extranet_timeline_{os.getpid()}_{int(time.time())}"
    admin = await asyncpg.connect(f"{args.postgres}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{args.postgres}/{name}"
    workdir = tempfile.mkdtemp(prefix="extranet-timeline-")
    env = {
        **os.environ,
        "EXTRANET_ENV": "production",
        "DATABASE_URL": database_url,
        "BROADCAST_URL": args.broadcast_url,
        "EXTRANET_SECRET_KEY": SECRET,
        "EXTRANET_ACCESS_TOKEN_TTL": "3600",
        "EXTRANET_MAIL": "off",
        "EXTRANET_ATTACHMENTS_DIR": f"{workdir}/files",
    }
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for step in (["migrate"], ["demo", "--force-in-production"]):
            subprocess.run([str(BIN / "extranet"), *step], env=env, check=True, capture_output=True)
        port, raw_port = free_port(), free_port()
        product = subprocess.Popen(
            [str(BIN / "extranet"), "serve", "--port", str(port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        servers.append(product)
        base = f"http://127.0.0.1:{port}/graphql"
        await wait_http(f"http://127.0.0.1:{port}/healthz")
        started = time.perf_counter()
        tokens, portal, portal_pk = await seed(base, args)
        print(f"seeded {args.posts} posts in {time.perf_counter() - started:.1f} s; "
              f"{os.cpu_count()} cores; viewer {args.viewer}")  # fmt: skip
        waited = await settled(product.pid)
        print(f"the server's background jobs settled in {waited:.1f} s")
        token = tokens[args.viewer]
        document = TIMELINE % args.node
        query = {"query": document, "variables": {"id": portal, "first": args.first}}
        raw_body = {"projectId": portal_pk, "first": args.first}
        scripts = {}
        for side, body in (("product", query), ("raw", raw_body)):
            script = Path(workdir) / f"{side}.lua"
            authorization = lua_string(f"Bearer {token}")
            script.write_text(WRK_SCRIPT.format(body=lua_string(json.dumps(body)),
                                                authorization=authorization))  # fmt: skip
            scripts[side] = script
        raw_url = f"http://127.0.0.1:{raw_port}/timeline"
        if not args.product_only:
            raw = subprocess.Popen(
                [str(BIN / "uvicorn"), "benchmarks.raw_timeline:app", "--port", str(raw_port),
                 "--log-level", "info"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            servers.append(raw)
            await wait_http(raw_url)
        async with httpx.AsyncClient(timeout=60) as http:
            headers = {"Authorization": f"Bearer {token}"}
            answer = (await http.post(base, json=query, headers=headers)).json()
            assert "errors" not in answer, answer
            edges = answer["data"]["project"]["timeline"]["edges"]
            print(f"page: {len(edges)} posts, {len(json.dumps(answer))} bytes of JSON")
            if not args.product_only:
                baseline = (await http.post(raw_url, json=raw_body, headers=headers)).json()
                if baseline["data"] != answer["data"]:
                    for side, value in (("product", answer), ("raw", baseline)):
                        dump = json.dumps(value, indent=1)
                        Path(workdir, f"{side}.json").write_text(dump)  # noqa: ASYNC240
                    raise SystemExit(f"the two answers differ: see {workdir}/*.json")
                print("the raw endpoint's answer equals the product's")
        rows: list[dict[str, dict[str, float]]] = []
        for run in range(args.runs):
            print(f"run {run + 1}:")
            row = {"product": measure("product", product.pid, base, scripts["product"], args,
                                      args.profile if run == 0 else None)}  # fmt: skip
            if not args.product_only:
                row["raw"] = measure("raw", raw.pid, raw_url, scripts["raw"], args, None)
                ratio = row["product"]["rps"] / row["raw"]["rps"]
                cpu_ratio = row["raw"]["cpu_ms"] / row["product"]["cpu_ms"]
                print(f"     ratio: {ratio:.2f}× the raw endpoint's req/s "
                      f"(CPU per request: {cpu_ratio:.2f}×)")  # fmt: skip
                row["ratio"] = {"rps": ratio, "cpu": cpu_ratio}
            rows.append(row)
        if args.runs > 1:
            print(f"median (range) of {args.runs} runs:")
            for side, key, unit in (
                ("product", "rps", "req/s"), ("product", "cpu_ms", "ms CPU/request"),
                ("raw", "rps", "req/s"), ("raw", "cpu_ms", "ms CPU/request"),
                ("ratio", "rps", "× req/s"), ("ratio", "cpu", "× CPU/request"),
            ):  # fmt: skip
                values = [r[side][key] for r in rows if side in r]
                if values:
                    print(f"  {side:>8} {unit:>15}: {statistics.median(values):8.2f} "
                          f"({min(values):.2f} to {max(values):.2f})")  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
