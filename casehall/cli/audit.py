"""``casehall audit``: verify chains, anchor them, show timelines, archive histories, replay cases, export."""

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.audit import archive as archive_mod
from casehall.audit import chain as chain_mod
from casehall.audit import checks, timeline
from casehall.audit.export import export_cases, to_csv
from casehall.audit.order_replay import OrderReplayReport, is_order_no, replay_order
from casehall.audit.orders import verify_orders
from casehall.cli.audit_render import audit_table, chain_table, replay_lines, timeline_table
from casehall.core.codec import data_converter
from casehall.core.db import open_sessions
from casehall.core.settings import Settings
from casehall.stack.runtime import StartupError, connect_temporal

audit_app = typer.Typer(help="Audit cases: hash chains, anchors, timelines, history archive, replay, export.",
                        no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
Sessions = async_sessionmaker[AsyncSession]


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(coro)
    except (StartupError, LookupError, ValueError, chain_mod.ChainBroken) as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(1) from None


def _moment(text: str | None, settings: Settings) -> datetime | None:
    return timeline.aware(datetime.fromisoformat(text), settings.timezone) if text else None


def _fail_unless(ok: bool) -> None:
    if not ok:
        raise typer.Exit(1)


@audit_app.command()
def verify(case: Annotated[list[str] | None, typer.Option(help="only these cases or orders (repeatable)")] = None
           ) -> None:
    """Verify the hash chains of cases (against the newest anchor) and of hotline orders; exit 1 on any broken
    link."""
    settings = Settings()

    cases = [c for c in case or [] if not is_order_no(c)]
    orders = [c for c in case or [] if is_order_no(c)]

    async def main() -> tuple[chain_mod.ChainVerification, list[chain_mod.ChainReport]]:
        async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
            return (await chain_mod.verify_chains(session, cases or None),
                    await verify_orders(session, orders or None) if orders or not case else [])

    result, order_reports = _run(main())
    anchor = result.anchor
    console.print(f"anchor: #{anchor.id} of {anchor.anchored_at:%Y-%m-%d %H:%M:%S%z} ({anchor.case_count} cases)"
                  if anchor else "anchor: none yet (run 'casehall audit anchor')")
    if not result.anchor_intact:
        console.print("[red]the newest anchor was altered: its digest does not match its heads[/red]")
    if result.broken:
        console.print(chain_table(result.broken))
    console.print(f"{len(result.reports)} chains, {len(result.broken)} broken")
    broken_orders = [r for r in order_reports if not r.ok]
    if broken_orders:
        console.print(chain_table(broken_orders))
    console.print(f"{len(order_reports)} order chains, {len(broken_orders)} broken")
    _fail_unless(result.ok and not broken_orders)


@audit_app.command()
def anchor(force: Annotated[bool, typer.Option(help="anchor even if some chain is broken")] = False) -> None:
    """Anchor the head of every chain; publish the printed digest outside the database."""
    settings = Settings()

    async def main() -> Any:
        async with open_sessions(settings.resolved_database_url()) as sessions:
            return await chain_mod.anchor_chains(sessions, force=force)

    made = _run(main())
    console.print(f"anchor #{made.id} at {made.anchored_at.isoformat()}: {made.case_count} cases, digest {made.digest}")


@audit_app.command()
def show(case_no: str, as_of: Annotated[str | None, typer.Option("--as-of", help="ISO time (hall time if naive)")]
         = None) -> None:
    """The timeline of a case, and its state at --as-of."""
    settings = Settings()

    async def main() -> timeline.Timeline | None:
        async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
            return await timeline.case_timeline(session, case_no, _moment(as_of, settings), settings.timezone)

    found = _run(main())
    if found is None:
        err_console.print(f"[red]error:[/red] no case {case_no}")
        raise typer.Exit(1)
    console.print(timeline_table(found, settings.timezone))


@audit_app.command("archive")
def archive_cmd(limit: Annotated[int | None, typer.Option(help="at most this many cases")] = None) -> None:
    """Archive the Temporal histories of closed cases not archived yet."""
    settings = Settings()

    async def main() -> archive_mod.ArchiveResult:
        client = await connect_temporal(settings)
        async with open_sessions(settings.resolved_database_url()) as sessions:
            return await archive_mod.archive_closed_cases(client, sessions, limit=limit)

    result = _run(main())
    for case_no, why in sorted(result.skipped.items()):
        console.print(f"[yellow]skipped[/yellow] {case_no}: {escape(why)}")
    console.print(f"archived {len(result.archived)} histories, skipped {len(result.skipped)}")


async def _client_for(settings: Settings, source: str, file: Path | None) -> Client | None:
    return None if file or source == "archive" else await connect_temporal(settings)


@audit_app.command("replay")
def replay_cmd(
    case_no: Annotated[str | None, typer.Argument(help="the case (or hotline order 12345-...) to replay")] = None,
    file: Annotated[Path | None, typer.Option(help="history JSON (temporal workflow show --output json)")] = None,
    source: Annotated[str, typer.Option(help="auto, live or archive")] = "auto",
    closed_between: Annotated[tuple[str, str] | None, typer.Option(help="replay every case closed in [A, B)")]
    = None,
) -> None:
    """Replay with the current code and compare with PostgreSQL; exit 1 on any mismatch or broken chain."""
    settings = Settings()
    if source not in checks.SOURCES:
        raise typer.BadParameter(f"--source must be one of {', '.join(checks.SOURCES)}")
    if (case_no is None) == (closed_between is None) or (file and closed_between):
        raise typer.BadParameter("give either a case number (with --file or --source) or --closed-between A B")
    if closed_between is not None:
        _fail_unless(_run(_replay_period(settings, closed_between, source)))
        return
    if case_no is not None and is_order_no(case_no):
        _fail_unless(_run(_replay_one_order(settings, case_no, file)))
        return

    async def one() -> bool:
        assert case_no is not None
        client = await _client_for(settings, source, file)
        async with open_sessions(settings.resolved_database_url()) as sessions:
            summary = await checks.audit_cases(client, sessions, [case_no], source=source,  # type: ignore[arg-type]
                                               file=file, codec=data_converter(settings).payload_codec)
        audit = summary.cases[0]
        for line in replay_lines(audit):
            console.print(line)
        if not summary.anchor_intact:
            console.print("[red]the newest anchor was altered: its digest does not match its heads[/red]")
        return summary.ok

    _fail_unless(_run(one()))


async def _replay_one_order(settings: Settings, order_no: str, file: Path | None) -> bool:
    """A hotline order: replayed from the Temporal server (or --file) and compared with PostgreSQL."""
    client = None if file else await connect_temporal(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
        report: OrderReplayReport = await replay_order(client, session, order_no, file=file,
                                                       codec=data_converter(settings).payload_codec)
    colour = "green" if report.ok else "red"
    console.print(f"[{colour}]{report.verdict.value.upper()}[/{colour}] {order_no} replayed from {report.source} "
                  f"({report.replayed_events} events recorded by the replay)")
    for m in report.mismatches:
        console.print(f"  mismatch: {escape(m)}")
    if report.error:
        console.print(f"  {escape(report.error)}")
    if report.chain is not None:
        chain = "[green]chain ok[/green]" if report.chain.ok else "[red]chain broken[/red]"
        console.print(f"  {chain} ({report.chain.events} events, head {report.chain.head_seq})")
        for b in report.chain.breaks:
            console.print(f"  {b.kind.value} at {b.seq} ({b.source}): {escape(b.detail)}")
    return report.ok


async def _replay_period(settings: Settings, period: tuple[str, str], source: str) -> bool:
    start, end = (_moment(p, settings) for p in period)
    assert start is not None and end is not None
    client = await _client_for(settings, source, None)
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("replay", total=None)
        on_start: Callable[[int], None] = lambda total: bar.update(task, total=total)  # noqa: E731
        async with open_sessions(settings.resolved_database_url()) as sessions:
            summary = await checks.audit_closed_between(
                client, sessions, start, end, source=source,  # type: ignore[arg-type]
                progress=lambda _: bar.advance(task), on_start=on_start,
                codec=data_converter(settings).payload_codec)
    console.print(audit_table(summary))
    return summary.ok


@audit_app.command("export")
def export_cmd(
    case_no: Annotated[str | None, typer.Option("--case", help="one case")] = None,
    closed_from: Annotated[str | None, typer.Option(help="cases closed from (ISO)")] = None,
    closed_to: Annotated[str | None, typer.Option(help="... until, excluded (ISO)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or csv")] = "json",
    output: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
) -> None:
    """Export cases with their events (hashes included) and documents."""
    settings = Settings()
    if fmt not in ("json", "csv"):
        raise typer.BadParameter("--format must be json or csv")

    async def main() -> str:
        async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
            found = await export_cases(session, case_no=case_no, closed_from=_moment(closed_from, settings),
                                       closed_to=_moment(closed_to, settings))
        return to_csv(found) if fmt == "csv" else json.dumps(found.model_dump(mode="json"), ensure_ascii=False,
                                                              indent=2)

    text = _run(main())
    if output:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")
    else:
        typer.echo(text, nl=False)
