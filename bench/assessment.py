"""The assessment at Changchun's scale: a month of 150,000 orders over 3,000 units, incremental vs full.

    python -m bench.assessment                      # 150000 orders, 3000 units, an embedded PostgreSQL in a temp dir
    python -m bench.assessment --orders 20000 --units 500

Orders with their whole life (``tests/assessment/events.generated_orders``: returns, extensions, late signatures,
merged calls, reopenings, callbacks) go into ``orders`` / ``order_events`` by COPY (foreign keys off; the chain's
hashes are placeholders: the assessment does not read them). Then, for the month:

- full: read every event recorded before the month's end from PostgreSQL, fold, compute (``rates.compute``);
- rebuild: fold the whole log into ``assessment_facts`` once (``store.rebuild``);
- incremental: 1,000 new events on 500 orders appended, ``store.refresh`` refolds those orders only, then the month
  is computed from the facts of its deadline range (``report.compute_period``);
- and the figures of both paths compared, unit by unit.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.fill import start_postgres
from casehall.assessment import store
from casehall.assessment.rates import Config, Event, Period, UnitTree, compute, figures, fold
from casehall.assessment.report import compute_period
from casehall.core.db import make_engine, make_sessionmaker
from casehall.store.migrate import upgrade
from tests.assessment.events import generated_orders, unit_tree

ORDER_COLUMNS = ["order_no", "status", "kind", "channel", "category_code", "unit_codes", "address", "address_key",
                 "content", "operator_id", "registered_at", "updated_at", "state", "last_seq", "code_hashes",
                 "caller_phone", "overdue", "supervision_count", "call_count"]
EVENT_COLUMNS = ["order_no", "seq", "type", "at", "payload", "prev_hash", "hash"]


async def load(dsn: str, parents: dict[str, str | None], events: list[Event]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.copy_records_to_table("units", records=[(c, c, "street", p, True) for c, p in parents.items()],
                                         columns=["code", "name", "kind", "parent_code", "active"])
        firsts: dict[str, Event] = {}
        last: dict[str, int] = {}
        for e in events:
            firsts.setdefault(e.key, e)
            last[e.key] = max(last.get(e.key, 0), e.seq)
        await conn.copy_records_to_table("orders", columns=ORDER_COLUMNS, records=[
            (k, "closed", "normal", "phone", "010101", "[]", "x", "x", "x", 1, e.at, e.at, "{}", last[k], "[]", "",
             False, 0, 1)
            for k, e in firsts.items()])
        await conn.copy_records_to_table("order_events", columns=EVENT_COLUMNS, records=[
            (e.key, e.seq, e.type, e.at, json.dumps(dict(e.payload)), "0" * 64, "0" * 64) for e in events])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def bench(url: str, orders: int, units: int) -> dict[str, Any]:
    out: dict[str, Any] = {"orders": orders, "units": units}
    await upgrade(url)
    parents = unit_tree(units)
    t = time.perf_counter()
    events = generated_orders(orders, parents)
    out["events"] = len(events)
    out["generate_s"] = time.perf_counter() - t
    month = Period.month(2026, 3)
    tree = UnitTree(parents, {c: c for c in parents})
    t = time.perf_counter()
    pure = compute("orders", month, tree, events)
    out["pure_full_s"] = time.perf_counter() - t
    facts = fold("orders", events, tree)
    t = time.perf_counter()
    figures("orders", month, tree, facts)
    out["pure_from_facts_s"] = time.perf_counter() - t
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    t = time.perf_counter()
    await load(dsn, parents, events)
    out["load_s"] = time.perf_counter() - t
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            await session.execute(text("SET statement_timeout = 0"))  # the full read outlasts the API's limit
            t = time.perf_counter()
            db_tree = await store.tree_of(session, "orders")
            logged = await store.read_events(session, "orders", before=month.end)
            full = compute("orders", month, db_tree, logged)
            out["full_recompute_s"] = time.perf_counter() - t
            out["full_events_read"] = len(logged)
            t = time.perf_counter()
            await store.rebuild(session, "orders")
            out["rebuild_facts_s"] = time.perf_counter() - t
            out["facts_rows"] = await store.count_facts(session, "orders")
        # 1,000 new events on 500 orders (a second merged call and a supervision order each), then the month again
        conn = await asyncpg.connect(dsn)
        try:
            seqs = dict(await conn.fetch("SELECT order_no, last_seq FROM orders ORDER BY order_no LIMIT 500"))
            recs = []
            for key, seq in seqs.items():
                at = month.start + timedelta(days=3)
                recs += [(key, seq + 1, "call_merged", at, json.dumps({"call": 9}), "0" * 64, "0" * 64),
                         (key, seq + 2, "supervision_ordered", at, json.dumps({"against_unit": "nobody"}), "0" * 64,
                          "0" * 64)]
            await conn.copy_records_to_table("order_events", columns=EVENT_COLUMNS, records=recs)
            await conn.execute("UPDATE orders SET last_seq = last_seq + 2 WHERE order_no = ANY($1)", list(seqs))
        finally:
            await conn.close()
        async with sessions() as session:
            await session.execute(text("SET statement_timeout = 0"))
            t = time.perf_counter()
            refolded = await store.refresh(session, "orders")
            out["incremental_refresh_s"] = time.perf_counter() - t
            out["incremental_refolded_orders"] = refolded
            t = time.perf_counter()
            computed = await compute_period(session, "orders", month, Config(), refresh=True)
            out["incremental_month_s"] = time.perf_counter() - t
            logged = await store.read_events(session, "orders", before=month.end)
            full_after = compute("orders", month, computed.tree, logged)
        same = {c: u.as_dict("orders") for c, u in computed.figures.units.items()} == {
            c: u.as_dict("orders") for c, u in full_after.units.items()}
        out["incremental_equals_full"] = same
        out["month_received"] = int(full.units["C"].rates["received"] or 0)
        out["pure_equals_db"] = pure.units["C"].as_dict("orders")["counts"] == full.units["C"].as_dict(
            "orders")["counts"]
    finally:
        await engine.dispose()
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.assessment", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=150_000)
    parser.add_argument("--units", type=int, default=3_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_postgres(Path(tmp) / "pg")
        try:
            server.psql("CREATE DATABASE bench")
            print(json.dumps(asyncio.run(bench(server.url("bench"), args.orders, args.units))))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
