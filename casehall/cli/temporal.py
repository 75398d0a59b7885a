"""``casehall temporal``: what casehall needs from a Temporal cluster it did not start.

``register-search-attributes`` adds casehall's search attributes (CaseNo, DepartmentCode, ItemCode, CaseStatus,
Deadline, DeadlineProvisional, Overdue, Kind) to the namespace through the operator service; idempotent. The
embedded dev server gets them at start, and a worker adds the missing ones at its start when it may; run this where
workers have no operator rights (the compose stack's set-up step does)."""

import asyncio

import typer
from rich.console import Console

from casehall.core.settings import Settings
from casehall.stack.runtime import StartupError, connect_temporal
from casehall.workflows.observability import (
    SearchAttributeConflict,
    describe,
    missing_search_attributes,
    register_search_attributes,
)

temporal_app = typer.Typer(help="The Temporal cluster: search attributes.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


@temporal_app.command("register-search-attributes")
def register() -> None:
    """Add casehall's search attributes to CASEHALL_TEMPORAL_NAMESPACE (those it lacks)."""
    settings = Settings()

    async def main() -> list[str]:
        client = await connect_temporal(settings)
        return await register_search_attributes(client, settings.temporal_namespace)

    try:
        added = asyncio.run(main())
    except (StartupError, SearchAttributeConflict) as err:
        raise _fail(str(err)) from None
    except Exception as err:  # noqa: BLE001 - an RPC refusal (permissions, unknown namespace): one line
        raise _fail(f"cannot register search attributes in namespace {settings.temporal_namespace}: "
                    f"{getattr(err, 'message', None) or err}") from None
    if added:
        console.print(f"registered in {settings.temporal_namespace}: {', '.join(added)}")
    else:
        console.print(f"{settings.temporal_namespace} has every casehall search attribute already")


@temporal_app.command("search-attributes")
def show() -> None:
    """List casehall's search attributes and whether the namespace has them."""
    settings = Settings()

    async def main() -> set[str]:
        client = await connect_temporal(settings)
        return {key.name for key in await missing_search_attributes(client, settings.temporal_namespace)}

    try:
        missing = asyncio.run(main())
    except (StartupError, SearchAttributeConflict) as err:
        raise _fail(str(err)) from None
    for name, kind in describe():
        console.print(f"{name:<22}{kind:<10}{'missing' if name in missing else 'registered'}")
    if missing:
        raise typer.Exit(1)
