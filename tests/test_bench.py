"""The benchmarks run (at a tiny size), and what the read benchmark measures answers correctly: the generator's
data, keyset pages, capped counts and the indexed search against plain SQL on the same rows."""

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from bench.fill import asyncpg_dsn, fill
from casehall.api.app import create_app
from casehall.core.hashing import event_hash
from casehall.core.settings import Settings
from casehall.stack.seed import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CASES = 1500  # past the list's exact-count cap (1,000)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_bench_help_exits_0() -> None:
    done = run("bench.case_throughput", "--help")
    assert done.returncode == 0, done.stderr
    assert "--cases" in done.stdout and "--concurrency" in done.stdout
    for module in ("bench.twin", "bench.fill", "bench.reads", "bench.burst"):
        done = run(module, "--help")
        assert done.returncode == 0, done.stderr
        assert "--" in done.stdout


@pytest.fixture(scope="module")
async def filled(database_url: str) -> str:
    figures = await fill(database_url, CASES, seed=7, with_events=True, revision="head")
    assert figures["cases"] == CASES
    return database_url


@pytest.fixture(scope="module")
async def api(filled: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=filled, temporal_address="127.0.0.1:1")  # type: ignore[arg-type]
    app = create_app(settings, await Client.connect("127.0.0.1:1", lazy=True))  # reads never call Temporal
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://casehall") as http:
        r = await http.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
        http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield http


async def sql(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def test_fill_writes_realistic_chained_cases(filled: str) -> None:
    statuses = dict(await sql(filled, "SELECT status, count(*) FROM cases GROUP BY status"))  # type: ignore[arg-type]
    assert statuses["closed"] > CASES / 2 and statuses.get("rejected", 0) > 0
    span = (await sql(filled, "SELECT max(registered_at) - min(registered_at) AS span FROM cases"))[0]["span"]
    assert span.days > 4 * 365
    departments = await sql(filled, "SELECT count(DISTINCT department_code) AS n FROM cases")
    assert departments[0]["n"] >= 20
    names = await sql(filled, "SELECT applicant_name FROM cases WHERE applicant_kind = 'person' LIMIT 50")
    assert all("\u4e00" <= r["applicant_name"][0] <= "\u9fff" for r in names)
    events = await sql(filled, "SELECT * FROM case_events WHERE case_no = (SELECT min(case_no) FROM cases)"
                               " ORDER BY seq")
    prev = "0" * 64
    for e in events:  # the chain the audit verifies
        assert e["prev_hash"] == prev
        assert e["hash"] == event_hash(prev, e["case_no"], e["seq"], e["type"], e["actor_id"], e["at"],
                                       json.loads(e["payload"]))
        prev = e["hash"]
    waiting = await sql(filled, "SELECT count(*) AS n FROM cases c WHERE status = 'veto_requested' AND NOT EXISTS"
                                " (SELECT 1 FROM tasks t WHERE t.case_no = c.case_no AND t.closed_at IS NULL)")
    assert waiting[0]["n"] == 0


async def test_cursor_pages_visit_every_case_once_newest_first(api: httpx.AsyncClient, filled: str) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/cases", params=params)).json()
        seen += [c["case_no"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [r["case_no"] for r in await sql(filled, "SELECT case_no FROM cases"
                                                        " ORDER BY registered_at DESC, case_no DESC")]
    assert seen == expected
    shifted = (await api.get("/cases", params={"limit": 5, "offset": 10})).json()
    assert [c["case_no"] for c in shifted["items"]] == expected[10:15]  # offset still pages


async def test_totals_are_counted_up_to_a_cap_then_estimated(api: httpx.AsyncClient) -> None:
    everything = (await api.get("/cases", params={"limit": 1})).json()
    assert everything["total_exact"] is False and everything["total"] > 1000  # the planner's figure
    exact = (await api.get("/cases", params={"limit": 1, "count": "exact"})).json()
    assert exact == {**exact, "total": CASES, "total_exact": True}
    few = (await api.get("/cases", params={"status": "veto_requested"})).json()
    assert few["total_exact"] is True and few["total"] == len(few["items"])
    bad = await api.get("/cases", params={"count": "all"})
    assert bad.status_code == 422


async def test_search_by_number_name_and_chinese_text_matches_sql(api: httpx.AsyncClient, filled: str) -> None:
    one = (await sql(filled, "SELECT case_no, applicant_name FROM cases ORDER BY case_no LIMIT 1 OFFSET 7"))[0]
    found = (await api.get("/cases", params={"q": one["case_no"]})).json()
    assert [c["case_no"] for c in found["items"]] == [one["case_no"]]
    day = one["case_no"][:13]  # HALL-YYYYMMDD: every case of that day, from the number's beginning
    of_day = (await api.get("/cases", params={"q": day.lower(), "count": "exact"})).json()
    assert of_day["total"] == len(await sql(filled, "SELECT 1 FROM cases WHERE case_no LIKE $1", day + "%"))
    for text in (one["applicant_name"], "营业执照", "跨部门联办", "王", "净月区卫星路"):
        got = (await api.get("/cases", params={"q": text, "count": "exact", "limit": 200})).json()
        want = await sql(filled, "SELECT case_no FROM cases WHERE applicant_name ILIKE $1 OR description ILIKE $1"
                                 " ORDER BY registered_at DESC, case_no DESC", f"%{text}%")
        assert got["total"] == len(want), text
        assert [c["case_no"] for c in got["items"]] == [r["case_no"] for r in want][:200], text
    assert (await api.get("/cases", params={"q": "从未出现过的词"})).json()["total"] == 0


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJ4IiwgMV0", "WyIyMDI2LTAxLTAxIiwiQSJd"])
async def test_a_cursor_no_page_gave_is_refused(api: httpx.AsyncClient, cursor: str) -> None:
    r = await api.get("/cases", params={"cursor": cursor})
    assert r.status_code == 422, r.text
    assert "cursor" in r.text


def test_read_benchmark_runs(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "reads.json"
    done = run("bench.reads", "--url", filled, "--requests", "3", "--json", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {r["read"]: r for r in json.loads(out.read_text())}
    assert {"first page", "deep page (cursor)", "q=<Chinese words>", "inbox (manager)"} <= set(rows)
    assert all(0 < r["p50_ms"] <= r["p99_ms"] for r in rows.values())


def test_audit_benchmark_runs() -> None:
    done = run("bench.audit_replay", "--cases", "4", "--processes", "2", "--year", "1000")
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["cases"] == 4 and figures["history_events"] > 10
    assert figures["raw_replay_per_s"] > 0 and figures["bulk_audit_per_s"] > 0
    assert figures["year_hours_extrapolated"] > 0
