"""Read queries for the API, CLI and intake: lists and searches read PostgreSQL, never the workflow."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.models.case import Actor, ItemRules, Material, ServiceItemInfo
from casehall.models.enums import CLOCK_RUNNING, Role
from casehall.models.tables import (
    Case,
    CaseEvent,
    Consultation,
    ConsultationEvent,
    Department,
    Document,
    ServiceItem,
    Task,
    User,
)

# The hall's combined item (several matters in one registration): migration 0004 creates it with the centre.
COMBINED_ITEM = "HALL-COMBINED"


async def department_path(session: AsyncSession, code: str) -> list[str]:
    """The department and its ancestors, nearest first."""
    parents = dict((await session.execute(select(col(Department.code), col(Department.parent_code)))).all())
    path: list[str] = []
    current: str | None = code
    while current is not None and current not in path:
        path.append(current)
        current = parents.get(current)
    return path


async def department_subtree(session: AsyncSession, code: str) -> list[str]:
    """The department and every department below it."""
    rows = (await session.execute(select(col(Department.code), col(Department.parent_code)))).all()
    tree, frontier = {code}, [code]
    while frontier:
        frontier = [child for child, parent in rows if parent in frontier and child not in tree]
        tree.update(frontier)
    return sorted(tree)


async def service_item(session: AsyncSession, code: str) -> ServiceItemInfo | None:
    item = await session.get(ServiceItem, code)
    if item is None:
        return None
    return ServiceItemInfo(
        code=item.code, name=item.name, department_code=item.department_code,
        department_path=await department_path(session, item.department_code),
        time_limit_days=item.time_limit_days, expedited_days=item.expedited_days,
        materials=[Material.model_validate(m) for m in item.materials], rules=ItemRules.model_validate(item.rules),
    )


async def service_items(session: AsyncSession) -> Sequence[ServiceItem]:
    return (await session.scalars(select(ServiceItem).order_by(col(ServiceItem.code)))).all()


def actor_of(user: User) -> Actor:
    assert user.id is not None
    return Actor(user_id=user.id, username=user.username, role=Role(user.role), department_code=user.department_code)


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(col(User.username) == username))


def escape_like(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern: ``%``, ``_`` and the escape character itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class CaseFilter:
    status: str | None = None
    department_code: str | None = None
    clerk_id: int | None = None
    overdue: bool | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    text: str | None = None
    offset: int = 0
    limit: int = 50


async def list_cases(session: AsyncSession, f: CaseFilter) -> tuple[int, Sequence[Case]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        conditions.append(col(Case.status) == f.status)
    if f.department_code:
        conditions.append(col(Case.department_code) == f.department_code)
    if f.clerk_id is not None:
        conditions.append(col(Case.clerk_id) == f.clerk_id)
    if f.overdue is not None:
        running = col(Case.status).in_([s.value for s in CLOCK_RUNNING])
        late = running & (col(Case.deadline) < func.now()) & ~col(Case.clock_paused)
        conditions.append(late if f.overdue else ~late)
    if f.registered_from:
        conditions.append(col(Case.registered_at) >= f.registered_from)
    if f.registered_to:
        conditions.append(col(Case.registered_at) < f.registered_to)
    if f.text:
        like = f"%{escape_like(f.text)}%"
        conditions.append(
            col(Case.case_no).ilike(like, escape="\\") | col(Case.applicant_name).ilike(like, escape="\\")
            | col(Case.description).ilike(like, escape="\\")
        )
    total = await session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    rows = await session.scalars(
        select(Case).where(*conditions).order_by(col(Case.registered_at).desc()).offset(f.offset).limit(f.limit)
    )
    return total, rows.all()


async def case_events(session: AsyncSession, case_no: str) -> Sequence[CaseEvent]:
    stmt = select(CaseEvent).where(col(CaseEvent.case_no) == case_no).order_by(col(CaseEvent.seq))
    return (await session.scalars(stmt)).all()


async def case_documents(session: AsyncSession, case_no: str) -> Sequence[Document]:
    stmt = select(Document).where(col(Document.case_no) == case_no).order_by(col(Document.seq))
    return (await session.scalars(stmt)).all()


async def inbox(session: AsyncSession, user: User) -> Sequence[tuple[Task, Case]]:
    """Open tasks for the user's role in the user's department and below, oldest first, with their case."""
    departments = await department_subtree(session, user.department_code)
    rows = await session.execute(
        select(Task, Case)
        .join(Case, col(Case.case_no) == col(Task.case_no))
        .where(col(Task.closed_at).is_(None), col(Task.role) == user.role, col(Task.department_code).in_(departments))
        .order_by(col(Task.opened_at), col(Task.id))
    )
    return [(task, case) for task, case in rows.all()]


async def consultations_of(session: AsyncSession, case_nos: list[str]) -> Sequence[Consultation]:
    rows = await session.scalars(
        select(Consultation).where(col(Consultation.case_no).in_(case_nos)).order_by(col(Consultation.opened_at))
    )
    return rows.all()


async def cases_helped_by(session: AsyncSession, user_id: int) -> Sequence[Case]:
    rows = await session.scalars(select(Case).where(col(Case.helper_id) == user_id).order_by(col(Case.registered_at)))
    return rows.all()


async def consultation_events(session: AsyncSession, consultation_id: str) -> Sequence[ConsultationEvent]:
    rows = await session.scalars(
        select(ConsultationEvent).where(col(ConsultationEvent.consultation_id) == consultation_id)
        .order_by(col(ConsultationEvent.seq))
    )
    return rows.all()


async def matters_of(session: AsyncSession, case_no: str) -> Sequence[Case]:
    rows = await session.scalars(select(Case).where(col(Case.parent_case_no) == case_no).order_by(col(Case.case_no)))
    return rows.all()
