"""``CASEHALL_WORKER_WORKFLOW_SANDBOX``: the worker runs casehall's workflows in the SDK's sandbox unless an operator
turns it off; off, a case runs the same way (the suite itself always runs sandboxed: conftest)."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from casehall.api.intake import RegisterCase, register_case
from casehall.core.settings import Settings
from casehall.models.case import Actor
from casehall.models.commands import Accept, Command, Completion
from casehall.models.enums import CaseStatus
from casehall.worker import build_worker, case_activities
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.registry import RUNNER, runner
from tests.cases import ALL_MKT, APPLICANT, event_types, handle

QUEUE = "casehall-unsandboxed"


def test_the_sandbox_is_on_unless_turned_off(settings: Settings) -> None:
    assert Settings(_env_file=None).worker_workflow_sandbox is True  # type: ignore[call-arg]
    assert settings.worker_workflow_sandbox is True
    assert runner(True) is RUNNER and isinstance(RUNNER, SandboxedWorkflowRunner)
    assert isinstance(runner(False), UnsandboxedWorkflowRunner)


async def test_a_case_runs_the_same_without_the_sandbox(client: Client, settings: Settings,
                                                         sessions: async_sessionmaker[AsyncSession],
                                                         actors: dict[str, Actor]) -> None:
    plain = settings.model_copy(update={"task_queue": QUEUE, "worker_workflow_sandbox": False})
    clerk = actors["clerk"]
    async with build_worker(client, plain, case_activities(sessions, plain)):
        body = RegisterCase(item_code="MKT-001", applicant=APPLICANT, submitted_materials=ALL_MKT)
        view = await register_case(client, sessions, QUEUE, body, clerk)
        h = handle(client, view.case_no)
        await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
        done = await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="办结")))
    assert done.status == CaseStatus.AWAITING_CALLBACK
    assert await event_types(sessions, view.case_no) == ["registered", "accepted", "completed"]
