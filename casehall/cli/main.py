"""``casehall``: the one command for operators."""

import asyncio
import getpass
import signal
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
from rich.console import Console

from casehall.cli import backup as backup_cli
from casehall.cli import users as users_cli
from casehall.cli.audit import audit_app
from casehall.cli.calendar import calendar_app
from casehall.cli.cases import cases_app
from casehall.cli.keys import keys_app
from casehall.cli.report import report_app
from casehall.cli.seed import seed
from casehall.cli.temporal import temporal_app
from casehall.core.logs import configure_logging
from casehall.core.metrics import install_worker_metrics
from casehall.core.settings import Settings
from casehall.stack.embedded import (
    EmbeddedPostgres,
    ServiceError,
    TemporalDevServer,
    ensure_codec_key_file,
    require_free,
)
from casehall.stack.runtime import (
    StartupError,
    check_database,
    check_schema,
    connect_temporal,
    prepare_database,
    serve,
    serve_api_processes,
)

app = typer.Typer(help="casehall: case workflows for service halls and citizen hotlines.", no_args_is_help=True)
users = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(calendar_app, name="calendar")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(cases_app, name="cases")
app.add_typer(temporal_app, name="temporal")
app.add_typer(report_app, name="report")
users_cli.register(users)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error stays on one line


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine; an operator error ends with one line and exit code 1, Ctrl-C (or SIGTERM) quietly."""
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop takes the same clean path as Ctrl-C
    try:
        return asyncio.run(coro)
    except (StartupError, ServiceError, ValueError) as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        return None


@app.command()
def migrate() -> None:
    """Apply the database migrations."""
    _run(prepare_database(Settings(), seed=False))
    console.print("database schema is up to date")


@app.command()
def worker() -> None:
    """Run the workflow worker (the schema must be migrated: `casehall migrate`)."""
    settings = Settings()
    configure_logging(settings)

    async def main() -> None:
        install_worker_metrics(settings)  # CASEHALL_WORKER_METRICS_ADDRESS, before any client connects
        await check_database(settings)
        await check_schema(settings)
        await serve(settings, await connect_temporal(settings), with_worker=True, with_api=False)

    _run(main())


@app.command()
def api() -> None:
    """Run the HTTP API (OpenAPI docs at /docs); never migrates: run `casehall migrate` first. With
    CASEHALL_API_WORKERS > 1, that many uvicorn worker processes."""
    settings = Settings()
    configure_logging(settings)

    async def checks() -> None:
        await check_database(settings)
        await check_schema(settings)
        await connect_temporal(settings)

    async def main() -> None:
        await check_database(settings)
        await check_schema(settings)
        await serve(settings, await connect_temporal(settings), with_worker=False, with_api=True)

    if settings.api_workers > 1:
        _run(checks())  # one clear line for an unreachable database or Temporal, before any process starts
        serve_api_processes(settings)
    else:
        _run(main())


@app.command()
def up(demo: Annotated[bool, typer.Option(help="Seed demo departments, users and catalogue.")] = True) -> None:
    """Run everything on this machine: PostgreSQL and Temporal (embedded unless configured), the worker (a process
    of its own) and the API."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    postgres: EmbeddedPostgres | None = None
    temporal: TemporalDevServer | None = None
    try:
        require_free(settings.api_port, "CASEHALL_API_PORT", "API")
        if settings.embedded_database:
            require_free(settings.postgres_port, "CASEHALL_POSTGRES_PORT", "PostgreSQL")
        if settings.embedded_temporal:
            require_free(settings.temporal_port, "CASEHALL_TEMPORAL_PORT", "Temporal")
            require_free(settings.temporal_ui_port, "CASEHALL_TEMPORAL_UI_PORT", "Temporal UI")
        if settings.embedded_database:
            console.print("starting PostgreSQL ...")
            postgres = EmbeddedPostgres(settings.data_dir / "pgdata", settings.postgres_port)
            postgres.start()
        if settings.embedded_temporal:
            console.print("starting Temporal ...")
            if settings.codec_keys is None and ensure_codec_key_file(settings.data_dir):
                console.print(f"created the payload key file {settings.data_dir / 'codec.keys'}: keep a copy apart")
            temporal = TemporalDevServer(settings.data_dir / "temporal", settings.temporal_port,
                                         settings.temporal_ui_port, settings.temporal_namespace,
                                         codec_endpoint=f"http://{settings.api_host}:{settings.api_port}/codec")
            temporal.start()
    except ServiceError as err:
        err_console.print(f"[red]error:[/red] {err}")
        _stop(postgres, temporal)
        raise typer.Exit(1) from None

    configure_logging(settings)

    async def main() -> None:
        logins = await prepare_database(settings, seed=demo)
        client = await connect_temporal(settings)
        _banner(settings, logins)
        await serve(settings, client, with_worker=True, with_api=True, separate_worker=True)

    try:
        _run(main())
    finally:
        if postgres or temporal:
            console.print("stopping ...")
        _stop(postgres, temporal)


def _stop(postgres: EmbeddedPostgres | None, temporal: TemporalDevServer | None) -> None:
    if temporal:
        temporal.stop()
    if postgres:
        postgres.stop()


def _banner(settings: Settings, logins: list[tuple[str, str]]) -> None:
    from casehall.stack.seed import DEMO_PASSWORD

    base = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"[bold green]casehall is running[/bold green]  API {base}  docs {base}/docs  health {base}/healthz")
    if settings.embedded_temporal:
        console.print(f"Temporal UI http://127.0.0.1:{settings.temporal_ui_port}")
    if logins:
        names = ", ".join(f"{user} ({role})" for user, role in logins)
        console.print(f"demo log-ins (password '{DEMO_PASSWORD}'): {names}")
    console.print("press Ctrl-C to stop")


backup_cli.register(app)
app.command()(seed)  # after up: `casehall --help` lists the commands in the order an operator needs them


@users.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="clerk, manager, director, auditor or admin")],
    department: Annotated[str, typer.Option(help="department code, e.g. MKT")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password: Annotated[str | None, typer.Option(help="password (asked for when omitted)")] = None,
) -> None:
    """Create a user."""
    from casehall.cli.users import create_user

    secret = password or getpass.getpass("password: ")
    user = _run(create_user(Settings(), username, role, department, name or username, secret))
    if user is not None:
        console.print(f"created {user.username} ({user.role}, {user.department_code})")


if __name__ == "__main__":
    app()
