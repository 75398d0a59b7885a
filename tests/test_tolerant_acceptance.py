"""Tolerant acceptance: accept with secondary materials missing, one notice, a paused clock, the manager at the
supplement deadline, and never an automatic rejection."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casehall.calendar.workdays import WorkingCalendar
from casehall.models.case import Actor
from casehall.models.commands import (
    Accept,
    Command,
    Completion,
    OverdueSupplementDecision,
    SatisfactionAnswer,
    Supplement,
)
from casehall.models.enums import CaseStatus, Satisfaction
from casehall.workflows.case import CaseWorkflow
from tests.cases import (
    SHANGHAI,
    case_row,
    documents,
    event_types,
    eventually,
    handle,
    keep_history,
    open_tasks,
    register,
    travel_to,
)

MAIN = ["施工合同", "施工图审查合格书"]
SAFETY, FUNDS = "安全施工措施资料", "建设资金落实证明"


async def test_two_partial_supplements_pause_the_clock(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    clerk = actors["clerk"]
    await travel_to(time_env, datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))  # Monday
    view = await register(client, sessions, clerk, item_code="HOUSING-002", materials=MAIN)
    h = handle(client, view.case_no)
    accepted = await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    assert accepted.status == CaseStatus.AWAITING_SUPPLEMENT and accepted.clock_paused
    assert sorted(accepted.missing_materials) == sorted([SAFETY, FUNDS])
    [notice] = await documents(sessions, view.case_no)
    assert notice.kind == "one_time_notice" and notice.content["accepted"] is True
    assert {m["material"] for m in notice.content["missing"]} == {SAFETY, FUNDS}  # every item, at once

    calendar = WorkingCalendar.builtin()
    accepted_at = (await case_row(sessions, view.case_no)).updated_at
    remaining = calendar.working_time_between(accepted_at, calendar.add_working_days(accepted_at, 7).at)

    await travel_to(time_env, datetime(2026, 11, 24, 15, 0, tzinfo=SHANGHAI))
    partial = await h.execute_update(CaseWorkflow.supplement, Command(actor=clerk, body=Supplement(items=[SAFETY])))
    assert partial.status == CaseStatus.AWAITING_SUPPLEMENT and partial.missing_materials == [FUNDS]

    resumed_at = datetime(2026, 11, 26, 11, 0, tzinfo=SHANGHAI)  # Thursday: two working days of waiting
    await travel_to(time_env, resumed_at)
    done = await h.execute_update(
        CaseWorkflow.supplement, Command(actor=clerk, body=Supplement(items=[FUNDS], on_behalf_of_applicant=True)))
    assert done.status == CaseStatus.IN_HANDLING and not done.clock_paused and done.missing_materials == []
    assert done.deadline is not None
    # Accepted Mon 10:00 with 7 working days: Wed 12-02 17:00 had everything been there. 25 working hours
    # passed while waiting (Mon 7 + Tue 8 + Wed 8 + Thu 2), so the deadline moves to Tue 12-08 10:00.
    assert abs(done.deadline - calendar.add_working_time(resumed_at, remaining).at) < timedelta(seconds=5)
    assert abs(done.deadline - datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)) < timedelta(seconds=5)
    original = calendar.add_working_days(accepted_at, 7).at
    waited = calendar.working_time_between(accepted_at, resumed_at)
    assert abs(calendar.working_time_between(original, done.deadline) - waited) < timedelta(seconds=5)
    types = await event_types(sessions, view.case_no)
    assert types == ["registered", "accepted_tolerantly", "supplement_received", "supplement_received",
                     "materials_complete"]
    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="施工许可证已核发")))
    closed = await h.execute_update(
        CaseWorkflow.record_satisfaction, Command(actor=clerk, body=SatisfactionAnswer(grade=Satisfaction.SATISFIED)))
    assert closed.status == CaseStatus.CLOSED
    await keep_history(h, "tolerant_acceptance")


async def test_supplement_deadline_goes_to_the_manager(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    clerk, manager = actors["clerk"], actors["manager-housing"]
    await travel_to(time_env, datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI))  # Monday
    view = await register(client, sessions, clerk, item_code="HOUSING-002", materials=MAIN)
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    await h.execute_update(CaseWorkflow.supplement, Command(actor=clerk, body=Supplement(items=[FUNDS])))

    async def has(event: str) -> bool:
        return event in await event_types(sessions, view.case_no)

    # 5 working days: Tue..Mon -> deadline Monday 12-07 17:00, reminder one working day earlier (Friday).
    await travel_to(time_env, datetime(2026, 12, 4, 17, 5, tzinfo=SHANGHAI))
    await eventually(lambda: has("supplement_reminder"))
    assert not await has("supplement_overdue")
    await travel_to(time_env, datetime(2026, 12, 7, 17, 5, tzinfo=SHANGHAI))
    await eventually(lambda: has("supplement_overdue"))
    assert (await case_row(sessions, view.case_no)).status == "supplement_overdue"  # not rejected
    assert [(t.kind, t.role) for t in await open_tasks(sessions, view.case_no)] == [("supplement_overdue", "manager")]

    extended = await h.execute_update(
        CaseWorkflow.decide_overdue_supplement, Command(actor=manager, body=OverdueSupplementDecision(extend_days=2)))
    assert extended.status == CaseStatus.AWAITING_SUPPLEMENT
    assert await open_tasks(sessions, view.case_no) == []
    done = await h.execute_update(CaseWorkflow.supplement, Command(actor=clerk, body=Supplement(items=[SAFETY])))
    assert done.status == CaseStatus.IN_HANDLING
    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="已核发")))
    await h.execute_update(
        CaseWorkflow.record_satisfaction, Command(actor=clerk, body=SatisfactionAnswer(grade=Satisfaction.SATISFIED)))
    await keep_history(h, "supplement_overdue_extended")


async def test_main_materials_missing_gets_notice_not_rejection(
    client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor],
) -> None:
    clerk = actors["clerk"]
    view = await register(client, sessions, clerk, item_code="HOUSING-002", materials=["施工合同"])
    h = handle(client, view.case_no)
    waiting = await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    assert waiting.status == CaseStatus.AWAITING_MATERIALS and waiting.deadline is None
    [notice] = await documents(sessions, view.case_no)
    assert notice.content["accepted"] is False and len(notice.content["missing"]) == 3
    accepted = await h.execute_update(
        CaseWorkflow.supplement, Command(actor=clerk, body=Supplement(items=["施工图审查合格书"])))
    assert accepted.status == CaseStatus.AWAITING_SUPPLEMENT and accepted.clock_paused
