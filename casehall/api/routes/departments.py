"""The department tree as administrators keep it: bureau > department > section, codes fixed once created, a
department with users, items on offer or open work never taken out of use, one anything names never deleted."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from casehall.api.deps import SessionDep, StateDep
from casehall.api.routes.catalogue import CodePath, EditorDep, OverseerDep
from casehall.core.db import transaction
from casehall.models.catalogue import DepartmentIn, DepartmentPatch, DepartmentPublic, OptionalReason, Reason
from casehall.models.text import OptionalText
from casehall.store import catalogue as store

router = APIRouter(prefix="/departments", tags=["catalogue"])


async def _answer(state: StateDep, code: str) -> DepartmentPublic:
    async with state.sessions() as session:
        return await store.department(session, code)


@router.get("")
async def departments(session: SessionDep, _: OverseerDep) -> list[DepartmentPublic]:
    """The whole tree, departments out of use included, with their active users, items on offer and open cases."""
    return await store.departments(session)


@router.post("", status_code=201)
async def create(body: DepartmentIn, state: StateDep, who: EditorDep) -> DepartmentPublic:
    async with transaction(state.sessions) as session:
        await store.create_department(session, who, body, datetime.now(UTC))
    return await _answer(state, body.code)


@router.patch("/{department_code}")
async def update(department_code: CodePath, body: DepartmentPatch, state: StateDep,
                 who: EditorDep) -> DepartmentPublic:
    """Rename, move in the tree, change its kind or what its documents print; ``version`` is the one the change
    was made from. Running cases keep the approval path they were registered with."""
    async with transaction(state.sessions) as session:
        await store.update_department(session, who, department_code, body, datetime.now(UTC))
    return await _answer(state, department_code)


@router.post("/{department_code}/deactivate")
async def deactivate(department_code: CodePath, body: Reason, state: StateDep,
                     who: EditorDep) -> DepartmentPublic:
    """Take a department out of use: refused while it has active users, items on offer, open cases or
    consultations, or sub-departments in use."""
    async with transaction(state.sessions) as session:
        await store.deactivate_department(session, who, department_code, body.reason, datetime.now(UTC))
    return await _answer(state, department_code)


@router.post("/{department_code}/reactivate")
async def reactivate(department_code: CodePath, body: OptionalReason, state: StateDep,
                     who: EditorDep) -> DepartmentPublic:
    async with transaction(state.sessions) as session:
        await store.reactivate_department(session, who, department_code, body.reason, datetime.now(UTC))
    return await _answer(state, department_code)


@router.delete("/{department_code}", status_code=204)
async def delete(department_code: CodePath, state: StateDep, who: EditorDep,
                 reason: Annotated[OptionalText, Query(max_length=500)] = "") -> Response:
    """Delete a department nothing names (one created by mistake); any other is taken out of use instead."""
    async with transaction(state.sessions) as session:
        await store.delete_department(session, who, department_code, reason, datetime.now(UTC))
    return Response(status_code=204)
