"""Timelines: who did what and when, with documents and decisions; the state as of any moment is rebuilt from the
events alone and agrees with the ``cases`` projection."""

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from casehall.audit.rebuild import CaseState, state_of
from casehall.audit.timeline import case_timeline
from casehall.cli.main import app
from casehall.models.case import Actor
from casehall.models.commands import (
    Accept,
    Command,
    Completion,
    Handover,
    SatisfactionAnswer,
    Supplement,
    VetoDecision,
    VetoRequest,
)
from casehall.models.enums import Instruction, Satisfaction
from casehall.workflows.case import CaseWorkflow
from tests.cases import ALL_MKT, case_row, events, handle, register

VETO = {"reasons": "申请经营的项目属于禁止类目录", "legal_basis": "《市场主体登记管理条例》第十二条"}
HOUR = timedelta(hours=1)


async def assert_state_matches_projection(sessions: async_sessionmaker[AsyncSession], case_no: str) -> CaseState:
    state = state_of(await events(sessions, case_no))
    row = await case_row(sessions, case_no)
    assert state is not None
    derived = state.model_dump(include={"status", "deadline", "clock_paused", "clerk_id", "missing_materials",
                                        "result", "satisfaction", "closed_at", "last_seq", "updated_at"})
    assert derived == row.model_dump(include=set(derived)), case_no
    return state


async def test_timeline_as_of(time_env: WorkflowEnvironment, client: Client,
                              sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> None:
    clerk, clerk2 = actors["clerk"], actors["clerk2"]
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    await time_env.sleep(HOUR)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    await time_env.sleep(HOUR)
    await h.execute_update(CaseWorkflow.handover, Command(actor=clerk, body=Handover(to=clerk2, reason="调岗")))
    await time_env.sleep(HOUR)
    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk2, body=Completion(result="营业执照已发放")))
    await h.execute_update(CaseWorkflow.record_satisfaction,
                           Command(actor=clerk2,
                                   body=SatisfactionAnswer(grade=Satisfaction.VERY_SATISFIED, comment="很快")))
    final = await assert_state_matches_projection(sessions, view.case_no)
    assert final.status == "closed" and final.clerk_id == clerk2.user_id

    async with sessions() as s:
        full = await case_timeline(s, view.case_no)
        assert full is not None and full.state is not None
        assert [(e.type, e.actor_username, e.actor_role, e.status) for e in full.entries] == [
            ("registered", "clerk", "clerk", "registered"), ("accepted", "clerk", "clerk", "in_handling"),
            ("handed_over", "clerk", "clerk", "in_handling"), ("completed", "clerk2", "clerk", "awaiting_callback"),
            ("callback_rated", "clerk2", "clerk", "closed")]
        assert full.entries[0].actor_name == "王窗口" and full.state.clerk_username == "clerk2"
        assert full.entries[2].decision == "handed over to clerk2: 调岗"
        assert full.entries[4].decision == "rated very_satisfied: 很快"

        accepted_at = full.entries[1].at
        then = await case_timeline(s, view.case_no, accepted_at + timedelta(minutes=30))
        assert then is not None and then.state is not None and len(then.entries) == 2
        assert then.state.status == "in_handling" and then.state.clerk_username == "clerk"
        assert then.state.deadline == full.state.deadline and then.state.satisfaction is None
        assert then.state.closed_at is None and then.state.last_seq == 2
        before = await case_timeline(s, view.case_no, full.entries[0].at - timedelta(seconds=1))
        assert before is not None and before.state is None and before.entries == []
        assert await case_timeline(s, "NO-SUCH") is None


async def test_decisions_and_documents(client: Client, sessions: async_sessionmaker[AsyncSession],
                                       actors: dict[str, Actor]) -> None:
    clerk, manager = actors["clerk"], actors["manager"]
    rejected = await register(client, sessions, clerk)
    h = handle(client, rejected.case_no)
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=clerk, body=VetoRequest(**VETO)))
    await h.execute_update(CaseWorkflow.decide_veto, Command(actor=manager, body=VetoDecision(approve=True)))
    state = await assert_state_matches_projection(sessions, rejected.case_no)
    assert state.status == "rejected" and state.closed_at is not None
    async with sessions() as s:
        found = await case_timeline(s, rejected.case_no)
    assert found is not None
    asked, approved = found.entries[1], found.entries[2]
    assert asked.decision == f"asks to say no: {VETO['reasons']} ({VETO['legal_basis']})"
    assert (approved.actor_username, approved.actor_role, approved.decision) == (
        "manager", "manager", "veto approved: the case is rejected")
    assert [(d.kind, d.title) for d in approved.documents] == [("rejection_notice", "不予受理告知书")]
    assert approved.documents[0].download.endswith(".pdf")

    refused = await register(client, sessions, clerk)
    h = handle(client, refused.case_no)
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=clerk, body=VetoRequest(**VETO)))
    await h.execute_update(CaseWorkflow.decide_veto, Command(actor=manager,
            body=VetoDecision(approve=False, instruction=Instruction.ACCEPT, comment="可以办")))
    state = await assert_state_matches_projection(sessions, refused.case_no)
    assert state.status == "in_handling" and state.deadline is not None

    handling = await register(client, sessions, clerk)
    h = handle(client, handling.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=clerk, body=VetoRequest(**VETO)))
    await h.execute_update(CaseWorkflow.decide_veto, Command(actor=manager,
            body=VetoDecision(approve=False, instruction=Instruction.ACCEPT)))
    state = await assert_state_matches_projection(sessions, handling.case_no)
    assert state.status == "in_handling"  # a refused veto returns the case to where it was
    await h.execute_update(CaseWorkflow.handover, Command(actor=clerk, body=Handover(to=actors["clerk2"])))
    state = await assert_state_matches_projection(sessions, handling.case_no)
    assert state.status == "in_handling" and state.clerk_id == actors["clerk2"].user_id

    tolerant = await register(client, sessions, clerk, materials=ALL_MKT[:2])
    h = handle(client, tolerant.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    paused = await assert_state_matches_projection(sessions, tolerant.case_no)
    assert paused.clock_paused and paused.missing_materials == [ALL_MKT[2]]
    await h.execute_update(CaseWorkflow.supplement, Command(actor=clerk, body=Supplement(items=[ALL_MKT[2]])))
    resumed = await assert_state_matches_projection(sessions, tolerant.case_no)
    assert resumed.status == "in_handling" and not resumed.clock_paused and resumed.missing_materials == []
    async with sessions() as s:
        found = await case_timeline(s, tolerant.case_no)
    assert found is not None
    assert [d.kind for e in found.entries for d in e.documents] == ["one_time_notice"]


async def test_timeline_endpoint_and_show(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                          client: Client, sessions: async_sessionmaker[AsyncSession],
                                          actors: dict[str, Actor], database_url: str) -> None:
    view = await register(client, sessions, actors["clerk"])
    await handle(client, view.case_no).execute_update(CaseWorkflow.accept, Command(actor=actors["clerk"],
            body=Accept()))
    r = await api.get(f"/audit/cases/{view.case_no}/timeline", headers=tokens["auditor"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"]["status"] == "in_handling" and [e["type"] for e in body["entries"]] == [
        "registered", "accepted"]
    first = body["entries"][0]["at"]
    r = await api.get(f"/audit/cases/{view.case_no}/timeline", params={"as_of": first}, headers=tokens["director"])
    assert r.json()["state"]["status"] == "registered" and len(r.json()["entries"]) == 1
    assert (await api.get(f"/audit/cases/{view.case_no}/timeline", headers=tokens["clerk"])).status_code == 403
    assert (await api.get("/audit/cases/NO-SUCH/timeline", headers=tokens["auditor"])).status_code == 404
    assert (await api.get(f"/audit/cases/{view.case_no}/timeline")).status_code == 401

    env = {"CASEHALL_DATABASE_URL": database_url}
    shown = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "show", view.case_no], env=env)
    assert shown.exit_code == 0, shown.output
    assert view.case_no in shown.output and "accepted" in shown.output and "in_handling" in shown.output
    early = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "show", view.case_no, "--as-of", first],
                                    env=env)
    assert early.exit_code == 0 and "registered" in early.output and "in_handling" not in early.output, early.output
    missing = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "show", "NO-SUCH"], env=env)
    assert missing.exit_code == 1
