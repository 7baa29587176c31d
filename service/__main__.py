"""Command line: `python -m service <command>`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from service.config import Settings


def _migrate(_: argparse.Namespace) -> int:
    from service import db

    async def run() -> None:
        settings = Settings()
        await db.migrate(settings)
        await db.close_db()

    asyncio.run(run())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from service import demo

    return asyncio.run(demo.main(Settings(), only_if_empty=args.if_empty))


def _worker(_: argparse.Namespace) -> int:
    from service.runner import run_worker

    return run_worker(Settings())


def _run(args: argparse.Namespace) -> int:
    from service.runner import run_all

    return run_all(Settings(), host=args.host, port=args.port)


def _create_operator(args: argparse.Namespace) -> int:
    """The first operator: password read from standard input (twice when it is a terminal)."""
    import getpass

    from service import db
    from service.accounts.actor import Actor
    from service.accounts.service import create_operator
    from service.core.context import Context
    from service.core.errors import ServiceError

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    settings = Settings()

    async def run() -> int:
        await db.init_db(settings)
        try:
            async with db.transaction(None):
                user = await create_operator(
                    email=args.email,
                    password=password,
                    name=args.name or args.email,
                    ctx=Context(actor=Actor(), settings=settings, ip="command line"),
                )
        except ServiceError as exc:
            problems = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.detail
            print(f"Not created: {problems}", file=sys.stderr)
            return 2
        finally:
            await db.close_db()
        print(f"{user.email} is an operator.")
        return 0

    return asyncio.run(run())


def _i18n(args: argparse.Namespace) -> int:
    from service.core import i18n_tools

    return i18n_tools.main(args.action)


def _fake_stripe(args: argparse.Namespace) -> int:
    from service.integrations.fake_stripe import cli

    return cli.run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    demo = commands.add_parser("demo", help="seed demo data")
    demo.add_argument("--if-empty", action="store_true", help="only when there is no data yet")
    demo.set_defaults(func=_demo)
    commands.add_parser("worker", help="run the job worker").set_defaults(func=_worker)
    run = commands.add_parser("run", help="embedded Redis + web server + worker, for development")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.set_defaults(func=_run)
    operator = commands.add_parser("create-operator", help="create or promote an operator")
    operator.add_argument("email")
    operator.add_argument("--name", default="")
    operator.set_defaults(func=_create_operator)
    i18n = commands.add_parser("i18n", help="message catalogs")
    i18n.add_argument("action", choices=["extract", "update", "check"])
    i18n.set_defaults(func=_i18n)
    fake_stripe = commands.add_parser("fake-stripe", help="local fake Stripe API server")
    from service.integrations.fake_stripe.cli import add_arguments

    add_arguments(fake_stripe)
    fake_stripe.set_defaults(func=_fake_stripe)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
