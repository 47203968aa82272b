"""The ``extranet`` command: serve, migrate, load demo data, create customers and users."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from app.db import close_database, migrate, open_database
from app.errors import AppError
from app.settings import Settings, SettingsError, load_settings
from models import Customer, Role
from realtime.bus import EventBus


def _run_with_database(settings: Settings, job: Callable[[EventBus], Awaitable[int]]) -> int:
    async def main() -> int:
        await open_database(settings.database_url)
        bus = EventBus(settings.broadcast_url, settings.broadcast_namespace)
        await bus.connect()
        try:
            return await job(bus)
        finally:
            await bus.disconnect()
            await close_database()

    return asyncio.run(main())


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if args.proxy_headers and not settings.trusted_proxies:
        print(
            "--proxy-headers needs EXTRANET_TRUSTED_PROXIES: the load balancers' addresses or "
            "networks (only they may name the client in X-Forwarded-For).",
            file=sys.stderr,
        )
        return 2
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # X-Forwarded-For is read by the application, from EXTRANET_TRUSTED_PROXIES only
        proxy_headers=False,
        log_level="info",
        # a dead connection is noticed within 20 s: page presence drops it within 30 s
        ws_ping_interval=10.0,
        ws_ping_timeout=10.0,
        ws_max_size=settings.max_body_bytes,  # a larger message closes the socket (1009)
    )
    return 0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    asyncio.run(migrate(settings.database_url))
    print("Database is up to date.")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import DEMO_PASSWORD, DEMO_USERS, database_is_empty, load_demo

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
    from app.actions.customers import create_customer

    async def job(_bus: EventBus) -> int:
        customer = await create_customer(None, name=args.name, slug=args.slug)
        print(f"Created customer {customer.name!r} with slug {customer.slug!r}.")
        return 0

    return _run_with_database(settings, job)


def cmd_prune_events(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from app.actions.events import prune_events

    async def job(_bus: EventBus) -> int:
        deleted = await prune_events(timedelta(days=args.older_than_days))
        print(f"Pruned {deleted} events older than {args.older_than_days} days.")
        return 0

    return _run_with_database(settings, job)


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from app.actions.accounts import create_user
    from app.passwords import check_strength

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

    demo = sub.add_parser("demo", help="load demo data into an empty database")
    demo.add_argument("--if-empty", action="store_true", help="do nothing if there is data")
    demo.set_defaults(handler=cmd_demo)

    customer = sub.add_parser("create-customer", help="add a customer")
    customer.add_argument("name")
    customer.add_argument("--slug", help="URL name; made from the name if left out")
    customer.set_defaults(handler=cmd_create_customer)

    prune = sub.add_parser("prune-events", help="delete old events from the event log")
    prune.add_argument("--older-than-days", type=int, default=180)
    prune.set_defaults(handler=cmd_prune_events)

    user = sub.add_parser("create-user", help="add a user; the password is read from stdin")
    user.add_argument("email")
    user.add_argument("--role", required=True, choices=[r.value for r in Role])
    user.add_argument("--customer", help="slug of the customer a contact belongs to")
    user.add_argument("--name", help="display name (default: the email's local part)")
    user.set_defaults(handler=cmd_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(settings, args))
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except AppError as error:
        print(f"Error: {error.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
