"""Command line: `python -m service <command>`."""

from __future__ import annotations

import argparse
import asyncio
import sys

# Importing the site's list of areas registers them for every command.
from service import areas  # noqa: F401
from service.config import Settings


def _migrate(_: argparse.Namespace) -> int:
    from service import db

    async def run() -> None:
        settings = Settings()
        try:
            await db.migrate(settings)
        finally:
            # Closed on a failure too: SQLite's connection thread would keep the process alive.
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

    return run_all(
        Settings(),
        host=args.host,
        port=args.port,
        web_processes=args.web_processes,
        workers=args.workers,
    )


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


def _rates(args: argparse.Namespace) -> int:
    """`rates import FILE`: the ECB's reference-rate CSV (daily or historic); `rates
    refresh`: recompute every reward's reference (after changing PLATFORM_CURRENCY)."""
    from pathlib import Path

    from service import db
    from service.accounts.actor import Actor
    from service.challenges import references
    from service.core.context import Context
    from service.core.errors import ServiceError
    from service.currencies import service as rates

    settings = Settings()
    ctx = Context(actor=Actor(), settings=settings, ip="command line")

    async def run() -> int:
        await db.init_db(settings)
        try:
            async with db.transaction(None):
                if args.action == "refresh":
                    updated = await references.refresh_all(settings)
                    print(f"{updated} challenge reference(s) updated.")
                    return 0
                result = await rates.import_ecb(ctx, text)
        except ServiceError as exc:
            problems = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.detail
            print(f"Nothing imported: {problems}", file=sys.stderr)
            return 2
        finally:
            await db.close_db()
        print(
            f"{result.days} day(s): {result.added} rate(s) added, {result.changed} changed, "
            f"{result.unchanged} already known; "
            f"{result.challenges_updated} challenge reference(s) updated."
        )
        return 0

    text = ""
    if args.action == "import":
        if not args.file:
            print("Name the CSV file to import.", file=sys.stderr)
            return 2
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"Nothing imported: {exc}", file=sys.stderr)
            return 2
    return asyncio.run(run())


def _i18n(args: argparse.Namespace) -> int:
    from service.core import i18n_tools

    return i18n_tools.main(args.action)


def _storage(args: argparse.Namespace) -> int:
    """`storage init`: create the bucket; `storage copy-to-s3 [FOLDER]`: copy the local
    upload folder into it (skips what is already there, so it can be run again)."""
    from pathlib import Path

    from service.integrations import s3

    source = Path(args.folder) if args.folder else None
    return asyncio.run(s3.command(Settings(), args.action, source=source))


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
    run = commands.add_parser(
        "run", help="web server and job workers (and an embedded Redis without REDIS_URL)"
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument(
        "--web-processes",
        type=int,
        default=None,
        metavar="N",
        help="web server processes on the one port (default: WEB_PROCESSES, else 1); on the "
        "SQLite default every process shares its file, so all must run on this machine",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="M",
        help="job worker processes (default: WORKER_PROCESSES, else 1)",
    )
    run.set_defaults(func=_run)
    operator = commands.add_parser("create-operator", help="create or promote an operator")
    operator.add_argument("email")
    operator.add_argument("--name", default="")
    operator.set_defaults(func=_create_operator)
    rates = commands.add_parser("rates", help="exchange rates: import an ECB file, or refresh")
    rates.add_argument("action", choices=["import", "refresh"])
    rates.add_argument("file", nargs="?", help="eurofxref.csv or eurofxref-hist.csv")
    rates.set_defaults(func=_rates)
    i18n = commands.add_parser("i18n", help="message catalogs")
    i18n.add_argument("action", choices=["extract", "update", "check"])
    i18n.set_defaults(func=_i18n)
    storage = commands.add_parser("storage", help="uploaded files in an S3-compatible bucket")
    storage.add_argument("action", choices=["init", "copy-to-s3"])
    storage.add_argument("folder", nargs="?", help="copy-to-s3: the folder (default STORAGE_DIR)")
    storage.set_defaults(func=_storage)
    fake_stripe = commands.add_parser("fake-stripe", help="local fake Stripe API server")
    from service.integrations.fake_stripe.cli import add_arguments

    add_arguments(fake_stripe)
    fake_stripe.set_defaults(func=_fake_stripe)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
