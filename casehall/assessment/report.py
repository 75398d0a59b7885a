"""A period's figures from the stored facts (refreshed first), the message to each unit's head, and the monthly run
that stores them (the activity of ``MonthlyReportWorkflow``, the CLI's re-run)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.assessment import store
from casehall.assessment.rates import DOMAINS, RATES, Config, Domain, Figures, Period, UnitFigures, UnitTree, figures
from casehall.models.assessment import ComputeReportInput, DomainDigest, MonthlyReportResult, ReportConfig

SUBJECT = {"orders": "工单", "cases": "办件"}
HEADLINE = {"orders": ("completed", "on_time", "response", "resolution", "satisfaction", "one_time"),
            "cases": ("completed", "on_time", "satisfaction", "vetoes_requested", "consultations")}


def config_of(c: ReportConfig) -> Config:
    return Config(weights=c.weights, case_weights=c.case_weights, top_grades=c.top_grades)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def message(u: UnitFigures, domain: Domain, period: Period) -> str:
    """The text sent to the unit's head with its figures."""
    received = int(u.rates["received"] or 0)
    names = {r.name: r.zh for r in RATES[domain]}
    lines = [f"{u.name}负责同志：", f"{period.label} 考核期内，贵单位应办结{SUBJECT[domain]} {received} 件。"]
    if received:
        lines.append("；".join(f"{names[n]} {percent(u.rates[n])}" for n in HEADLINE[domain]) + "。")
        if u.score is not None:
            lines.append(f"综合得分 {u.score:.2f}" + (f"，在同级 {u.ranked_of} 个单位中排名第 {u.rank}。"
                                                     if u.rank else "。"))
    lines.append("各项数据均由办理记录（哈希链事件）计算，可逐件核查。")
    return "\n".join(lines)


@dataclass
class Computed:
    figures: Figures
    tree: UnitTree


async def compute_period(session: AsyncSession, domain: Domain, period: Period, config: Config,
                         refresh: bool = True) -> Computed:
    """Refresh the facts with the events recorded since the last refresh, then compute ``period`` from them."""
    tree = await store.tree_of(session, domain)
    if refresh:
        await store.refresh(session, domain, tree)
    facts = await store.load_facts(session, domain, period)
    return Computed(figures(domain, period, tree, facts, config), tree)


def digest_of(result: Figures) -> str:
    rows = {code: u.as_dict(result.domain) for code, u in sorted(result.units.items())}
    text = json.dumps({"rows": rows, "config": result.config.as_dict()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def run_month(sessions: async_sessionmaker[AsyncSession], inp: ComputeReportInput,
                    domains: tuple[Domain, ...] = DOMAINS) -> MonthlyReportResult:
    """Compute and store every unit's report of the period, for orders and cases."""
    period = Period.parse(inp.period)
    config = config_of(inp.config)
    out = []
    for domain in domains:
        async with sessions() as session:
            computed = await compute_period(session, domain, period, config)
            result = computed.figures
            messages = {code: message(u, domain, period) for code, u in result.units.items()}
            await store.store_report(session, result, messages, datetime.now(UTC))
        roots = [u for u in result.units.values() if u.parent is None]
        out.append(DomainDigest(domain=domain, units=len(result.units), digest=digest_of(result),
                                received=sum(int(u.rates["received"] or 0) for u in roots)))
    return MonthlyReportResult(period=period.label, domains=out)
