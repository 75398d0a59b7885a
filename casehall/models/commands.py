"""What people ask a case to do: one ``Command`` envelope (who acts + what they ask) around a body per action.
Workflow-safe: stdlib and pydantic only."""

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, model_validator

from casehall.models.case import Actor
from casehall.models.enums import HandlingMode, Instruction, Satisfaction
from casehall.models.text import Code, Name, OptionalText, Text

Body = TypeVar("Body", bound=BaseModel)


class Command(BaseModel, Generic[Body]):
    """An action on a case or consultation: the authenticated actor (as the API vouches for it) and the body."""

    actor: Actor
    body: Body

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """Updates recorded before the envelope carried the body's fields beside ``actor``: read them as the body."""
        if isinstance(data, dict) and "body" not in data and "actor" in data:
            return {"actor": data["actor"], "body": {k: v for k, v in data.items() if k != "actor"}}
        return data


class Accept(BaseModel):
    """Say yes: nothing to fill in."""


class Handover(BaseModel):
    to: Actor
    reason: OptionalText = ""


class Helper(BaseModel):
    helper: Actor


class Supplement(BaseModel):
    items: list[Name] = Field(min_length=1, max_length=50)
    on_behalf_of_applicant: bool = False


class VetoRequest(BaseModel):
    reasons: Text
    legal_basis: Text


class StartConsultation(BaseModel):
    """What the convener of a joint consultation fills in."""

    lead_department: Code
    departments: list[Code] = Field(min_length=1, max_length=20)
    question: Text
    documents: list[Name] = Field([], max_length=50)
    deadline_days: int = Field(5, ge=1, le=60)


class VetoDecision(BaseModel):
    approve: bool
    instruction: Instruction | None = None  # required when refusing
    comment: OptionalText = ""
    consultation: StartConsultation | None = None  # with instruction joint_consultation: convene it at once


class Signature(BaseModel):
    document: Text
    note: OptionalText = ""


class OverdueSupplementDecision(BaseModel):
    extend_days: int | None = Field(None, ge=1, le=60)  # None: proceed without the missing items


class Handling(BaseModel):
    mode: HandlingMode
    appointment_at: datetime | None = None
    address: OptionalText = ""


class Completion(BaseModel):
    result: Text


class SatisfactionAnswer(BaseModel):
    grade: Satisfaction
    comment: OptionalText = ""


class CalendarChanged(BaseModel):
    """An official schedule was imported for ``year``; provisional deadlines are recomputed."""

    year: int
    version: str
