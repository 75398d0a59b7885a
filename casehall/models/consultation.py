"""Payloads of a joint consultation (联合会商). Workflow-safe: stdlib and pydantic only."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from casehall.models.case import Actor
from casehall.models.commands import StartConsultation
from casehall.models.events import ConsultationEventType
from casehall.models.text import Code, OptionalText, Text


class OpinionDecision(StrEnum):
    AGREE = "agree"
    AGREE_WITH_CONDITIONS = "agree_with_conditions"
    DISAGREE = "disagree"


class ConclusionDecision(StrEnum):
    """What the case does next."""

    ACCEPT = "accept"
    VETO = "veto"  # a veto request with the consultation as its basis, still needing a manager's approval
    ASSISTED_HANDLING = "assisted_handling"


class ConsultationStatus(StrEnum):
    OPEN = "open"
    CONCLUDED = "concluded"


class Convene(StartConsultation):
    cannot_be_handled: bool = False  # the clerk marks the matter "cannot be handled": the law is unclear


class ConsultationInput(StartConsultation):
    consultation_id: str
    case_no: str
    convened_by: Actor
    reminder_days_before: int = 1
    lead_escalation_days: int = 1  # after the deadline, one more working day before the lead department's manager


class OpinionBody(BaseModel):
    department_code: Code | None = None  # defaults to the answering user's department
    decision: OpinionDecision
    text: Text
    legal_basis: OptionalText = ""



class ExtensionBody(BaseModel):
    days: int = Field(ge=1, le=30)
    reason: Text



class ConclusionBody(BaseModel):
    decision: ConclusionDecision
    reasons: Text
    legal_basis: OptionalText = ""
    follows: list[Code] = []  # the departments whose opinions the conclusion follows



class Opinion(BaseModel):
    department_code: str
    version: int
    decision: OpinionDecision
    text: str
    legal_basis: str
    by: Actor
    at: datetime


class Conclusion(ConclusionBody):
    by: Actor
    at: datetime
    no_answer: list[str]  # consulted departments that never answered


class ConsultationView(BaseModel):
    consultation_id: str
    case_no: str
    lead_department: str
    departments: list[str]
    question: str
    documents: list[str]
    status: ConsultationStatus = ConsultationStatus.OPEN
    opened_at: datetime
    deadline: datetime | None = None
    deadline_provisional: bool = False
    opinions: dict[str, list[Opinion]] = {}  # every version, oldest first
    extensions: list[dict[str, Any]] = []
    conclusion: Conclusion | None = None
    last_seq: int = 0
    schedule_version: int = 0  # bumped by an extension: reminders and escalations start again
    steps_done: int = 0

    def missing(self) -> list[str]:
        return [d for d in self.departments if not self.opinions.get(d)]


class ConsultationTask(BaseModel):
    kind: str
    role: str
    department_code: str
    summary: str
    due_at: datetime | None = None


class RecordConsultationEventInput(BaseModel):
    seq: int
    type: ConsultationEventType
    actor: Actor | None
    at: datetime
    payload: dict[str, Any]
    view: ConsultationView
    open_tasks: list[ConsultationTask] = []
    close_tasks: bool = False  # close every open task of this consultation
