"""12345 hotline orders: intake, lists and details as each user may see them, every action (a validated workflow
update), the knowledge base, units' figures and inboxes, and the caller's public status page."""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from casehall.api.actions import IdempotencyKey
from casehall.api.deps import SessionDep, StateDep
from casehall.api.errors import ApiError, NotFound
from casehall.api.hotline import (
    Filed,
    HotlineActor,
    OrderIntake,
    OrderPublic,
    PublicStatus,
    act,
    code_matches,
    file_order,
    load_order,
    require_centre_or_unit,
)
from casehall.api.schemas import EventPublic
from casehall.models.case import Actor
from casehall.models.hotline import (
    AcceptanceDecision,
    AppealDecision,
    CallbackAnswer,
    Dispatch,
    ExtensionDecision,
    ExtensionRequest,
    OrderKind,
    OrderStatus,
    RatingAppeal,
    Reply,
    ReturnDecision,
    ReturnRequest,
    ReviewDecision,
    ReviewRequest,
    SignFor,
    UnitRef,
)
from casehall.models.hotline_tables import Order
from casehall.models.messages import N_
from casehall.models.text import Code, OptionalText
from casehall.store import hotline_queries as hq
from casehall.workflows.access import UNIT_ROLES
from casehall.workflows.errors import FORBIDDEN, refuse
from casehall.workflows.hotline.order import OrderWorkflow

router = APIRouter(tags=["hotline"])


class OrderList(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[OrderPublic]


@router.post("/orders", status_code=201)
async def intake(body: OrderIntake, state: StateDep, actor: HotlineActor) -> Filed:
    """File a call: a new order, a consultation answered from the knowledge base (closed at once), or a repeated
    call merged into an open order. Similar open orders are proposed (409 naming them) unless the operator chose."""
    return await file_order(state, actor, body)


@router.get("/orders")
async def list_orders(
    session: SessionDep, actor: HotlineActor, status: OrderStatus | None = None, kind: OrderKind | None = None,
    lead_unit: Annotated[str | None, Query(max_length=32)] = None, overdue: bool | None = None,
    category: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    registered_from: datetime | None = None, registered_to: datetime | None = None, supervised: bool | None = None,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderList:
    """Orders, newest first; a unit's user sees only the orders of their unit."""
    require_centre_or_unit(actor)
    unit = actor.department_code if actor.role in UNIT_ROLES else None
    f = hq.OrderFilter(unit=unit, status=status.value if status else None, kind=kind.value if kind else None,
                       lead_unit=lead_unit, overdue=overdue, category_code=category,
                       registered_from=registered_from, registered_to=registered_to, supervised=supervised,
                       offset=offset, limit=limit)
    total, rows = await hq.list_orders(session, f)
    return OrderList(total=total, offset=offset, limit=limit, items=[OrderPublic.of(r, actor) for r in rows])


@router.get("/orders/duplicates")
async def duplicates(session: SessionDep, actor: HotlineActor,
                     category: Annotated[str, Query(pattern=r"^[0-9]{6}$")],
                     address: Annotated[str, Query(min_length=1, max_length=300)],
                     phone: Annotated[str, Query(max_length=24)] = "") -> list[OrderPublic]:
    """Open orders a call may repeat (same category; same place or same caller's phone): proposed for merging."""
    require_centre_or_unit(actor)
    if actor.role in UNIT_ROLES:
        raise refuse(FORBIDDEN, N_("only the hotline centre files calls"))
    return [OrderPublic.of(r, actor) for r in await hq.duplicates(session, category, address, phone)]


@router.get("/orders/{order_no}")
async def get_order(order_no: str, state: StateDep, actor: HotlineActor) -> OrderPublic:
    return OrderPublic.of(await load_order(state, actor, order_no), actor)


@router.get("/orders/{order_no}/events")
async def order_events(order_no: str, state: StateDep, session: SessionDep, actor: HotlineActor
                       ) -> list[EventPublic]:
    await load_order(state, actor, order_no)
    return [EventPublic.model_validate(e, from_attributes=True) for e in await hq.order_events(session, order_no)]


# ---- actions ---------------------------------------------------------------------------------------------------
class DispatchBody(BaseModel):
    lead_unit: Code | None = None  # None: the unit the dispatch catalogue names for the order's category
    co_units: list[Code] = Field([], max_length=20)
    note: OptionalText = ""


async def _dispatch(state: StateDep, body: DispatchBody, field: str, suggested: str | None) -> Dispatch:
    """The units named, each with its path up to the centre (the supervision orders climb it)."""
    lead = body.lead_unit or suggested
    if lead is None:
        raise ApiError(422, "no_lead_unit", N_("the dispatch catalogue names no unit for this category: name the "
                                               "lead unit"), field=f"{field}.lead_unit")
    async with state.sessions() as session:
        refs: list[UnitRef] = []
        for n, code in enumerate([lead, *body.co_units]):
            ref = await hq.unit_ref(session, code)
            if ref is None:
                where = f"{field}.lead_unit" if n == 0 else f"{field}.co_units"
                raise ApiError(422, "unknown_unit", N_("no unit with code {unit}"), field=where, unit=code)
            refs.append(ref)
    return Dispatch(lead=refs[0], co_units=refs[1:], note=body.note)


@router.post("/orders/{order_no}/dispatch")
async def dispatch(order_no: str, body: DispatchBody, state: StateDep, actor: HotlineActor,
                   key: IdempotencyKey = None) -> OrderPublic:
    row = await load_order(state, actor, order_no)
    dispatch = await _dispatch(state, body, "body", row.state.get("suggested_unit"))
    return await act(state, actor, order_no, OrderWorkflow.dispatch, dispatch, key)


@router.post("/orders/{order_no}/sign")
async def sign(order_no: str, state: StateDep, actor: HotlineActor, body: SignFor | None = None,
               key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.sign, body or SignFor(), key)


@router.post("/orders/{order_no}/return")
async def request_return(order_no: str, body: ReturnRequest, state: StateDep, actor: HotlineActor,
                         key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.request_return, body, key)


class ReturnDecisionBody(BaseModel):
    approve: bool
    comment: OptionalText = ""
    redispatch: DispatchBody | None = None


@router.post("/orders/{order_no}/return/decision")
async def decide_return(order_no: str, body: ReturnDecisionBody, state: StateDep, actor: HotlineActor,
                        key: IdempotencyKey = None) -> OrderPublic:
    redispatch = await _dispatch(state, body.redispatch, "redispatch", None) if body.redispatch else None
    decision = ReturnDecision(approve=body.approve, comment=body.comment, redispatch=redispatch)
    return await act(state, actor, order_no, OrderWorkflow.decide_return, decision, key)


@router.post("/orders/{order_no}/extension")
async def request_extension(order_no: str, body: ExtensionRequest, state: StateDep, actor: HotlineActor,
                            key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.request_extension, body, key)


@router.post("/orders/{order_no}/extension/decision")
async def decide_extension(order_no: str, body: ExtensionDecision, state: StateDep, actor: HotlineActor,
                           key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.decide_extension, body, key)


@router.post("/orders/{order_no}/reply")
async def reply(order_no: str, body: Reply, state: StateDep, actor: HotlineActor,
                key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.reply, body, key)


@router.post("/orders/{order_no}/callback")
async def callback(order_no: str, body: CallbackAnswer, state: StateDep, actor: HotlineActor,
                   key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.callback, body, key)


@router.post("/orders/{order_no}/acceptance")
async def decide_acceptance(order_no: str, body: AcceptanceDecision, state: StateDep, actor: HotlineActor,
                            key: IdempotencyKey = None) -> OrderPublic:
    """A petition accepted (its handling limit starts) or not accepted, with the reasons in writing."""
    return await act(state, actor, order_no, OrderWorkflow.decide_acceptance, body, key)


@router.post("/orders/{order_no}/review")
async def request_review(order_no: str, body: ReviewRequest, state: StateDep, actor: HotlineActor,
                         key: IdempotencyKey = None) -> OrderPublic:
    """A petitioner asks for a review (复查) of the reply, within the limit from the reply."""
    return await act(state, actor, order_no, OrderWorkflow.request_review, body, key)


@router.post("/orders/{order_no}/review/decision")
async def decide_review(order_no: str, body: ReviewDecision, state: StateDep, actor: HotlineActor,
                        key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.decide_review, body, key)


@router.post("/orders/{order_no}/appeal")
async def appeal_rating(order_no: str, body: RatingAppeal, state: StateDep, actor: HotlineActor,
                        key: IdempotencyKey = None) -> OrderPublic:
    """The lead unit appeals a wrong or malicious bad rating (申诉复核); a supervisor decides."""
    return await act(state, actor, order_no, OrderWorkflow.appeal_rating, body, key)


@router.post("/orders/{order_no}/appeal/decision")
async def decide_appeal(order_no: str, body: AppealDecision, state: StateDep, actor: HotlineActor,
                        key: IdempotencyKey = None) -> OrderPublic:
    return await act(state, actor, order_no, OrderWorkflow.decide_appeal, body, key)


# ---- knowledge base, units, inbox --------------------------------------------------------------------------------
class KnowledgeHitPublic(BaseModel):
    id: int
    question: str
    answer: str
    source: str
    unit_code: str | None
    category_code: str | None
    effective_from: date
    review_by: date
    stale: bool  # past its review-by date: check before reading it out
    rank: float


@router.get("/knowledge")
async def search_knowledge(session: SessionDep, actor: HotlineActor,
                           q: Annotated[str, Query(min_length=1, max_length=200)],
                           limit: Annotated[int, Query(ge=1, le=50)] = 5) -> list[KnowledgeHitPublic]:
    """Full-text search in Chinese (character bigrams) that an operator runs while the caller waits."""
    require_centre_or_unit(actor)
    hits = await hq.search_knowledge(session, q, datetime.now(UTC).date(), limit)
    return [KnowledgeHitPublic(id=h.entry.id or 0, question=h.entry.question, answer=h.entry.answer,
                               source=h.entry.source, unit_code=h.entry.unit_code,
                               category_code=h.entry.category_code, effective_from=h.entry.effective_from,
                               review_by=h.entry.review_by, stale=h.stale, rank=h.rank) for h in hits]


class CategoryPublic(BaseModel):
    category_code: str
    name: str
    unit_code: str | None


@router.get("/hotline/catalogue")
async def dispatch_catalogue(session: SessionDep, actor: HotlineActor) -> list[CategoryPublic]:
    require_centre_or_unit(actor)
    return [CategoryPublic(category_code=r.category_code, name=r.name, unit_code=r.unit_code)
            for r in await hq.catalogue(session)]


def _own_unit_or_centre(actor: Actor, unit: str) -> None:
    if actor.role in UNIT_ROLES and actor.department_code != unit:
        raise refuse(FORBIDDEN, N_("only users of unit {unit} may {what}"), unit=unit, what="read its figures")


@router.get("/units/{unit_code}/figures")
async def unit_figures(unit_code: str, session: SessionDep, actor: HotlineActor) -> dict[str, object]:
    """A unit's figures: orders led, overdue, supervision orders counted against it, time charged for returns."""
    require_centre_or_unit(actor)
    _own_unit_or_centre(actor, unit_code)
    if await hq.unit_ref(session, unit_code) is None:
        raise NotFound(N_("no unit with code {unit}"), unit=unit_code)
    return await hq.unit_figures(session, unit_code)


@router.get("/hotline/petitions/figures")
async def petition_figures(session: SessionDep, actor: HotlineActor) -> dict[str, object]:
    """Petitions closed, resolved at once (一次性化解率), and not accepted."""
    require_centre_or_unit(actor)
    if actor.role in UNIT_ROLES:
        raise refuse(FORBIDDEN, N_("only the hotline centre reads the petitions' figures"))
    return await hq.petition_figures(session)


class OrderTaskPublic(BaseModel):
    id: int
    order_no: str
    kind: str
    role: str
    unit_code: str | None
    summary: str
    opened_at: datetime
    due_at: datetime | None


class HotlineMe(BaseModel):
    role: str
    unit_code: str | None
    unit_name: str | None


@router.get("/hotline/me")
async def hotline_me(session: SessionDep, actor: HotlineActor) -> HotlineMe:
    """The unit the user answers for (the screens show a unit's users their unit)."""
    require_centre_or_unit(actor)
    ref = await hq.unit_ref(session, actor.department_code) if actor.department_code else None
    return HotlineMe(role=actor.role.value, unit_code=ref.code if ref else None, unit_name=ref.name if ref else None)


@router.get("/hotline/inbox")
async def inbox(session: SessionDep, actor: HotlineActor) -> list[OrderTaskPublic]:
    """Open tasks: the centre's for the user's role, or the user's unit's."""
    require_centre_or_unit(actor)
    unit = actor.department_code if actor.role in UNIT_ROLES else None
    return [OrderTaskPublic.model_validate(t, from_attributes=True)
            for t in await hq.order_inbox(session, actor.role.value, unit)]


# ---- the caller's status page --------------------------------------------------------------------------------------
@router.get("/public/orders/{order_no}")
async def public_status(order_no: Annotated[str, Path(max_length=40)], session: SessionDep,
                        code: Annotated[str, Query(min_length=4, max_length=16)]) -> PublicStatus:
    """Where an order is, its time limit and its reply, for whoever holds its number and short code; the same
    answer for an unknown number and a wrong code."""
    row = await session.get(Order, order_no)
    if row is None or not code_matches(row, code):
        raise NotFound(N_("no order {order_no} with this code"), order_no=order_no)
    return PublicStatus.of(row)
