"""Joint consultations: convene from a case, answer, extend, conclude, read and download the minutes. Visible to
the lead department, the consulted departments and auditors only."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from casehall.api.actions import IdempotencyKey, act, require_departments, run_update
from casehall.api.deps import CurrentActor, SessionDep, StateDep
from casehall.api.errors import Closed, NotFound
from casehall.api.params import CaseNo
from casehall.api.schemas import CasePublic
from casehall.documents.pdf import render_document
from casehall.models.case import Actor
from casehall.models.commands import Command
from casehall.models.consultation import ConclusionBody, ConsultationView, Convene, ExtensionBody, OpinionBody
from casehall.models.ids import consultation_workflow_id
from casehall.models.tables import Consultation
from casehall.store import queries
from casehall.store.documents import consultation_minutes
from casehall.workflows.access import sees_consultation
from casehall.workflows.actions import REPEAT_WINDOW
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.errors import FORBIDDEN, refuse
from casehall.workflows.joint_consultation import JointConsultationWorkflow

router = APIRouter(tags=["joint consultation"])


async def _taking_part(session: AsyncSession, row: Consultation) -> list[list[str]]:
    """The department paths of the lead and the consulted departments (``access.sees_consultation``)."""
    return [await queries.department_path(session, code) for code in [row.lead_department, *row.departments]]


async def _visible(session: SessionDep, actor: Actor, consultation_id: str) -> ConsultationView:
    row = await session.get(Consultation, consultation_id)
    if row is None:
        raise NotFound(f"no consultation {consultation_id}")
    if not sees_consultation(actor, await _taking_part(session, row)):
        raise refuse(FORBIDDEN, "only the departments taking part, the departments above them, auditors and "
                                "administrators see a consultation")
    return ConsultationView.model_validate(row.state)


async def _update(state: StateDep, actor: Actor, consultation_id: str, update: Any, body: Any,
                  key: str | None) -> ConsultationView:
    async with state.sessions() as session:
        await _visible(session, actor, consultation_id)
    handle = state.client.get_workflow_handle(consultation_workflow_id(consultation_id))
    try:
        result: ConsultationView = await run_update(state, handle, update, Command(actor=actor, body=body), key,
                                                    ConsultationView, stored=(Consultation, consultation_id))
    except Closed:  # a repeat of the conclusion that closed it moments ago: the stored outcome
        async with state.sessions() as session:
            view = await _visible(session, actor, consultation_id)
        concluded = view.conclusion
        same = concluded is not None and ConclusionBody.model_validate(concluded.model_dump()) == body
        if not (same and concluded and concluded.by.user_id == actor.user_id
                and datetime.now(UTC) - concluded.at <= REPEAT_WINDOW):
            raise
        return view
    return result


@router.post("/cases/{case_no}/consultations")
async def convene(case_no: CaseNo, body: Convene, state: StateDep, actor: CurrentActor, key: IdempotencyKey = None
                  ) -> CasePublic:
    await require_departments(state, [body.lead_department], "lead_department")
    await require_departments(state, body.departments, "departments")
    return await act(state, actor, case_no, CaseWorkflow.convene_consultation, body, key)


@router.get("/cases/{case_no}/consultations")
async def of_case(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> list[ConsultationView]:
    rows = await queries.consultations_of(session, [case_no])
    return [ConsultationView.model_validate(r.state) for r in rows
            if sees_consultation(actor, await _taking_part(session, r))]


@router.get("/consultations/{consultation_id}")
async def get(consultation_id: CaseNo, session: SessionDep, actor: CurrentActor) -> ConsultationView:
    return await _visible(session, actor, consultation_id)


@router.post("/consultations/{consultation_id}/opinions")
async def answer(consultation_id: CaseNo, body: OpinionBody, state: StateDep, actor: CurrentActor,
                 key: IdempotencyKey = None) -> ConsultationView:
    return await _update(state, actor, consultation_id, JointConsultationWorkflow.answer, body, key)


@router.post("/consultations/{consultation_id}/extension")
async def extend(consultation_id: CaseNo, body: ExtensionBody, state: StateDep, actor: CurrentActor,
                 key: IdempotencyKey = None) -> ConsultationView:
    return await _update(state, actor, consultation_id, JointConsultationWorkflow.extend, body, key)


@router.post("/consultations/{consultation_id}/conclusion")
async def conclude(consultation_id: CaseNo, body: ConclusionBody, state: StateDep, actor: CurrentActor,
                   key: IdempotencyKey = None) -> ConsultationView:
    return await _update(state, actor, consultation_id, JointConsultationWorkflow.conclude, body, key)


@router.get("/consultations/{consultation_id}/minutes.pdf", response_class=Response)
async def minutes(consultation_id: CaseNo, state: StateDep, actor: CurrentActor) -> Response:
    """联合会商纪要: a draft while open; numbered and frozen once concluded (the first download issues it)."""
    async with state.sessions() as session:
        view = await _visible(session, actor, consultation_id)
        content = await consultation_minutes(session, view, tz=state.settings.timezone)
    at = view.conclusion.at if view.conclusion else view.opened_at
    pdf = render_document("consultation_minutes", "联合会商纪要", content, at)
    headers = {"Content-Disposition": f'attachment; filename="{consultation_id}-minutes.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
