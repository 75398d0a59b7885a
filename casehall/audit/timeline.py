"""A case's history for auditors: every event with who (username, role), when, documents and decisions, and the
state of the case as it was at any moment, rebuilt from the events alone (nothing else is stored)."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.audit.rebuild import CaseState, Rebuild
from casehall.models.tables import Case, CaseEvent, User
from casehall.store import queries


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
        case "consultation_convened":
            return f"joint consultation {p.get('consultation_id')}: {p.get('question', '')}"
        case "consultation_concluded":
            return f"consultation concluded: {p.get('decision')}" + (f" ({p['reasons']})" if p.get("reasons") else "")
        case "handed_over":
            return f"handed over to {p.get('to_username')}" + (f": {p['reason']}" if p.get("reason") else "")
    return None


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
    users = {u.id: u for u in (await session.scalars(select(User).where(col(User.id).in_(ids - {None})))).all()}
    entries: list[TimelineEntry] = []
    rebuild = Rebuild(matter=case.parent_case_no is not None)
    for e in events:
        state = rebuild.apply(e)
        actor = users.get(e.actor_id) if e.actor_id is not None else None
        entries.append(TimelineEntry(
            seq=e.seq, at=e.at, type=e.type, actor_id=e.actor_id, actor_username=actor.username if actor else None,
            actor_name=actor.display_name if actor else None, actor_role=e.actor_role, status=state.status,
            decision=decision(e), payload=e.payload, hash=e.hash,
            documents=[DocumentRef(id=d.id or 0, kind=d.kind, title=d.title, issued_at=d.issued_at,
                                   download=f"/cases/{case_no}/documents/{d.id}.pdf") for d in docs if d.seq == e.seq],
        ))
    final = rebuild.state
    if final is not None and final.clerk_id in users:
        final.clerk_username = users[final.clerk_id].username
    return Timeline(case_no=case_no, item_code=case.item_code, department_code=case.department_code,
                    registered_at=case.registered_at, as_of=as_of, state=final, entries=entries)
