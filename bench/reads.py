"""Read latency from the API on a filled database: ``python -m bench.reads --url URL [--requests N]``.

Fill the database first (``python -m bench.fill``). The API runs in this process (``create_app`` behind httpx's
ASGI transport; reads never call Temporal, so its client is lazy and never connects) or, with ``--api``, is any
running casehall on that database. Each read is sent ``--requests`` times one after another, after a warm-up,
with its parameters drawn from the data (case numbers, applicant names, cursors at random depths), and the table
gives p50, p99 and mean per read. Run it before and after a change on the same database.

Deep pages: a version of the API that answers ``next_cursor`` is paged by cursor (a random case of the table gives
the cursor, so the page is anywhere in it); an older one by ``offset`` (half the table deep). ``offset=500000`` is
measured too, as the issue did, as long as the table is that large (an API that refuses offsets past 10,000 is
timed answering its 400), and ``offset=10000``. Applicant names are searched as sampled, and by tier: the sampled
names ranked by how many cases hold them, in thirds (frequent, middling, rare).
"""

import argparse
import asyncio
import base64
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client

from bench.fill import asyncpg_dsn, start_postgres
from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.seed import DEMO_PASSWORD

# Free-text searches a clerk types: trades, places, practices, two to five characters.
TERMS = ("营业执照", "不动产", "跨部门联办", "公积金提取", "净月区", "残疾人", "食品经营", "租赁合同", "法定代表人",
         "登报声明", "上门服务", "养老", "餐饮", "居住证", "卫星路", "物流", "加急", "注册资本", "重新申请", "二道区")


@dataclass
class Read:
    name: str
    user: str  # clerk | manager
    params: Callable[[random.Random], dict[str, Any]]
    path: str = "/cases"
    status: int = 200  # what the API answers (400: a deep offset it refuses)


@dataclass
class Samples:
    case_nos: list[str]
    names: list[str]
    cursors: list[str]
    total: int
    name_tiers: list[tuple[str, list[str]]]  # (label with the range of matches, names): frequent, middling, rare


# Deep offsets: the API refuses an offset past 10,000 (page by cursor instead); this one it still serves.
DEEPEST_OFFSET = 10_000
MATCHES_UP_TO = 100_000


async def name_tiers(conn: asyncpg.Connection, names: list[str]) -> list[tuple[str, list[str]]]:
    """The sampled names in three tiers by how many cases hold them (name or description; counted up to
    MATCHES_UP_TO through the bigram index of migration 0009), most frequent first."""
    await conn.execute("SET enable_seqscan = off")  # through the index, whatever the planner thinks
    counted = []
    for name in sorted(set(names)):
        like = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        n = await conn.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM cases WHERE casehall_case_terms(applicant_name, description)"
            " @> casehall_bigrams($1) AND (applicant_name ILIKE $2 OR description ILIKE $2)"
            f" LIMIT {MATCHES_UP_TO}) AS m", name, like)
        counted.append((n, name))
    counted.sort(reverse=True)
    third = max(1, len(counted) // 3)
    tiers = []
    for label, part in (("frequent", counted[:third]), ("middling", counted[third:-third] or counted[:1]),
                        ("rare", counted[-third:])):
        tiers.append((f"{label}: {part[-1][0]:,}-{part[0][0]:,} cases", [name for _, name in part]))
    return tiers


def cursor_of(registered_at: Any, case_no: str) -> str:
    """The cursor the API would give after this case (``casehall.store.queries.Cursor``)."""
    raw = json.dumps([registered_at.isoformat(), case_no], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def sample(url: str, rng: random.Random, n: int = 200) -> Samples:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        total = int(await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'cases'"))
        if total <= 0:
            total = await conn.fetchval("SELECT count(*) FROM cases")
        percent = min(100.0, max(0.01, 100.0 * 20 * n / max(total, 1)))
        rows = await conn.fetch(f"SELECT case_no, applicant_name, registered_at FROM cases TABLESAMPLE SYSTEM "
                                f"({percent}) REPEATABLE ({rng.randrange(10**6)}) LIMIT {n * 20}")
        if not rows:
            raise SystemExit("the database holds no cases: fill it first (python -m bench.fill)")
        rows = rng.sample(list(rows), min(n, len(rows)))
        tiers = await name_tiers(conn, [r["applicant_name"] for r in rows])
    finally:
        await conn.close()
    return Samples(case_nos=[r["case_no"] for r in rows], names=[r["applicant_name"] for r in rows],
                   cursors=[cursor_of(r["registered_at"], r["case_no"]) for r in rows], total=total,
                   name_tiers=tiers)


def tier_read(label: str, names: list[str]) -> Read:
    return Read(f"q=<applicant name, {label}>", "clerk", lambda r: {"limit": 50, "q": r.choice(names)})


def reads(s: Samples, cursor_paging: bool, offsets_bounded: bool) -> list[Read]:
    deep: Callable[[random.Random], dict[str, Any]]
    if cursor_paging:
        def deep(r: random.Random) -> dict[str, Any]:
            return {"limit": 50, "cursor": r.choice(s.cursors)}
    else:
        def deep(r: random.Random) -> dict[str, Any]:
            return {"limit": 50, "offset": s.total // 2}
    listed = [
        Read("first page", "clerk", lambda r: {"limit": 50}),
        Read("deep page (cursor)" if cursor_paging else "deep page (offset total/2)", "clerk", deep),
    ]
    if s.total > 500_000:
        listed.append(Read("offset=500000" + (" (refused: 400)" if offsets_bounded else ""), "clerk",
                           lambda r: {"limit": 50, "offset": 500_000}, status=400 if offsets_bounded else 200))
    listed.append(Read(f"offset={DEEPEST_OFFSET}", "clerk", lambda r: {"limit": 50, "offset": DEEPEST_OFFSET}))
    return listed + [
        Read("status=in_handling", "clerk", lambda r: {"limit": 50, "status": "in_handling"}),
        Read("status=rectification", "clerk", lambda r: {"limit": 50, "status": "rectification"}),
        Read("department=MKT", "clerk", lambda r: {"limit": 50, "department": "MKT"}),
        Read("department=ARCH&status=closed", "clerk",
             lambda r: {"limit": 50, "department": "ARCH", "status": "closed"}),
        Read("overdue", "clerk", lambda r: {"limit": 50, "overdue": "true"}),
        Read("q=<case number>", "clerk", lambda r: {"limit": 50, "q": r.choice(s.case_nos)}),
        Read("q=<applicant name>", "clerk", lambda r: {"limit": 50, "q": r.choice(s.names)}),
        *(tier_read(label, names) for label, names in s.name_tiers),
        Read("q=<Chinese words>", "clerk", lambda r: {"limit": 50, "q": r.choice(TERMS)}),
        Read("inbox (manager)", "manager", lambda r: {}, path="/inbox"),
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def measure(http: httpx.AsyncClient, url: str, requests: int, seed: int, warmup: int = 5
                  ) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    s = await sample(url, rng)
    headers: dict[str, dict[str, str]] = {}
    for user in ("clerk", "manager"):
        r = await http.post("/auth/login", json={"username": user, "password": DEMO_PASSWORD})
        r.raise_for_status()
        headers[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    probe = await http.get("/cases", params={"limit": 1}, headers=headers["clerk"])
    probe.raise_for_status()
    deep = await http.get("/cases", params={"limit": 1, "offset": DEEPEST_OFFSET + 1}, headers=headers["clerk"])
    results = []
    for read in reads(s, "next_cursor" in probe.json(), deep.status_code == 400):
        times: list[float] = []
        for i in range(requests + warmup):
            params = read.params(rng)
            start = time.perf_counter()
            r = await http.get(read.path, params=params, headers=headers[read.user])
            elapsed = (time.perf_counter() - start) * 1000
            if r.status_code != read.status:
                raise SystemExit(f"{read.name}: {r.status_code} {r.text[:300]}")
            if i >= warmup:
                times.append(elapsed)
        body = r.json()
        shown = len(body) if isinstance(body, list) else len(body.get("items", []))
        results.append({"read": read.name, "p50_ms": round(percentile(times, 50), 1),
                        "p99_ms": round(percentile(times, 99), 1), "mean_ms": round(statistics.fmean(times), 1),
                        "rows": shown, "total": body.get("total") if isinstance(body, dict) else None})
        print(f"{read.name:<34} p50 {results[-1]['p50_ms']:>8.1f} ms   p99 {results[-1]['p99_ms']:>8.1f} ms   "
              f"mean {results[-1]['mean_ms']:>8.1f} ms   rows {shown:>3}   total {results[-1]['total']}",
              flush=True)
    return results


async def run(url: str, api: str | None, requests: int, seed: int, warmup: int = 5) -> list[dict[str, Any]]:
    if api:
        async with httpx.AsyncClient(base_url=api, timeout=120) as http:
            return await measure(http, url, requests, seed, warmup)
    settings = Settings(database_url=url, temporal_address="127.0.0.1:1")  # type: ignore[arg-type]
    client = await Client.connect("127.0.0.1:1", lazy=True)  # reads never call Temporal
    app = create_app(settings, client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://casehall", timeout=120) as http:
        return await measure(http, url, requests, seed, warmup)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the filled database (default: casehall_bench on make run's PostgreSQL)")
    parser.add_argument("--pgdata", type=Path, help="start the embedded PostgreSQL of this data directory")
    parser.add_argument("--database", default="casehall_bench", help="database name with --pgdata or by default")
    parser.add_argument("--api", help="measure this running API (e.g. http://127.0.0.1:8000) instead")
    parser.add_argument("--requests", type=int, default=200, help="requests per read (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="requests per read before measuring (default 5)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    server = start_postgres(args.pgdata) if args.pgdata else None
    try:
        base = server.url(args.database) if server else None
        url = args.url or base or Settings().resolved_database_url().rsplit("/", 1)[0] + f"/{args.database}"
        try:
            results = asyncio.run(run(url, args.api, args.requests, args.seed, args.warmup))
        except OSError as err:
            print(f"cannot reach the database {url} ({err}): fill one with python -m bench.fill", file=sys.stderr)
            return 1
        if args.json:
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    finally:
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
