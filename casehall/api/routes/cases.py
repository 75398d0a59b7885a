"""Cases: register, read, search, and every human action (each one a validated workflow update). Action routes pass
the body as it came; the actor is the authenticated user; ``Idempotency-Key`` makes a retried call safe."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel

from casehall.api.actions import (
    IdempotencyKey,
    act,
    actor_named,
    case_public,
    load_case,
    read_case,
    require_departments,
)
from casehall.api.deps import CurrentActor, SessionDep, StateDep
from casehall.api.errors import ApiError, NotFound
from casehall.api.intake import RegisterCase, RegisterCombined, register_case, register_combined
from casehall.api.params import BoundedDatetime, CaseNo, Code, Id, Limit, Offset, SearchText
from casehall.api.schemas import CaseList, CasePublic, DocumentPublic, EventPublic
from casehall.documents.pdf import render_document
from casehall.models.commands import (
    Accept,
    Completion,
    Handling,
    Handover,
    OverdueSupplementDecision,
    SatisfactionAnswer,
    Supplement,
    VetoDecision,
    VetoRequest,
)
from casehall.models.enums import CaseStatus
from casehall.models.messages import N_
from casehall.models.tables import Document
from casehall.models.text import Line, OptionalText
from casehall.store import queries
from casehall.workflows.access import require_registrar
from casehall.workflows.case import CaseWorkflow

router = APIRouter(prefix="/cases", tags=["cases"])
OFFSET_TOO_DEEP = N_("offset may be at most {most}: page on with cursor, the next_cursor of the previous page")


@router.post("", status_code=201)
async def register(body: RegisterCase, state: StateDep, actor: CurrentActor) -> CasePublic:
    require_registrar(actor)
    s = state.settings
    view = await register_case(state.client, state.sessions, s.task_queue, body, actor, tz=s.timezone,
                               rpc_timeout=s.temporal_rpc_timeout)
    return await read_case(state, actor, view.case_no)


@router.post("/combined", status_code=201)
async def register_several(body: RegisterCombined, state: StateDep, actor: CurrentActor) -> CasePublic:
    """Several matters at one window: one case, one child case per matter."""
    require_registrar(actor)
    s = state.settings
    view = await register_combined(state.client, state.sessions, s.task_queue, body, actor, tz=s.timezone,
                                   rpc_timeout=s.temporal_rpc_timeout)
    return await read_case(state, actor, view.case_no)


@router.get("/{case_no}/matters")
async def matters(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> list[CasePublic]:
    """The matters of a combined case, in one place for the first-responsible clerk."""
    await load_case(session, case_no)
    return [await case_public(session, actor, c) for c in await queries.matters_of(session, case_no)]


@router.get("")
async def search(
    session: SessionDep, actor: CurrentActor,
    status: CaseStatus | None = None, department: Code | None = None, clerk_id: Id | None = None,
    overdue: bool | None = None, registered_from: BoundedDatetime | None = None,
    registered_to: BoundedDatetime | None = None, q: SearchText | None = None, offset: Offset = 0, limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    count: Annotated[Literal["estimate", "exact"], Query(
        description="estimate: exact up to 1,000 matches (a Chinese text in q: 200), then an estimate and more_than;"
                    " exact: up to 100,000")
    ] = "estimate",
) -> CaseList:
    """Cases newest first; page on with ``cursor`` (``offset`` reads every row it skips: at most 10,000, past that a
    400 says to page with ``cursor``). ``q``: a case number from its beginning, or text in the applicant's name or
    the description. ``total`` is exact up to 1,000 matches, for a Chinese text in ``q`` up to 200; past that
    ``total_exact`` is false and ``more_than`` says where the count stopped ("200+"; ``total``: the planner's
    estimate, or for the text search ``more_than`` + 1)."""
    if offset > queries.OFFSET_UP_TO:
        raise ApiError(400, "offset_too_deep", OFFSET_TOO_DEEP, field="offset", most=queries.OFFSET_UP_TO)
    try:
        after = queries.Cursor.decode(cursor) if cursor else None
    except queries.BadCursor as err:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "cursor"), "msg": str(err),
                                       "ctx": {"error": str(err)}}]) from None
    f = queries.CaseFilter(status=status.value if status else None, department_code=department, clerk_id=clerk_id,
                           overdue=overdue, registered_from=registered_from, registered_to=registered_to, text=q,
                           offset=offset, limit=limit, cursor=after, exact_count=count == "exact")
    page = await queries.case_page(session, f)
    return CaseList(total=page.total, total_exact=page.total_exact, more_than=page.more_than, offset=offset,
                    limit=limit, next_cursor=page.next_cursor,
                    items=[await case_public(session, actor, c) for c in page.rows])


@router.get("/{case_no}")
async def get_case(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> CasePublic:
    return await case_public(session, actor, await load_case(session, case_no))


@router.get("/{case_no}/events")
async def events(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> list[EventPublic]:
    await load_case(session, case_no)
    return [EventPublic.of(e) for e in await queries.case_events(session, case_no)]


@router.get("/{case_no}/documents")
async def documents(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> list[DocumentPublic]:
    await load_case(session, case_no)
    return [DocumentPublic.of(d) for d in await queries.case_documents(session, case_no)]


@router.get("/{case_no}/documents/{doc_id}.pdf", response_class=Response)
async def download(case_no: CaseNo, doc_id: Id, session: SessionDep, actor: CurrentActor) -> Response:
    doc = await session.get(Document, doc_id)
    if doc is None or doc.case_no != case_no:
        raise NotFound(f"case {case_no} has no document {doc_id}")
    pdf = render_document(doc.kind, doc.title, doc.content, doc.issued_at)
    name = f"{case_no}-{doc.kind}-{doc.seq}.pdf"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=disposition)


@router.post("/{case_no}/accept")
async def accept(case_no: CaseNo, state: StateDep, actor: CurrentActor, key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.accept, Accept(), key)


@router.post("/{case_no}/supplements")
async def supplement(case_no: CaseNo, body: Supplement, state: StateDep, actor: CurrentActor,
                     key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.supplement, body, key)


@router.post("/{case_no}/supplements/overdue-decision")
async def overdue_supplement(case_no: CaseNo, body: OverdueSupplementDecision, state: StateDep, actor: CurrentActor,
                             key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.decide_overdue_supplement, body, key)


@router.post("/{case_no}/veto")
async def request_veto(case_no: CaseNo, body: VetoRequest, state: StateDep, actor: CurrentActor,
                       key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.request_veto, body, key)


@router.post("/{case_no}/veto/decision")
async def decide_veto(case_no: CaseNo, body: VetoDecision, state: StateDep, actor: CurrentActor,
                      key: IdempotencyKey = None) -> CasePublic:
    if body.consultation is not None:
        spec = body.consultation
        await require_departments(state, [spec.lead_department, *spec.departments], "consultation.departments")
    return await act(state, actor, case_no, CaseWorkflow.decide_veto, body, key)


class HandoverBody(BaseModel):
    to_username: Line
    reason: OptionalText = ""


@router.post("/{case_no}/handover")
async def handover(case_no: CaseNo, body: HandoverBody, state: StateDep, actor: CurrentActor,
                   key: IdempotencyKey = None) -> CasePublic:
    to = await actor_named(state, body.to_username, "to_username")
    return await act(state, actor, case_no, CaseWorkflow.handover, Handover(to=to, reason=body.reason), key)


@router.post("/{case_no}/handling")
async def arrange_handling(case_no: CaseNo, body: Handling, state: StateDep, actor: CurrentActor,
                           key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.arrange_handling, body, key)


@router.post("/{case_no}/complete")
async def complete(case_no: CaseNo, body: Completion, state: StateDep, actor: CurrentActor,
                   key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.complete, body, key)


@router.post("/{case_no}/satisfaction")
async def satisfaction(case_no: CaseNo, body: SatisfactionAnswer, state: StateDep, actor: CurrentActor,
                       key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.record_satisfaction, body, key)


@router.post("/{case_no}/rectification")
async def rectify(case_no: CaseNo, body: Completion, state: StateDep, actor: CurrentActor,
                  key: IdempotencyKey = None) -> CasePublic:
    return await act(state, actor, case_no, CaseWorkflow.rectify, body, key)
