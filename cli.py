"""Operator commands: `serve`, `migrate`, `token`, `demo-link`, `grant-admin`, `prune`.

python cli.py serve [--host H] [--port P]   serve the app with the serving limits (serving.py)
python cli.py migrate                       apply migrations (idempotent), seed the catalog
python cli.py token NAME [--admin] [--email E] [--hours H]
                                            print a signed JWT for local use
python cli.py demo-link [NAME] [--admin] [--base-url URL]
                                            print a link that opens the settings page signed in
python cli.py grant-admin NAME              make an existing account an administrator
python cli.py schema                        print the GraphQL schema (SDL)
python cli.py prune                         delete alert events past ALERT_RETENTION_DAYS
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as apply_migrations
from tortoise.migrations.autodetector import MigrationAutodetector

import config
import serving
from auth.accounts import user_for_claims
from auth.tokens import USERNAME, Claims, issue_token
from models.entity import name_key
from models.user import User
from notifiers import retention
from seed import seed_catalog


async def _with_orm(action: Callable[[], Awaitable[int]]) -> int:
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        return await action()
    finally:
        await Tortoise.close_connections()


async def migrate() -> int:
    try:
        await apply_migrations(config=config.TORTOISE_ORM)
    finally:
        await Tortoise.close_connections()
    await _with_orm(seed_catalog)
    print(f"Database is up to date ({config.database_kind()}).")
    return 0


async def _signed_token(username: str, *, admin: bool, email: str | None, hours: float) -> str:
    """A token for `username`, whose account is created (and made an admin) first if asked."""
    if admin:

        async def make_admin() -> int:
            claims = Claims(username=username, email=email or "", name=username, issued_at=None)
            account = await user_for_claims(claims)
            await User.filter(id=account.id).update(admin=True)
            return 0

        await _with_orm(make_admin)
    return issue_token(username, email=email, ttl_seconds=int(hours * 3600))


def _valid_username(username: str) -> bool:
    if USERNAME.fullmatch(username):
        return True
    print(f"'{username}' is not a valid username: letters, digits, '-' and '_'.")
    return False


async def token(username: str, *, admin: bool, email: str | None, hours: float) -> int:
    if not _valid_username(username):
        return 2
    print(await _signed_token(username, admin=admin, email=email, hours=hours))
    return 0


async def demo_link(
    username: str, *, admin: bool, email: str | None, hours: float, base_url: str
) -> int:
    """The settings page's address with a fresh token in its fragment, which browsers
    never send to a server; the page moves it to sessionStorage and clears it."""
    if not _valid_username(username):
        return 2
    email = email or f"{username}@example.com"
    signed = await _signed_token(username, admin=admin, email=email, hours=hours)
    print(f"{base_url.rstrip('/')}/settings#token={signed}")
    return 0


async def grant_admin(username: str) -> int:
    async def grant() -> int:
        updated = await User.filter(entity__name_key=name_key(username)).update(admin=True)
        if not updated:
            print(f"No account named '{username}'. It is created when it first signs in.")
            return 1
        print(f"'{username}' is now an administrator.")
        return 0

    return await _with_orm(grant)


async def prune() -> int:
    async def pruned() -> int:
        deleted = await retention.prune()
        print(f"Deleted {deleted} rows: alert events past the retention and their deliveries.")
        return 0

    return await _with_orm(pruned)


async def check_migrations() -> int:
    """Exit 1 when the models differ from what the committed migrations build."""
    settings = config.tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as context:
        await context.init(config=settings)
        detector = MigrationAutodetector(context.apps, settings["apps"])  # type: ignore[arg-type]
        pending = await detector.changes()
    for writer in pending:
        print(f"Models changed without a migration: {writer.app_label}.{writer.name}")
    if pending:
        print("Run: .venv/bin/tortoise makemigrations")
        return 1
    print("Migrations match the models.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the app with the serving limits")
    serve_parser.add_argument("--host", default="127.0.0.1", help="(127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="(8000)")
    serve_parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    commands.add_parser("migrate", help="apply migrations and seed the beta-feature catalog")
    token_parser = commands.add_parser("token", help="print a signed JWT for local use")
    token_parser.add_argument("username")
    token_parser.add_argument("--admin", action="store_true", help="also make it an admin")
    token_parser.add_argument("--email")
    token_parser.add_argument("--hours", type=float, default=24 * 7, help="lifetime (168)")
    link_parser = commands.add_parser(
        "demo-link", help="print a link that opens the settings page signed in"
    )
    link_parser.add_argument("username", nargs="?", default="demo")
    link_parser.add_argument("--admin", action="store_true", help="also make it an admin")
    link_parser.add_argument("--email", help="(NAME@example.com)")
    link_parser.add_argument("--hours", type=float, default=24.0, help="lifetime (24)")
    link_parser.add_argument("--base-url", default=config.PUBLIC_URL, help="(PUBLIC_URL)")
    admin_parser = commands.add_parser("grant-admin", help="make an account an administrator")
    admin_parser.add_argument("username")
    commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    commands.add_parser("check-migrations", help="fail if models changed without a migration")
    commands.add_parser("prune", help="delete alert events past ALERT_RETENTION_DAYS")
    args = parser.parse_args(argv)

    if args.command == "serve":
        return serving.serve(args.host, args.port, log_level=args.log_level)
    if args.command == "migrate":
        return asyncio.run(migrate())
    if args.command == "token":
        return asyncio.run(
            token(args.username, admin=args.admin, email=args.email, hours=args.hours)
        )
    if args.command == "demo-link":
        return asyncio.run(
            demo_link(
                args.username,
                admin=args.admin,
                email=args.email,
                hours=args.hours,
                base_url=args.base_url,
            )
        )
    if args.command == "check-migrations":
        return asyncio.run(check_migrations())
    if args.command == "prune":
        return asyncio.run(prune())
    if args.command == "schema":
        from schema import schema

        print(schema.as_str())
        return 0
    return asyncio.run(grant_admin(args.username))


if __name__ == "__main__":
    sys.exit(main())
