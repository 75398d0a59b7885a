"""User administration used by ``casehall users``: add, list, disable, enable, reset-password, unlock, sign-ins.
Changes are recorded in the account changes (``admin_changes``) as made by ``cli:<system user>``.

Passwords set here pass the minimum policy (``casehall.core.security.check_password_policy``); the demo users are
seeded directly with the demo password and do not."""

import asyncio
import getpass
from collections.abc import Coroutine
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from casehall.core.db import open_sessions, transaction
from casehall.core.security import check_password_policy, hash_password
from casehall.core.settings import Settings
from casehall.models.enums import Role
from casehall.models.tables import SignInLog, User
from casehall.stack.runtime import StartupError, check_database
from casehall.store import accounts

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


async def create_user(settings: Settings, username: str, role: str, department: str, name: str, password: str
                      ) -> User:
    """Create a user; a clear ValueError for a bad role, department, password or a taken name."""
    if role not in {r.value for r in Role}:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}")
    check_password_policy(password, username)
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, transaction(sessions) as session:
        return await accounts.create_user(session, operator(), username, name, role, department,
                                          hash_password(password))


def operator() -> accounts.Changer:
    """The command line as the author of a change (recorded in the account changes): the system account running it."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "unknown"
    return accounts.Changer(None, f"cli:{name}"[:64], "command line")


async def list_accounts(settings: Settings) -> list[accounts.Account]:
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
        return await accounts.accounts(session)


async def list_locks(settings: Settings) -> list[accounts.Lock]:
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
        return await accounts.locks(session)


async def set_active(settings: Settings, username: str, active: bool) -> User:
    """Enable or disable a user (disabling ends their sessions at once)."""
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, transaction(sessions) as session:
        return await accounts.set_active(session, username, active, operator())


async def reset_password(settings: Settings, username: str, password: str) -> User:
    """A new password (policy checked); ends the user's sessions and lifts the lock on their name."""
    check_password_policy(password, username)
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, transaction(sessions) as session:
        return await accounts.set_password_hash(session, username, hash_password(password), operator())


async def unlock(settings: Settings, scope: str, subject: str) -> bool:
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, transaction(sessions) as session:
        return await accounts.unlock(session, scope, subject, operator())


async def sign_ins(settings: Settings, username: str | None, limit: int) -> list[SignInLog]:
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
        return await accounts.sign_ins(session, username, limit)


# --- the commands, registered on main.py's ``users`` group ---

def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(coro)
    except (StartupError, LookupError, ValueError) as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(1) from None


def _when(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return "-"
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def _new_password(password: str | None) -> str:
    if password:
        return password
    first = getpass.getpass("new password: ")
    if first != getpass.getpass("again: "):
        err_console.print("[red]error:[/red] the two passwords differ")
        raise typer.Exit(1)
    return first


def register(users: typer.Typer) -> None:
    """Add the account commands to ``casehall users``."""

    @users.command("list")
    def list_cmd() -> None:
        """Every user: role, department, active or disabled, last sign-in, lock; then the locked addresses."""
        settings = Settings()
        found: list[accounts.Account] = _run(list_accounts(settings))
        table = Table("username", "name", "role", "department", "status", "last sign-in", "locked until")
        for acc in found:
            u = acc.user
            table.add_row(escape(u.username), escape(u.display_name), u.role, u.department_code,
                          "active" if u.active else "[red]disabled[/red]", _when(acc.last_sign_in, settings),
                          f"[red]{_when(acc.locked_until, settings)}[/red]" if acc.locked_until else "-")
        console.print(table)
        for lock in _run(list_locks(settings)):
            console.print(f"locked: {lock.scope} {escape(lock.subject)} until {_when(lock.locked_until, settings)} "
                          f"(casehall users unlock{' --address' if lock.scope == accounts.ADDRESS else ''} "
                          f"{escape(lock.subject)})")

    @users.command("disable")
    def disable_cmd(username: str) -> None:
        """Disable a user: they cannot log in and their sessions end at once."""
        user = _run(set_active(Settings(), username, False))
        console.print(f"disabled {escape(user.username)}; their sessions are ended")

    @users.command("enable")
    def enable_cmd(username: str) -> None:
        """Enable a disabled user again."""
        user = _run(set_active(Settings(), username, True))
        console.print(f"enabled {escape(user.username)}")

    @users.command("reset-password")
    def reset_cmd(
        username: str,
        password: Annotated[str | None, typer.Option(help="the new password (asked for when omitted)")] = None,
    ) -> None:
        """Set a new password (at least 10 characters of two kinds, not the username); ends the user's sessions
        and lifts the lock on their name."""
        user = _run(reset_password(Settings(), username, _new_password(password)))
        console.print(f"new password set for {escape(user.username)}; their sessions are ended")

    @users.command("unlock")
    def unlock_cmd(
        subject: Annotated[str, typer.Argument(help="the username (or, with --address, the address)")],
        address: Annotated[bool, typer.Option("--address", help="SUBJECT is an address")] = False,
    ) -> None:
        """Lift a lock set after failed log-ins."""
        scope = accounts.ADDRESS if address else accounts.USER
        if not _run(unlock(Settings(), scope, subject)):
            err_console.print(f"[red]error:[/red] no lock on {scope} {escape(subject)}")
            raise typer.Exit(1)
        console.print(f"unlocked {scope} {escape(subject)}")

    @users.command("sign-ins")
    def sign_ins_cmd(
        username: Annotated[str | None, typer.Argument(help="only this username")] = None,
        limit: Annotated[int, typer.Option(help="how many entries, newest first")] = 50,
    ) -> None:
        """The sign-in log: log-ins, refusals, log-outs and idle time-outs."""
        settings = Settings()
        table = Table("at", "username", "outcome", "address")
        for entry in _run(sign_ins(settings, username, limit)):
            style = "" if entry.outcome in ("ok", "logout") else "[red]"
            table.add_row(_when(entry.at, settings), escape(entry.username), f"{style}{entry.outcome}",
                          escape(entry.address))
        console.print(table)
