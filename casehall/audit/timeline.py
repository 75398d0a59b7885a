"""A case's history for auditors: every event with who (username, role), when, documents and decisions, and the
state of the case as it was at any moment, rebuilt from the events alone (nothing else is stored)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casehall import queries
from models.payloads import CaseStatus
from models.tables import Case, CaseEvent, User

# The status an event leaves the case in; events not listed leave it unchanged (reminders, handovers, ...).
STATUS_AFTER = {
    "registered": CaseStatus.REGISTERED, "one_time_notice_issued": CaseStatus.AWAITING_MATERIALS,
    "accepted": CaseStatus.IN_HANDLING, "accepted_on_instruction": CaseStatus.IN_HANDLING,
    "materials_complete": CaseStatus.IN_HANDLING, "proceed_without_missing": CaseStatus.IN_HANDLING,
    "accepted_tolerantly": CaseStatus.AWAITING_SUPPLEMENT, "supplement_overdue": CaseStatus.SUPPLEMENT_OVERDUE,
    "supplement_extended": CaseStatus.AWAITING_SUPPLEMENT, "veto_requested": CaseStatus.VETO_REQUESTED,
    "veto_approved": CaseStatus.REJECTED, "completed": CaseStatus.AWAITING_CALLBACK,
    "callback_rated": CaseStatus.CLOSED, "callback_dissatisfied": CaseStatus.RECTIFICATION,
    "rectified": CaseStatus.CLOSED,
}
FINAL = {CaseStatus.CLOSED.value, CaseStatus.REJECTED.value}
DEADLINE_KEYS = {"accepted_tolerantly": "deadline_if_complete", "deadline_recomputed": "new"}  # else "deadline"


class DocumentRef(BaseModel):
    id: int
    kind: str
    title: str
    issued_at: datetime
    download: str


class TimelineEntry(BaseModel):
    seq: int
    at: datetime
    type: str
    actor_id: int | None
    actor_username: str | None
    actor_name: str | None
    actor_role: str | None
    status: str  # the status the event left the case in
    decision: str | None  # what a decision or rating decided, in words
    payload: dict[str, Any]
    documents: list[DocumentRef]
    hash: str


class CaseState(BaseModel):
    """The projection as it stood after ``last_seq``: the fields of ``cases`` that events determine."""

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


class Timeline(BaseModel):
    case_no: str
    item_code: str
    department_code: str
    registered_at: datetime
    as_of: datetime | None
    state: CaseState | None  # None when the case was not yet registered at ``as_of``
    entries: list[TimelineEntry]


def decision(event: CaseEvent) -> str | None:
    p = event.payload
    match event.type:
        case "veto_requested":
            return f"asks to say no: {p.get('reasons', '')} ({p.get('legal_basis', '')})"
        case "veto_approved":
            return "veto approved: the case is rejected"
        case "veto_refused":
            comment = f" - {p['comment']}" if p.get("comment") else ""
            return f"veto refused, instruction: {p.get('instruction')}{comment}"
        case "supplement_extended":
            return f"supplement deadline extended by {p.get('days')} working days"
        case "proceed_without_missing":
            return f"proceed without {', '.join(p.get('waived') or []) or 'nothing'}"
        case "callback_rated" | "callback_dissatisfied":
            return f"rated {p.get('grade')}" + (f": {p['comment']}" if p.get("comment") else "")
        case "completed" | "rectified":
            return f"result: {p.get('result')}"
        case "handed_over":
            return f"handed over to {p.get('to_username')}" + (f": {p['reason']}" if p.get("reason") else "")
    return None


def fold(state: CaseState | None, event: CaseEvent, before_veto: list[str]) -> CaseState:
    """The state after ``event``; ``before_veto`` keeps the status a refused veto returns to."""
    s = state.model_copy(deep=True) if state else CaseState(status=CaseStatus.REGISTERED.value)
    p = event.payload
    if event.type == "registered":
        s.clerk_id = event.actor_id
    if event.type == "veto_requested":
        before_veto.append(s.status)
    if event.type == "veto_refused" and before_veto:
        s.status = before_veto.pop()
    elif event.type in STATUS_AFTER:
        s.status = STATUS_AFTER[event.type].value
    if (key := DEADLINE_KEYS.get(event.type, "deadline")) in p and isinstance(p[key], str):
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
    if event.type in ("completed", "rectified"):
        s.result = p.get("result")
    if event.type in ("callback_rated", "callback_dissatisfied"):
        s.satisfaction = p.get("grade")
    if s.status in FINAL and s.closed_at is None:
        s.closed_at = event.at
    s.last_seq, s.updated_at = event.seq, event.at
    return s


def state_of(events: Sequence[CaseEvent]) -> CaseState | None:
    state, before_veto = None, []
    for event in events:
        state = fold(state, event, before_veto)
    return state


def aware(moment: datetime, tz: str) -> datetime:
    """A naive moment is the hall's local time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


async def case_timeline(session: AsyncSession, case_no: str, as_of: datetime | None = None,
                        tz: str = "Asia/Shanghai") -> Timeline | None:
    """The case's history up to ``as_of`` (all of it when None); None if there is no such case."""
    case = await session.get(Case, case_no)
    if case is None:
        return None
    as_of = aware(as_of, tz) if as_of else None
    events = [e for e in await queries.case_events(session, case_no) if as_of is None or e.at <= as_of]
    docs = [d for d in await queries.case_documents(session, case_no) if as_of is None or d.issued_at <= as_of]
    ids = {e.actor_id for e in events} | {case.clerk_id, case.first_clerk_id} | {
        e.payload.get("to") for e in events if e.type == "handed_over"}
    users = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(ids - {None})))).all()}  # type: ignore[union-attr]
    entries, state, before_veto = [], None, []
    for e in events:
        state = fold(state, e, before_veto)
        actor = users.get(e.actor_id) if e.actor_id is not None else None
        entries.append(TimelineEntry(
            seq=e.seq, at=e.at, type=e.type, actor_id=e.actor_id, actor_username=actor.username if actor else None,
            actor_name=actor.display_name if actor else None, actor_role=e.actor_role, status=state.status,
            decision=decision(e), payload=e.payload, hash=e.hash,
            documents=[DocumentRef(id=d.id or 0, kind=d.kind, title=d.title, issued_at=d.issued_at,
                                   download=f"/cases/{case_no}/documents/{d.id}.pdf") for d in docs if d.seq == e.seq],
        ))
    if state is not None and state.clerk_id in users:
        state.clerk_username = users[state.clerk_id].username
    return Timeline(case_no=case_no, item_code=case.item_code, department_code=case.department_code,
                    registered_at=case.registered_at, as_of=as_of, state=state, entries=entries)
