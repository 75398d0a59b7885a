"""The catalogue of service items a clerk registers cases against, as administrators keep it, and the log of every
change to it and to the department tree. An edit applies to cases registered from then on: a case keeps the item
(time limits, materials, rules) it was registered with."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from casehall.api.deps import CurrentActor, SessionDep, StateDep
from casehall.api.routes.auth import client_address
from casehall.core.db import transaction
from casehall.models.case import Actor
from casehall.models.catalogue import (
    ChangePage,
    Entity,
    ItemDetail,
    ItemIn,
    ItemPatch,
    ItemPublic,
    OptionalReason,
    Reason,
)
from casehall.store import catalogue as store
from casehall.store import queries
from casehall.workflows.access import require_catalogue_admin, require_catalogue_overseer

router = APIRouter(tags=["catalogue"])
CodePath = Annotated[str, Path(min_length=1, max_length=32)]


async def catalogue_admin(actor: CurrentActor) -> Actor:
    require_catalogue_admin(actor)
    return actor


async def catalogue_overseer(actor: CurrentActor) -> Actor:
    require_catalogue_overseer(actor)
    return actor


async def editor(request: Request, actor: Annotated[Actor, Depends(catalogue_admin)]) -> store.Editor:
    """The administrator making a change, with the address it comes from (kept in the change log)."""
    return store.Editor(actor, client_address(request))


EditorDep = Annotated[store.Editor, Depends(editor)]
OverseerDep = Annotated[Actor, Depends(catalogue_overseer)]


@router.get("/items")
async def items(session: SessionDep, _: CurrentActor) -> list[ItemPublic]:
    """Every item, withdrawn ones included (their cases still name them): offer only those without
    ``withdrawn_at`` for new cases."""
    return [store.item_public(item) for item in await queries.service_items(session)]


@router.get("/items/{item_code}")
async def item(item_code: CodePath, session: SessionDep, _: CurrentActor) -> ItemDetail:
    """One item with the number of cases registered on it (and still open)."""
    return await store.item_detail(session, item_code)


@router.post("/items", status_code=201)
async def create_item(body: ItemIn, state: StateDep, who: EditorDep) -> ItemPublic:
    async with transaction(state.sessions) as session:
        return store.item_public(await store.create_item(session, who, body, datetime.now(UTC)))


@router.patch("/items/{item_code}")
async def update_item(item_code: CodePath, body: ItemPatch, state: StateDep, who: EditorDep) -> ItemPublic:
    """Change an item for the cases registered from now on; ``version`` is the one the change was made from."""
    async with transaction(state.sessions) as session:
        return store.item_public(await store.update_item(session, who, item_code, body, datetime.now(UTC)))


@router.post("/items/{item_code}/withdraw")
async def withdraw_item(item_code: CodePath, body: Reason, state: StateDep, who: EditorDep) -> ItemPublic:
    """Offer the item no more for new cases; the cases registered on it keep it."""
    async with transaction(state.sessions) as session:
        return store.item_public(await store.withdraw_item(session, who, item_code, body.reason, datetime.now(UTC)))


@router.post("/items/{item_code}/reinstate")
async def reinstate_item(item_code: CodePath, body: OptionalReason, state: StateDep, who: EditorDep) -> ItemPublic:
    async with transaction(state.sessions) as session:
        return store.item_public(await store.reinstate_item(session, who, item_code, body.reason, datetime.now(UTC)))


@router.get("/catalogue/changes")
async def changes(
    session: SessionDep, _: OverseerDep, entity: Entity | None = None,
    code: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    by: Annotated[str | None, Query(min_length=1, max_length=64, description="the administrator's username")] = None,
) -> ChangePage:
    """Every change of departments and items, newest first: who, when, from where, before and after, why."""
    return await store.changes(session, entity, code, before, limit, by)
