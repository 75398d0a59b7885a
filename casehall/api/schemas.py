"""Response shapes of the API (request bodies are the payload models in ``casehall.models.payloads``)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from casehall.models.enums import CLOCK_RUNNING
from casehall.models.tables import Case, CaseEvent, Document, Task


def mask_id(id_number: str) -> str:
    """220201199001011238 -> 220***********1238."""
    return id_number[:3] + "*" * max(len(id_number) - 7, 0) + id_number[-4:] if len(id_number) > 7 else "****"


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    username: str
    role: str
    department_code: str


class CasePublic(BaseModel):
    case_no: str
    item_code: str
    department_code: str
    status: str
    applicant_name: str
    applicant_phone: str
    applicant_id_number: str
    applicant_kind: str
    applicant_id_type: str
    channel: str
    hall: str
    window: str
    description: str
    handling_mode: str
    cross_region_urgent: bool
    first_clerk_id: int
    clerk_id: int
    registered_at: datetime
    deadline: datetime | None
    deadline_provisional: bool
    clock_paused: bool
    overdue: bool
    missing_materials: list[str]
    result: str | None
    satisfaction: str | None
    closed_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, case: Case, show_id: bool, now: datetime) -> "CasePublic":
        data = case.model_dump()
        if not show_id:
            data["applicant_id_number"] = mask_id(case.applicant_id_number)
        running = case.status in CLOCK_RUNNING and not case.clock_paused
        late = running and case.deadline is not None and case.deadline < now
        return cls(**data, overdue=late)


class CaseList(BaseModel):
    total: int
    total_exact: bool = True  # False: ``total`` is an estimate (show it as about so many, or as ``more_than``+)
    # Set when the count stopped at its cap: more than this many matched (1,000; a Chinese text search 200, shown
    # "200+": ``total`` is then the planner's estimate, or for that text search ``more_than`` + 1)
    more_than: int | None = None
    offset: int
    limit: int
    next_cursor: str | None = None  # pass as ``cursor`` for the next page; None on the last page
    items: list[CasePublic]


class EventPublic(BaseModel):
    seq: int
    type: str
    actor_id: int | None
    actor_role: str | None
    at: datetime
    payload: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, e: CaseEvent) -> "EventPublic":
        return cls.model_validate(e.model_dump())


class DocumentPublic(BaseModel):
    id: int
    seq: int
    kind: str
    title: str
    issued_at: datetime
    download: str

    @classmethod
    def of(cls, d: Document) -> "DocumentPublic":
        assert d.id is not None
        return cls(id=d.id, seq=d.seq, kind=d.kind, title=d.title, issued_at=d.issued_at,
                   download=f"/cases/{d.case_no}/documents/{d.id}.pdf")


class InboxItem(BaseModel):
    task_id: int
    case_no: str
    kind: str
    summary: str
    opened_at: datetime
    due_at: datetime | None
    seconds_left: float | None
    case_status: str
    case_deadline: datetime | None
    deadline_provisional: bool

    @classmethod
    def of(cls, t: Task, case: Case, now: datetime) -> "InboxItem":
        assert t.id is not None
        left = (t.due_at - now).total_seconds() if t.due_at else None
        return cls(task_id=t.id, case_no=t.case_no, kind=t.kind, summary=t.summary, opened_at=t.opened_at,
                   due_at=t.due_at, seconds_left=left, case_status=case.status, case_deadline=case.deadline,
                   deadline_provisional=case.deadline_provisional)
