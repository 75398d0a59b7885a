"""Assisted handling (帮办代办): a manager names a helper for a key case; the helper acts for the applicant and
sees all its matters and consultations in one list."""

from fastapi import APIRouter
from pydantic import BaseModel

from casehall.api.actions import IdempotencyKey, act, actor_named, case_public
from casehall.api.deps import CurrentActor, SessionDep, StateDep
from casehall.api.params import CaseNo
from casehall.api.schemas import CasePublic
from casehall.models.commands import Helper, Signature
from casehall.models.consultation import ConsultationView
from casehall.models.text import Line
from casehall.store import queries
from casehall.workflows.case import CaseWorkflow

router = APIRouter(tags=["assisted handling"])


class HelperBody(BaseModel):
    username: Line


class AssistedCase(BaseModel):
    case: CasePublic
    matters: list[CasePublic]  # of a case of several matters
    consultations: list[ConsultationView]


@router.post("/cases/{case_no}/helper")
async def assign_helper(case_no: CaseNo, body: HelperBody, state: StateDep, actor: CurrentActor,
                        key: IdempotencyKey = None) -> CasePublic:
    helper = await actor_named(state, body.username, "username")
    return await act(state, actor, case_no, CaseWorkflow.assign_helper, Helper(helper=helper), key)


@router.post("/cases/{case_no}/signatures")
async def sign(case_no: CaseNo, body: Signature, state: StateDep, actor: CurrentActor, key: IdempotencyKey = None
               ) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.sign_on_behalf, body, key)


@router.get("/assisted")
async def my_assisted_cases(session: SessionDep, actor: CurrentActor) -> list[AssistedCase]:
    """Every case I help with, each with its matters and the consultations of all of them."""
    out = []
    for case in await queries.cases_helped_by(session, actor.user_id):
        matters = await queries.matters_of(session, case.case_no)
        consultations = await queries.consultations_of(session, [case.case_no, *(m.case_no for m in matters)])
        out.append(AssistedCase(
            case=await case_public(session, actor, case),
            matters=[await case_public(session, actor, m) for m in matters],
            consultations=[ConsultationView.model_validate(r.state) for r in consultations]))
    return out
