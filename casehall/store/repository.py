"""Every write to PostgreSQL. Activities and the seeding commands call these; nothing else writes SQL."""

from datetime import date, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from casehall.core.hashing import GENESIS, event_hash
from casehall.models.activity_io import RecordEventInput
from casehall.models.consultation import ConsultationView, RecordConsultationEventInput
from casehall.models.enums import FINAL_STATUSES
from casehall.models.events import EventType
from casehall.models.ids import case_workflow_id, consultation_workflow_id
from casehall.models.tables import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseNumberVoid,
    Consultation,
    ConsultationEvent,
    Department,
    Document,
    FailingWork,
    ServiceItem,
    Task,
    User,
)
from casehall.store.documents import enrich_document


def table(model: type[SQLModel]) -> Table:
    """A model's Core table. The recorder's statements use it: an ORM statement given a row of parameters takes the
    ORM's bulk path, whose per-row bookkeeping cost a tenth of the worker's CPU under load."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


CASES, EVENTS, TASKS, DOCUMENTS = table(Case), table(CaseEvent), table(Task), table(Document)


def _case_row(inp: RecordEventInput) -> dict[str, Any]:
    view = inp.case
    return {
        "case_no": view.case_no, "item_code": view.item_code, "department_code": view.department_code,
        "status": view.status.value, "applicant_name": view.applicant.name,
        "applicant_phone": view.applicant.phone, "applicant_id_number": view.applicant.id_number,
        "applicant_kind": view.applicant.kind.value, "applicant_id_type": view.applicant.id_type.value,
        "channel": view.channel.value, "hall": view.hall, "window": view.window,
        "description": view.description, "handling_mode": view.handling_mode.value,
        "cross_region_urgent": view.cross_region_urgent, "first_clerk_id": view.first_clerk_id,
        "clerk_id": view.clerk_id, "helper_id": view.helper_id, "parent_case_no": view.parent_case_no,
        "registered_at": view.registered_at,
        "deadline": view.deadline,
        "deadline_provisional": view.deadline_provisional, "clock_paused": view.clock_paused,
        "missing_materials": view.missing_materials, "result": view.result,
        "satisfaction": view.satisfaction.value if view.satisfaction else None,
        "closed_at": view.closed_at, "updated_at": inp.at, "last_seq": inp.seq,
    }


@cache
def _case_upsert(keys: tuple[str, ...]) -> Any:
    """The upsert of a case row with these columns, built once (building its ``excluded`` columns per event cost a
    tenth of the worker's CPU): a later sequence number overwrites the row, an earlier one (a late retry) does not."""
    upsert = insert(CASES)
    return upsert.on_conflict_do_update(index_elements=[CASES.c.case_no],
                                        set_={k: upsert.excluded[k] for k in keys if k != "case_no"},
                                        where=CASES.c.last_seq <= upsert.excluded.last_seq)


async def record_event(session: AsyncSession, inp: RecordEventInput) -> bool:
    """Apply one transition in the caller's transaction; True if it is new.

    Keyed on (case, seq): a second write of the same sequence number rewrites the first instead of adding a row.
    It only happens when a workflow task that had persisted the event did not complete (a worker crash) and ran again:
    the event in the workflow's history is the second one, so the database takes its time and content, and the case
    row, the inbox and documents follow. What the workflow holds, the database holds."""
    row = _case_row(inp)
    await session.execute(_case_upsert(tuple(row)), row)
    case_no, kind = inp.case.case_no, str(inp.type)
    known = {seq: (hash_, at) for seq, hash_, at in await session.execute(  # the previous event; this one, if written
        select(EVENTS.c.seq, EVENTS.c.hash, EVENTS.c.at)
        .where(EVENTS.c.case_no == case_no, EVENTS.c.seq.in_((inp.seq - 1, inp.seq))))}
    actor_id = inp.actor.user_id if inp.actor else None
    payload = inp.payload | ({"actor": inp.actor.username} if inp.actor else {})
    prev_hash = known[inp.seq - 1][0] if inp.seq - 1 in known else GENESIS
    earlier = known[inp.seq][1] if inp.seq in known else None  # a first attempt, if a crashed task wrote one
    if earlier is not None and earlier != inp.at:  # the tasks it closed were closed at its time: move them
        await session.execute(update(TASKS).where(TASKS.c.case_no == case_no, TASKS.c.consultation_id.is_(None),
                                                  TASKS.c.closed_at == earlier).values(closed_at=inp.at))
    values = {"type": kind, "actor_id": actor_id, "actor_role": inp.actor.role.value if inp.actor else None,
              "at": inp.at, "payload": payload, "prev_hash": prev_hash,
              "hash": event_hash(prev_hash, case_no, inp.seq, kind, actor_id, inp.at, payload)}
    new = await session.scalar(
        insert(EVENTS).values(case_no=case_no, seq=inp.seq, **values)
        .on_conflict_do_update(constraint="uq_case_events_case_seq", set_=values)
        .returning(literal_column("xmax = 0"))
    )
    await _apply_inbox_and_documents(session, inp)
    if inp.type == EventType.CONSULTATION_CONVENED:
        await _open_consultation(session, inp)
    await resolve_failing_work(session, case_workflow_id(case_no), inp.seq, inp.at)
    return bool(new)


async def _open_consultation(session: AsyncSession, inp: RecordEventInput) -> None:
    """The consultation a case convenes is listed with the case's event; its own workflow fills in the rest."""
    p = inp.payload
    view = ConsultationView(consultation_id=p["consultation_id"], case_no=inp.case.case_no,
                            lead_department=p["lead_department"], departments=p["departments"],
                            question=p["question"], documents=[], opened_at=inp.at)
    await session.execute(insert(Consultation).values(
        consultation_id=view.consultation_id, case_no=view.case_no, lead_department=view.lead_department,
        departments=view.departments, status=view.status.value, deadline=None, opened_at=view.opened_at,
        state=view.model_dump(mode="json"), last_seq=0,
    ).on_conflict_do_nothing(index_elements=[col(Consultation.consultation_id)]))


async def resolve_failing_work(session: AsyncSession, workflow_id: str, seq: int, at: datetime) -> None:
    """A transition once refused is stored now: its failing-work note is resolved."""
    failing = table(FailingWork)
    await session.execute(update(failing).where(failing.c.workflow_id == workflow_id, failing.c.seq == seq,
                                                failing.c.resolved_at.is_(None)).values(resolved_at=at))


async def _apply_inbox_and_documents(session: AsyncSession, inp: RecordEventInput) -> None:
    case_no = inp.case.case_no
    closing = inp.close_tasks if inp.case.status not in FINAL_STATUSES else None
    open_tasks = TASKS.c.case_no == case_no, TASKS.c.consultation_id.is_(None), TASKS.c.closed_at.is_(None)
    if closing is None:
        await session.execute(update(TASKS).where(*open_tasks).values(closed_at=inp.at))
    elif closing:
        await session.execute(
            update(TASKS).where(*open_tasks, TASKS.c.kind.in_(closing)).values(closed_at=inp.at)
        )
    if inp.open_task:
        spec = inp.open_task
        task = {"kind": spec.kind, "role": spec.role.value, "department_code": spec.department_code,
                "summary": spec.summary, "opened_at": inp.at, "due_at": spec.due_at}
        await session.execute(
            insert(TASKS).values(case_no=case_no, opened_seq=inp.seq, **task)
            .on_conflict_do_update(constraint="uq_tasks_source_seq", set_=task)
        )
    if inp.document:
        doc = inp.document
        content = await enrich_document(session, case_no, doc, inp.at, seq=inp.seq)  # authority, 文号, names, remedies
        document = {"kind": doc.kind, "title": doc.title, "content": content, "issued_at": inp.at}
        await session.execute(
            insert(DOCUMENTS).values(case_no=case_no, seq=inp.seq, **document)
            .on_conflict_do_update(constraint="uq_documents_case_seq", set_=document)
        )


async def next_case_no(session: AsyncSession, prefix: str, day: date) -> str:
    """The next human-readable case number of the day, e.g. ``HALL-20261121-000123``."""
    stmt = insert(CaseCounter).values(prefix=prefix, day=day, last=1)
    last = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[col(CaseCounter.prefix), col(CaseCounter.day)],
            set_={"last": col(CaseCounter.last) + 1},
        ).returning(col(CaseCounter.last))
    )
    return f"{prefix}-{day:%Y%m%d}-{last:06d}"


async def void_case_no(session: AsyncSession, case_no: str, reason: str, at: datetime) -> None:
    """A number taken but never used, with the reason."""
    await session.execute(insert(CaseNumberVoid).values(case_no=case_no, reason=reason, voided_at=at)
                          .on_conflict_do_nothing(index_elements=[col(CaseNumberVoid.case_no)]))


async def add_department(session: AsyncSession, dept: Department) -> None:
    """Create a department unless its code exists: seeding never overwrites what an administrator edited."""
    await session.execute(insert(Department).values(**dept.model_dump())
                          .on_conflict_do_nothing(index_elements=["code"]))


async def add_item(session: AsyncSession, item: ServiceItem) -> None:
    """Create a service item unless its code exists (as ``add_department``)."""
    await session.execute(insert(ServiceItem).values(**item.model_dump())
                          .on_conflict_do_nothing(index_elements=["code"]))


async def add_user(session: AsyncSession, user: User) -> User | None:
    """Create a user; None if the username is taken (seeding stays idempotent)."""
    values = user.model_dump(exclude={"id"})
    stmt = insert(User).values(**values).on_conflict_do_nothing(index_elements=["username"])
    user_id = await session.scalar(stmt.returning(col(User.id)))
    return None if user_id is None else User(id=user_id, **values)


async def record_consultation_event(session: AsyncSession, inp: RecordConsultationEventInput) -> bool:
    """Apply one consultation transition; False if (consultation, seq) was already recorded."""
    view = inp.view
    row = {
        "consultation_id": view.consultation_id, "case_no": view.case_no, "lead_department": view.lead_department,
        "departments": view.departments, "status": view.status.value, "deadline": view.deadline,
        "opened_at": view.opened_at, "concluded_at": view.conclusion.at if view.conclusion else None,
        "state": view.model_dump(mode="json"), "last_seq": inp.seq,
    }
    upsert = insert(Consultation).values(**row)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=[col(Consultation.consultation_id)],
        set_={k: upsert.excluded[k] for k in row if k != "consultation_id"},
        where=col(Consultation.last_seq) <= inp.seq,
    ))
    values = {"type": str(inp.type), "actor_id": inp.actor.user_id if inp.actor else None,
              "actor_role": inp.actor.role.value if inp.actor else None, "at": inp.at,
              "payload": inp.payload | ({"actor": inp.actor.username} if inp.actor else {})}
    new = await session.scalar(
        insert(ConsultationEvent).values(consultation_id=view.consultation_id, seq=inp.seq, **values)
        .on_conflict_do_update(constraint="uq_consultation_events_seq", set_=values)
        .returning(literal_column("xmax = 0"))
    )
    mine = col(Task.consultation_id) == view.consultation_id, col(Task.closed_at).is_(None)
    if inp.close_tasks:
        await session.execute(update(Task).where(*mine).values(closed_at=inp.at))
    for n, task in enumerate(inp.open_tasks):
        row = {"kind": task.kind, "role": task.role, "department_code": task.department_code,
               "summary": task.summary, "opened_at": inp.at, "due_at": task.due_at}
        await session.execute(insert(Task).values(
            case_no=view.case_no, consultation_id=view.consultation_id, opened_seq=inp.seq * 100 + n, **row,
        ).on_conflict_do_update(constraint="uq_tasks_source_seq", set_=row))
    await resolve_failing_work(session, consultation_workflow_id(view.consultation_id), inp.seq, inp.at)
    return bool(new)
