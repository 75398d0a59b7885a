"""Pydantic payloads that cross the Temporal boundary. Workflow-safe: stdlib and pydantic only."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Role(StrEnum):
    CLERK = "clerk"
    MANAGER = "manager"
    DIRECTOR = "director"
    AUDITOR = "auditor"
    ADMIN = "admin"


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    AWAITING_MATERIALS = "awaiting_materials"  # main materials missing: one-time notice, nothing rejected
    AWAITING_SUPPLEMENT = "awaiting_supplement"  # tolerant acceptance: accepted, legal clock paused
    SUPPLEMENT_OVERDUE = "supplement_overdue"  # supplement deadline passed: the manager decides
    IN_HANDLING = "in_handling"
    VETO_REQUESTED = "veto_requested"
    IN_CONSULTATION = "in_consultation"  # a joint consultation runs; the case waits for its conclusion
    AWAITING_CALLBACK = "awaiting_callback"
    RECTIFICATION = "rectification"
    CLOSED = "closed"
    REJECTED = "rejected"


FINAL_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.REJECTED})
# States in which the legal clock runs: past the deadline here, a case is overdue. A completed case awaiting its
# callback is not, nor is one whose clock is paused for supplements.
CLOCK_RUNNING = frozenset(
    {CaseStatus.IN_HANDLING, CaseStatus.VETO_REQUESTED, CaseStatus.IN_CONSULTATION, CaseStatus.SUPPLEMENT_OVERDUE}
)


class Satisfaction(StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


DISSATISFIED = frozenset({Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED})


class Channel(StrEnum):
    WINDOW = "window"
    ONLINE = "online"
    PHONE = "phone"
    HOTLINE = "hotline"


class HandlingMode(StrEnum):
    WINDOW = "window"
    ONLINE = "online"
    HOME_VISIT = "home_visit"


class Instruction(StrEnum):
    """What a manager tells the clerk to do instead of saying no."""

    ACCEPT = "accept"
    JOINT_CONSULTATION = "joint_consultation"
    ASSISTED_HANDLING = "assisted_handling"


class Actor(BaseModel):
    """The authenticated user behind an action, as the API vouches for it."""

    model_config = ConfigDict(frozen=True)
    user_id: int
    username: str
    role: Role
    department_code: str


class Material(BaseModel):
    name: Name
    main: bool = True
    how_to_supply: str = ""


class ItemRules(BaseModel):
    """Timings of an item, in working days unless named otherwise; configurable per item."""

    veto_reminder_days: int = Field(1, ge=1)
    veto_escalation_days: int = Field(2, ge=1)
    supplement_days: int = Field(5, ge=1)
    supplement_reminder_days: int = Field(1, ge=0)  # before the supplement deadline
    callback_calendar_days: int = Field(3, ge=1)
    default_rating: Satisfaction = Satisfaction.SATISFIED
    rectification_days: int = Field(5, ge=1)


class ServiceItemInfo(BaseModel):
    code: str
    name: str
    department_code: str
    department_path: list[str]  # the item's department, then its ancestors up to the bureau
    time_limit_days: int
    expedited_days: int
    materials: list[Material]
    rules: ItemRules = ItemRules()


class Applicant(BaseModel):
    name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9\- ]{5,20}$")]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z]{6,20}$")]


class MatterInput(BaseModel):
    """One matter of a case that holds several (统一受理、集中经办): it runs as a child case of its own."""

    case_no: str
    item: ServiceItemInfo
    submitted_materials: list[str] = []


class RegisterCaseInput(BaseModel):
    case_no: str
    item: ServiceItemInfo
    applicant: Applicant
    channel: Channel
    hall: str
    window: str
    description: str = ""
    handling_mode: HandlingMode = HandlingMode.WINDOW
    cross_region_urgent: bool = False
    submitted_materials: list[str] = []
    clerk: Actor
    matters: list[MatterInput] = []  # set for a case of several matters; its item is the hall's combined item
    parent_case_no: str | None = None  # set for one matter of such a case
    carried: "CaseView | None" = None  # the state handed over by continue-as-new


class Deadline(BaseModel):
    at: datetime
    provisional: bool


class CalendarQuery(BaseModel):
    calendar_version: str | None = None  # of an imported schedule the answer must already know


class DeadlinesInput(CalendarQuery):
    start: datetime
    working_days: list[int]


class WorkingTimeInput(CalendarQuery):
    start: datetime
    end: datetime


class ResumeClockInput(CalendarQuery):
    start: datetime
    seconds: float


class ActionInput(BaseModel):
    actor: Actor


class AcceptInput(ActionInput):
    pass


class Supplement(BaseModel):
    items: list[Name] = Field(min_length=1)
    on_behalf_of_applicant: bool = False


class SupplementInput(Supplement, ActionInput):
    pass


class VetoRequest(BaseModel):
    reasons: Text
    legal_basis: Text


class VetoRequestInput(VetoRequest, ActionInput):
    pass


class StartConsultation(BaseModel):
    """What the convener of a joint consultation fills in."""

    lead_department: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    departments: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]] = Field(
        min_length=1, max_length=20)
    question: Text
    documents: list[str] = []
    deadline_days: int = Field(5, ge=1, le=60)


class VetoDecision(BaseModel):
    approve: bool
    instruction: Instruction | None = None  # required when refusing
    comment: str = ""
    consultation: StartConsultation | None = None  # with instruction joint_consultation: convene it at once


class HelperInput(ActionInput):
    helper: Actor


class Signature(BaseModel):
    document: Text
    note: str = ""


class SignatureInput(Signature, ActionInput):
    pass


class VetoDecisionInput(VetoDecision, ActionInput):
    pass


class OverdueSupplementDecision(BaseModel):
    extend_days: int | None = Field(None, ge=1, le=60)  # None: proceed without the missing items


class OverdueSupplementInput(OverdueSupplementDecision, ActionInput):
    pass


class HandoverInput(ActionInput):
    to: Actor
    reason: str = ""


class Handling(BaseModel):
    mode: HandlingMode
    appointment_at: datetime | None = None
    address: str = ""


class HandlingInput(Handling, ActionInput):
    pass


class Completion(BaseModel):
    result: Text


class CompleteInput(Completion, ActionInput):
    pass


class SatisfactionAnswer(BaseModel):
    grade: Satisfaction
    comment: str = ""


class SatisfactionInput(SatisfactionAnswer, ActionInput):
    pass


class VetoState(BaseModel):
    requested_by: Actor
    reasons: str
    legal_basis: str
    requested_at: datetime
    decided_by: Actor | None = None
    approve: bool | None = None
    instruction: Instruction | None = None
    comment: str = ""
    decided_at: datetime | None = None
    resume_status: CaseStatus
    remind_at: datetime | None = None  # the manager is reminded
    escalate_at: datetime | None = None  # the director takes over


class DeadlineBasis(BaseModel):
    """How the legal deadline was computed, so a new official calendar can recompute it."""

    start: datetime
    working_days: int | None = None  # add_working_days(start, working_days)
    seconds: float | None = None  # add_working_time(start, seconds) after a paused clock resumed


class CalendarChanged(BaseModel):
    """An official schedule was imported for ``year``; provisional deadlines are recomputed."""

    year: int
    version: str


class CaseView(BaseModel):
    """What the workflow knows of its case; also the projection written to ``cases``."""

    case_no: str
    item_code: str
    department_code: str
    status: CaseStatus
    applicant: Applicant
    channel: Channel
    hall: str
    window: str
    description: str
    handling_mode: HandlingMode
    cross_region_urgent: bool
    first_clerk_id: int
    clerk_id: int
    helper_id: int | None = None  # assisted handling: acts for the applicant
    registered_at: datetime
    deadline: datetime | None = None
    deadline_provisional: bool = False
    clock_paused: bool = False
    remaining_seconds: float | None = None  # of the legal clock, while paused
    missing_materials: list[str] = []
    veto: VetoState | None = None
    instruction: Instruction | None = None
    result: str | None = None
    satisfaction: Satisfaction | None = None
    closed_at: datetime | None = None
    last_seq: int = 0
    phase_started_at: datetime
    phase_steps_done: int = 0  # reminders / escalations of the current phase already sent
    supplement_window_days: int | None = None  # set when a manager extends the supplement deadline
    deadline_basis: DeadlineBasis | None = None
    rectification_due: datetime | None = None
    consultations: list[str] = []  # ids of the joint consultations of this case
    parent_case_no: str | None = None
    matters: list[str] = []  # case numbers of the matters of a combined case
    consultation_resume: CaseStatus | None = None  # where the case returns once the consultation concludes


class TaskSpec(BaseModel):
    kind: str
    role: Role
    department_code: str
    summary: str
    due_at: datetime | None = None


class DocumentSpec(BaseModel):
    kind: str
    title: str
    content: dict[str, Any]


class RecordEventInput(BaseModel):
    """One transition: the event, the new projection, and the inbox/document changes it implies."""

    seq: int
    type: str
    actor: Actor | None
    at: datetime
    payload: dict[str, Any]
    case: CaseView
    close_tasks: list[str] = []  # kinds of open tasks this event answers
    open_task: TaskSpec | None = None
    document: DocumentSpec | None = None


RegisterCaseInput.model_rebuild()
