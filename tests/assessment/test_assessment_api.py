"""The assessment on PostgreSQL and through the API: facts refreshed per batch of events equal a rebuild and a pure
recomputation; a month stored and re-run gives identical figures; the drill-down lists exactly the orders behind a
figure, each with a chain check that holds; a unit head sees only their unit; exports."""

import asyncio
import csv
import io
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner, Result

from casehall.assessment import store
from casehall.assessment.rates import Period, compute, figures
from casehall.assessment.report import run_month
from casehall.cli.main import app as cli
from casehall.models.assessment import ComputeReportInput, ReportConfig
from casehall.stack.seed import DEMO_PASSWORD
from tests.assessment.data import on_demo_units, store_events
from tests.assessment.test_rates import MARCH, march_orders

EVENTS = on_demo_units(march_orders())


@pytest.fixture(scope="module")
async def stored(sessions: async_sessionmaker[AsyncSession]) -> None:
    """First the events before March 15, refreshed; then the rest (appended to the same chains), refreshed again."""
    cut = Period.parse("2026-03-01..2026-03-14").end
    async with sessions() as session:
        await store_events(session, [e for e in EVENTS if e.at < cut])
        assert await store.refresh(session, "orders") > 0
    async with sessions() as session:
        await store_events(session, [e for e in EVENTS if e.at >= cut])
        await store.refresh(session, "orders")


async def test_incremental_facts_equal_a_rebuild_and_a_recomputation(
        stored: None, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        tree = await store.tree_of(session, "orders")
        incremental = await store.load_facts(session, "orders", MARCH)
        assert await store.refresh(session, "orders") >= 0
        await store.rebuild(session, "orders")
        rebuilt = await store.load_facts(session, "orders", MARCH)
        events = await store.read_events(session, "orders", before=MARCH.end)
    assert incremental == rebuilt and len(incremental) > 0
    full = compute("orders", MARCH, tree, events)
    assert {c: u.as_dict("orders") for c, u in figures("orders", MARCH, tree, incremental).units.items()} == {
        c: u.as_dict("orders") for c, u in full.units.items()}
    # the hand-counted figures of test_rates, now on the demo units
    assert full.units["D01-S01"].counts["received"] == 7 and full.units["D01-S01"].counts["one_time"] == 2
    assert full.units["D01"].counts["received"] == 9


async def test_a_stored_month_re_run_gives_identical_figures(
        stored: None, sessions: async_sessionmaker[AsyncSession]) -> None:
    first = await run_month(sessions, ComputeReportInput(period="2026-03", config=ReportConfig()))
    again = await run_month(sessions, ComputeReportInput(period="2026-03", config=ReportConfig()))
    assert first == again and first.domains[0].received >= 10
    async with sessions() as session:
        (row,) = await store.stored(session, "orders", period="2026-03", unit="D01-S01")
    assert row["runs"] == 2
    assert row["figures"]["rates"]["one_time"] == {"value": pytest.approx(2 / 5), "numerator": 2, "denominator": 5}
    assert "东" in row["message"] or "负责同志" in row["message"]
    assert "应办结工单 7 件" in row["message"]
    other = await run_month(sessions, ComputeReportInput(period="2026-03", config=ReportConfig(top_grades=3)))
    assert other.domains[0].digest != first.domains[0].digest  # the configuration is part of the figures


async def login(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await api.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_drill_down_lists_exactly_the_orders_behind_a_figure(stored: None, api: httpx.AsyncClient) -> None:
    sup = await login(api, "supervisor")
    r = await api.get("/assessment/orders/2026-03/units/D01-S01/drill", params={"rate": "one_time"}, headers=sup)
    assert r.status_code == 200, r.text
    assert [i["key"] for i in r.json()["items"]] == ["A", "B"]
    r = await api.get("/assessment/orders/2026-03/units/D01-S01/drill",
                      params={"rate": "one_time", "part": "denominator"}, headers=sup)
    assert [i["key"] for i in r.json()["items"]] == ["A", "B", "E", "F", "G"]
    r = await api.get("/assessment/orders/2026-03/units/D01/drill", params={"rate": "received"}, headers=sup)
    items = r.json()["items"]
    assert [i["key"] for i in items] == ["A", "B", "C", "C#2", "E", "F", "G", "H", "I"]
    chain = await api.get(items[2]["chain"], headers=sup)
    assert chain.status_code == 200 and chain.json()["ok"] and chain.json()["events"] == 9, chain.text
    assert items[2]["timeline"] == "/orders/C/events"
    for params, code in (({"rate": "nonsense"}, 422), ({"rate": "received", "part": "denominator"}, 422)):
        assert (await api.get("/assessment/orders/2026-03/units/D01/drill", params=params, headers=sup)
                ).status_code == code


async def test_a_unit_head_sees_only_their_unit(stored: None, api: httpx.AsyncClient) -> None:
    head = await login(api, "street-head")  # head of D01-S01
    table = await api.get("/assessment/orders/2026-03/units", params={"level": 2}, headers=head)
    assert table.status_code == 200 and [r["unit"] for r in table.json()] == ["D01-S01"]
    assert (await api.get("/assessment/orders/2026-03/units/D01-S01", headers=head)).status_code == 200
    for path in ("/assessment/orders/2026-03/units/D01-S02", "/assessment/orders/2026-03/units/D01",
                 "/assessment/orders/units/D01-S02/trend", "/assessment/orders/2026-03/units/D01/drill?rate=received",
                 "/assessment/cases/2026-03/units", "/assessment/orders/J/chain"):
        r = await api.get(path, headers=head)
        assert r.status_code == 403, (path, r.text)
    assert (await api.get("/assessment/orders/A/chain", headers=head)).status_code == 200
    csv_rows = list(csv.DictReader(io.StringIO((await api.get("/assessment/orders/2026-03/export.csv",
                                                              headers=head)).text)))
    assert [r["unit"] for r in csv_rows] == ["D01-S01"]
    operator = await login(api, "operator")
    assert (await api.get("/assessment/orders/2026-03/units", headers=operator)).status_code == 403
    sup = await login(api, "supervisor")
    streets = (await api.get("/assessment/orders/2026-03/units", params={"level": 2}, headers=sup)).json()
    assert {"D01-S01", "D01-S02"} <= {r["unit"] for r in streets} and len(streets) > 2
    ranked = [r for r in streets if r["rank"] is not None]
    assert [r["unit"] for r in ranked] == ["D01-S02", "D01-S01"]  # 100 before 68.86


async def test_trend_exports_and_bad_input(stored: None, api: httpx.AsyncClient,
                                           sessions: async_sessionmaker[AsyncSession]) -> None:
    for month in ("2026-02", "2026-03", "2026-04"):
        await run_month(sessions, ComputeReportInput(period=month, config=ReportConfig()))
    auditor = await login(api, "auditor")
    trend = (await api.get("/assessment/orders/units/D01-S01/trend", headers=auditor)).json()
    assert [p["period"] for p in trend][-3:] == ["2026-02", "2026-03", "2026-04"]
    assert trend[-2]["rates"]["satisfaction"] == pytest.approx(4 / 5) and trend[-2]["received"] == 7
    assert trend[-1]["received"] == 1  # D, extended into April
    text = (await api.get("/assessment/orders/2026-03/export.csv", params={"level": 2}, headers=auditor)).text
    rows = {r["unit"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["D01-S01"]["completed_numerator"] == "4" and rows["D01-S01"]["completed_denominator"] == "6"
    pdf = await api.get("/assessment/orders/2026-03/export.pdf", params={"level": 1}, headers=auditor)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf.content))
    fonts = [f for page in reader.pages for f in page["/Resources"]["/Font"].values()]  # type: ignore[index]
    assert all("/FontFile2" in f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
               for f in fonts if "/DescendantFonts" in f.get_object())
    assert "考核报告" in reader.pages[0].extract_text()
    for path in ("/assessment/orders/2026-13/units", "/assessment/orders/march/export.csv",
                 "/assessment/parcels/2026-03/units"):
        r = await api.get(path, headers=auditor)
        assert r.status_code == 422, (path, r.text)
    assert (await api.get("/assessment/orders/2026-03/units/NOPE", headers=auditor)).status_code == 404
    rates = (await api.get("/assessment/orders/rates", headers=auditor)).json()
    assert rates["default_weights"] == {"response": 30, "resolution": 35, "satisfaction": 35}
    assert "deadline" in rates["counting"] and "arbitration" in rates["exclusions"]


async def test_report_cli(stored: None, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASEHALL_DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["report", *args], catch_exceptions=False)

    ran = await asyncio.to_thread(invoke, "run", "2026-03")
    assert ran.exit_code == 0 and "2026-03 orders:" in ran.output, ran.output
    shown = await asyncio.to_thread(invoke, "unit", "2026-03", "D01-S01")
    assert shown.exit_code == 0 and "66.67%" in shown.output and "应办结工单 7 件" in shown.output, shown.output
    levels = await asyncio.to_thread(invoke, "table", "2026-03", "--level", "2")
    assert levels.exit_code == 0 and "D01-S02" in levels.output, levels.output
    out = tmp_path / "march.csv"
    assert (await asyncio.to_thread(invoke, "export", "2026-03", str(out), "--level", "2")).exit_code == 0
    assert "D01-S01" in out.read_text(encoding="utf-8")
    for bad in (("run", "2026-13"), ("table", "2026-03", "--domain", "parcels"),
                ("run", "2026-03", "--weights", "x=1")):
        r = await asyncio.to_thread(invoke, *bad)
        assert r.exit_code == 1 and "error" in r.output, (bad, r.output)
