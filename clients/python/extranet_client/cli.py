"""The ``extranet-client`` command.

    extranet-client [--server URL] login [--email EMAIL]
    extranet-client projects [--status STATUS]
    extranet-client follow PROJECT [--after CURSOR]
    extranet-client post PROJECT TEXT          (TEXT "-" reads standard input)
    extranet-client page show PAGE
    extranet-client page edit PAGE [-m SUMMARY] [--from-draft]
    extranet-client logout

PROJECT and PAGE are an ID or (part of) a name or title among what you may see. The server
is ``--server``, else ``$EXTRANET_SERVER``, else http://127.0.0.1:8000.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from extranet_client.api import Api, ApiError, NotSignedIn
from extranet_client.config import Tokens, TokenStore
from extranet_client.follow import Follower

DEFAULT_SERVER = "http://127.0.0.1:8000"
PAGE_SIZE = 100


class Refusal(Exception):
    """Something the user asked for that cannot be done; the message says why."""


# --- finding projects and pages by ID or name ---------------------------------------------


def choose(needle: str, items: Iterable[dict[str, Any]], key: str, kind: str) -> dict[str, Any]:
    """The item whose ID is ``needle``, else the one whose ``key`` (a name or title) is it,
    ignoring case, else the only one whose ``key`` contains it."""
    items = list(items)
    for item in items:
        if item["id"] == needle:
            return item
    wanted = needle.casefold()
    exact = [item for item in items if str(item[key]).casefold() == wanted]
    partial = [item for item in items if wanted in str(item[key]).casefold()]
    for found in (exact, partial):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = "; ".join(sorted(str(item[key]) for item in found))
            raise Refusal(f"{needle!r} matches more than one {kind}: {names}. Be more precise.")
    raise Refusal(f"No {kind} you may see matches {needle!r}.")


async def my_projects(api: Api, status: str | None = None) -> list[dict[str, Any]]:
    projects: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.call("MyProjects", first=PAGE_SIZE, after=after, status=status)
        connection = data["projects"]
        projects += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return projects
        after = connection["pageInfo"]["endCursor"]


async def find_project(api: Api, needle: str) -> dict[str, Any]:
    return choose(needle, await my_projects(api), "name", "project")


async def find_page(api: Api, needle: str) -> dict[str, Any]:
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.call("PageDirectory", after=after)
        connection = data["projects"]
        for edge in connection["edges"]:
            project = edge["node"]
            pages += [{**e["node"], "project": project["name"]} for e in project["pages"]["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    try:
        return choose(needle, pages, "title", "page")
    except Refusal:
        with contextlib.suppress(ApiError):  # perhaps an ID of a page not listed
            page = (await api.call("Page", id=needle))["page"]
            if page:
                return dict(page)
        raise


# --- commands -----------------------------------------------------------------------------


def read_line(prompt: str) -> str:
    if sys.stdin.isatty():
        return input(prompt)
    return sys.stdin.readline().rstrip("\n")


def read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


async def cmd_login(api: Api, args: argparse.Namespace) -> int:
    email = (args.email or read_line("Email: ")).strip()
    password = read_secret("Password: ")
    try:
        session = (await api.anonymous("Login", email=email, password=password))["login"]
    except ApiError as error:
        if error.code == "MFA_REQUIRED":
            code = read_secret("Code from your authenticator app (or a recovery code): ")
            data = await api.anonymous(
                "CompleteLogin", mfaToken=error.extensions.get("mfaToken"), code=code.strip()
            )
            session = data["completeLogin"]
        elif error.code == "MFA_ENROLMENT_REQUIRED":
            raise Refusal(
                "Your account must set up two-factor sign-in first: do so in the web client, "
                "then sign in here again."
            ) from error
        else:
            raise
    tokens = Tokens.from_session(email, session)
    with api.store.locked():
        api.store.save(api.server, tokens)
    user = session["user"]
    print(f"Signed in to {api.server} as {user['name']} ({user['role']}).")
    return 0


async def cmd_logout(api: Api, args: argparse.Namespace) -> int:
    tokens = api.store.load(api.server)
    if tokens is None:
        print(f"Not signed in to {api.server}.")
        return 0
    with contextlib.suppress(ApiError):
        await api.anonymous("Logout", refreshToken=tokens.refresh_token)
    with api.store.locked():
        api.store.forget(api.server)
    print(f"Signed out of {api.server}.")
    return 0


async def cmd_projects(api: Api, args: argparse.Namespace) -> int:
    projects = await my_projects(api, args.status)
    if not projects:
        print("No projects.")
        return 0
    name = max(len(p["name"]) for p in projects)
    customer = max(len(p["customer"]["name"]) for p in projects)
    for p in projects:
        columns = (
            p["name"].ljust(name),
            p["status"].ljust(11),
            p["customer"]["name"].ljust(customer),
        )
        print("  ".join((*columns, p["id"])))
    return 0


async def cmd_follow(api: Api, args: argparse.Namespace) -> int:
    project = await find_project(api, args.project)
    found = (await api.call("ProjectCursor", id=project["id"]))["project"]
    cursor = args.after or found["timelineCursor"]
    print(f"Following {found['name']} ({found['status']}); Ctrl-C stops.", file=sys.stderr)
    await Follower(api, project["id"], cursor).run()
    return 0


async def cmd_post(api: Api, args: argparse.Namespace) -> int:
    project = await find_project(api, args.project)
    text = sys.stdin.read() if args.text == "-" else args.text
    data = await api.call("PostMicropost", projectId=project["id"], body=text)
    post = data["postMicropost"]["micropost"]
    print(f"Posted to {project['name']} ({post['id']}).")
    return 0


async def cmd_page_show(api: Api, args: argparse.Namespace) -> int:
    page = await load_page(api, args.page)
    print(f"# {page['title']}")
    print(f"revision {page['revision']} · {page['visibility']} · updated {page['updatedAt']}")
    print()
    print(page["body"])
    if page.get("draft"):
        draft = page["draft"]
        print(
            f"\nYou have a draft from revision {draft['baseRevision']} (an edit that did not "
            "merge): `page edit --from-draft` opens it merged with this revision."
        )
    return 0


async def load_page(api: Api, needle: str) -> dict[str, Any]:
    found = await find_page(api, needle)
    page = (await api.call("Page", id=found["id"]))["page"]
    if not page:
        raise Refusal(f"No page you may see matches {needle!r}.")
    return dict(page)


async def cmd_page_edit(api: Api, args: argparse.Namespace) -> int:
    page = await load_page(api, args.page)
    start, base, title = page["body"], page["revision"], None
    if args.from_draft:
        draft = page.get("draft")
        if not draft:
            raise Refusal("You have no draft of this page.")
        proposal = draft["proposal"]
        start, base = with_markers(proposal), proposal["currentRevision"]
        title = proposed_title(proposal, page["title"])
        print(
            f"Your draft from revision {draft['baseRevision']}, merged with revision {base}: "
            f"{len(conflict_hunks(proposal))} conflicting hunk(s) between <<<<<<< and >>>>>>> "
            "lines; keep what you want of each and remove the marker lines.",
            file=sys.stderr,
        )
    edited = await edit_text(start, suffix=".md")
    markers = [n for n, line in enumerate(edited.splitlines(), 1) if MARKER_LINE.match(line)]
    if len(markers) > len(MARKER_LINE.findall(page["body"])):
        kept = keep_text(edited)
        raise Refusal(
            f"Conflict markers remain (line {', '.join(map(str, markers[:5]))}): nothing was "
            f"saved. Your text is in {kept}; choose between the sides of each hunk and remove "
            "the marker lines."
        )
    if edited == page["body"] and title is None:
        print("No changes.")
        return 0
    try:
        data = await api.call(
            "UpdatePage",
            pageId=page["id"],
            baseRevision=base,
            title=title,
            body=edited,
            summary=args.summary,
        )
    except ApiError as error:
        if error.code != "CONFLICT":
            raise
        print_conflict(error)
        return 1
    result = data["updatePage"]
    print(f'Saved "{page["title"]}" as revision {result["page"]["revision"]}.')
    print(f"merged: {'true' if result['merged'] else 'false'}")
    if result["merged"]:
        print(f"(The page had changed since revision {base}; the edits were merged.)")
    return 0


MARKER_LINE = re.compile(r"^(<{7}|>{7}|\|{7})(?: |$)", re.MULTILINE)
"""A line that opens, divides or closes a conflict hunk (as the server counts them)."""


def conflict_hunks(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    return [part for part in proposal["body"] if part["__typename"] == "PageConflictHunk"]


def with_markers(proposal: dict[str, Any]) -> str:
    """The merge proposal as one text: merged lines as they are, each conflicting hunk
    between markers, yours first, then the base, then the page now (as ``git`` writes a
    conflict with ``merge.conflictStyle diff3``)."""

    def lines(text: str) -> str:
        return text if text.endswith("\n") or not text else text + "\n"

    base, now = proposal["baseRevision"], proposal["currentRevision"]
    out: list[str] = []
    for part in proposal["body"]:
        if part["__typename"] != "PageConflictHunk":
            out.append(part["text"])
            continue
        out += [
            f"<<<<<<< yours (your draft, begun on revision {base})\n",
            lines(part["yours"]),
            f"||||||| revision {base} (where you began)\n",
            lines(part["base"]),
            "=======\n",
            lines(part["current"]),
            f">>>>>>> revision {now} (the page now)\n",
        ]
    return "".join(out)


def proposed_title(proposal: dict[str, Any], current: str) -> str | None:
    """The title to send with the body: the draft's, when it merged; else None (the page's
    title stays, and a conflicting title of the draft is named on standard error)."""
    conflict = proposal.get("titleConflict")
    if conflict:
        print(
            f"Your title {conflict['yours']!r} conflicts with {conflict['current']!r}, which "
            "stays: change it in the web client if you wish.",
            file=sys.stderr,
        )
        return None
    title = proposal.get("title")
    return title if title and title != current else None


def keep_text(text: str) -> Path:
    """``text`` in a file that outlives the command, for the user to pick up."""
    handle, name = tempfile.mkstemp(prefix="extranet-page-", suffix=".md")
    with os.fdopen(handle, "w") as file:
        file.write(text)
    return Path(name)


def print_conflict(error: ApiError) -> None:
    print(f"CONFLICT: {error}")
    print(f"current revision: {error.extensions.get('currentRevision')}")
    for number, hunk in enumerate(error.extensions.get("conflicts") or [], start=1):
        print(f"\nhunk {number}: {hunk.get('field')}, from line {hunk.get('baseStartLine')}")
        for side in ("base", "current", "yours"):
            print(f"  {side}:")
            for line in str(hunk.get(side) or "").splitlines() or [""]:
                print(f"    | {line}")


async def edit_text(text: str, suffix: str) -> str:
    """``text`` as the user left it in ``$VISUAL`` or ``$EDITOR`` (``vi`` without them)."""
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    with tempfile.TemporaryDirectory(prefix="extranet-") as directory:
        path = Path(directory) / f"page{suffix}"
        path.write_text(text)
        process = await asyncio.create_subprocess_exec(*editor, str(path))
        if await process.wait() != 0:
            raise Refusal(f"The editor ({editor[0]}) failed; nothing was saved.")
        return path.read_text()


# --- the command line ---------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="extranet-client", description="The extranet from a terminal."
    )
    main.add_argument(
        "--server",
        default=os.environ.get("EXTRANET_SERVER") or DEFAULT_SERVER,
        help="the server's URL (default: $EXTRANET_SERVER or %(default)s)",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="sign in (asks for email and password)")
    login.add_argument("--email", help="your email (asked when not given)")
    login.set_defaults(run=cmd_login)
    commands.add_parser("logout", help="end the session").set_defaults(run=cmd_logout)

    projects = commands.add_parser("projects", help="your projects and their status")
    projects.add_argument("--status", type=str.upper, help="only projects in this status")
    projects.set_defaults(run=cmd_projects)

    follow = commands.add_parser("follow", help="print a project's timeline live")
    follow.add_argument("project", help="an ID, or (part of) a project's name")
    follow.add_argument("--after", help="replay the events after this cursor first")
    follow.set_defaults(run=cmd_follow)

    post = commands.add_parser("post", help="post to a project's timeline")
    post.add_argument("project", help="an ID, or (part of) a project's name")
    post.add_argument("text", help='Markdown; "-" reads it from standard input')
    post.set_defaults(run=cmd_post)

    page = commands.add_parser("page", help="read or edit a concept page")
    actions = page.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print a page")
    show.add_argument("page", help="an ID, or (part of) a page's title")
    show.set_defaults(run=cmd_page_show)
    edit = actions.add_parser("edit", help="edit a page in $EDITOR")
    edit.add_argument("page", help="an ID, or (part of) a page's title")
    edit.add_argument("-m", "--summary", default="", help="what the edit changed")
    edit.add_argument(
        "--from-draft",
        action="store_true",
        help="start from your draft merged with the page now, conflicts between markers",
    )
    edit.set_defaults(run=cmd_page_edit)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[Api, argparse.Namespace], Awaitable[int]] = args.run

    async def session() -> int:
        async with Api(args.server, TokenStore()) as api:
            return await run(api, args)

    try:
        return asyncio.run(session())
    except KeyboardInterrupt:
        return 130
    except (Refusal, NotSignedIn, ConnectionError) as problem:
        print(problem, file=sys.stderr)
        return 1
    except ApiError as error:
        code = f" ({error.code})" if error.code else ""
        print(f"The server refused{code}: {error}", file=sys.stderr)
        return 1
