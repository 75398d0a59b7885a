"""Cases: register, read, search, and every human action (each one a validated workflow update)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel

from casehall.api.actions import act, case_public, load_case
from casehall.api.deps import CurrentActor, SessionDep, StateDep, require_roles
from casehall.api.errors import NotFound
from casehall.api.intake import RegisterCase, RegisterCombined, register_case, register_combined
from casehall.api.schemas import CaseList, CasePublic, DocumentPublic, EventPublic
from casehall.documents.pdf import render_document
from casehall.models.payloads import (
    AcceptInput,
    CaseStatus,
    CompleteInput,
    Completion,
    Handling,
    HandlingInput,
    HandoverInput,
    OverdueSupplementDecision,
    OverdueSupplementInput,
    Role,
    SatisfactionAnswer,
    SatisfactionInput,
    Supplement,
    SupplementInput,
    VetoDecision,
    VetoDecisionInput,
    VetoRequest,
    VetoRequestInput,
)
from casehall.models.tables import Document
from casehall.store import queries
from casehall.workflows.case import CaseWorkflow

router = APIRouter(prefix="/cases", tags=["cases"])
writers = [require_roles(Role.CLERK, Role.MANAGER, Role.DIRECTOR)]


@router.post("", status_code=201, dependencies=writers)
async def register(body: RegisterCase, state: StateDep, session: SessionDep, actor: CurrentActor) -> CasePublic:
    view = await register_case(state.client, state.sessions, state.settings.task_queue, body, actor,
                               tz=state.settings.timezone)
    return await case_public(session, actor, await load_case(session, view.case_no))


@router.post("/combined", status_code=201, dependencies=writers)
async def register_several(body: RegisterCombined, state: StateDep, session: SessionDep, actor: CurrentActor
                           ) -> CasePublic:
    """Several matters at one window: one case, one child case per matter."""
    view = await register_combined(state.client, state.sessions, state.settings.task_queue, body, actor,
                                   tz=state.settings.timezone)
    return await case_public(session, actor, await load_case(session, view.case_no))


@router.get("/{case_no}/matters")
async def matters(case_no: str, session: SessionDep, actor: CurrentActor) -> list[CasePublic]:
    """The matters of a combined case, in one place for the first-responsible clerk."""
    await load_case(session, case_no)
    return [await case_public(session, actor, c) for c in await queries.matters_of(session, case_no)]


@router.get("")
async def search(
    session: SessionDep, actor: CurrentActor,
    status: CaseStatus | None = None, department: str | None = None, clerk_id: int | None = None,
    overdue: bool | None = None, registered_from: datetime | None = None, registered_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CaseList:
    f = queries.CaseFilter(status=status.value if status else None, department_code=department, clerk_id=clerk_id,
                           overdue=overdue, registered_from=registered_from, registered_to=registered_to, text=q,
                           offset=offset, limit=limit)
    total, rows = await queries.list_cases(session, f)
    return CaseList(total=total, offset=offset, limit=limit, items=[await case_public(session, actor, c) for c in rows])


@router.get("/{case_no}")
async def get_case(case_no: str, session: SessionDep, actor: CurrentActor) -> CasePublic:
    return await case_public(session, actor, await load_case(session, case_no))


@router.get("/{case_no}/events")
async def events(case_no: str, session: SessionDep, actor: CurrentActor) -> list[EventPublic]:
    await load_case(session, case_no)
    return [EventPublic.of(e) for e in await queries.case_events(session, case_no)]


@router.get("/{case_no}/documents")
async def documents(case_no: str, session: SessionDep, actor: CurrentActor) -> list[DocumentPublic]:
    await load_case(session, case_no)
    return [DocumentPublic.of(d) for d in await queries.case_documents(session, case_no)]


@router.get("/{case_no}/documents/{doc_id}.pdf", response_class=Response)
async def download(case_no: str, doc_id: int, session: SessionDep, actor: CurrentActor) -> Response:
    doc = await session.get(Document, doc_id)
    if doc is None or doc.case_no != case_no:
        raise NotFound(f"case {case_no} has no document {doc_id}")
    pdf = render_document(doc.kind, doc.title, doc.content, doc.issued_at)
    name = f"{case_no}-{doc.kind}-{doc.seq}.pdf"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=disposition)


@router.post("/{case_no}/accept")
async def accept(case_no: str, state: StateDep, session: SessionDep, actor: CurrentActor) -> CasePublic:
    return await act(state, session, actor, case_no, CaseWorkflow.accept, AcceptInput(actor=actor))


@router.post("/{case_no}/supplements")
async def supplement(case_no: str, body: Supplement, state: StateDep, session: SessionDep, actor: CurrentActor
                     ) -> CasePublic:
    inp = SupplementInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.supplement, inp)


@router.post("/{case_no}/supplements/overdue-decision")
async def overdue_supplement(case_no: str, body: OverdueSupplementDecision, state: StateDep, session: SessionDep,
                             actor: CurrentActor) -> CasePublic:
    inp = OverdueSupplementInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.decide_overdue_supplement, inp)


@router.post("/{case_no}/veto")
async def request_veto(case_no: str, body: VetoRequest, state: StateDep, session: SessionDep, actor: CurrentActor
                       ) -> CasePublic:
    inp = VetoRequestInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.request_veto, inp)


@router.post("/{case_no}/veto/decision")
async def decide_veto(case_no: str, body: VetoDecision, state: StateDep, session: SessionDep, actor: CurrentActor
                      ) -> CasePublic:
    inp = VetoDecisionInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.decide_veto, inp)


class HandoverBody(BaseModel):
    to_username: str
    reason: str = ""


@router.post("/{case_no}/handover")
async def handover(case_no: str, body: HandoverBody, state: StateDep, session: SessionDep, actor: CurrentActor
                   ) -> CasePublic:
    target = await queries.user_by_name(session, body.to_username)
    if target is None:
        raise HTTPException(422, f"no user named {body.to_username!r}")
    inp = HandoverInput(actor=actor, to=queries.actor_of(target), reason=body.reason)
    return await act(state, session, actor, case_no, CaseWorkflow.handover, inp)


@router.post("/{case_no}/handling")
async def arrange_handling(case_no: str, body: Handling, state: StateDep, session: SessionDep, actor: CurrentActor
                           ) -> CasePublic:
    inp = HandlingInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.arrange_handling, inp)


@router.post("/{case_no}/complete")
async def complete(case_no: str, body: Completion, state: StateDep, session: SessionDep, actor: CurrentActor
                   ) -> CasePublic:
    inp = CompleteInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.complete, inp)


@router.post("/{case_no}/satisfaction")
async def satisfaction(case_no: str, body: SatisfactionAnswer, state: StateDep, session: SessionDep,
                       actor: CurrentActor) -> CasePublic:
    inp = SatisfactionInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.record_satisfaction, inp)


@router.post("/{case_no}/rectification")
async def rectify(case_no: str, body: Completion, state: StateDep, session: SessionDep, actor: CurrentActor
                  ) -> CasePublic:
    inp = CompleteInput(actor=actor, **body.model_dump())
    return await act(state, session, actor, case_no, CaseWorkflow.rectify, inp)
