"""What a 12345 hotline order (工单) is: its vocabulary, the time-limit profile it runs on, the state the workflow
keeps (``OrderView``, also the projection written to ``orders``), the bodies of its actions and the inputs of its
activities. Workflow-safe: stdlib and pydantic only."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from casehall.models.case import Actor
from casehall.models.enums import Satisfaction
from casehall.models.messages import N_
from casehall.models.order_events import OrderEventType, OrderStatus
from casehall.models.text import Code, Line, Name, OptionalText, Storable, Text

CategoryCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]  # GB/T 39666 style
OptionalPhone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\+?[0-9\- ]{5,20})?$")]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), Storable]


class OrderKind(StrEnum):
    URGENT = "urgent"  # 紧急
    IMPORTANT = "important"  # 重要
    NORMAL = "normal"  # 一般
    CONSULTATION = "consultation"  # 咨询


class OrderChannel(StrEnum):
    PHONE = "phone"
    WECHAT = "wechat"
    WEB = "web"
    EMAIL = "email"
    LETTER = "letter"
    WALK_IN = "walk_in"
    OPEN311 = "open311"
    PETITION = "petition"  # 信访: its own statutory limits (``HotlineProfile.petition``)


class UnitKind(StrEnum):
    CENTRE = "centre"  # the hotline centre (root of the network)
    DEPARTMENT = "department"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    UTILITY = "utility"


ORDER_FINAL = frozenset({OrderStatus.ANSWERED, OrderStatus.CLOSED, OrderStatus.NOT_ACCEPTED})
# With a unit: the handling clock runs from dispatch in each of these.
WITH_UNIT = frozenset({OrderStatus.DISPATCHED, OrderStatus.IN_HANDLING, OrderStatus.RETURN_REQUESTED})


class SupervisionReason(StrEnum):
    NOT_SIGNED = "not_signed"  # 超时未签收
    OVERDUE = "overdue"  # 超期未反馈
    CALLBACK = "callback"  # 回访未解决或不满意: second handling


# ---- time limits (configuration: ``casehall/hotline/profiles.yaml``) --------------------------------------------
class TimeLimit(BaseModel):
    """An amount of time: hours or calendar days around the clock, or working days on the official calendar."""

    amount: int = Field(ge=0, le=10_000)
    unit: Literal["minutes", "hours", "days", "working_days"]

    def label(self) -> str:
        return f"{self.amount} {self.unit.replace('_', ' ')}"


class KindLimits(BaseModel):
    sign_for: TimeLimit  # from dispatch; past it: a reminder to the unit
    handle: TimeLimit  # from dispatch (not from signing): reply within it


class PetitionLimits(BaseModel):
    """The statutory limits of a petition (信访工作条例 2022, arts. 32, 33, 35): acceptance decided within
    ``accept_within`` of receipt; handled within ``handle`` of acceptance, extended once by at most ``extension_max``
    with notice; a review (复查) requested within ``review_request_within`` of the reply and answered within
    ``review_within``."""

    accept_within: TimeLimit
    handle: TimeLimit
    extension_max: TimeLimit
    review_request_within: TimeLimit
    review_within: TimeLimit


def _five_working_days() -> "TimeLimit":
    return TimeLimit(amount=5, unit="working_days")


class HotlineProfile(BaseModel):
    """The time limits an order runs on, chosen by ``CASEHALL_HOTLINE_PROFILE`` and copied into the order at intake
    (so its history keeps the answer it got)."""

    name: str
    description: str = ""
    kinds: dict[OrderKind, KindLimits]
    sign_for_grace: TimeLimit  # after the sign-for reminder: a supervision order to the unit's parent
    supervision: TimeLimit  # the deadline a supervision order gives; past it: raised to the level above
    return_within: TimeLimit  # from dispatch: a wrongly dispatched order is returned within it
    extension_max: TimeLimit  # an extension moves the deadline by at most this much (once)
    decision_reminder: TimeLimit  # the dispatcher is reminded of an undecided return or extension
    decision_escalation: TimeLimit  # then the supervisors take it over
    petition: PetitionLimits | None = None  # None: this profile takes no petitions
    appeal_within: TimeLimit = Field(default_factory=_five_working_days)  # a unit appeals a rating within it

    @model_validator(mode="after")
    def _every_kind(self) -> "HotlineProfile":
        missing = sorted(set(OrderKind) - set(self.kinds))
        if missing:
            raise ValueError(f"profile {self.name} lacks the limits of {', '.join(missing)}")
        return self


# ---- people and places -----------------------------------------------------------------------------------------
class Caller(BaseModel):
    """Who called: may be anonymous; the contact is kept private (units see it only if the caller allows)."""

    name: Line = ""
    phone: OptionalPhone = ""
    anonymous: bool = False
    confidential: bool = False  # the caller asks that the unit not learn who they are

    @model_validator(mode="after")
    def _anonymous(self) -> "Caller":
        if self.anonymous and (self.name or self.phone):
            raise ValueError("an anonymous caller leaves neither name nor phone")
        return self


class Location(BaseModel):
    address: Address
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)


class UnitRef(BaseModel):
    """A unit of the network as an order names it: ``path`` is the unit, then its ancestors up to the centre."""

    code: Code
    name: Name
    path: list[str] = Field(min_length=1)

    @property
    def parent(self) -> str | None:
        return self.path[1] if len(self.path) > 1 else None


class CallRecord(BaseModel):
    """A call about this order: the first, or one merged into it. Each caller is called back."""

    caller: Caller
    channel: OrderChannel
    content: str
    at: datetime
    code_hash: str  # sha256 of the caller's short code for the public status page
    callback: "CallbackAnswer | None" = None


class Supervision(BaseModel):
    """A supervision order (督办单): to ``to_unit`` (the parent, or higher), counted against ``against_unit``."""

    seq: int  # of the event that issued it
    reason: SupervisionReason
    against_unit: str
    to_unit: str
    level: int  # 1: the unit's parent; 2: the level above it ...
    at: datetime
    due: datetime | None = None


class Decision(BaseModel):
    """A return or an extension the dispatcher decides (approval with escalation)."""

    kind: Literal["return", "extension"]
    requested_by: Actor
    reason: str
    requested_at: datetime
    new_due: datetime | None = None  # extension
    remind_at: datetime
    escalate_at: datetime
    steps_done: int = 0
    approve: bool | None = None
    decided_by: Actor | None = None
    comment: str = ""


class DispatchRound(BaseModel):
    """One dispatch to a unit: the clock starts here, not at signing."""

    lead: UnitRef
    co_units: list[UnitRef] = []
    dispatched_at: datetime
    sign_due: datetime
    supervise_unsigned_at: datetime
    handle_due: datetime
    return_until: datetime
    extension_limit: datetime  # an extension may move the deadline up to here
    signed_at: datetime | None = None
    signed_by: Actor | None = None
    sign_steps_done: int = 0
    supervision_level: int = 0  # overdue: supervision orders issued in this round
    supervision_due: datetime | None = None
    extended: bool = False
    second_handling: bool = False


class PetitionState(BaseModel):
    """A petition's statutory clocks: acceptance, handling from acceptance, review of the reply."""

    accept_due: datetime
    acceptance_overdue: bool = False
    accepted: bool | None = None
    decided_at: datetime | None = None
    decision_reason: str = ""
    handle_due: datetime | None = None  # from acceptance
    review_until: datetime | None = None  # from the reply: a review may be requested until then
    review_requested_at: datetime | None = None
    review_reason: str = ""
    review_due: datetime | None = None
    review_overdue: bool = False
    review_upheld: bool | None = None  # the reply upheld (True) or handled again (False)
    review_opinion: str = ""
    one_time_resolved: bool | None = None  # solved at the first handling, without a repeat visit or a review


class Appeal(BaseModel):
    """A unit's appeal of a rating (申诉复核): upheld, the rating is excluded from the unit's figures."""

    call: int
    grade: Satisfaction
    reason: str
    requested_by: Actor
    requested_at: datetime
    upheld: bool | None = None
    decided_by: Actor | None = None
    opinion: str = ""


# ---- the order -------------------------------------------------------------------------------------------------
class OrderView(BaseModel):
    """What the workflow knows of its order; also the projection written to ``orders``."""

    order_no: str
    status: OrderStatus
    kind: OrderKind
    category_code: str
    category_name: str
    suggested_unit: str | None = None  # from the dispatch catalogue
    location: Location
    content: str
    calls: list[CallRecord]
    operator: Actor
    registered_at: datetime
    profile: HotlineProfile
    answer: str | None = None  # a consultation answered at intake
    kb_entry_id: int | None = None
    round: DispatchRound | None = None
    rounds: int = 0
    units_seen: list[str] = []  # every unit that had the order or supervises it: they may read it
    charged_seconds: dict[str, float] = {}  # time spent with units that returned it, charged to them
    decision: Decision | None = None
    resume_status: OrderStatus | None = None  # where a refused return leaves the order
    supervisions: list[Supervision] = []
    reply: str | None = None
    replied_at: datetime | None = None
    overdue: bool = False
    handlings: int = 0  # 1 after the first reply, 2 after a second handling ...
    closed_at: datetime | None = None
    last_seq: int = 0
    petition: PetitionState | None = None
    appeals: list[Appeal] = []
    rated_at: dict[int, datetime] = {}  # when each call's rating was recorded (appeals run from it)


class StartOrderInput(BaseModel):
    """What intake gives the workflow (numbers, catalogue and profile resolved by the API)."""

    order_no: str
    kind: OrderKind
    category_code: str
    category_name: str
    suggested_unit: str | None = None
    location: Location
    content: str
    call: CallRecord
    operator: Actor
    profile: HotlineProfile
    answer: str | None = None
    kb_entry_id: int | None = None


# ---- action bodies (inside ``Command[Body]``) ------------------------------------------------------------------
class Dispatch(BaseModel):
    lead: UnitRef
    co_units: list[UnitRef] = Field([], max_length=20)
    note: OptionalText = ""


class SignFor(BaseModel):
    note: OptionalText = ""


class ReturnRequest(BaseModel):
    reason: Text


class ReturnDecision(BaseModel):
    approve: bool
    comment: OptionalText = ""
    redispatch: Dispatch | None = None  # with approve: dispatched again at once


class ExtensionRequest(BaseModel):
    reason: Text
    new_due: datetime


class ExtensionDecision(BaseModel):
    approve: bool
    comment: OptionalText = ""


class Reply(BaseModel):
    result: Text


class CallbackAnswer(BaseModel):
    call: int = Field(0, ge=0, le=1000)  # which call of the order (0: the first)
    solved: bool
    grade: Satisfaction
    comment: OptionalText = ""


class MergeCall(BaseModel):
    call: CallRecord


class AcceptanceDecision(BaseModel):
    """A petition accepted, or not accepted with the reasons the petitioner gets in writing."""

    accept: bool
    reason: OptionalText = ""

    @model_validator(mode="after")
    def _reasons(self) -> "AcceptanceDecision":
        if not self.accept and not self.reason.strip():
            raise ValueError(N_("a petition not accepted needs the reasons"))
        return self


class ReviewRequest(BaseModel):
    reason: Text


class ReviewDecision(BaseModel):
    uphold: bool  # True: the reply stands (closed); False: handled again by the same unit
    opinion: Text


class RatingAppeal(BaseModel):
    call: int = Field(0, ge=0, le=1000)
    reason: Text


class AppealDecision(BaseModel):
    uphold: bool  # True: the rating was wrong or malicious and is excluded
    opinion: Text


CallRecord.model_rebuild()


# ---- activity inputs -------------------------------------------------------------------------------------------
class OrderTaskSpec(BaseModel):
    kind: str  # dispatch | sign_for | return_decision | extension_decision | supervision | callback
    role: str
    unit_code: str | None = None  # None: the hotline centre
    summary: str
    due_at: datetime | None = None


class RecordOrderEventInput(BaseModel):
    seq: int
    type: OrderEventType
    actor: Actor | None
    at: datetime
    payload: dict[str, Any]
    order: OrderView
    close_tasks: list[str] = []  # kinds of open tasks this event answers ("*": all)
    open_tasks: list[OrderTaskSpec] = []


class LimitsInput(BaseModel):
    start: datetime
    limits: list[TimeLimit]
    calendar_version: str | None = None
