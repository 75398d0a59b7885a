"""A case that continued as new (long waits) carries its state: no second registration, the sequence goes on."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.models.case import Actor, RegisterCaseInput
from casehall.models.commands import Accept, Command, Completion, SatisfactionAnswer
from casehall.models.enums import CaseStatus, Satisfaction
from casehall.models.ids import case_workflow_id
from casehall.store import queries
from casehall.workflows.case import CaseWorkflow
from tests.cases import ALL_MKT, event_types, handle, register


async def test_carried_state_continues_the_same_case(
    client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]
) -> None:
    clerk = actors["clerk"]
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    carried = await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="办结")))
    await h.terminate("simulating the end of a run that continued as new")

    async with sessions() as s:
        item = await queries.service_item(s, "MKT-001")
    assert item is not None
    inp = RegisterCaseInput(case_no=view.case_no, item=item, applicant=view.applicant, channel="window", hall="大厅",
                            window="1", submitted_materials=ALL_MKT, clerk=clerk, carried=carried)
    resumed = await client.start_workflow(CaseWorkflow.run, inp, id=case_workflow_id(view.case_no),
                                          task_queue="casehall-test")
    state = await resumed.query(CaseWorkflow.state)
    assert state.status == CaseStatus.AWAITING_CALLBACK and state.last_seq == 3
    closed = await resumed.execute_update(
        CaseWorkflow.record_satisfaction, Command(actor=clerk, body=SatisfactionAnswer(grade=Satisfaction.SATISFIED)))
    assert closed.status == CaseStatus.CLOSED and closed.last_seq == 4
    assert await event_types(sessions, view.case_no) == ["registered", "accepted", "completed", "callback_rated"]
