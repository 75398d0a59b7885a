"""``casehall report``: the monthly assessment. ``schedule`` creates or updates the Temporal Schedule (the 1st of
every month, 00:30 Asia/Shanghai); ``run`` computes and stores a month now (a re-run gives the same figures);
``table`` shows a level's ranking, ``unit`` one unit's figures and the message to its head, ``export`` writes CSV
or PDF."""

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from casehall.assessment import store
from casehall.assessment.export import to_csv, to_pdf
from casehall.assessment.rates import RATES, Config, Domain, Period
from casehall.assessment.report import compute_period, message, percent, run_month
from casehall.assessment.schedule import ensure_schedule
from casehall.core.db import open_sessions
from casehall.core.settings import Settings
from casehall.models.assessment import ComputeReportInput, ReportConfig
from casehall.stack.runtime import StartupError, connect_temporal

report_app = typer.Typer(help="The monthly assessment of units and departments.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DomainOpt = Annotated[str, typer.Option("--domain", "-d", help="orders (hotline units) or cases (hall departments)")]
WeightsOpt = Annotated[str, typer.Option(help="rate=weight,... of the orders' score")]
TopOpt = Annotated[int, typer.Option(help="how many top satisfaction grades count as satisfied")]


def _fail(message_: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message_}")
    return typer.Exit(1)


def _domain(text: str) -> Domain:
    if text not in ("orders", "cases"):
        raise _fail(f"no assessment of {text!r}: orders or cases")
    return "orders" if text == "orders" else "cases"


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as err:
        raise _fail(str(err)) from None


def _config(weights: str, top: int) -> ReportConfig:
    try:
        parsed = {k.strip(): float(v) for k, v in (p.split("=", 1) for p in weights.split(",") if p.strip())}
        Config(weights=parsed, top_grades=top)
    except ValueError as err:
        raise _fail(f"--weights {weights!r} / --top-grades {top}: {err}") from None
    return ReportConfig(weights=parsed, top_grades=top)


async def _rows(domain: Domain, period: Period, level: int | None, unit: str | None) -> list[dict[str, Any]]:
    """Stored rows, or computed now (not stored) if the period has none."""
    settings = Settings()
    async with open_sessions(settings.resolved_database_url()) as sessions, sessions() as session:
        rows = await store.stored(session, domain, period=period.label, level=level,
                                  units=[unit] if unit else None)
        if rows:
            return rows
        result = (await compute_period(session, domain, period, Config())).figures
        return [{"period": period.label, "unit": c, "name": u.name, "level": u.level, "parent": u.parent,
                 "figures": u.as_dict(domain), "message": message(u, domain, period)}
                for c, u in sorted(result.units.items(), key=lambda kv: (kv[1].rank is None, kv[1].rank, kv[0]))
                if (level is None or u.level == level) and (unit is None or c == unit)]


@report_app.command("schedule")
def schedule(hour: Annotated[int, typer.Option(min=0, max=23)] = 0,
             minute: Annotated[int, typer.Option(min=0, max=59)] = 30,
             weights: WeightsOpt = "response=30,resolution=35,satisfaction=35", top_grades: TopOpt = 2) -> None:
    """Create or update the schedule: each month's report on the 1st (Asia/Shanghai) for the month before."""
    settings = Settings()
    config = _config(weights, top_grades)

    async def main() -> bool:
        client = await connect_temporal(settings)
        return (await ensure_schedule(client, settings.task_queue, config, hour, minute)).created

    try:
        created = asyncio.run(main())
    except StartupError as err:
        raise _fail(str(err)) from None
    console.print(f"{'created' if created else 'updated'}: the 1st of every month at {hour:02d}:{minute:02d} "
                  f"Asia/Shanghai, weights {config.weights}, top {config.top_grades} grades")


@report_app.command("run")
def run(period: str, weights: WeightsOpt = "response=30,resolution=35,satisfaction=35",
        top_grades: TopOpt = 2) -> None:
    """Compute and store PERIOD (YYYY-MM) now, for orders and cases; a re-run gives the same figures."""
    p = _period(period)
    config = _config(weights, top_grades)

    async def main() -> Any:
        settings = Settings()
        async with open_sessions(settings.resolved_database_url()) as sessions:
            return await run_month(sessions, ComputeReportInput(period=p.label, config=config))

    result = asyncio.run(main())
    for d in result.domains:
        console.print(f"{result.period} {d.domain}: {d.units} units, {d.received} counted, digest {d.digest[:16]}")


@report_app.command("table")
def table(period: str, domain: DomainOpt = "orders",
          level: Annotated[int, typer.Option(help="depth in the unit tree (0: the root)")] = 1) -> None:
    """The ranking of one level of the unit tree for PERIOD."""
    d, p = _domain(domain), _period(period)
    rows = asyncio.run(_rows(d, p, level, None))
    rates = [r for r in RATES[d] if r.denominator is not None]
    t = Table("rank", title=f"{p.label} {d}")
    t.add_column("unit", no_wrap=True, min_width=max([len(r["unit"]) for r in rows] or [4]))
    for name in ("name", "score", "received", *[r.name for r in rates]):
        t.add_column(name)
    for row in rows:
        f = row["figures"]
        t.add_row(str(f["rank"] or "—"), row["unit"], row["name"], "—" if f["score"] is None else f"{f['score']:.2f}",
                  str(f["rates"]["received"]["numerator"]), *[percent(f["rates"][r.name]["value"]) for r in rates])
    console.print(t)


@report_app.command("unit")
def unit(period: str, code: str, domain: DomainOpt = "orders") -> None:
    """One unit's figures for PERIOD, each with numerator and denominator, and the message to its head."""
    d, p = _domain(domain), _period(period)
    rows = asyncio.run(_rows(d, p, None, code))
    if not rows:
        raise _fail(f"unit {code} has no figures for {p.label}")
    f = rows[0]["figures"]
    t = Table("rate", "value", "numerator", "denominator", title=f"{code} {rows[0]['name']} {p.label}")
    for r in RATES[d]:
        v = f["rates"][r.name]
        t.add_row(f"{r.zh} {r.name}", percent(v["value"]) if r.denominator else str(v["numerator"]),
                  str(v["numerator"]), "" if v["denominator"] is None else str(v["denominator"]))
    console.print(t)
    console.print(f"score {f['score']}, rank {f['rank']} of {f['ranked_of']}")
    console.print(rows[0]["message"])


@report_app.command("export")
def export(period: str, out: Path, domain: DomainOpt = "orders",
           level: Annotated[int | None, typer.Option(help="one level only")] = None) -> None:
    """Write PERIOD's table to OUT: .csv, or .pdf (printable, fonts embedded)."""
    d, p = _domain(domain), _period(period)
    if out.suffix not in (".csv", ".pdf"):
        raise _fail(f"{out}: the file ends in .csv or .pdf")
    rows = asyncio.run(_rows(d, p, level, None))
    if out.suffix == ".csv":
        out.write_text(to_csv(d, rows), encoding="utf-8")
    else:
        out.write_bytes(to_pdf(d, p.label, rows))
    console.print(f"{out}: {len(rows)} units")
