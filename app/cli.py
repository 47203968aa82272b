"""The ``extranet`` command: serve, run background jobs, migrate, load demo data, create
and list customers, create users, prune the event log, check the audit trail's chain.

A database (or Redis) that cannot be used stops any command with one line naming the
setting, its URL without the password, and what failed; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from redis.exceptions import RedisError
from tortoise import connections
from tortoise.exceptions import DBConnectionError

from app.db import close_database, migrate, open_database
from domain.errors import AppError
from infra import logging as logs
from infra.settings import Settings, SettingsError, load_settings
from models import Customer, Role
from realtime.bus import EventBus

PRODUCTION_DEMO_FLAG = "--force-in-production"

_DATABASE_FAILURES: tuple[type[BaseException], ...] = (
    OSError,  # refused, unreachable, timed out, a name that does not resolve, a SQLite path
    DBConnectionError,
    sqlite3.DatabaseError,  # cannot open the file, not a database, locked
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InvalidAuthorizationSpecificationError,  # wrong password, unknown role
    asyncpg.InvalidCatalogNameError,  # no such database
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)


class ServiceFailure(Exception):
    """A database or Redis the command needs cannot be used; the message is one line."""


def redacted(url: str) -> str:
    """``url`` without its password (in the user part or a ``password`` parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user_info, _, host = netloc.rpartition("@")
        netloc = f"{user_info.partition(':')[0]}:***@{host}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query if pairs else parts.query))


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _what_failed(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused (is the server running, on that host and port?)"
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, TimeoutError):
        return "no answer in time (add ?timeout=<seconds> to wait longer)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror + (f": {error.filename}" if error.filename else "")
    text = " ".join(str(error).split()).rstrip(".") or type(error).__name__
    return text[:300]


def service_failure(error: BaseException, settings: Settings) -> str | None:
    """One line for a failure of the database or Redis behind ``error`` (naming the
    setting and its URL without the password, and what failed); None for any other error."""
    causes = list(_causes(error))
    if any(isinstance(cause, RedisError) for cause in causes):
        first = next(c for c in reversed(causes) if isinstance(c, RedisError | OSError))
        return (
            f"Cannot use Redis at BROADCAST_URL={redacted(settings.broadcast_url)}: "
            f"{_what_failed(first)}."
        )
    where = f"DATABASE_URL={redacted(settings.database_url)}"
    for cause in causes:
        text = str(cause)
        if isinstance(cause, asyncpg.UndefinedTableError) or "no such table" in text:
            return f"The database at {where} has no tables yet: run `extranet migrate` first."
    for cause in reversed(causes):  # the first failure says most
        if isinstance(cause, _DATABASE_FAILURES):
            return f"Cannot use the database at {where}: {_what_failed(cause)}."
    return None


@contextlib.contextmanager
def _reporting_failures(settings: Settings) -> Iterator[None]:
    """Within the block, a failure of the database or Redis becomes :class:`ServiceFailure`
    with its one line; any other error passes unchanged."""
    try:
        yield
    except Exception as error:
        line = service_failure(error, settings)
        if line is None:
            raise
        raise ServiceFailure(line) from None


def _run_with_database(settings: Settings, job: Callable[[EventBus], Awaitable[int]]) -> int:
    async def main() -> int:
        await open_database(settings.database_url)
        try:
            await connections.get("default").execute_query("SELECT 1")
            bus = EventBus(settings.broadcast_url, settings.broadcast_namespace)
            await bus.connect()
            try:
                return await job(bus)
            finally:
                await bus.disconnect()
        finally:
            await close_database()

    with _reporting_failures(settings):
        return asyncio.run(main())


async def _no_job(_bus: EventBus) -> int:
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if args.proxy_headers and not settings.trusted_proxies:
        print(
            "--proxy-headers needs EXTRANET_TRUSTED_PROXIES: the load balancers' addresses or "
            "networks (only they may name the client in X-Forwarded-For).",
            file=sys.stderr,
        )
        return 2
    # the database and Redis answer, or the server does not start
    _run_with_database(settings, _no_job)
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # each worker writes its metrics there; /metrics sums those of the live ones
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="extranet-metrics-")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # X-Forwarded-For is read by the application, from EXTRANET_TRUSTED_PROXIES only
        proxy_headers=False,
        log_level="info",
        log_config=logs.uvicorn_log_config(settings.log_format),
        # a dead connection is noticed within 20 s: page presence drops it within 30 s
        ws_ping_interval=10.0,
        ws_ping_timeout=10.0,
        ws_max_size=settings.max_body_bytes,  # a larger message closes the socket (1009)
        ws_per_message_deflate=settings.ws_per_message_deflate,
    )
    return 0


def cmd_mail_gateway(settings: Settings, args: argparse.Namespace) -> int:
    """Take replies to notification mail over SMTP until SIGTERM or SIGINT."""
    import signal

    from app.mail_gateway import start_gateway

    async def job(bus: EventBus) -> int:
        server = await start_gateway(settings, bus, args.host, args.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"Mail gateway on {args.host}:{args.port}; stop it with Ctrl+C.", flush=True)
        try:
            await stop.wait()
        finally:
            server.close()
            await server.wait_closed()
        return 0

    return _run_with_database(settings, job)


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    """Run background jobs only, until SIGTERM or SIGINT (then as a server's shutdown)."""
    import signal

    from app.runner import JobRunner

    async def job(bus: EventBus) -> int:
        runner = JobRunner(settings, bus)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await runner.start()
        print(f"Worker {runner.worker} runs background jobs; stop it with Ctrl+C.", flush=True)
        try:
            await stop.wait()
        finally:
            await runner.stop()
        return 0

    return _run_with_database(settings, job)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    with _reporting_failures(settings):
        applied = asyncio.run(migrate(settings.database_url))
    if not applied:
        print("The database is up to date: no migrations to apply.")
        return 0
    print(f"Applied {len(applied)} migration{'s' if len(applied) != 1 else ''}:")
    for name in applied:
        print(f"  {name}")
    print("The database is up to date.")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import DEMO_PASSWORD, DEMO_USERS, database_is_empty, load_demo

    if settings.is_production and not args.force_in_production:
        print(
            "Refused: EXTRANET_ENV is production, and every demo account's password is "
            f"published in the README ({DEMO_PASSWORD!r}), so anyone could sign in with it. "
            f"Load the demo data into a development database, or pass {PRODUCTION_DEMO_FLAG} "
            "if this production database is only for trying things out.",
            file=sys.stderr,
        )
        return 2

    async def job(bus: EventBus) -> int:
        if not await database_is_empty():
            if args.if_empty:
                print("The database already has data; demo data not loaded.")
                return 0
            print("The database already has data; demo data is only loaded into an empty one.")
            return 1
        await load_demo(bus)
        print(f"Demo data loaded. Every demo user's password is {DEMO_PASSWORD!r}:")
        for email, name, role, _slug in DEMO_USERS:
            print(f"  {email:<28} {role.value:<16} {name}")
        return 0

    return _run_with_database(settings, job)


def cmd_create_customer(settings: Settings, args: argparse.Namespace) -> int:
    from actions.customers import create_customer

    async def job(_bus: EventBus) -> int:
        customer = await create_customer(None, name=args.name, slug=args.slug)
        print(f"Created customer {customer.name!r} with slug {customer.slug!r}.")
        return 0

    return _run_with_database(settings, job)


def cmd_customers(settings: Settings, _args: argparse.Namespace) -> int:
    async def job(_bus: EventBus) -> int:
        customers = await Customer.all().order_by("slug")
        if not customers:
            print('No customers yet: add one with `extranet create-customer "Name"`.')
            return 0
        width = max(len("slug"), *(len(c.slug) for c in customers))
        print(f"{'slug':<{width}}  name")
        for customer in customers:
            print(f"{customer.slug:<{width}}  {customer.name}")
        return 0

    return _run_with_database(settings, job)


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError(f"{days} is negative: give an age of 0 days or more")
    return days


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def cmd_prune_events(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from actions.events import MINIMUM_AGE, prune_events
    from actions.retention import still_shown

    minimum = MINIMUM_AGE.days
    ages = [args.older_than_days, args.read_notifications_older_than_days]
    if any(age is not None and age < minimum for age in ages) and not args.yes:
        print(
            f"Refused: an age below {_plural(minimum, 'day')} deletes what clients still "
            "resume from (and read notifications users may look for). Pass --yes to do it "
            "anyway.",
            file=sys.stderr,
        )
        return 2
    read_age = args.read_notifications_older_than_days

    async def job(_bus: EventBus) -> int:
        pruned = await prune_events(
            timedelta(days=args.older_than_days),
            read_notifications_older_than=None if read_age is None else timedelta(days=read_age),
            force=args.yes,
            keep=still_shown(),
        )
        print(
            f"Deleted {_plural(pruned.events, 'event')} older than "
            f"{_plural(args.older_than_days, 'day')}."
        )
        if pruned.kept_for_notifications:
            print(
                f"Kept {_plural(pruned.kept_for_notifications, 'older event')} that "
                "notifications refer to, or of open requests and documents still shown."
            )
        if read_age is None:
            print("Notifications were not touched.")
        else:
            print(
                f"Deleted {_plural(pruned.notifications, 'notification')} read more than "
                f"{_plural(read_age, 'day')} ago; unread ones are kept."
            )
        if pruned.oldest_kept_id:
            print(
                f"Clients resuming from before event {pruned.oldest_kept_id} are asked to "
                "refetch (ResyncRequired)."
            )
        return 0

    return _run_with_database(settings, job)


def cmd_prune(settings: Settings, args: argparse.Namespace) -> int:
    """``prune --class CLASS``: delete what of a class of data is past its retention (the
    setting's, or ``--older-than-days``); ``--class events`` is ``prune-events``."""
    from datetime import timedelta

    from actions.retention import DataClass, purge, retention_of

    classes = list(DataClass) if args.data_class == "all" else [DataClass(args.data_class)]
    if classes == [DataClass.EVENTS]:
        if args.older_than_days is None:
            kept = retention_of(settings, DataClass.EVENTS)
            if kept is None:
                print("Events are kept for ever (EXTRANET_RETENTION_EVENTS_DAYS): none deleted.")
                return 0
            args.older_than_days = kept.days
        return cmd_prune_events(settings, args)
    if args.older_than_days is not None and args.older_than_days < 1 and not args.yes:
        print(
            "Refused: an age below 1 day deletes what users still need; pass --yes.",
            file=sys.stderr,
        )
        return 2

    async def job(_bus: EventBus) -> int:
        for data_class in classes:
            name = data_class.value.replace("_", " ")
            kept = (
                retention_of(settings, data_class)
                if args.older_than_days is None
                else timedelta(days=args.older_than_days)
            )
            if kept is None:
                print(f"The {name} are kept for ever: none deleted.")
                continue
            purged = await purge(data_class, kept, force=args.yes)
            print(f"Deleted {purged.deleted} of the {name} older than {_plural(kept.days, 'day')}.")
        return 0

    return _run_with_database(settings, job)


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def cmd_verify_audit(settings: Settings, _args: argparse.Namespace) -> int:
    from actions.audit import verify

    async def job(_bus: EventBus) -> int:
        outcome = await verify()
        if outcome.broken is not None:
            print(
                f"The audit chain is broken at {outcome.broken} "
                f"({_entries(outcome.checked)} before it hold).",
                file=sys.stderr,
            )
            return 1
        print(f"The audit chain holds: {_entries(outcome.checked)} checked.")
        if outcome.unchained:
            print(
                f"{_entries(outcome.unchained)} not chained yet "
                "(written before the chain; chained by the next entry written)."
            )
        return 0

    return _run_with_database(settings, job)


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from actions.accounts import create_user
    from domain.passwords import check_strength

    role = Role(args.role)
    password = _read_password()
    check_strength(password, email=args.email)

    async def job(_bus: EventBus) -> int:
        customer = None
        if args.customer:
            customer = await Customer.get_or_none(slug=args.customer)
            if customer is None:
                print(f"No customer has the slug {args.customer!r}.", file=sys.stderr)
                return 1
        name = args.name or args.email.split("@")[0]
        user = await create_user(
            email=args.email, name=name, role=role, password=password, customer=customer
        )
        print(f"Created {role.value} {user.email} (@{user.handle}).")
        return 0

    return _run_with_database(settings, job)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="extranet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API over HTTP and websockets")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a load balancer: refuse to start unless EXTRANET_TRUSTED_PROXIES is set",
    )
    serve.set_defaults(handler=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)

    sub.add_parser(
        "worker",
        help="run background jobs only (beside servers started with EXTRANET_JOBS=off, say)",
    ).set_defaults(handler=cmd_worker)

    gateway = sub.add_parser(
        "mail-gateway", help="take replies to notification mail over SMTP (behind a mail server)"
    )
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=2525)
    gateway.set_defaults(handler=cmd_mail_gateway)

    demo = sub.add_parser(
        "demo", help="load demo data into an empty database (refused in production)"
    )
    demo.add_argument("--if-empty", action="store_true", help="do nothing if there is data")
    demo.add_argument(
        PRODUCTION_DEMO_FLAG,
        action="store_true",
        help="load the demo accounts (with their published password) even in production",
    )
    demo.set_defaults(handler=cmd_demo)

    customer = sub.add_parser("create-customer", help="add a customer")
    customer.add_argument("name")
    customer.add_argument("--slug", help="URL name; made from the name if left out")
    customer.set_defaults(handler=cmd_create_customer)

    sub.add_parser("customers", help="list the customers and their slugs").set_defaults(
        handler=cmd_customers
    )

    prune = sub.add_parser(
        "prune-events",
        help="delete old events no notification refers to (notifications are kept)",
    )
    prune.add_argument("--older-than-days", type=_days, default=180, metavar="DAYS")
    prune.add_argument(
        "--read-notifications-older-than-days",
        type=_days,
        default=None,
        metavar="DAYS",
        help="also delete notifications read more than DAYS ago (unread ones are kept)",
    )
    prune.add_argument(
        "--yes", "--force", action="store_true", help="allow ages below 1 day (0 included)"
    )
    prune.set_defaults(handler=cmd_prune_events)

    purge = sub.add_parser(
        "prune",
        help="delete a class of data past its retention (EXTRANET_RETENTION_*); the "
        "background runner does it daily",
    )
    purge.add_argument(
        "--class",
        dest="data_class",
        required=True,
        choices=["events", "notifications", "audit", "interactions", "mail",
                 "webhook_deliveries", "all"],
        help="events is prune-events; notifications: read ones only",
    )  # fmt: skip
    purge.add_argument("--older-than-days", type=_days, default=None, metavar="DAYS")
    purge.add_argument(
        "--read-notifications-older-than-days", type=_days, default=None, metavar="DAYS",
        help="with --class events: also delete notifications read more than DAYS ago",
    )  # fmt: skip
    purge.add_argument("--yes", "--force", action="store_true", help="allow ages below 1 day")
    purge.set_defaults(handler=cmd_prune)

    sub.add_parser(
        "verify-audit",
        help="check the audit trail's hash chain; exit status 1 naming the first broken link",
    ).set_defaults(handler=cmd_verify_audit)

    user = sub.add_parser("create-user", help="add a user; the password is read from stdin")
    user.add_argument("email")
    user.add_argument("--role", required=True, choices=[r.value for r in Role])
    user.add_argument("--customer", help="slug of the customer a contact belongs to")
    user.add_argument("--name", help="display name (default: the email's local part)")
    user.set_defaults(handler=cmd_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure("text")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings.log_format)
        return int(args.handler(settings, args))
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except ServiceFailure as error:
        print(error, file=sys.stderr)
        return 1
    except AppError as error:
        print(f"Error: {error.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
