"""Exports: one case or a closing period, as JSON (events with hashes, documents, the chain's verdict) or CSV."""

import asyncio
import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from typer.testing import CliRunner

from casehall.cli.main import app
from casehall.core.db import transaction
from casehall.models.case import Actor
from casehall.models.commands import Command, VetoDecision, VetoRequest
from casehall.workflows.case import CaseWorkflow
from tests.cases import case_row, closed_case, events, handle, register


async def rejected_case(client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> str:
    view = await register(client, sessions, actors["clerk"])
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=actors["clerk"],
            body=VetoRequest(reasons="禁止类目录", legal_basis="《市场主体登记管理条例》第十二条")))
    await h.execute_update(CaseWorkflow.decide_veto, Command(actor=actors["manager"], body=VetoDecision(approve=True)))
    return view.case_no


async def test_export_one_case_and_a_period(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                            client: Client, sessions: async_sessionmaker[AsyncSession],
                                            actors: dict[str, Actor]) -> None:
    closed = await closed_case(client, sessions, actors["clerk"])
    rejected = await rejected_case(client, sessions, actors)
    open_case = (await register(client, sessions, actors["clerk"])).case_no
    auditor = tokens["auditor"]

    one = await api.get("/audit/export", params={"case_no": rejected}, headers=auditor)
    assert one.status_code == 200, one.text
    (case,) = one.json()["cases"]
    stored = await events(sessions, rejected)
    assert [(e["seq"], e["type"], e["prev_hash"], e["hash"]) for e in case["events"]] == [
        (e.seq, e.type, e.prev_hash, e.hash) for e in stored]
    assert case["events"][-1]["actor_username"] == "manager" and case["chain_ok"] and case["chain_breaks"] == []
    assert [(d["kind"], d["seq"]) for d in case["documents"]] == [("rejection_notice", stored[-1].seq)]
    assert case["documents"][0]["content"]["approved_by"] == "manager"

    first, last = (await case_row(sessions, closed)).closed_at, (await case_row(sessions, rejected)).closed_at
    assert first is not None and last is not None
    period = {"closed_from": first.isoformat(), "closed_to": (last + timedelta(seconds=1)).isoformat()}
    both = (await api.get("/audit/export", params=period, headers=tokens["manager"])).json()
    assert [c["case_no"] for c in both["cases"]] == [closed, rejected]  # the open case was not closed
    assert open_case not in json.dumps(both)

    r = await api.get("/audit/export", params=period | {"format": "csv"}, headers=auditor)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["case_no"], x["type"]) for x in lines][:4] == [
        (closed, "registered"), (closed, "accepted"), (closed, "completed"), (closed, "callback_rated")]
    notice = next(x for x in lines if x["type"] == "veto_approved")
    assert (notice["document_kind"], notice["actor_username"], notice["chain_ok"]) == (
        "rejection_notice", "manager", "yes")
    assert json.loads(notice["payload"])["approve"] is True

    async with transaction(sessions) as s:
        await s.execute(text("UPDATE case_events SET payload = '{}' WHERE case_no = :c AND seq = 1"), {"c": closed})
    tampered = (await api.get("/audit/export", params={"case_no": closed}, headers=auditor)).json()["cases"][0]
    assert not tampered["chain_ok"] and tampered["chain_breaks"][0].startswith("changed at 1")

    assert (await api.get("/audit/export", headers=auditor)).status_code == 422
    assert (await api.get("/audit/export", params={"case_no": "NO-SUCH"}, headers=auditor)).status_code == 404
    assert (await api.get("/audit/export", params={"case_no": closed}, headers=tokens["clerk"])).status_code == 403


async def test_export_command(client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor],
                              database_url: str, tmp_path: Path) -> None:
    case_no = await rejected_case(client, sessions, actors)
    env = {"CASEHALL_DATABASE_URL": database_url}
    out = tmp_path / "export.csv"
    result = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "export", "--case", case_no, "--format",
                                                               "csv", "--output", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["type"] for r in rows][-1] == "veto_approved" and rows[-1]["document_kind"] == "rejection_notice"

    result = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "export", "--case", case_no], env=env)
    assert result.exit_code == 0 and json.loads(result.stdout)["cases"][0]["case_no"] == case_no
    missing = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "export"], env=env)
    assert missing.exit_code == 1 and "name a case" in missing.output
