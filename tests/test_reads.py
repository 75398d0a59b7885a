"""Reads on a filled database (``bench.fill``, small): the inbox in pages, deep offsets refused, the overdue list and
applicant searches answering exactly what plain SQL answers on the same rows, through the indexes of migration 0013."""

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col
from temporalio.client import Client

from bench.fill import asyncpg_dsn, fill
from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.models.tables import Case
from casehall.stack.seed import DEMO_PASSWORD
from casehall.store import queries
from casehall.store.queries import (
    EPOCH,
    OFFSET_UP_TO,
    RUNNING_STATUSES,
    WEEK,
    CaseFilter,
    case_conditions,
    week_of,
)

CASES = 3000


async def sql(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def filled(database_url: str) -> str:
    await fill(database_url, CASES, seed=11, with_events=False, revision="head")
    # Five more open tasks for MKT's managers, three opened at the same moment (pages break ties by task id), and
    # one closed task that no inbox shows.
    at = datetime.now(UTC) - timedelta(days=400)
    cases = [r["case_no"] for r in await sql(
        database_url, "SELECT case_no FROM cases WHERE department_code = 'MKT' ORDER BY case_no LIMIT 6")]
    for i, case_no in enumerate(cases):
        await sql(database_url, "INSERT INTO tasks (case_no, opened_seq, kind, role, department_code, summary,"
                                " opened_at, closed_at) VALUES ($1, 1000, 'veto', 'manager', 'MKT', '测试', $2, $3)",
                  case_no, at + timedelta(hours=min(i, 2)), at if i == 5 else None)
    return database_url


@pytest.fixture(scope="module")
async def api(filled: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=filled, temporal_address="127.0.0.1:1")  # type: ignore[arg-type]
    app = create_app(settings, await Client.connect("127.0.0.1:1", lazy=True))  # reads never call Temporal
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://casehall") as http:
        yield http


async def headers_of(api: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await api.post("/auth/login", json={"username": user, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def all_pages(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    """The case numbers of every page of a list, paged by cursor."""
    seen: list[str] = []
    cursor = None
    while True:
        page = await api.get("/cases", params={**params, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert page.status_code == 200, page.text
        seen += [c["case_no"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


# ---- the inbox -------------------------------------------------------------------------------------------------
async def test_inbox_pages_hold_every_open_task_once_oldest_first(api: httpx.AsyncClient, filled: str) -> None:
    manager = await headers_of(api, "manager")
    want = [r["id"] for r in await sql(filled, """
        WITH RECURSIVE tree AS (SELECT code FROM departments WHERE code = 'MKT'
                                UNION SELECT d.code FROM departments d JOIN tree ON d.parent_code = tree.code)
        SELECT id FROM tasks WHERE closed_at IS NULL AND role = 'manager' AND department_code IN (SELECT code FROM tree)
        ORDER BY opened_at, id""")]
    assert len(want) >= 5
    seen: list[int] = []
    url: str | None = "/inbox?limit=2"
    while url:
        r = await api.get(url, headers=manager)
        assert r.status_code == 200, r.text
        assert isinstance(r.json(), list) and len(r.json()) <= 2  # still a plain list: older clients read it as is
        assert r.headers["X-Total-Count"] == str(len(want))
        seen += [t["task_id"] for t in r.json()]
        url = r.links["next"]["url"] if "next" in r.links else None
        if url:
            assert r.headers["X-Next-Cursor"] in url
        else:
            assert "X-Next-Cursor" not in r.headers
    assert seen == want
    default = await api.get("/inbox", headers=manager)
    assert [t["task_id"] for t in default.json()] == want[:100]


@pytest.mark.parametrize("query", ["cursor=nonsense", "cursor=WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiQSJd",
                                   "limit=0", "limit=201"])
async def test_inbox_refuses_a_page_it_never_gave(api: httpx.AsyncClient, query: str) -> None:
    r = await api.get(f"/inbox?{query}", headers=await headers_of(api, "manager"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == query.split("=")[0]


# ---- deep offsets ----------------------------------------------------------------------------------------------
async def test_an_offset_past_the_bound_is_refused_with_a_pointer_to_cursor(api: httpx.AsyncClient) -> None:
    clerk = await headers_of(api, "clerk")
    fine = await api.get("/cases", params={"offset": OFFSET_UP_TO, "limit": 1}, headers=clerk)
    assert fine.status_code == 200 and fine.json()["items"] == []
    r = await api.get("/cases", params={"offset": OFFSET_UP_TO + 1}, headers=clerk)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "offset_too_deep" and error["field"] == "offset"
    assert error["message"] == f"offset 最大为 {OFFSET_UP_TO}：请改用 cursor 翻页（即上一页返回的 next_cursor）"
    r = await api.get("/cases", params={"offset": 2**31 - 1}, headers={**clerk, "Accept-Language": "en"})
    assert r.status_code == 400 and "page on with cursor" in r.json()["error"]["message"]


# ---- the overdue list ------------------------------------------------------------------------------------------
async def test_the_overdue_list_is_every_late_running_case_newest_first(api: httpx.AsyncClient, filled: str) -> None:
    clerk = await headers_of(api, "clerk")
    late = "status = ANY($1::text[]) AND deadline < now() AND NOT clock_paused"
    want = [r["case_no"] for r in await sql(
        filled, f"SELECT case_no FROM cases WHERE {late} ORDER BY registered_at DESC, case_no DESC",
        RUNNING_STATUSES)]
    assert len(want) > 10  # the fill leaves some cases late
    assert await all_pages(api, clerk, overdue="true", limit=7) == want
    first = (await api.get("/cases", params={"overdue": "true", "count": "exact"}, headers=clerk)).json()
    assert first["total"] == len(want) and first["total_exact"] is True
    in_mkt = [r["case_no"] for r in await sql(
        filled, f"SELECT case_no FROM cases WHERE {late} AND department_code = 'MKT'"
                " ORDER BY registered_at DESC, case_no DESC", RUNNING_STATUSES)]
    assert await all_pages(api, clerk, overdue="true", department="MKT", limit=50) == in_mkt
    on_time = (await api.get("/cases", params={"overdue": "false", "count": "exact", "limit": 1},
                             headers=clerk)).json()
    assert on_time["total"] == CASES - len(want)


# ---- applicant search ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("read_by", ["all matches", "weeks"])
async def test_applicant_names_of_every_frequency_find_exactly_their_cases(
        api: httpx.AsyncClient, filled: str, read_by: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names held by fewer cases than the count's cap are read at once; the others week by week (here: a cap of 2,
    so every name but the rarest, and words found in most cases, go through the weekly windows and the older cases'
    probe)."""
    if read_by == "weeks":
        monkeypatch.setattr(queries, "TEXT_COUNT_UP_TO", 2)
        monkeypatch.setattr(queries, "WALK_FROM", 1.1)  # no text is common: words in most cases go by week too
    clerk = await headers_of(api, "clerk")
    names = Counter(r["applicant_name"] for r in await sql(filled, "SELECT applicant_name FROM cases"))
    ranked = [name for name, _ in names.most_common()]
    chosen = {ranked[0], ranked[len(ranked) // 20], ranked[len(ranked) // 2], ranked[-1],
              ranked[0][:2], ranked[-1][1:]}  # frequent, middling, rare; a name's beginning and end
    companies = [n for n in ranked if n.endswith("有限公司")]  # long names: only their rarest bigrams are looked up
    chosen |= {companies[0], companies[-1], "净月区卫星路"}
    if read_by == "weeks":
        chosen |= {"申请", "营业执照"}
    for name in chosen:
        want = [r["case_no"] for r in await sql(
            filled, "SELECT case_no FROM cases WHERE applicant_name ILIKE $1 OR description ILIKE $1"
                    " ORDER BY registered_at DESC, case_no DESC", f"%{name}%")]
        assert want, name
        assert await all_pages(api, clerk, q=name, limit=20) == want, name
        page = (await api.get("/cases", params={"q": name, "count": "exact", "limit": 200}, headers=clerk)).json()
        assert page["total"] == len(want), name
        assert [c["case_no"] for c in page["items"]] == want[:200], name
        mkt = [c for c in await all_pages(api, clerk, q=name, department="MKT", limit=50)]
        assert mkt == [r["case_no"] for r in await sql(
            filled, "SELECT case_no FROM cases WHERE (applicant_name ILIKE $1 OR description ILIKE $1)"
                    " AND department_code = 'MKT' ORDER BY registered_at DESC, case_no DESC", f"%{name}%")], name


async def test_a_chinese_text_is_counted_up_to_its_cap_then_said_to_be_more(
        api: httpx.AsyncClient, filled: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past TEXT_COUNT_UP_TO matches a text search says "more than the cap", not a figure it never counted; a list
    seen whole, or counted with ``count=exact``, is exact."""
    monkeypatch.setattr(queries, "TEXT_COUNT_UP_TO", 2)
    clerk = await headers_of(api, "clerk")
    name, held = Counter(r["applicant_name"] for r in await sql(filled, "SELECT applicant_name FROM cases")
                         ).most_common(1)[0]
    want = [r["case_no"] for r in await sql(
        filled, "SELECT case_no FROM cases WHERE applicant_name ILIKE $1 OR description ILIKE $1"
                " ORDER BY registered_at DESC, case_no DESC", f"%{name}%")]
    assert len(want) >= held > 3
    first = (await api.get("/cases", params={"q": name, "limit": 1}, headers=clerk)).json()
    assert (first["total_exact"], first["more_than"], first["total"]) == (False, 2, 3)
    assert [c["case_no"] for c in first["items"]] == want[:1]
    whole = (await api.get("/cases", params={"q": name, "limit": 200}, headers=clerk)).json()
    assert (whole["total_exact"], whole["more_than"], whole["total"]) == (True, None, len(want))
    exact = (await api.get("/cases", params={"q": name, "limit": 1, "count": "exact"}, headers=clerk)).json()
    assert (exact["total_exact"], exact["more_than"], exact["total"]) == (True, None, len(want))


async def test_the_overdue_list_reads_the_partial_index_of_running_cases(filled: str) -> None:
    """The index's predicate is the code's list of running statuses (else the planner could not use it), and the
    overdue page's keys come from it alone."""
    definition = (await sql(filled, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_running_registered'"
                            ))[0]["indexdef"]
    assert sorted(re.findall(r"'(\w+)'::", definition)) == RUNNING_STATUSES
    engine = create_async_engine(filled)
    try:
        async with engine.connect() as conn:
            for kind in ("seqscan", "bitmapscan", "sort"):  # small tables: only an ordered index path is left
                await conn.execute(text(f"SET enable_{kind} = off"))
            conditions = case_conditions(CaseFilter(overdue=True))
            stmt = select(col(Case.case_no)).where(*conditions).order_by(col(Case.registered_at).desc()).limit(50)
            sql_text = str(stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in await conn.execute(text(f"EXPLAIN {sql_text}")))
    finally:
        await engine.dispose()
    assert "Index Only Scan Backward using ix_cases_running_registered" in plan, plan


@pytest.mark.parametrize("moment", [EPOCH + 2915 * WEEK - timedelta(microseconds=1), EPOCH + 2915 * WEEK,
                                    datetime(2026, 11, 22, 8, 30, tzinfo=timezone(timedelta(hours=8)))])
async def test_sql_and_python_number_weeks_alike(filled: str, moment: datetime) -> None:
    """The weekly index's tags (SQL) are the windows the search asks for (Python), up to the microsecond."""
    tags = (await sql(filled, "SELECT casehall_case_terms_weekly('王伟', '', $1) AS t", moment))[0]["t"]
    assert sorted(tags) == sorted(f"{week_of(moment)}:{piece}" for piece in ("王伟", "伟 "))
