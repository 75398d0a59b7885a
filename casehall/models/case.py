"""What a case is: its people, its item, and the state the workflow keeps (``CaseView``, also the projection written
to ``cases``). Workflow-safe: stdlib and pydantic only."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casehall.models.enums import CaseStatus, Channel, HandlingMode, Instruction, Role, Satisfaction
from casehall.models.identity import ApplicantIdentity, ApplicantKind, IdType
from casehall.models.text import Name


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


Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9\- ]{5,20}$")]


class Applicant(BaseModel):
    """The applicant as a case keeps them (documents were checked at registration: ``ApplicantIn``)."""

    name: Name
    phone: Phone
    kind: ApplicantKind = ApplicantKind.PERSON
    id_type: IdType = IdType.RESIDENT_ID
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z]{5,40}$")]


class ApplicantIn(ApplicantIdentity):
    """An applicant as registered: a citizen or a company, the identity document checked by its rule."""

    name: Name
    phone: Phone


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


RegisterCaseInput.model_rebuild()
