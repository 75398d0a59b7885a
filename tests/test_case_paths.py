"""The other roads of a window case: handover, cannot come, cross-region urgent, dissatisfied callback, searches."""

from datetime import datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from casehall.calendar.workdays import WorkingCalendar
from casehall.models.case import Actor
from casehall.models.commands import Accept, Command, Completion, Handling, Handover, SatisfactionAnswer
from casehall.models.enums import CaseStatus, HandlingMode, Satisfaction
from casehall.workflows.case import CaseWorkflow
from tests.cases import (
    SHANGHAI,
    case_row,
    event_types,
    eventually,
    handle,
    keep_history,
    open_tasks,
    register,
    travel_to,
)


async def test_handover_moves_responsibility(
    client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]
) -> None:
    clerk, clerk2 = actors["clerk"], actors["clerk2"]
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    try:
        await h.execute_update(CaseWorkflow.accept, Command(actor=clerk2, body=Accept()))
        raise AssertionError("another clerk must not drive the case before a handover")
    except WorkflowUpdateFailedError as err:
        assert "another clerk" in str(err.cause)
    moved = await h.execute_update(CaseWorkflow.handover, Command(actor=clerk, body=Handover(to=clerk2, reason="换班")))
    assert moved.clerk_id == clerk2.user_id and moved.first_clerk_id == clerk.user_id
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk2, body=Accept()))
    assert (await case_row(sessions, view.case_no)).clerk_id == clerk2.user_id
    assert await event_types(sessions, view.case_no) == ["registered", "handed_over", "accepted"]


async def test_cannot_come_home_visit_is_recorded(
    client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]
) -> None:
    clerk = actors["clerk"]
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    try:
        await h.execute_update(CaseWorkflow.arrange_handling, Command(actor=clerk,
                body=Handling(mode=HandlingMode.HOME_VISIT)))
        raise AssertionError("a home visit needs an appointment")
    except WorkflowUpdateFailedError as err:
        assert "appointment" in str(err.cause)
    at = datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI)
    await h.execute_update(CaseWorkflow.arrange_handling, Command(actor=clerk,
            body=Handling(mode=HandlingMode.HOME_VISIT, appointment_at=at, address="长春市朝阳区某小区")))
    accepted = await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    assert accepted.handling_mode == HandlingMode.HOME_VISIT and accepted.deadline is not None
    assert (await case_row(sessions, view.case_no)).handling_mode == "home_visit"


async def test_cross_region_urgent_gets_expedited_deadline(
    client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]
) -> None:
    clerk = actors["clerk"]
    normal = await register(client, sessions, clerk, item_code="SOCIAL-003", materials=["参保人身份证明"])
    urgent = await register(client, sessions, clerk, item_code="SOCIAL-003", materials=["参保人身份证明"],
                            cross_region_urgent=True, description="外地参保人，急需转移")
    n = await handle(client, normal.case_no).execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    u = await handle(client, urgent.case_no).execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    assert n.deadline and u.deadline and u.deadline < n.deadline
    calendar = WorkingCalendar.builtin()
    start = (await case_row(sessions, urgent.case_no)).registered_at
    assert abs(u.deadline - calendar.add_working_days(start, 5).at) < timedelta(days=1)  # 5 of 15 working days


async def test_dissatisfied_callback_reopens_as_rectification(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    clerk, manager = actors["clerk"], actors["manager"]
    await travel_to(time_env, datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))  # Monday
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="已办结")))
    reopened = await h.execute_update(CaseWorkflow.record_satisfaction, Command(actor=clerk,
            body=SatisfactionAnswer(grade=Satisfaction.DISSATISFIED, comment="等了太久")))
    assert reopened.status == CaseStatus.RECTIFICATION
    assert [(t.kind, t.role) for t in await open_tasks(sessions, view.case_no)] == [("rectification", "manager")]

    async def escalated() -> bool:
        return "rectification_escalated" in await event_types(sessions, view.case_no)

    await travel_to(time_env, datetime(2026, 11, 30, 17, 5, tzinfo=SHANGHAI))  # 5 working days later
    await eventually(escalated)
    done = await h.execute_update(CaseWorkflow.rectify, Command(actor=manager, body=Completion(result="已整改并致歉")))
    assert done.status == CaseStatus.CLOSED
    assert await open_tasks(sessions, view.case_no) == []
    await keep_history(h, "rectification")


async def test_search_cases(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    clerk = tokens["clerk"]
    body = {"item_code": "SOCIAL-003", "applicant": {"name": "王五", "phone": "13700137000",
                                                     "id_number": "220201197703033336"}}
    created = (await api.post("/cases", headers=clerk, json=body)).json()
    found = (await api.get("/cases", headers=clerk, params={"q": "王五"})).json()
    assert [c["case_no"] for c in found["items"]] == [created["case_no"]]
    by_dept = (await api.get("/cases", headers=clerk, params={"department": "SOCIAL", "status": "registered"})).json()
    assert created["case_no"] in [c["case_no"] for c in by_dept["items"]]
    assert all(c["department_code"] == "SOCIAL" for c in by_dept["items"])
    page = (await api.get("/cases", headers=clerk, params={"limit": 1, "offset": 0})).json()
    assert len(page["items"]) == 1 and page["total"] >= 2
    assert (await api.get("/cases", headers=clerk, params={"limit": 0})).status_code == 422
    assert (await api.get("/cases", headers=clerk, params={"status": "nonsense"})).status_code == 422
    assert (await api.get("/cases", headers=clerk, params={"overdue": "true"})).status_code == 200


async def test_overdue_means_the_legal_clock_ran_out(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    clerk = tokens["clerk"]
    body = {"item_code": "MKT-001", "submitted_materials": ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"],
            "applicant": {"name": "超期", "phone": "13700137001", "id_number": "220201197703030004"}}
    handling = (await api.post("/cases", headers=clerk, json=body)).json()["case_no"]
    done = (await api.post("/cases", headers=clerk, json=body)).json()["case_no"]
    await api.post(f"/cases/{handling}/accept", headers=clerk)
    await api.post(f"/cases/{done}/accept", headers=clerk)
    await api.post(f"/cases/{done}/complete", headers=clerk, json={"result": "按时办结"})
    async with sessions() as s, s.begin():  # the deadlines pass (the database clock does not skip time)
        await s.execute(text("UPDATE cases SET deadline = now() - interval '1 day' WHERE case_no IN (:a, :b)"),
                        {"a": handling, "b": done})
    overdue = (await api.get("/cases", headers=clerk, params={"overdue": "true", "q": "超期"})).json()
    assert [c["case_no"] for c in overdue["items"]] == [handling]
    assert overdue["items"][0]["overdue"] is True
    assert (await api.get(f"/cases/{done}", headers=clerk)).json()["overdue"] is False
