"""Exports for auditors: cases with every event (hashes included), their documents and the chain's verdict, as
JSON or as CSV (one line per event)."""

import csv
import io
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.audit import anchors
from casehall.audit.chain import check_case
from casehall.core.hashing import canonical
from casehall.models.tables import Case, CaseEvent, Document, User


class ExportedEvent(BaseModel):
    seq: int
    type: str
    at: datetime
    actor_id: int | None
    actor_username: str | None
    actor_role: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ExportedDocument(BaseModel):
    id: int
    seq: int
    kind: str
    title: str
    issued_at: datetime
    content: dict[str, Any]


class ExportedCase(BaseModel):
    case_no: str
    item_code: str
    department_code: str
    applicant_name: str
    status: str
    registered_at: datetime
    closed_at: datetime | None
    last_seq: int
    chain_ok: bool
    chain_breaks: list[str]
    events: list[ExportedEvent]
    documents: list[ExportedDocument]


class Export(BaseModel):
    generated_at: datetime
    case_no: str | None
    closed_from: datetime | None
    closed_to: datetime | None
    cases: list[ExportedCase]


CSV_COLUMNS = ["case_no", "seq", "type", "at", "actor_username", "actor_role", "document_kind", "document_title",
               "payload", "prev_hash", "hash", "chain_ok"]


async def export_cases(session: AsyncSession, *, case_no: str | None = None, closed_from: datetime | None = None,
                       closed_to: datetime | None = None, departments: Collection[str] | None = None) -> Export:
    """One case, or every case closed in [closed_from, closed_to) (either bound may be open); with
    ``departments``, only the cases of those departments."""
    if case_no is None and closed_from is None and closed_to is None:
        raise ValueError("name a case or a closing period to export")
    chosen: list[ColumnElement[bool]] = []
    if case_no is not None:
        chosen.append(col(Case.case_no) == case_no)
    if closed_from is not None:
        chosen.append(col(Case.closed_at) >= closed_from)
    if closed_to is not None:
        chosen.append(col(Case.closed_at) < closed_to)
    if departments is not None:
        chosen.append(col(Case.department_code).in_(list(departments)))
    numbers = select(col(Case.case_no)).where(*chosen)
    ordered = select(Case).where(*chosen).order_by(col(Case.closed_at), col(Case.case_no))
    cases = (await session.scalars(ordered)).all()
    events: dict[str, list[CaseEvent]] = defaultdict(list)
    for e in await session.scalars(select(CaseEvent).where(col(CaseEvent.case_no).in_(numbers))
                                   .order_by(col(CaseEvent.case_no), col(CaseEvent.seq))):
        events[e.case_no].append(e)
    docs: dict[str, list[Document]] = defaultdict(list)
    for d in await session.scalars(select(Document).where(col(Document.case_no).in_(numbers))
                                   .order_by(col(Document.case_no), col(Document.seq))):
        docs[d.case_no].append(d)
    users = await session.execute(select(col(User.id), col(User.username)))
    names: dict[int | None, str] = {uid: name for uid, name in users.all()}
    anchor = await anchors.newest_anchor(session)
    out = []
    for case in cases:
        rows = events[case.case_no]
        chain = check_case(case.case_no, rows, case.last_seq, anchor)
        out.append(ExportedCase(
            case_no=case.case_no, item_code=case.item_code, department_code=case.department_code,
            applicant_name=case.applicant_name, status=case.status, registered_at=case.registered_at,
            closed_at=case.closed_at, last_seq=case.last_seq, chain_ok=chain.ok,
            chain_breaks=[f"{b.kind} at {b.seq}: {b.detail}" for b in chain.breaks],
            events=[ExportedEvent(seq=e.seq, type=e.type, at=e.at, actor_id=e.actor_id,
                                  actor_username=names.get(e.actor_id) if e.actor_id is not None else None,
                                  actor_role=e.actor_role, payload=e.payload, prev_hash=e.prev_hash, hash=e.hash)
                    for e in rows],
            documents=[ExportedDocument(id=d.id or 0, seq=d.seq, kind=d.kind, title=d.title, issued_at=d.issued_at,
                                        content=d.content) for d in docs[case.case_no]],
        ))
    return Export(generated_at=datetime.now(UTC), case_no=case_no, closed_from=closed_from, closed_to=closed_to,
                  cases=out)


def to_csv(export: Export) -> str:
    """One line per event; the document issued with an event is named on its line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for case in export.cases:
        issued = {d.seq: d for d in case.documents}
        for e in case.events:
            doc = issued.get(e.seq)
            writer.writerow({
                "case_no": case.case_no, "seq": e.seq, "type": e.type, "at": e.at.isoformat(),
                "actor_username": e.actor_username or "", "actor_role": e.actor_role or "",
                "document_kind": doc.kind if doc else "", "document_title": doc.title if doc else "",
                "payload": canonical(e.payload), "prev_hash": e.prev_hash, "hash": e.hash,
                "chain_ok": "yes" if case.chain_ok else "no",
            })
    return buffer.getvalue()
