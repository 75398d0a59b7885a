"""``casehall``: the one command for operators."""

import asyncio
import gc
import getpass
import os
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
from casehall.core.loop import event_loop_factory
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


class _StopSignals:
    """SIGTERM (a service manager's stop) and SIGINT (Ctrl-C) while a command runs. The first cancels the command's
    coroutine, which stops cleanly (never a KeyboardInterrupt raised wherever the loop happens to be: asyncio would
    then cancel every task at once, the Temporal SDK's pollers included, and wait for them without limit). The same
    signal again ends the process at once; another one is the same stop (`casehall up` sends its worker a SIGTERM
    after the terminal's Ctrl-C reached both). With ``limit``, the process ends ``limit`` seconds after the first
    signal at the latest: SIGALRM's default action, which no stuck thread or runtime holds up."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.received: int | None = None
        self.task: asyncio.Task[Any] | None = None

    def handle(self, signum: int, frame: object) -> None:
        if signum == self.received:
            os.write(2, f"{signal.Signals(signum).name} again: exiting at once\n".encode())
            os._exit(128 + signum)
        if self.received is not None:
            return
        self.received = signum
        if self.limit:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(self.limit)
        if self.task is not None:
            self.task.get_loop().call_soon_threadsafe(self.task.cancel)

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        self.task = asyncio.current_task()
        if self.received is not None:  # stopped before it started
            coro.close()
            raise asyncio.CancelledError
        return await coro


def _run(coro: Coroutine[Any, Any, Any], stop_limit: int | None = None) -> Any:
    """Run a coroutine; an operator error ends with one line and exit code 1, SIGTERM or Ctrl-C with a clean stop
    and exit code 0 (see ``_StopSignals``; ``stop_limit`` bounds that stop in seconds)."""
    stop = _StopSignals(stop_limit)
    previous = {sig: signal.signal(sig, stop.handle) for sig in stop.SIGNALS}
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            return runner.run(stop.run(coro))
    except (StartupError, ServiceError, ValueError) as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(1) from None
    except asyncio.CancelledError:
        if stop.received is None:
            raise
        return None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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

    from casehall.worker import DISPOSE_SECONDS, SHUTDOWN_SECONDS

    _run(main(), stop_limit=SHUTDOWN_SECONDS + DISPOSE_SECONDS + 5)  # the worker's own bounds, then a margin
    # The interpreter's exit would garbage-collect the SDK's heap, module by module: 10-20 s on a loaded machine
    # (measured); the objects frozen, the process exits in well under a second.
    gc.freeze()


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
