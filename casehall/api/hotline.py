"""What the hotline's routes share (``routes/orders.py``, ``routes/open311.py``): the acting user with the unit the
API vouches for, filing an order (numbered, started, answered once stored), acting on one, and its public shapes.
No database connection is held while Temporal works: short sessions before and after each call."""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends
from pydantic import BaseModel, Field
from temporalio.client import WorkflowHandle

from casehall.api.actions import run_update
from casehall.api.deps import CurrentUser, StateDep
from casehall.api.errors import ApiError, NotFound
from casehall.api.starting import start_registered
from casehall.core.db import transaction
from casehall.core.settings import Settings
from casehall.hotline.profiles import UnknownProfile, profile
from casehall.models.case import Actor
from casehall.models.commands import Command
from casehall.models.enums import Role
from casehall.models.hotline import (
    ORDER_FINAL,
    Caller,
    CallRecord,
    HotlineProfile,
    Location,
    MergeCall,
    OrderChannel,
    OrderKind,
    OrderView,
    StartOrderInput,
)
from casehall.models.hotline_tables import Order
from casehall.models.ids import order_workflow_id
from casehall.models.messages import N_
from casehall.models.text import Text
from casehall.store import hotline_queries as hq
from casehall.store import queries, repository
from casehall.workflows.access import require_operator, sees_caller, sees_order
from casehall.workflows.errors import FORBIDDEN, refuse
from casehall.workflows.hotline.order import OrderWorkflow

ORDER_PREFIX = "12345"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


async def hotline_actor(state: StateDep, user: CurrentUser) -> Actor:
    """The user as hotline rules see them: ``department_code`` is the unit they answer for (``unit_members``)."""
    actor = queries.actor_of(user)
    assert user.id is not None
    async with state.sessions() as session:
        unit = await hq.unit_of(session, user.id)
    return actor.model_copy(update={"department_code": unit}) if unit else actor


HotlineActor = Annotated[Actor, Depends(hotline_actor)]


def new_code() -> str:
    """The caller's short code for the public status page (8 characters: 32^8 ≈ 10^12 guesses)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def code_hash(order_no: str, code: str) -> str:
    return hashlib.sha256(f"{order_no}:{code.strip().upper()}".encode()).hexdigest()


def code_matches(row: Order, code: str) -> bool:
    digest = code_hash(row.order_no, code)
    return any(hmac.compare_digest(digest, h) for h in row.code_hashes)


# ---- shapes ----------------------------------------------------------------------------------------------------
class OrderIntake(BaseModel):
    """What an operator types while the caller waits."""

    channel: OrderChannel = OrderChannel.PHONE
    caller: Caller = Caller()
    location: Location
    content: Text
    kind: OrderKind = OrderKind.NORMAL
    category_code: str = Field(pattern=r"^[0-9]{6}$")
    answer_from: int | None = Field(None, ge=1, le=2**31 - 1)  # a knowledge-base entry: answered directly
    merge_into: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")  # a duplicate: join that order
    new_order: bool = False  # a new order although open orders look like duplicates


class CallPublic(BaseModel):
    channel: str
    at: datetime
    anonymous: bool
    confidential: bool
    name: str | None  # None: not shown to this user
    phone: str | None
    content: str
    callback: dict[str, Any] | None
    rated_at: datetime | None = None  # when the callback's rating was recorded (a unit's appeal runs from it)


class OrderPublic(BaseModel):
    order_no: str
    status: str
    kind: str
    category_code: str
    category_name: str
    address: str
    content: str
    calls: list[CallPublic]
    registered_at: datetime
    operator: str
    answer: str | None
    lead_unit: str | None
    lead_unit_name: str | None
    co_units: list[str]
    dispatched_at: datetime | None
    sign_due: datetime | None
    signed_at: datetime | None
    handle_due: datetime | None
    extension_limit: datetime | None
    reply: str | None
    replied_at: datetime | None
    overdue: bool
    closed_at: datetime | None
    rounds: int
    handlings: int
    supervisions: list[dict[str, Any]]
    charged_seconds: dict[str, float]
    decision: dict[str, Any] | None
    petition: dict[str, Any] | None = None  # a petition's statutory clocks and one-time resolution
    appeals: list[dict[str, Any]] = []  # units' appeals of ratings
    appeal_within: dict[str, Any] | None = None  # the profile's limit of an appeal, from the rating
    petition_limits: dict[str, Any] | None = None  # a petition's statutory limits (the profile's), shown beside it

    @classmethod
    def of(cls, row: Order, actor: Actor) -> "OrderPublic":
        view = OrderView.model_validate(row.state)
        rnd = view.round
        calls = []
        for n, c in enumerate(view.calls):
            shown = sees_caller(actor, c.caller.confidential)
            calls.append(CallPublic(
                channel=c.channel.value, at=c.at, anonymous=c.caller.anonymous, confidential=c.caller.confidential,
                name=c.caller.name if shown else None, phone=c.caller.phone if shown else None, content=c.content,
                callback=c.callback.model_dump(mode="json") if c.callback else None, rated_at=view.rated_at.get(n)))
        decision = view.decision
        return cls(
            order_no=view.order_no, status=view.status.value, kind=view.kind.value,
            category_code=view.category_code, category_name=view.category_name, address=view.location.address,
            content=view.content, calls=calls, registered_at=view.registered_at, operator=view.operator.username,
            answer=view.answer, lead_unit=rnd.lead.code if rnd else None, lead_unit_name=rnd.lead.name if rnd else None,
            co_units=[u.code for u in rnd.co_units] if rnd else [], dispatched_at=rnd.dispatched_at if rnd else None,
            sign_due=rnd.sign_due if rnd else None, signed_at=rnd.signed_at if rnd else None,
            handle_due=rnd.handle_due if rnd else None, extension_limit=rnd.extension_limit if rnd else None,
            reply=view.reply, replied_at=view.replied_at, overdue=view.overdue, closed_at=view.closed_at,
            rounds=view.rounds, handlings=view.handlings,
            supervisions=[s.model_dump(mode="json") for s in view.supervisions],
            charged_seconds=view.charged_seconds,
            decision=decision.model_dump(mode="json", include={"kind", "reason", "requested_at", "new_due",
                                                               "approve", "comment", "steps_done"})
            if decision else None,
            petition=view.petition.model_dump(mode="json") if view.petition else None,
            appeals=[a.model_dump(mode="json", exclude={"requested_by", "decided_by"}) for a in view.appeals],
            appeal_within=view.profile.appeal_within.model_dump(mode="json"),
            petition_limits=view.profile.petition.model_dump(mode="json")
            if view.petition and view.profile.petition else None)


class Filed(BaseModel):
    """An order as filed: the caller is told the number and the short code of the public status page."""

    order: OrderPublic
    public_code: str
    merged: bool = False


class PublicStatus(BaseModel):
    """What a caller sees with the order number and the short code: nothing else about anyone."""

    order_no: str
    status: str
    kind: str
    registered_at: datetime
    handled_by: str | None
    time_limit: datetime | None
    reply: str | None
    replied_at: datetime | None
    answer: str | None
    closed_at: datetime | None

    @classmethod
    def of(cls, row: Order) -> "PublicStatus":
        view = OrderView.model_validate(row.state)
        rnd = view.round
        return cls(order_no=view.order_no, status=view.status.value, kind=view.kind.value,
                   registered_at=view.registered_at, handled_by=rnd.lead.name if rnd else None,
                   time_limit=rnd.handle_due if rnd and view.status not in ORDER_FINAL else None,
                   reply=view.reply, replied_at=view.replied_at, answer=view.answer, closed_at=view.closed_at)


# ---- reading and acting ----------------------------------------------------------------------------------------
async def load_order(state: StateDep, actor: Actor, order_no: str) -> Order:
    """The order as stored, if this user may see it (a unit's user: only its unit's orders; 403 otherwise)."""
    async with state.sessions() as session:
        row = await session.get(Order, order_no)
    if row is None:
        raise NotFound(N_("no order {order_no}"), order_no=order_no)
    if not sees_order(actor, row.unit_codes):
        raise refuse(FORBIDDEN, N_("order {order_no} belongs to another unit"), order_no=order_no)
    return row


def handle(state: StateDep, order_no: str) -> WorkflowHandle[OrderWorkflow, OrderView]:
    return state.client.get_workflow_handle_for(OrderWorkflow.run, order_workflow_id(order_no))


async def act(state: StateDep, actor: Actor, order_no: str, update: Any, body: BaseModel, key: str | None = None
              ) -> OrderPublic:
    """Send an action to an order this user may see, and answer with its stored state."""
    await load_order(state, actor, order_no)
    await run_update(state, handle(state, order_no), update, Command(actor=actor, body=body), key,
                     stored=(Order, order_no))
    return OrderPublic.of(await load_order(state, actor, order_no), actor)


# ---- filing ----------------------------------------------------------------------------------------------------
def _profile(settings: Settings) -> HotlineProfile:
    try:
        return profile(settings.hotline_profile)
    except UnknownProfile as err:  # a setting no order can run on: say so, file nothing
        raise ApiError(503, "misconfigured", N_("the hotline is misconfigured: {problem}"), problem=str(err)) from None


async def file_order(state: StateDep, actor: Actor, body: OrderIntake) -> Filed:
    """Number and start an order (or merge the call into an open one); answer once it is stored."""
    require_operator(actor)
    settings: Settings = state.settings
    answer: str | None = None
    async with state.sessions() as session:
        rule = await hq.category(session, body.category_code)
        if rule is None:
            raise ApiError(422, "unknown_category", N_("no category {category} in the dispatch catalogue"),
                           field="category_code", category=body.category_code)
        if body.answer_from is not None:
            entry = await hq.knowledge_entry(session, body.answer_from)
            if entry is None or not entry.active:
                raise ApiError(422, "unknown_entry", N_("no knowledge-base entry {id}"), field="answer_from",
                               id=body.answer_from)
            if body.kind != OrderKind.CONSULTATION:
                raise ApiError(422, "not_consultation", N_("only a consultation is answered from the knowledge "
                                                           "base at intake"), field="answer_from")
            answer = entry.answer
        if body.merge_into is None and answer is None and not body.new_order:
            similar = await hq.duplicates(session, body.category_code, body.location.address, body.caller.phone)
            if similar:
                raise ApiError(409, "possible_duplicate", N_("open orders look like this call: {orders}; merge it "
                                                             "(merge_into) or file a new order (new_order)"),
                               orders=", ".join(o.order_no for o in similar))
    now, code = datetime.now(UTC), new_code()
    if body.merge_into is not None:
        row = await load_order(state, actor, body.merge_into)
        call = CallRecord(caller=body.caller, channel=body.channel, content=body.content, at=now,
                          code_hash=code_hash(row.order_no, code))
        await run_update(state, handle(state, row.order_no), OrderWorkflow.merge_call,
                         Command(actor=actor, body=MergeCall(call=call)))
        return Filed(order=OrderPublic.of(await load_order(state, actor, row.order_no), actor), public_code=code,
                     merged=True)
    async with transaction(state.sessions) as session:
        order_no = await repository.next_case_no(session, ORDER_PREFIX, now.astimezone(ZoneInfo(settings.timezone))
                                                 .date())
    hotline_profile = _profile(settings)
    if body.channel == OrderChannel.PETITION and hotline_profile.petition is None:
        raise ApiError(422, "no_petitions", N_("the hotline profile {profile} takes no petitions"), field="channel",
                       profile=hotline_profile.name)
    inp = StartOrderInput(
        order_no=order_no, kind=body.kind, category_code=rule.category_code, category_name=rule.name,
        suggested_unit=rule.unit_code, location=body.location, content=body.content,
        call=CallRecord(caller=body.caller, channel=body.channel, content=body.content, at=now,
                        code_hash=code_hash(order_no, code)),
        operator=actor, profile=hotline_profile, answer=answer, kb_entry_id=body.answer_from)
    await start_registered(state.client, state.sessions, OrderWorkflow.run, inp, OrderWorkflow.registration,
                           number=order_no, workflow_id=order_workflow_id(order_no), task_queue=settings.task_queue)
    return Filed(order=OrderPublic.of(await load_order(state, actor, order_no), actor), public_code=code)


def require_centre_or_unit(actor: Actor) -> None:
    """Reads of the hotline: its staff, the units' users and auditors."""
    if actor.role in (Role.CLERK, Role.MANAGER, Role.DIRECTOR, Role.ADMIN):
        raise refuse(FORBIDDEN, N_("a user with role {role} has no hotline orders"), role=actor.role.value)
