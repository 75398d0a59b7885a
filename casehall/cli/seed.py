"""``casehall seed``: put demonstration data into a migrated database (a production database starts empty)."""

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from alembic.script import ScriptDirectory
from rich.console import Console
from rich.markup import escape
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from casehall.core.db import open_sessions
from casehall.core.settings import Settings
from casehall.stack.runtime import StartupError, check_database
from casehall.stack.seed import DEMO_PASSWORD, DEPARTMENTS, ITEMS, seed_demo
from casehall.store.migrate import alembic_config

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error stays on one line
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; an operator error ends with one line and exit code 1."""
    try:
        return asyncio.run(coro)
    except (StartupError, ValueError) as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}", highlight=False)
        raise typer.Exit(1) from None


async def schema_revision(url: str) -> str | None:
    """The Alembic revision the database is at; None when it was never migrated."""
    async with open_sessions(url, pool_size=1) as sessions, sessions() as session:
        try:
            return await session.scalar(text("SELECT version_num FROM alembic_version"))
        except ProgrammingError:  # no alembic_version table
            return None


async def seed_demo_data(settings: Settings) -> list[tuple[str, str]]:
    """Upsert the demo departments, catalogue and users (idempotent); a ValueError if the schema is not current."""
    await check_database(settings)
    url = settings.resolved_database_url()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    current = await schema_revision(url)
    if current != head:
        raise ValueError(f"the database schema is at revision {current or '(none)'}, not {head}: "
                         "run `casehall migrate` first")
    async with open_sessions(url) as sessions:
        return await seed_demo(sessions)


def seed(
    demo: Annotated[bool, typer.Option("--demo", help="The demo departments, catalogue and users (one per role).")]
    = False,
) -> None:
    """Seed a migrated database; safe to run again (existing users keep their passwords)."""
    if not demo:
        err_console.print("[red]error:[/red] nothing to seed: pass --demo for the demo departments, catalogue "
                          "and users", highlight=False)
        raise typer.Exit(2)
    logins = _run(seed_demo_data(Settings()))
    names = ", ".join(f"{user} ({role})" for user, role in logins)
    console.print(f"demo data in place: {len(DEPARTMENTS)} departments, {len(ITEMS)} service items, "
                  f"{len(logins)} users", highlight=False)
    console.print(escape(f"demo log-ins (password '{DEMO_PASSWORD}' for new users): {names}"), highlight=False)
    console.print("[yellow]demo users have a published password: do not seed them on a public hall[/yellow]")
