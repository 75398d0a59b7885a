"""``casehall cases``: find cases whose work the database refused, and send them on once repaired."""

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from casehall.core.db import open_sessions
from casehall.core.settings import Settings
from casehall.models.ids import CASE_PREFIX, CONSULTATION_PREFIX, case_workflow_id
from casehall.stack.runtime import StartupError, check_database, connect_temporal
from casehall.store.failing import unresolved

cases_app = typer.Typer(help="Cases with failing work: list them, retry them once repaired.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)
REPAIR = ("Repair: the error names what PostgreSQL refused (e.g. a department or user that no longer exists, "
          "text it cannot store). Fix the data (restore the row, or correct it with SQL), then "
          "`casehall cases retry <case or workflow id>`: the case records the waiting transition and goes on.")


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(coro)
    except (StartupError, ValueError) as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}", highlight=False)
        raise typer.Exit(1) from None


@cases_app.command("failing")
def failing() -> None:
    """List every transition the database refused and that waits for an operator (exit 1 if there is any)."""
    settings = Settings()

    async def main() -> int:
        await check_database(settings)
        async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
            rows = await unresolved(session)
        if not rows:
            console.print("no failing work")
            return 0
        table = Table("workflow", "seq", "event", "since", "error")
        for row in rows:
            table.add_row(row.workflow_id, str(row.seq), row.event_type, row.failed_at.isoformat(), escape(row.error))
        console.print(table)
        console.print(REPAIR)
        return 1

    if _run(main()):
        raise typer.Exit(1)


@cases_app.command("retry")
def retry(target: Annotated[str, typer.Argument(help="a case number (HALL-...) or a workflow id")]) -> None:
    """Tell a case (or consultation) to try its refused transition again."""
    settings = Settings()
    workflow_id = target if target.startswith((CASE_PREFIX, CONSULTATION_PREFIX)) else case_workflow_id(target)

    async def main() -> None:
        client = await connect_temporal(settings)
        await client.get_workflow_handle(workflow_id).signal("retry_failed_work")
        console.print(f"{workflow_id}: asked to retry; `casehall cases failing` shows whether it is stored now")

    _run(main())
