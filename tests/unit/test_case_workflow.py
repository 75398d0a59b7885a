"""CaseWorkflow's logic with stand-in activities (samples-python style): no PostgreSQL, the time-skipping server only.
The stand-ins implement the same protocols as the real store and calendars (casehall.activities.case)."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casehall.activities.case import CaseActivities, StoreRefused
from casehall.models.activity_io import FailingWorkInput, RecordEventInput
from casehall.models.case import Actor, Applicant, RegisterCaseInput
from casehall.models.commands import (
    Accept,
    Command,
    Completion,
    Handover,
    SatisfactionAnswer,
    VetoDecision,
    VetoRequest,
)
from casehall.models.consultation import RecordConsultationEventInput
from casehall.models.enums import CaseStatus, Channel, Role, Satisfaction
from casehall.models.ids import case_workflow_id
from casehall.stack.embedded import temporal_test_server_path
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.observability import register_search_attributes
from tests.unit.test_rules import CLERK, CLERK2, DIRECTOR, ITEM, MANAGER

QUEUE = "unit"


class MemoryStore:
    """Records in memory, keyed (case, seq) like the real store; refuses what ``refuse`` says."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, int], RecordEventInput] = {}
        self.failing: list[FailingWorkInput] = []
        self.refuse: set[str] = set()  # event types refused for good

    async def record_case_event(self, inp: RecordEventInput) -> bool:
        if inp.type in self.refuse or "REFUSE" in str(inp.payload):
            raise StoreRefused(f"23503: refused {inp.type}")
        new = (inp.case.case_no, inp.seq) not in self.events
        self.events[(inp.case.case_no, inp.seq)] = inp
        return new

    async def record_consultation_event(self, inp: RecordConsultationEventInput) -> bool:
        return True

    async def report_failing_work(self, inp: FailingWorkInput) -> None:
        self.failing.append(inp)

    def of(self, case_no: str) -> list[RecordEventInput]:
        return [e for (c, _), e in sorted(self.events.items()) if c == case_no]


class Dated:
    def __init__(self, at: datetime) -> None:
        self.at, self.provisional = at, False


class EveryDayCalendar:
    """Every day a working day, around the clock: deadlines are easy to check."""

    def add_working_days(self, start: datetime, days: int) -> Dated:
        return Dated(start + timedelta(days=days))

    def add_working_time(self, start: datetime, amount: timedelta) -> Dated:
        return Dated(start + amount)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        return end - start

    async def get(self, version: str | None = None) -> "EveryDayCalendar":
        return self


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server_path()), data_converter=pydantic_data_converter)
    await register_search_attributes(env.client)  # the recorder upserts them
    yield env
    await env.shutdown()


@pytest.fixture
async def store(env: WorkflowEnvironment) -> AsyncIterator[MemoryStore]:
    memory = MemoryStore()
    activities = CaseActivities(memory, EveryDayCalendar())
    async with Worker(env.client, task_queue=QUEUE, workflows=[CaseWorkflow], activities=activities.all()):
        yield memory


async def register(client: Client) -> tuple[str, Any]:
    case_no = f"UNIT-{uuid.uuid4().hex[:8]}"
    inp = RegisterCaseInput(case_no=case_no, item=ITEM, clerk=CLERK, channel=Channel.WINDOW, hall="大厅", window="1",
                            applicant=Applicant(name="张三", phone="13800138000", id_number="220201199001011238"),
                            submitted_materials=[m.name for m in ITEM.materials])
    handle = await client.start_workflow(CaseWorkflow.run, inp, id=case_workflow_id(case_no), task_queue=QUEUE)
    view = await handle.execute_update(CaseWorkflow.registration)
    assert view.last_seq == 1
    return case_no, handle


async def test_yes_path_records_each_step_once_in_order(env: WorkflowEnvironment, store: MemoryStore) -> None:
    case_no, h = await register(env.client)
    assert [e.type for e in store.of(case_no)] == ["registered"], "registration answers once stored"
    await h.execute_update(CaseWorkflow.accept, Command(actor=CLERK, body=Accept()))
    await h.execute_update(CaseWorkflow.complete, Command(actor=CLERK, body=Completion(result="办结")))
    done = await h.execute_update(CaseWorkflow.record_satisfaction,
                                  Command(actor=CLERK, body=SatisfactionAnswer(grade=Satisfaction.SATISFIED)))
    events = store.of(case_no)
    assert [e.type for e in events] == ["registered", "accepted", "completed", "callback_rated"]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    deadline = datetime.fromisoformat(events[1].payload["deadline"])  # computed by the calendar activity
    assert abs(deadline - events[1].at - timedelta(days=ITEM.time_limit_days)) < timedelta(seconds=1)
    assert done.status == CaseStatus.CLOSED and events[-1].case.closed_at == done.closed_at == events[-1].at


async def test_undecided_veto_reminds_then_goes_to_the_director(env: WorkflowEnvironment, store: MemoryStore) -> None:
    case_no, h = await register(env.client)
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=CLERK, body=VetoRequest(
        reasons="属于禁止类目录", legal_basis="第十二条")))
    await env.sleep(timedelta(days=2, hours=1))
    types = [e.type for e in store.of(case_no)]
    assert types == ["registered", "veto_requested", "veto_reminder", "veto_escalated"]
    escalated = store.of(case_no)[-1]
    assert escalated.open_task is not None and escalated.open_task.role == Role.DIRECTOR
    with pytest.raises(WorkflowUpdateFailedError):  # the requester's own clerk colleague cannot say no
        await h.execute_update(CaseWorkflow.decide_veto, Command(actor=CLERK2, body=VetoDecision(approve=True)))
    view = await h.execute_update(CaseWorkflow.decide_veto, Command(actor=DIRECTOR, body=VetoDecision(approve=True)))
    assert view.status == CaseStatus.REJECTED
    notice = store.of(case_no)[-1].document
    assert notice is not None and notice.kind == "rejection_notice" and notice.content["reasons"] == "属于禁止类目录"


async def test_a_refused_write_refuses_the_action_and_keeps_the_case_as_stored(
        env: WorkflowEnvironment, store: MemoryStore) -> None:
    case_no, h = await register(env.client)
    to = Actor(user_id=2, username="clerk2", role=Role.CLERK, department_code="CITY")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await h.execute_update(CaseWorkflow.handover, Command(actor=CLERK, body=Handover(to=to, reason="REFUSE")))
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "Invalid" and "could not be stored" in cause.message
    state = await h.query(CaseWorkflow.state)
    assert state.clerk_id == CLERK.user_id and state.last_seq == 1, "back to what is stored"
    moved = await h.execute_update(CaseWorkflow.handover, Command(actor=CLERK, body=Handover(to=to, reason="换班")))
    assert moved.clerk_id == 2 and [e.seq for e in store.of(case_no)] == [1, 2]


async def test_a_refused_timer_step_waits_for_an_operator_then_is_stored(
        env: WorkflowEnvironment, store: MemoryStore) -> None:
    case_no, h = await register(env.client)
    store.refuse.add("veto_reminder")
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=CLERK, body=VetoRequest(
        reasons="理由", legal_basis="依据")))
    await env.sleep(timedelta(days=1, hours=1))
    assert [f.event_type for f in store.failing] == ["veto_reminder"] and store.failing[0].seq == 3
    assert [e.type for e in store.of(case_no)] == ["registered", "veto_requested"]
    store.refuse.clear()
    await h.signal(CaseWorkflow.retry_failed_work)
    view = await h.execute_update(CaseWorkflow.decide_veto, Command(actor=MANAGER, body=VetoDecision(approve=True)))
    assert [e.type for e in store.of(case_no)] == ["registered", "veto_requested", "veto_reminder", "veto_approved"]
    assert view.status == CaseStatus.REJECTED
