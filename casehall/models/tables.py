"""SQLModel tables: the PostgreSQL schema. Only ``casehall.store.repository`` and the API's read queries use them."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


def _json(**kw: Any) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, **kw))


class Department(SQLModel, table=True):
    """A node of the tree bureau > department > section."""

    __tablename__ = "departments"
    code: str = Field(primary_key=True, max_length=32)
    name: str
    kind: str = Field(max_length=16)  # bureau | department | section
    parent_code: str | None = Field(default=None, foreign_key="departments.code")
    # What its official documents need ('' = not configured: the parent's value, then a generic wording).
    doc_prefix: str = Field(default="", max_length=16)  # of the document number, e.g. 长政服 in 长政服不受〔2026〕12号
    reconsideration_body: str = ""  # where an applicant applies for administrative reconsideration
    court: str = ""  # where an applicant brings an administrative lawsuit
    active: bool = True  # False: taken out of use (kept for the cases and documents that name it)
    version: int = 1  # raised by every edit (``casehall.store.catalogue``): an edit from an older version is refused


class UserBase(SQLModel):
    username: str = Field(unique=True, index=True, max_length=64)
    display_name: str
    role: str = Field(max_length=16)  # clerk | manager | director | auditor | admin
    department_code: str = Field(foreign_key="departments.code")


class User(UserBase, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str
    active: bool = True
    title: str = Field(default="", max_length=32)  # printed after the name on documents, e.g. 科长


class ApiToken(SQLModel, table=True):
    """A bearer token; only its sha256 is stored."""

    __tablename__ = "api_tokens"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    expires_at: datetime = _ts(nullable=False)
    last_used_at: datetime | None = _ts(nullable=True)  # idle time-out; set at log-in, refreshed by use


class SignInLog(SQLModel, table=True):
    """Every log-in, refusal, log-out and time-out (``casehall.store.accounts``)."""

    __tablename__ = "sign_in_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    username: str = Field(max_length=64, index=True)  # as typed, for refusals of unknown names too
    user_id: int | None = Field(default=None, foreign_key="users.id")
    address: str = Field(max_length=64)
    outcome: str = Field(max_length=24)  # ok | wrong_password | unknown_user | disabled | locked | logout | idle


class SignInLock(SQLModel, table=True):
    """Failed log-ins counted per username and per address; ``locked_until`` set once too many came in a row."""

    __tablename__ = "sign_in_locks"
    scope: str = Field(primary_key=True, max_length=8)  # user | address
    subject: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    window_started_at: datetime = _ts(nullable=False)
    locked_until: datetime | None = _ts(nullable=True)


class AdminChange(SQLModel, table=True):
    """One change an administrator made to an account or a lock (migration 0012): who, when, from where, what;
    ``changes`` maps each field to ``[before, after]`` (a password is recorded as changed, never its value)."""

    __tablename__ = "admin_changes"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")  # None: the operator's command line
    actor_username: str = Field(max_length=64)
    address: str = Field(max_length=64)
    action: str = Field(max_length=24)  # create | update | disable | enable | reset_password | unlock
    target_user_id: int | None = Field(default=None, foreign_key="users.id")
    target: str = Field(max_length=80, index=True)  # the username, or "scope:subject" of a lock
    changes: dict[str, Any] = _json()


class ServiceItem(SQLModel, table=True):
    """An entry of the catalogue of service items (办事事项)."""

    __tablename__ = "service_items"
    code: str = Field(primary_key=True, max_length=32)
    name: str
    department_code: str = Field(foreign_key="departments.code")
    time_limit_days: int
    expedited_days: int
    materials: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    rules: dict[str, Any] = _json()  # veto / supplement / callback timings, see casehall.models.case.ItemRules
    withdrawn_at: datetime | None = _ts(nullable=True)  # set: not offered for new cases; its cases keep it
    version: int = 1  # raised by every edit (``casehall.store.catalogue``): an edit from an older version is refused


class CatalogueChange(SQLModel, table=True):
    """A change of the department tree or the service catalogue: who, when, what before and after, and why."""

    __tablename__ = "catalogue_changes"
    __table_args__ = (Index("ix_catalogue_changes_subject", "entity", "code", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    actor_id: int = Field(foreign_key="users.id")
    actor_username: str = Field(max_length=64)
    address: str = Field(max_length=64)  # where the change came from
    entity: str = Field(max_length=16)  # department | item
    code: str = Field(max_length=32)
    action: str = Field(max_length=16)  # created | updated | deactivated | reactivated | deleted | withdrawn | ...
    reason: str = ""
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))


class Case(SQLModel, table=True):
    """The current state of a case: a projection of its events, for lists and searches."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_registered", "status", "registered_at"),
        Index("ix_cases_department_status", "department_code", "status"),
        Index("ix_cases_clerk_status", "clerk_id", "status"),
        Index("ix_cases_deadline_open", "deadline", postgresql_where="closed_at IS NULL"),
    )
    case_no: str = Field(primary_key=True, max_length=40)
    item_code: str = Field(foreign_key="service_items.code")
    department_code: str = Field(foreign_key="departments.code")
    status: str = Field(max_length=32)
    applicant_name: str
    applicant_phone: str
    applicant_id_number: str
    applicant_kind: str = Field(default="person", max_length=16)
    applicant_id_type: str = Field(default="resident_id", max_length=32)
    channel: str = Field(max_length=16)
    hall: str
    window: str
    description: str = ""
    handling_mode: str = Field(default="window", max_length=16)
    cross_region_urgent: bool = False
    first_clerk_id: int = Field(foreign_key="users.id")
    clerk_id: int = Field(foreign_key="users.id")
    helper_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # assisted handling
    parent_case_no: str | None = Field(default=None, max_length=40, index=True)  # a matter of a combined case
    registered_at: datetime = _ts(nullable=False)
    deadline: datetime | None = _ts(nullable=True)
    deadline_provisional: bool = False
    clock_paused: bool = False
    missing_materials: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    result: str | None = None
    satisfaction: str | None = None
    closed_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts(nullable=False)
    last_seq: int = 0


class CaseEvent(SQLModel, table=True):
    """An immutable event of a case; (case_no, seq) is unique, so a retried write is a conflict."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_no", "seq", name="uq_case_events_case_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(foreign_key="cases.case_no", max_length=40)
    seq: int
    type: str = Field(max_length=48)
    actor_id: int | None = None
    actor_role: str | None = Field(default=None, max_length=16)
    at: datetime = _ts(nullable=False)
    payload: dict[str, Any] = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Task(SQLModel, table=True):
    """An open question for a manager or director: the inbox. Closed when the case answers it."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("case_no", "consultation_id", "opened_seq", name="uq_tasks_source_seq",
                         postgresql_nulls_not_distinct=True),
        Index("ix_tasks_inbox", "department_code", "role", "closed_at", "opened_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(foreign_key="cases.case_no", max_length=40)
    consultation_id: str | None = Field(default=None, max_length=48)  # None: a task of the case itself
    opened_seq: int
    kind: str = Field(max_length=32)  # veto | supplement_overdue | rectification
    role: str = Field(max_length=16)  # manager | director
    department_code: str = Field(foreign_key="departments.code")
    summary: str = ""
    opened_at: datetime = _ts(nullable=False)
    due_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)


class Document(SQLModel, table=True):
    """A notice issued to the applicant; its PDF is rendered from ``content`` on download."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("case_no", "seq", name="uq_documents_case_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(foreign_key="cases.case_no", max_length=40)
    seq: int
    kind: str = Field(max_length=32)  # one_time_notice | rejection_notice
    title: str
    content: dict[str, Any] = _json()
    issued_at: datetime = _ts(nullable=False)


class Consultation(SQLModel, table=True):
    """A joint consultation of a case: the projection of its events (``state`` holds every opinion version)."""

    __tablename__ = "consultations"
    consultation_id: str = Field(primary_key=True, max_length=48)
    case_no: str = Field(foreign_key="cases.case_no", max_length=40, index=True)
    lead_department: str = Field(foreign_key="departments.code")
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    status: str = Field(max_length=16)
    deadline: datetime | None = _ts(nullable=True)
    opened_at: datetime = _ts(nullable=False)
    concluded_at: datetime | None = _ts(nullable=True)
    state: dict[str, Any] = _json()
    last_seq: int = 0


class ConsultationEvent(SQLModel, table=True):
    """An immutable event of a consultation, unique on (consultation, seq)."""

    __tablename__ = "consultation_events"
    __table_args__ = (UniqueConstraint("consultation_id", "seq", name="uq_consultation_events_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    consultation_id: str = Field(foreign_key="consultations.consultation_id", max_length=48)
    seq: int
    type: str = Field(max_length=48)
    actor_id: int | None = None
    actor_role: str | None = Field(default=None, max_length=16)
    at: datetime = _ts(nullable=False)
    payload: dict[str, Any] = _json()


class CalendarDayRow(SQLModel, table=True):
    """A day that departs from the Monday-Friday rule (holiday, adjusted workday), official or provisional."""

    __tablename__ = "working_calendar"
    day: date = Field(primary_key=True)
    kind: str = Field(max_length=20)
    name: str = ""
    official: bool = True
    source: str = Field(default="", max_length=32)


class CaseCounter(SQLModel, table=True):
    """The last case number issued per prefix and day (HALL-20261121-000123)."""

    __tablename__ = "case_counters"
    prefix: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    last: int = 0


class ChainAnchor(SQLModel, table=True):
    """The head of every case's hash chain at one moment: a deleted tail cannot go unnoticed after it."""

    __tablename__ = "chain_anchors"
    id: int | None = Field(default=None, primary_key=True)
    anchored_at: datetime = _ts(nullable=False, index=True)
    digest: str = Field(max_length=64)  # sha256 over the canonical JSON of ``heads``
    case_count: int = 0
    heads: dict[str, Any] = _json()  # {case_no: [last_seq, head_hash]}


class CaseHistory(SQLModel, table=True):
    """A closed case's Temporal history (``WorkflowHistory.to_json()``), kept after the server's retention."""

    __tablename__ = "case_histories"
    case_no: str = Field(primary_key=True, foreign_key="cases.case_no", max_length=40)
    workflow_id: str = Field(max_length=80)
    run_id: str = Field(max_length=64)
    history: str  # unbounded VARCHAR: the JSON text exactly as fetched
    sha256: str = Field(max_length=64)
    event_count: int
    archived_at: datetime = _ts(nullable=False)


class CaseNumberVoid(SQLModel, table=True):
    """A case number taken but never used (its workflow could not start): numbers have gaps, each explained."""

    __tablename__ = "case_number_voids"
    case_no: str = Field(primary_key=True, max_length=40)
    reason: str
    voided_at: datetime = _ts(nullable=False)


class FailingWork(SQLModel, table=True):
    """A transition the database refused for good: the case waits for an operator (``casehall cases failing``)."""

    __tablename__ = "failing_work"
    __table_args__ = (UniqueConstraint("workflow_id", "seq", name="uq_failing_work_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=80, index=True)
    seq: int
    event_type: str = Field(max_length=64)
    error: str
    failed_at: datetime = _ts(nullable=False)
    resolved_at: datetime | None = _ts(nullable=True)


class DocumentNumber(SQLModel, table=True):
    """The last document number (文号) issued per authority, year and document kind."""

    __tablename__ = "document_numbers"
    authority_code: str = Field(primary_key=True, foreign_key="departments.code", max_length=32)
    year: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=32)
    last: int = 0


class DocumentRegister(SQLModel, table=True):
    """Every numbered document (发文登记): who issued which number for what (``ref``); minutes keep their content."""

    __tablename__ = "document_register"
    __table_args__ = (UniqueConstraint("authority_code", "year", "kind", "number", name="uq_document_register_number"),)
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=120, unique=True)  # case:<case_no>:<seq> | consultation:<id>
    authority_code: str = Field(foreign_key="departments.code", max_length=32)
    year: int
    kind: str = Field(max_length=32)
    number: int
    doc_no: str = Field(max_length=64)
    issued_at: datetime = _ts(nullable=False)
    content: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
