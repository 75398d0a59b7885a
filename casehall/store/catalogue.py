"""Writes of the department tree and the service catalogue, each logged in ``catalogue_changes`` (who, when, before,
after, why) in the same transaction, and the reads of the administration screen.

An edit applies to what is registered from then on: a case carries the item it was registered with (time limits,
materials, rules, its department's path) in its workflow input, so running cases never see a later edit. What could
change a running case's meaning is refused: an item's department once cases were registered on it, taking a
department out of use while it holds users, items on offer, open cases or consultations, or deleting one anything
names. Catalogue writes take one advisory lock, so two administrators never interleave a tree check and a write;
every edit names the version it was made from.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.models.case import Actor, ItemRules, Material
from casehall.models.catalogue import (
    EXPEDITED_LONGER,
    KIND_RANK,
    ChangePage,
    ChangePublic,
    DepartmentIn,
    DepartmentPatch,
    DepartmentPublic,
    Entity,
    ItemDetail,
    ItemIn,
    ItemPatch,
    ItemPublic,
)
from casehall.models.consultation import ConsultationStatus
from casehall.models.enums import FINAL_STATUSES
from casehall.models.messages import N_
from casehall.models.tables import Case, CatalogueChange, Consultation, Department, ServiceItem, User
from casehall.store.queries import COMBINED_ITEM

Answer = Literal["invalid", "conflict", "unknown"]
NO_DEPARTMENT = N_("no department with code {codes}")
NO_ITEM = N_("no service item with code {code}")
OUT_OF_USE = N_("department {code} is out of use: choose a department in use")
STALE = N_("{code} was changed by someone else (now version {current}, yours {given}): reload it and make your "
           "change again")
CODE_FIXED = N_("the code of {code} cannot be changed: it is printed on its cases and documents; create a new one "
                "instead")
RANKS = N_("{child} cannot stand under {parent}: a bureau holds departments and sections, a department holds "
           "sections, a section holds nothing")
_LOCK = "casehall:catalogue"


@dataclass(frozen=True)
class Editor:
    """Who makes a change, and from which address."""

    actor: Actor
    address: str


class CatalogueRefused(Exception):
    """An edit the catalogue's rules refuse: ``answer`` is invalid (bad input), conflict (not in this state) or
    unknown (no such department or item); ``msgid`` and ``params`` give the message, ``field`` the input at fault."""

    def __init__(self, answer: Answer, msgid: str, field: str | None = None, **params: Any) -> None:
        super().__init__(msgid.format(**params))
        self.answer, self.msgid, self.field, self.params = answer, msgid, field, params


# ---- reads -------------------------------------------------------------------------------------------------------
def _open_case() -> Any:
    return col(Case.status).notin_([s.value for s in FINAL_STATUSES])


async def _count_by(session: AsyncSession, key: Any, *where: Any) -> dict[str, int]:
    rows = await session.execute(select(key, func.count()).where(*where).group_by(key))
    return {str(k): int(n) for k, n in rows.all()}


async def departments(session: AsyncSession) -> list[DepartmentPublic]:
    """The whole tree, in use or not, with what each department holds."""
    users = await _count_by(session, col(User.department_code), col(User.active).is_(True))
    items = await _count_by(session, col(ServiceItem.department_code), col(ServiceItem.withdrawn_at).is_(None))
    cases = await _count_by(session, col(Case.department_code), _open_case())
    rows = await session.scalars(select(Department).order_by(col(Department.code)))
    return [DepartmentPublic(**d.model_dump(), users=users.get(d.code, 0), items=items.get(d.code, 0),
                             open_cases=cases.get(d.code, 0)) for d in rows.all()]


async def department(session: AsyncSession, code: str) -> DepartmentPublic:
    for d in await departments(session):
        if d.code == code:
            return d
    raise CatalogueRefused("unknown", NO_DEPARTMENT, codes=code)


def item_public(item: ServiceItem) -> ItemPublic:
    return ItemPublic(code=item.code, name=item.name, department_code=item.department_code,
                      time_limit_days=item.time_limit_days, expedited_days=item.expedited_days,
                      materials=[Material.model_validate(m) for m in item.materials],
                      rules=ItemRules.model_validate(item.rules), withdrawn_at=item.withdrawn_at, version=item.version)


async def _item_cases(session: AsyncSession, code: str) -> tuple[int, int]:
    """(cases ever registered on the item, of which open)."""
    row = (await session.execute(select(func.count(), func.count().filter(_open_case()))
                                 .where(col(Case.item_code) == code))).one()
    return int(row[0]), int(row[1])


async def item_detail(session: AsyncSession, code: str) -> ItemDetail:
    item = await session.get(ServiceItem, code)
    if item is None:
        raise CatalogueRefused("unknown", NO_ITEM, code=code)
    cases, open_cases = await _item_cases(session, code)
    return ItemDetail(**item_public(item).model_dump(), cases=cases, open_cases=open_cases)


async def changes(session: AsyncSession, entity: Entity | None = None, code: str | None = None,
                  before: int | None = None, limit: int = 50, by: str | None = None) -> ChangePage:
    """The change log, newest first; ``by``: one administrator's (username); ``before``: the page after the change
    with that id."""
    query = select(CatalogueChange)
    if by is not None:
        query = query.where(col(CatalogueChange.actor_username) == by)
    if entity is not None:
        query = query.where(col(CatalogueChange.entity) == entity)
    if code is not None:
        query = query.where(col(CatalogueChange.code) == code)
    if before is not None:
        query = query.where(col(CatalogueChange.id) < before)
    rows = list((await session.scalars(query.order_by(col(CatalogueChange.id).desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    page = [ChangePublic.model_validate(r.model_dump()) for r in rows[:limit]]
    return ChangePage(items=page, next_before=page[-1].id if more and page else None)


async def item_names_at(session: AsyncSession, codes: set[str], at: datetime) -> dict[str, str]:
    """The names the items had at ``at`` (a case's registration): the name before the first rename after it, else
    the current name; an unknown code is left out."""
    rows = await session.execute(select(col(ServiceItem.code), col(ServiceItem.name))
                                 .where(col(ServiceItem.code).in_(codes)))
    names = {code: name for code, name in rows.all()}
    later = await session.scalars(select(CatalogueChange).where(
        col(CatalogueChange.entity) == "item", col(CatalogueChange.code).in_(names), col(CatalogueChange.at) > at)
        .order_by(col(CatalogueChange.id).desc()))
    for change in later:  # newest first: the earliest rename after ``at`` is applied last
        if change.before and change.after and change.before.get("name") != change.after.get("name"):
            names[change.code] = str(change.before["name"])
    return names


# ---- the log and the lock ----------------------------------------------------------------------------------------
async def _lock(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": _LOCK})


def _snapshot(row: Department | ServiceItem) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude={"version"})


async def _log(session: AsyncSession, editor: Editor, entity: Entity, code: str, action: str, at: datetime,
               before: dict[str, Any] | None, after: dict[str, Any] | None, reason: str) -> None:
    session.add(CatalogueChange(at=at, actor_id=editor.actor.user_id, actor_username=editor.actor.username,
                                address=editor.address, entity=entity, code=code, action=action, reason=reason,
                                before=before, after=after))
    await session.flush()


async def _changed(session: AsyncSession, editor: Editor, entity: Entity, row: Department | ServiceItem, action: str,
                   at: datetime, before: dict[str, Any], reason: str) -> None:
    """After an edit of ``row``: its version moves on and the change is logged with what it was ``before``."""
    row.version += 1
    await session.flush()
    await _log(session, editor, entity, row.code, action, at, before, _snapshot(row), reason)


def _check_version(code: str, current: int, given: int) -> None:
    if current != given:
        raise CatalogueRefused("conflict", STALE, field="version", code=code, current=current, given=given)


def _check_code(path_code: str, given: str | None) -> None:
    if given is not None and given != path_code:
        raise CatalogueRefused("invalid", CODE_FIXED, field="code", code=path_code)


# ---- departments -------------------------------------------------------------------------------------------------
async def _tree(session: AsyncSession) -> dict[str, Department]:
    return {d.code: d for d in (await session.scalars(select(Department))).all()}


def _check_place(tree: dict[str, Department], code: str, kind: str, parent_code: str | None) -> None:
    """``code`` of ``kind`` under ``parent_code``: the parent exists and is in use, ranks above it and is not below
    it; the sub-departments it has rank below ``kind``."""
    if parent_code is None:
        if kind != "bureau":
            raise CatalogueRefused("invalid", N_("only a bureau may stand at the top of the tree: choose a parent "
                                                 "for {code}"), field="parent_code", code=code)
    else:
        parent = tree.get(parent_code)
        if parent is None:
            raise CatalogueRefused("invalid", NO_DEPARTMENT, field="parent_code", codes=parent_code)
        if not parent.active:
            raise CatalogueRefused("invalid", OUT_OF_USE, field="parent_code", code=parent_code)
        above: str | None = parent_code
        while above is not None:
            if above == code:
                raise CatalogueRefused("invalid", N_("{code} cannot stand under {parent}: that would make a loop in "
                                                     "the tree"), field="parent_code", code=code, parent=parent_code)
            above = tree[above].parent_code if above in tree else None
        if KIND_RANK[kind] <= KIND_RANK.get(parent.kind, 0):
            raise CatalogueRefused("invalid", RANKS, field="kind", child=code, parent=parent_code)
    for child in tree.values():
        if child.parent_code == code and KIND_RANK.get(child.kind, 2) <= KIND_RANK[kind]:
            raise CatalogueRefused("invalid", RANKS, field="kind", child=child.code, parent=code)


async def _department_for_update(session: AsyncSession, code: str) -> Department:
    dept = await session.get(Department, code, with_for_update=True)
    if dept is None:
        raise CatalogueRefused("unknown", NO_DEPARTMENT, codes=code)
    return dept


async def create_department(session: AsyncSession, editor: Editor, body: DepartmentIn, at: datetime) -> Department:
    await _lock(session)
    tree = await _tree(session)
    if body.code in tree:
        raise CatalogueRefused("conflict", N_("a department with code {code} exists already"), field="code",
                               code=body.code)
    _check_place(tree, body.code, body.kind, body.parent_code)
    dept = Department(**body.model_dump(exclude={"reason"}))
    session.add(dept)
    await session.flush()
    await _log(session, editor, "department", dept.code, "created", at, None, _snapshot(dept), body.reason)
    return dept


async def update_department(session: AsyncSession, editor: Editor, code: str, patch: DepartmentPatch,
                            at: datetime) -> Department:
    _check_code(code, patch.code)
    await _lock(session)
    dept = await _department_for_update(session, code)
    _check_version(code, dept.version, patch.version)
    given = patch.model_dump(include=patch.model_fields_set - {"version", "code", "reason"})
    fields = {k: v for k, v in given.items() if v is not None or k == "parent_code"}  # null: unchanged, or the top
    before = _snapshot(dept)
    if "kind" in fields or "parent_code" in fields:
        _check_place(await _tree(session), code, fields.get("kind", dept.kind), fields.get("parent_code",
                                                                                          dept.parent_code))
    for key, value in fields.items():
        setattr(dept, key, value)
    if _snapshot(dept) == before:
        return dept
    await _changed(session, editor, "department", dept, "updated", at, before, patch.reason)
    return dept


async def _holdings(session: AsyncSession, code: str) -> dict[str, int]:
    """What keeps ``code`` in use: active users, items on offer, open cases and consultations, sub-departments in
    use."""
    async def count(query: Any) -> int:
        return int(await session.scalar(query) or 0)

    taking_part = or_(col(Consultation.lead_department) == code, col(Consultation.departments).contains([code]))
    return {
        "users": await count(select(func.count()).where(col(User.department_code) == code,
                                                        col(User.active).is_(True))),
        "items": await count(select(func.count()).where(col(ServiceItem.department_code) == code,
                                                        col(ServiceItem.withdrawn_at).is_(None))),
        "cases": await count(select(func.count()).where(col(Case.department_code) == code, _open_case())),
        "consultations": await count(select(func.count()).select_from(Consultation).where(
            col(Consultation.status) == ConsultationStatus.OPEN.value, taking_part)),
        "children": await count(select(func.count()).where(col(Department.parent_code) == code,
                                                           col(Department.active).is_(True))),
    }


async def deactivate_department(session: AsyncSession, editor: Editor, code: str, reason: str,
                                at: datetime) -> Department:
    """Take a department out of use: refused while it holds anything that needs it."""
    await _lock(session)
    dept = await _department_for_update(session, code)
    if not dept.active:
        raise CatalogueRefused("conflict", N_("department {code} is already out of use"), code=code)
    held = await _holdings(session, code)
    if any(held.values()):
        raise CatalogueRefused("conflict", N_(
            "{code} cannot be taken out of use while it has {users} active user(s), {items} service item(s) on "
            "offer, {cases} open case(s), {consultations} open consultation(s) and {children} sub-department(s) in "
            "use: move or finish them first"), None, code=code, **held)
    before = _snapshot(dept)
    dept.active = False
    await _changed(session, editor, "department", dept, "deactivated", at, before, reason)
    return dept


async def reactivate_department(session: AsyncSession, editor: Editor, code: str, reason: str,
                                at: datetime) -> Department:
    await _lock(session)
    dept = await _department_for_update(session, code)
    if dept.active:
        raise CatalogueRefused("conflict", N_("department {code} is already in use"), code=code)
    parent = await session.get(Department, dept.parent_code) if dept.parent_code else None
    if parent is not None and not parent.active:
        raise CatalogueRefused("conflict", N_("{parent} above {code} is out of use: put it back in use first"),
                               code=code, parent=parent.code)
    before = _snapshot(dept)
    dept.active = True
    await _changed(session, editor, "department", dept, "reactivated", at, before, reason)
    return dept


async def delete_department(session: AsyncSession, editor: Editor, code: str, reason: str, at: datetime) -> None:
    """Delete a department nothing names (one created by mistake); any other is taken out of use instead."""
    await _lock(session)
    dept = await _department_for_update(session, code)
    named = N_("{code} is named by users, service items, cases, tasks, consultations or documents, or has "
               "sub-departments: it cannot be deleted; take it out of use instead")
    consulted = select(func.count()).select_from(Consultation).where(col(Consultation.departments).contains([code]))
    if await session.scalar(select(func.count()).where(col(Department.parent_code) == code)) or \
            await session.scalar(consulted):
        raise CatalogueRefused("conflict", named, code=code)
    before = _snapshot(dept)
    try:
        async with session.begin_nested():  # every other reference is a foreign key: PostgreSQL checks them all
            await session.delete(dept)
            await session.flush()
    except IntegrityError:
        raise CatalogueRefused("conflict", named, code=code) from None
    await _log(session, editor, "department", code, "deleted", at, before, None, reason)


# ---- service items -----------------------------------------------------------------------------------------------
async def _department_in_use(session: AsyncSession, code: str) -> None:
    dept = await session.get(Department, code)
    if dept is None:
        raise CatalogueRefused("invalid", NO_DEPARTMENT, field="department_code", codes=code)
    if not dept.active:
        raise CatalogueRefused("invalid", OUT_OF_USE, field="department_code", code=code)


def _check_combined(code: str, materials: list[Any] | None) -> None:
    if code == COMBINED_ITEM and materials:
        raise CatalogueRefused("invalid", N_("{code} is the hall's item for several matters: it has no materials of "
                                             "its own (each matter brings its own)"), field="materials", code=code)


async def _item_for_update(session: AsyncSession, code: str) -> ServiceItem:
    item = await session.get(ServiceItem, code, with_for_update=True)
    if item is None:
        raise CatalogueRefused("unknown", NO_ITEM, code=code)
    return item


async def create_item(session: AsyncSession, editor: Editor, body: ItemIn, at: datetime) -> ServiceItem:
    await _lock(session)
    if await session.get(ServiceItem, body.code) is not None:
        raise CatalogueRefused("conflict", N_("a service item with code {code} exists already"), field="code",
                               code=body.code)
    await _department_in_use(session, body.department_code)
    _check_combined(body.code, body.materials)
    item = ServiceItem(code=body.code, name=body.name, department_code=body.department_code,
                       time_limit_days=body.time_limit_days, expedited_days=body.expedited_days,
                       materials=[m.model_dump(mode="json") for m in body.materials],
                       rules=ItemRules.model_validate(body.rules.model_dump()).model_dump(mode="json"))
    session.add(item)
    await session.flush()
    await _log(session, editor, "item", item.code, "created", at, None, _snapshot(item), body.reason)
    return item


async def update_item(session: AsyncSession, editor: Editor, code: str, patch: ItemPatch, at: datetime) -> ServiceItem:
    """Edit an item for the cases registered from now on."""
    _check_code(code, patch.code)
    await _lock(session)
    item = await _item_for_update(session, code)
    _check_version(code, item.version, patch.version)
    normal, expedited = patch.time_limit_days or item.time_limit_days, patch.expedited_days or item.expedited_days
    if expedited > normal:
        raise CatalogueRefused("invalid", EXPEDITED_LONGER, field="expedited_days" if patch.expedited_days
                               else "time_limit_days", expedited=expedited, normal=normal)
    before = _snapshot(item)
    if patch.department_code is not None and patch.department_code != item.department_code:
        await _department_in_use(session, patch.department_code)
        cases, _ = await _item_cases(session, code)
        if cases:
            raise CatalogueRefused("conflict", N_(
                "{cases} case(s) were registered on {code} under {department}: its department cannot change; "
                "withdraw it and create a new item for the new department"), field="department_code", code=code,
                cases=cases, department=item.department_code)
        item.department_code = patch.department_code
    if patch.name is not None:
        item.name = patch.name
    if patch.time_limit_days is not None:
        item.time_limit_days = patch.time_limit_days
    if patch.expedited_days is not None:
        item.expedited_days = patch.expedited_days
    if patch.materials is not None:
        _check_combined(code, patch.materials)
        item.materials = [m.model_dump(mode="json") for m in patch.materials]
    if patch.rules is not None:
        item.rules = ItemRules.model_validate(patch.rules.model_dump()).model_dump(mode="json")
    if _snapshot(item) == before:
        return item
    await _changed(session, editor, "item", item, "updated", at, before, patch.reason)
    return item


async def withdraw_item(session: AsyncSession, editor: Editor, code: str, reason: str, at: datetime) -> ServiceItem:
    """Not offered for new cases any more; the cases registered on it keep it."""
    await _lock(session)
    item = await _item_for_update(session, code)
    if code == COMBINED_ITEM:
        raise CatalogueRefused("conflict", N_("{code} is the hall's item for several matters: registering several "
                                              "matters needs it, it cannot be withdrawn"), code=code)
    if item.withdrawn_at is not None:
        raise CatalogueRefused("conflict", N_("service item {code} is already withdrawn"), code=code)
    before = _snapshot(item)
    item.withdrawn_at = at
    await _changed(session, editor, "item", item, "withdrawn", at, before, reason)
    return item


async def reinstate_item(session: AsyncSession, editor: Editor, code: str, reason: str, at: datetime) -> ServiceItem:
    await _lock(session)
    item = await _item_for_update(session, code)
    if item.withdrawn_at is None:
        raise CatalogueRefused("conflict", N_("service item {code} is not withdrawn"), code=code)
    dept = await session.get(Department, item.department_code)
    if dept is not None and not dept.active:
        raise CatalogueRefused("conflict", OUT_OF_USE, code=dept.code)
    before = _snapshot(item)
    item.withdrawn_at = None
    await _changed(session, editor, "item", item, "reinstated", at, before, reason)
    return item
