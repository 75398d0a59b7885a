"""The assessment's tables (migration 0010): facts folded from the event logs, kept up to date per batch of new
events (the incremental path), the unit trees, and the stored monthly reports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from casehall.assessment.rates import (
    Assignment,
    CallbackRound,
    CaseFacts,
    Domain,
    Event,
    Figures,
    Period,
    UnitTree,
    fold_case,
    fold_order,
)

metadata = MetaData()
_json = JSON().with_variant(JSONB(), "postgresql")

facts_table = Table(
    "assessment_facts", metadata,
    Column("domain", String(8), primary_key=True), Column("key", String(48), primary_key=True),
    Column("ref", String(40), nullable=False), Column("unit", String(32), nullable=False),
    Column("due_lo", DateTime(timezone=True), nullable=False),
    Column("due_hi", DateTime(timezone=True), nullable=False),
    Column("facts", _json, nullable=False),
)
watermarks = Table(
    "assessment_watermarks", metadata,
    Column("domain", String(8), primary_key=True), Column("last_id", BigInteger, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
)
reports = Table(
    "assessment_reports", metadata,
    Column("period", String(32), primary_key=True), Column("domain", String(8), primary_key=True),
    Column("unit", String(32), primary_key=True), Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False), Column("parent", String(32)), Column("score", Float),
    Column("rank", Integer), Column("figures", _json, nullable=False), Column("config", _json, nullable=False),
    Column("message", Text, nullable=False), Column("digest", String(64), nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False), Column("runs", Integer, nullable=False),
)

EVENT_TABLES: dict[Domain, tuple[str, str]] = {"orders": ("order_events", "order_no"),
                                               "cases": ("case_events", "case_no")}
# A transaction may commit an event whose id is below one already folded: each refresh reads again the last
# ``REREAD`` ids below the watermark (the recorder commits within seconds, far fewer events than that).
REREAD = 5_000
BATCH = 2_000


# ---- facts <-> JSON ------------------------------------------------------------------------------------------------
def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_iso(v) for v in value]
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    return value


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def facts_json(f: Assignment | CaseFacts) -> dict[str, Any]:
    return {k: _iso(v) for k, v in asdict(f).items()}


def facts_of(domain: Domain, data: dict[str, Any]) -> Assignment | CaseFacts:
    if domain == "orders":
        times = ("dispatched_at", "due", "ext_at", "ext_due", "extended_at", "signed_at", "returned_at",
                 "replied_at", "reopened_at", "repeat_at", "supervised_at", "closed_at")
        fields: dict[str, Any] = {k: (_dt(v) if k in times else v) for k, v in data.items() if k != "callbacks"}
        rounds = tuple(CallbackRound(datetime.fromisoformat(r["at"]), tuple(r["grades"]), tuple(r["solved"]))
                       for r in data.get("callbacks", []))
        return Assignment(**fields, callbacks=rounds)
    return CaseFacts(
        key=data["key"], department=data["department"],
        deadlines=tuple((datetime.fromisoformat(a), datetime.fromisoformat(d)) for a, d in data["deadlines"]),
        decided_at=_dt(data.get("decided_at")), vetoed=bool(data.get("vetoed")),
        vetoes=tuple(datetime.fromisoformat(v) for v in data.get("vetoes", [])),
        consultations=tuple(datetime.fromisoformat(v) for v in data.get("consultations", [])),
        ratings=tuple((datetime.fromisoformat(a), g) for a, g in data.get("ratings", [])))


def _row(domain: Domain, f: Assignment | CaseFacts) -> dict[str, Any] | None:
    if isinstance(f, Assignment):
        dues = [f.due, *([f.ext_due] if f.ext_due else [])]
        return {"domain": domain, "key": f.key, "ref": f.order_no, "unit": f.unit, "due_lo": min(dues),
                "due_hi": max(dues), "facts": facts_json(f)}
    if not f.deadlines:
        return None  # never accepted: counts in no period
    dues = [d for _, d in f.deadlines]
    return {"domain": domain, "key": f.key, "ref": f.key, "unit": f.department, "due_lo": min(dues),
            "due_hi": max(dues), "facts": facts_json(f)}


# ---- reading the logs ------------------------------------------------------------------------------------------
async def read_events(session: AsyncSession, domain: Domain, refs: Sequence[str] | None = None,
                      before: datetime | None = None) -> list[Event]:
    """Events of the log (of ``refs`` only, or all), optionally only those recorded before ``before``."""
    table, key = EVENT_TABLES[domain]
    sql = f"SELECT id, {key}, seq, type, at, payload FROM {table}"  # noqa: S608 - names from EVENT_TABLES
    conds: list[str] = []
    params: dict[str, Any] = {}
    if refs is not None:
        conds.append(f"{key} = ANY(:refs)")
        params["refs"] = list(refs)
    if before is not None:
        conds.append("at < :before")
        params["before"] = before
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    raw = await session.execute(text(sql + f" ORDER BY {key}, seq"), params)
    return [Event(key=r[1], seq=r[2], type=r[3], at=r[4],
                  payload=r[5] if isinstance(r[5], dict) else json.loads(r[5]), id=r[0]) for r in raw.all()]


async def tree_of(session: AsyncSession, domain: Domain) -> UnitTree:
    """The hotline's units, or the hall's departments with the departments of the service items."""
    if domain == "orders":
        rows = (await session.execute(text("SELECT code, parent_code, name FROM units"))).all()
        return UnitTree({r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows})
    rows = (await session.execute(text("SELECT code, parent_code, name FROM departments"))).all()
    item_rows = (await session.execute(text("SELECT code, department_code FROM service_items"))).all()
    return UnitTree({r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}, {r[0]: r[1] for r in item_rows})


# ---- the incremental path: facts refreshed per batch of new events -----------------------------------------------
async def watermark(session: AsyncSession, domain: Domain) -> int:
    return int(await session.scalar(select(watermarks.c.last_id).where(watermarks.c.domain == domain)) or 0)


def fold_refs(domain: Domain, events: Iterable[Event], tree: UnitTree) -> dict[str, list[Assignment | CaseFacts]]:
    by_ref: dict[str, list[Event]] = {}
    for e in events:
        by_ref.setdefault(e.key, []).append(e)
    out: dict[str, list[Assignment | CaseFacts]] = {}
    for ref, evs in by_ref.items():
        if domain == "orders":
            out[ref] = list(fold_order(evs))
        else:
            c = fold_case(evs, tree.item_departments)
            out[ref] = [c] if c is not None else []
    return out


async def write_facts(session: AsyncSession, domain: Domain, folded: dict[str, list[Assignment | CaseFacts]]) -> None:
    refs = list(folded)
    await session.execute(delete(facts_table).where(facts_table.c.domain == domain, facts_table.c.ref.in_(refs)))
    rows = [r for fs in folded.values() for f in fs if (r := _row(domain, f)) is not None]
    for i in range(0, len(rows), BATCH):
        await session.execute(insert(facts_table), rows[i:i + BATCH])


async def refresh(session: AsyncSession, domain: Domain, tree: UnitTree | None = None) -> int:
    """Fold again the orders (cases) with events past the watermark; commit; the number of them refolded."""
    table, key = EVENT_TABLES[domain]
    tree = tree or await tree_of(session, domain)
    last = await watermark(session, domain)
    top = int(await session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0)  # noqa: S608
    touched = [r[0] for r in (await session.execute(
        text(f"SELECT DISTINCT {key} FROM {table} WHERE id > :lo AND id <= :hi"),  # noqa: S608
        {"lo": max(0, last - REREAD), "hi": top})).all()]
    for i in range(0, len(touched), BATCH):
        refs = touched[i:i + BATCH]
        await write_facts(session, domain, fold_refs(domain, await read_events(session, domain, refs), tree))
    stmt = insert(watermarks).values(domain=domain, last_id=top, refreshed_at=datetime.now(UTC))
    await session.execute(stmt.on_conflict_do_update(index_elements=[watermarks.c.domain],
                                                     set_={"last_id": top, "refreshed_at": stmt.excluded.refreshed_at}))
    await session.commit()
    return len(touched)


async def rebuild(session: AsyncSession, domain: Domain) -> int:
    """Forget every fact and fold the whole log again (the watermark back to 0)."""
    await session.execute(delete(facts_table).where(facts_table.c.domain == domain))
    await session.execute(delete(watermarks).where(watermarks.c.domain == domain))
    await session.commit()
    return await refresh(session, domain)


async def load_facts(session: AsyncSession, domain: Domain, period: Period,
                     refs: Sequence[str] | None = None) -> list[Assignment | CaseFacts]:
    """The facts whose deadline may fall in ``period`` (a superset: ``rates`` decides), ordered by key."""
    conds = [facts_table.c.domain == domain, facts_table.c.due_lo < period.end, facts_table.c.due_hi >= period.start]
    if refs is not None:
        conds.append(facts_table.c.ref.in_(list(refs)))
    rows = (await session.execute(select(facts_table.c.facts).where(and_(*conds)).order_by(facts_table.c.key))).all()
    return [facts_of(domain, r[0]) for r in rows]


# ---- reports ---------------------------------------------------------------------------------------------------
def digest(figures: dict[str, Any], config: dict[str, Any]) -> str:
    text = json.dumps({"figures": figures, "config": config}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def store_report(session: AsyncSession, result: Figures, messages: dict[str, str], at: datetime) -> int:
    """Store (or replace, on a re-run) the report of every unit; commit; how many rows."""
    rows = []
    for code, u in result.units.items():
        figures = u.as_dict(result.domain)
        config = result.config.as_dict()
        rows.append({"period": result.period.label, "domain": result.domain, "unit": code, "name": u.name,
                     "level": u.level, "parent": u.parent, "score": u.score, "rank": u.rank, "figures": figures,
                     "config": config, "message": messages.get(code, ""), "digest": digest(figures, config),
                     "computed_at": at, "runs": 1})
    for i in range(0, len(rows), BATCH):
        stmt = insert(reports).values(rows[i:i + BATCH])
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[reports.c.period, reports.c.domain, reports.c.unit],
            set_={c: stmt.excluded[c] for c in ("name", "level", "parent", "score", "rank", "figures", "config",
                                                "message", "digest", "computed_at")} | {"runs": reports.c.runs + 1}))
    await session.commit()
    return len(rows)


async def stored(session: AsyncSession, domain: Domain, *, period: str | None = None, unit: str | None = None,
                 level: int | None = None, units: Sequence[str] | None = None, limit: int = 5000
                 ) -> list[dict[str, Any]]:
    conds = [reports.c.domain == domain]
    if period is not None:
        conds.append(reports.c.period == period)
    if unit is not None:
        conds.append(reports.c.unit == unit)
    if level is not None:
        conds.append(reports.c.level == level)
    if units is not None:
        conds.append(reports.c.unit.in_(list(units)))
    rows = (await session.execute(select(reports).where(and_(*conds)).order_by(
        reports.c.period, reports.c.rank.is_(None), reports.c.rank, reports.c.unit).limit(limit))).mappings().all()
    return [dict(r) for r in rows]


async def periods(session: AsyncSession, domain: Domain) -> list[str]:
    rows = await session.execute(select(reports.c.period).where(reports.c.domain == domain)
                                 .group_by(reports.c.period).order_by(reports.c.period))
    return [r[0] for r in rows.all()]


async def count_facts(session: AsyncSession, domain: Domain) -> int:
    return int(await session.scalar(select(func.count()).select_from(facts_table)
                                    .where(facts_table.c.domain == domain)) or 0)
