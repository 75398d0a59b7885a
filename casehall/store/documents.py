"""What an official document needs at issue time and could change later, added to its content once: the issuing
authority (the item's department, or the nearest one above a section), the document number (文号) from the
per-authority, per-year, per-kind sequence, the issue date in the hall's time zone, the names and titles of the
approver and the handler, and the applicant's remedies. The renderer (``casehall.documents.pdf``) reads nothing
else, so a reprint years later is the same document.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.models import documents as wording
from casehall.models.activity_io import DocumentSpec
from casehall.models.consultation import ConsultationView
from casehall.models.tables import (
    Case,
    Department,
    Document,
    DocumentNumber,
    DocumentRegister,
    ServiceItem,
    User,
)
from casehall.store.catalogue import item_names_at

LAYOUT = 2  # content carrying the keys below; older content has none of them


@dataclass(frozen=True)
class Authority:
    """The department that issues a document, with what its documents print."""

    code: str
    name: str
    prefix: str
    reconsideration_body: str
    court: str

    def remedies(self) -> dict[str, Any]:
        return {"reconsideration_body": self.reconsideration_body, "reconsideration_days": wording.RECONSIDERATION_DAYS,
                "court": self.court, "litigation_months": wording.LITIGATION_MONTHS}


async def authority_of(session: AsyncSession, department_code: str) -> Authority:
    """The nearest department at or above ``department_code`` that is not a section; prefix, reconsideration body
    and court from it or, where it has none, from the nearest department above that has one."""
    chain: list[Department] = []
    code: str | None = department_code
    while code and len(chain) < 20 and (dept := await session.get(Department, code)) is not None:
        chain.append(dept)
        code = dept.parent_code
    if not chain:
        return Authority(department_code, department_code, department_code, wording.DEFAULT_RECONSIDERATION_BODY,
                         wording.DEFAULT_COURT)
    start = next((i for i, d in enumerate(chain) if d.kind != "section"), 0)
    above = chain[start:]
    issuer = above[0]

    def first(attr: str, default: str) -> str:
        return next((str(getattr(d, attr)) for d in above if getattr(d, attr, "")), default)

    return Authority(issuer.code, issuer.name, issuer.doc_prefix or issuer.code,
                     first("reconsideration_body", wording.DEFAULT_RECONSIDERATION_BODY),
                     first("court", wording.DEFAULT_COURT))


async def allocate_number(session: AsyncSession, authority: Authority, kind: str, year: int, ref: str,
                          at: datetime, content: dict[str, Any] | None = None) -> str:
    """The next document number of ``authority`` for ``kind`` in ``year``, registered under ``ref``; the same
    ``ref`` again gets the number it was given. Concurrent callers queue on the sequence row, so numbers are
    consecutive and never shared; a rolled-back transaction gives its number back."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:ref))"), {"ref": ref})
    given = await session.scalar(select(col(DocumentRegister.doc_no)).where(col(DocumentRegister.ref) == ref))
    if given is not None:
        return str(given)
    stmt = insert(DocumentNumber).values(authority_code=authority.code, year=year, kind=kind, last=1)
    number = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[col(DocumentNumber.authority_code), col(DocumentNumber.year), col(DocumentNumber.kind)],
            set_={"last": col(DocumentNumber.last) + 1},
        ).returning(col(DocumentNumber.last))
    )
    assert number is not None
    doc_no = wording.doc_no(authority.prefix, kind, year, number)
    row: dict[str, Any] = {"ref": ref, "authority_code": authority.code, "year": year, "kind": kind, "number": number,
                           "doc_no": doc_no, "issued_at": at}
    if content is not None:  # else SQL NULL, not JSON null
        row["content"] = content
    await session.execute(insert(DocumentRegister).values(**row))
    return doc_no


async def _people(session: AsyncSession, *, usernames: Collection[str] = (),
                  ids: Collection[int] = ()) -> dict[str | int, dict[str, str]]:
    """{username or id: {name, title, username}} of the users named; a missing user is left out."""
    found: dict[str | int, dict[str, str]] = {}
    if not usernames and not ids:
        return found
    rows = await session.scalars(select(User).where(col(User.username).in_(usernames) | col(User.id).in_(ids)))
    for user in rows:
        person = {"name": user.display_name, "title": user.title or wording.ROLE_TITLES.get(user.role, ""),
                  "username": user.username}
        found[user.username] = person
        if user.id is not None:
            found[user.id] = person
    return found


async def _matters(session: AsyncSession, matters: list[dict[str, Any]], registered_at: datetime
                   ) -> list[dict[str, Any]]:
    """A combined result's matters with item names (as at registration) and department names, and for a refused
    matter the number of its rejection notice and the remedies of its department."""
    names = await item_names_at(session, {str(m.get("item", "")) for m in matters}, registered_at)
    enriched = []
    for m in matters:
        line = dict(m)
        line["item_name"] = names.get(str(m.get("item", "")), str(m.get("item", "")))
        authority = await authority_of(session, str(m.get("department", "")))
        dept = await session.get(Department, str(m.get("department", "")))
        line["department_name"] = dept.name if dept else authority.name
        if m.get("reasons"):
            line["remedies"] = authority.remedies()
            notice = await session.scalar(
                select(Document).where(col(Document.case_no) == m.get("case_no"),
                                       col(Document.kind) == "rejection_notice").order_by(col(Document.seq).desc()))
            if notice is not None and notice.content.get("doc_no"):
                line["doc_no"] = notice.content["doc_no"]
        enriched.append(line)
    return enriched


async def enrich_document(session: AsyncSession, case_no: str, spec: DocumentSpec, at: datetime, *,
                          seq: int | None = None, tz: str = wording.DEFAULT_TZ) -> dict[str, Any]:
    """The content to store for ``spec``, issued at ``at`` for case ``case_no``: the spec's content plus what the
    page needs (authority, number, date, names and titles, remedies). Call it in the transaction that records the
    event (the case row must be written); with ``seq`` a rewrite of the same event keeps its number."""
    content = dict(spec.content)
    if content.get("layout") == LAYOUT:  # already enriched (a rewrite of the same content)
        return content
    case = await session.get(Case, case_no)
    item = await session.get(ServiceItem, case.item_code) if case else None
    department = case.department_code if case else ""  # the item's department when the case was registered
    authority = await authority_of(session, department)
    issued = wording.local(at, tz)
    assert issued is not None
    ref = f"case:{case_no}:{seq}" if seq is not None else f"case:{case_no}:{spec.kind}:{issued.isoformat()}"
    doc_no = await allocate_number(session, authority, spec.kind, issued.year, ref, at)
    usernames = {str(content[k]) for k in ("approved_by", "requested_by") if content.get(k)}
    people = await _people(session, usernames=usernames, ids=[case.clerk_id] if case else [])
    handler = people.get(str(content.get("requested_by", ""))) or (people.get(case.clerk_id) if case else None)
    content.update({
        "layout": LAYOUT, "timezone": tz, "doc_no": doc_no, "issued_on": issued.date().isoformat(),
        "authority": {"code": authority.code, "name": authority.name},
    })
    if case is not None:
        content.setdefault("applicant", case.applicant_name)
        content.setdefault("registered_at", case.registered_at.isoformat())
        content.update({"hall": case.hall, "window": case.window})
    if item is not None and case is not None:  # the item's name when the case was registered
        names = await item_names_at(session, {item.code}, case.registered_at)
        content.update({"item_code": item.code, "item_name": names.get(item.code, item.name)})
    if handler:
        content["handler"] = handler
    if approver := people.get(str(content.get("approved_by", ""))):
        content["approver"] = approver
    if spec.kind == "rejection_notice":
        content["remedies"] = authority.remedies()
    if isinstance(content.get("matters"), list):
        content["matters"] = await _matters(session, content["matters"], case.registered_at if case else at)
    return content


async def consultation_minutes(session: AsyncSession, view: ConsultationView, *,
                               tz: str = wording.DEFAULT_TZ) -> dict[str, Any]:
    """The content of a consultation's minutes (kind ``consultation_minutes``). Once concluded, the minutes are
    numbered and their content frozen in the register on the first call (this commits); later calls return that
    content. Before, a draft from the current state, without a number."""
    ref = f"consultation:{view.consultation_id}"
    if view.conclusion is not None:
        stored = await session.scalar(select(col(DocumentRegister.content)).where(col(DocumentRegister.ref) == ref))
        if stored:
            return dict(stored)
    codes = {view.lead_department, *view.departments, *view.opinions}
    rows = await session.scalars(select(Department).where(col(Department.code).in_(codes)))
    names = {d.code: d.name for d in rows}
    usernames = {o.by.username for versions in view.opinions.values() for o in versions}
    if view.conclusion:
        usernames.add(view.conclusion.by.username)
    people = await _people(session, usernames=usernames)

    def dept(code: str) -> dict[str, str]:
        return {"code": code, "name": names.get(code, code)}

    def person(username: str) -> dict[str, str]:
        return people.get(username) or {"name": username, "title": "", "username": username}

    opinions = []
    for code in view.departments:
        if versions := view.opinions.get(code):
            last = versions[-1]
            opinions.append({"department": code, "department_name": names.get(code, code), "version": last.version,
                             "decision": last.decision.value, "text": last.text, "legal_basis": last.legal_basis,
                             "by": person(last.by.username), "at": last.at.isoformat()})
    content: dict[str, Any] = {
        "layout": LAYOUT, "timezone": tz, "consultation_id": view.consultation_id, "case_no": view.case_no,
        "question": view.question, "lead": dept(view.lead_department),
        "departments": [dept(c) for c in view.departments], "opened_at": view.opened_at.isoformat(),
        "deadline": view.deadline.isoformat() if view.deadline else None, "opinions": opinions,
        "missing": [dept(c) for c in view.missing()],
        "extensions": [{"days": e.get("days", 0), "reason": e.get("reason", ""), "at": e.get("at")}
                       for e in view.extensions],
        "authority": {"code": view.lead_department, "name": names.get(view.lead_department, view.lead_department)},
    }
    if view.conclusion is None:
        return content
    c = view.conclusion
    content["conclusion"] = {
        "decision": c.decision.value, "reasons": c.reasons, "legal_basis": c.legal_basis,
        "follows": [names.get(f, f) for f in c.follows], "no_answer": [names.get(f, f) for f in c.no_answer],
        "by": person(c.by.username), "at": c.at.isoformat(),
    }
    authority = await authority_of(session, view.lead_department)
    content["authority"] = {"code": authority.code, "name": authority.name}
    issued = wording.local(c.at, tz)
    assert issued is not None
    content["issued_on"] = issued.date().isoformat()
    content["doc_no"] = await allocate_number(session, authority, "consultation_minutes", issued.year, ref, c.at)
    await session.execute(update(DocumentRegister).where(
        col(DocumentRegister.ref) == ref, col(DocumentRegister.content).is_(None)).values(content=content))
    await session.commit()
    stored = await session.scalar(select(col(DocumentRegister.content)).where(col(DocumentRegister.ref) == ref))
    return dict(stored) if stored else content


async def numbers_issued(session: AsyncSession, authority_code: str, year: int, kind: str) -> int:
    """How many numbers ``authority_code`` has issued for ``kind`` in ``year``."""
    count = await session.scalar(select(func.count()).select_from(DocumentRegister).where(
        col(DocumentRegister.authority_code) == authority_code, col(DocumentRegister.year) == year,
        col(DocumentRegister.kind) == kind))
    return int(count or 0)
