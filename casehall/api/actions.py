"""What every action route does: load the case, send the validated update, answer with the stored state."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from casehall.api.deps import SessionDep, StateDep
from casehall.api.errors import Closed, NotFound
from casehall.api.schemas import CasePublic, sees_id_number
from casehall.core.temporal import workflow_id
from casehall.models.payloads import Actor
from casehall.models.tables import Case
from casehall.store import queries


async def case_public(session: SessionDep, actor: Actor, case: Case) -> CasePublic:
    path = await queries.department_path(session, case.department_code)
    return CasePublic.of(case, sees_id_number(actor, case, path), datetime.now(UTC))


async def load_case(session: SessionDep, case_no: str) -> Case:
    case = await session.get(Case, case_no)
    if case is None:
        raise NotFound(f"no case {case_no}")
    return case


async def run_update(handle: WorkflowHandle[Any, Any], update: Any, inp: BaseModel, result_type: type | None = None
                     ) -> Any:
    """Execute an update; a workflow that has already finished answers 'closed', not 'not found'."""
    try:
        return await handle.execute_update(update, inp, result_type=result_type)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        try:
            status = (await handle.describe()).status
        except RPCError:
            raise NotFound(f"no running workflow {handle.id}") from None
        if status != WorkflowExecutionStatus.RUNNING:
            raise Closed(f"{handle.id} is already finished: no further action can be recorded") from None
        raise


async def act(state: StateDep, session: SessionDep, actor: Actor, case_no: str, update: Any, inp: BaseModel
              ) -> CasePublic:
    """Send an action to a case and answer with its stored state."""
    await load_case(session, case_no)
    await run_update(state.client.get_workflow_handle(workflow_id(case_no)), update, inp)
    session.expire_all()
    return await case_public(session, actor, await load_case(session, case_no))
