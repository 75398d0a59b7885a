"""Audit: timelines, chain verification, replay checks and exports. Read-only; auditors and admins read every case,
managers and directors the cases of their department's subtree (``casehall.workflows.access``)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel

from casehall.api.deps import CurrentActor, SessionDep, StateDep
from casehall.api.errors import NotFound
from casehall.api.params import BoundedDatetime, CaseNo
from casehall.audit.chain import ChainReport, verify_chains
from casehall.audit.checks import Source, replay_case
from casehall.audit.export import Export, export_cases, to_csv
from casehall.audit.replay import ReplayReport
from casehall.audit.timeline import Timeline, aware, case_timeline
from casehall.models.case import Actor
from casehall.models.tables import Case
from casehall.store import queries
from casehall.workflows.access import reads_every_audit, require_audit_of, require_audit_reader


def _audit_reader(actor: CurrentActor) -> Actor:
    require_audit_reader(actor)
    return actor


router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(_audit_reader)])


class ChainPublic(BaseModel):
    case_no: str
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    breaks: list[dict[str, Any]]
    anchor_id: int | None
    anchor_intact: bool

    @classmethod
    def of(cls, report: ChainReport, anchor_id: int | None, anchor_intact: bool) -> "ChainPublic":
        breaks = [{"seq": b.seq, "kind": b.kind.value, "detail": b.detail, "source": b.source} for b in report.breaks]
        return cls(case_no=report.case_no, ok=report.ok and anchor_intact, events=report.events,
                   head_seq=report.head_seq, head_hash=report.head_hash, breaks=breaks, anchor_id=anchor_id,
                   anchor_intact=anchor_intact)


class ReplayPublic(BaseModel):
    case_no: str
    source: str
    ok: bool
    verdict: str
    mismatches: list[str]
    error: str | None
    replayed_events: int

    @classmethod
    def of(cls, r: ReplayReport) -> "ReplayPublic":
        return cls(case_no=r.case_no, source=r.source, ok=r.ok, verdict=r.verdict.value, mismatches=r.mismatches,
                   error=r.error, replayed_events=r.replayed_events)


async def _require_case(session: SessionDep, actor: Actor, case_no: str) -> None:
    """The case exists (else 404) and its audit is the actor's to read (else 403)."""
    case = await session.get(Case, case_no)
    if case is None:
        raise NotFound(f"no case {case_no}")
    require_audit_of(actor, case_no, await queries.department_path(session, case.department_code))


@router.get("/cases/{case_no}/timeline")
async def timeline(case_no: CaseNo, session: SessionDep, state: StateDep, actor: CurrentActor,
                   as_of: BoundedDatetime | None = None) -> Timeline:
    """The case's history with actors, documents and decisions; with ``as_of``, as it stood at that moment."""
    await _require_case(session, actor, case_no)
    found = await case_timeline(session, case_no, as_of, tz=state.settings.timezone)
    if found is None:
        raise NotFound(f"no case {case_no}")
    return found


@router.get("/cases/{case_no}/chain")
async def chain(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> ChainPublic:
    """The case's hash chain, checked against the ``cases`` row and the newest anchor."""
    await _require_case(session, actor, case_no)
    verification = await verify_chains(session, [case_no])
    anchor_id = verification.anchor.id if verification.anchor else None
    return ChainPublic.of(verification.reports[0], anchor_id, verification.anchor_intact)


@router.get("/cases/{case_no}/replay")
async def replay(case_no: CaseNo, session: SessionDep, state: StateDep, actor: CurrentActor,
                 source: Source = "auto") -> ReplayPublic:
    """Replay the case's history with the current code; ``ok`` when it reaches what PostgreSQL holds."""
    await _require_case(session, actor, case_no)
    return ReplayPublic.of(await replay_case(state.client, state.sessions, case_no, source=source))


@router.get("/export", response_model=None)
async def export(
    session: SessionDep, state: StateDep, actor: CurrentActor, case_no: CaseNo | None = None,
    closed_from: BoundedDatetime | None = None,
    closed_to: BoundedDatetime | None = None, format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Export | Response:
    """One case (``case_no``) or the cases closed in [closed_from, closed_to): events with hashes, documents. A
    manager's or director's export holds the cases of their department's subtree only."""
    if case_no is None and closed_from is None and closed_to is None:
        raise HTTPException(422, "name a case (case_no) or a closing period (closed_from, closed_to) to export")
    if case_no is not None:
        await _require_case(session, actor, case_no)
    departments = None if reads_every_audit(actor) else await queries.department_subtree(session,
                                                                                          actor.department_code)
    tz = state.settings.timezone
    found = await export_cases(session, case_no=case_no, closed_from=aware(closed_from, tz) if closed_from else None,
                               closed_to=aware(closed_to, tz) if closed_to else None, departments=departments)
    if case_no is not None and not found.cases:
        raise NotFound(f"no case {case_no}")
    if format == "csv":
        name = case_no or "cases"
        return Response(to_csv(found), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="audit-{name}.csv"'})
    return found
