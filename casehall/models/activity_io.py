"""Inputs and outputs of activities. Workflow-safe: stdlib and pydantic only."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from casehall.models.case import Actor, CaseView
from casehall.models.enums import Role
from casehall.models.events import EventType


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
    type: EventType
    actor: Actor | None
    at: datetime
    payload: dict[str, Any]
    case: CaseView
    close_tasks: list[str] = []  # kinds of open tasks this event answers
    open_task: TaskSpec | None = None
    document: DocumentSpec | None = None


class FailingWorkInput(BaseModel):
    """A transition the database refused for good, reported for operators."""

    workflow_id: str
    seq: int
    event_type: str
    error: str
    at: datetime
