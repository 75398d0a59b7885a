"""The state of a case after each of its events, rebuilt from ``case_events`` alone: the fields of the ``cases``
projection that events determine, as the projection stood right after that event was recorded."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from casehall.models.enums import FINAL_STATUSES, CaseStatus
from casehall.models.events import EventType
from casehall.models.tables import CaseEvent

S = CaseStatus
FINAL = {s.value for s in FINAL_STATUSES}
DEADLINE_KEYS = {"accepted_tolerantly": "deadline_if_complete", "deadline_recomputed": "new"}  # else "deadline"


class CaseState(BaseModel):
    """The projection as it stood after ``last_seq``."""

    status: str
    deadline: datetime | None = None
    clock_paused: bool = False
    clerk_id: int | None = None
    clerk_username: str | None = None
    missing_materials: list[str] = []
    result: str | None = None
    satisfaction: str | None = None
    closed_at: datetime | None = None
    last_seq: int = 0
    updated_at: datetime | None = None


@dataclass
class Rebuild:
    """Folds a case's events, in order, into the state each one left the case in."""

    matter: bool = False  # a matter of a combined case closes when completed (no callback of its own)
    state: CaseState | None = None
    resume: list[str] = field(default_factory=list)  # statuses a decided veto or consultation returns to

    def apply(self, event: CaseEvent) -> CaseState:
        s = self.state.model_copy(deep=True) if self.state else CaseState(status=S.REGISTERED.value)
        self._status(s, event)
        p = event.payload
        if event.type == "registered":
            s.clerk_id = event.actor_id
        if isinstance(p.get(key := DEADLINE_KEYS.get(event.type, "deadline")), str):
            s.deadline = datetime.fromisoformat(p[key])
        if event.type == "accepted_tolerantly":
            s.clock_paused = True
        elif event.type in ("materials_complete", "proceed_without_missing"):
            s.clock_paused = False
        for key in ("missing", "still_missing"):
            if isinstance(p.get(key), list):
                s.missing_materials = list(p[key])
        if event.type == "handed_over":
            s.clerk_id = p.get("to")
        if event.type in ("completed", "rectified", "matters_finished"):
            s.result = p.get("result")
        if event.type in ("callback_rated", "callback_dissatisfied"):
            s.satisfaction = p.get("grade")
        if s.status in FINAL and s.closed_at is None:
            s.closed_at = event.at
        s.last_seq, s.updated_at = event.seq, event.at
        self.state = s
        return s

    def _status(self, s: CaseState, event: CaseEvent) -> None:
        """The status the event leaves the case in, from ``EventType`` (the one table of the state machine)."""
        kind = EventType(event.type)
        if kind.suspends:
            self.resume.append(s.status)
        back = self.resume.pop() if kind.resumes and self.resume else None
        if back is not None:
            s.status = back
        elif kind == EventType.COMPLETED and self.matter:
            s.status = S.CLOSED.value
        elif kind.status is not None:
            s.status = kind.status.value


def state_of(events: Sequence[CaseEvent], matter: bool = False) -> CaseState | None:
    rebuild = Rebuild(matter)
    for event in events:
        rebuild.apply(event)
    return rebuild.state
