"""Keep the Temporal histories of closed cases in PostgreSQL: the server deletes them after its retention period,
and an auditor must still be able to replay them years later."""

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf import json_format
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from casehall.audit import store
from casehall.core.db import transaction
from casehall.core.metrics import set_archive_gauges
from casehall.models.ids import case_workflow_id
from casehall.models.tables import Case, CaseHistory

log = logging.getLogger(__name__)


class HistoryUnavailable(LookupError):
    """No history to read: gone from the server, not archived, still running, or altered in the archive."""


@dataclass
class ArchiveResult:
    archived: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # case_no -> why


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def live_history(client: Client, case_no: str, *, closed_only: bool = False) -> tuple[str, WorkflowHistory]:
    """(run id, history) of the case's latest run on the Temporal server."""
    handle = client.get_workflow_handle(case_workflow_id(case_no))
    try:
        described = await handle.describe()
        if closed_only and described.status in (None, WorkflowExecutionStatus.RUNNING):
            raise HistoryUnavailable(f"the workflow of {case_no} is still running")
        run = client.get_workflow_handle(case_workflow_id(case_no), run_id=described.run_id)
        return described.run_id, await run.fetch_history()
    except RPCError as err:
        raise _unavailable(case_no, err) from None


async def latest_history(client: Client, case_no: str) -> WorkflowHistory:
    """The history of the case's latest run on the Temporal server, in one call (what a replay needs)."""
    try:
        return await client.get_workflow_handle(case_workflow_id(case_no)).fetch_history()
    except RPCError as err:
        raise _unavailable(case_no, err) from None


def _unavailable(case_no: str, err: RPCError) -> HistoryUnavailable:
    if err.status == RPCStatusCode.NOT_FOUND:
        return HistoryUnavailable(f"the Temporal server no longer has the history of {case_no}")
    return HistoryUnavailable(f"cannot read the history of {case_no} from Temporal: {err.message}")


async def archived_history(session: AsyncSession, case_no: str) -> WorkflowHistory:
    row = await session.get(CaseHistory, case_no)
    if row is None:
        raise HistoryUnavailable(f"the history of {case_no} is not archived")
    if _sha256(row.history) != row.sha256:
        raise HistoryUnavailable(f"the archived history of {case_no} was altered (sha256 differs)")
    return WorkflowHistory.from_json(row.workflow_id, row.history)


def file_history(path: Path, case_no: str) -> WorkflowHistory:
    """A history exported with ``temporal workflow show --output json`` or ``WorkflowHistory.to_json()``."""
    try:
        return WorkflowHistory.from_json(case_workflow_id(case_no), path.read_text(encoding="utf-8"))
    except (OSError, ValueError, json_format.Error) as err:
        raise HistoryUnavailable(f"cannot read a history from {path}: {err}") from None


async def unarchived_closed_cases(session: AsyncSession, limit: int | None = None) -> list[str]:
    archived = exists().where(col(CaseHistory.case_no) == col(Case.case_no))
    stmt = (select(col(Case.case_no)).where(col(Case.closed_at).is_not(None), ~archived)
            .order_by(col(Case.closed_at), col(Case.case_no)).limit(limit))
    return list((await session.scalars(stmt)).all())


async def archive_backlog(session: AsyncSession, now: datetime) -> tuple[float, int]:
    """(seconds since the oldest unarchived closed case closed, how many wait): the archive's lag."""
    archived = exists().where(col(CaseHistory.case_no) == col(Case.case_no))
    row = (await session.execute(select(func.min(col(Case.closed_at)), func.count()).where(
        col(Case.closed_at).is_not(None), ~archived))).one()
    oldest, pending = row
    return (max((now - oldest).total_seconds(), 0.0) if oldest else 0.0), int(pending)


async def archive_case(client: Client, sessions: async_sessionmaker[AsyncSession], case_no: str) -> bool:
    """Archive one closed case's history; False if it was archived already."""
    run_id, history = await live_history(client, case_no, closed_only=True)
    text = history.to_json()
    row = CaseHistory(case_no=case_no, workflow_id=case_workflow_id(case_no), run_id=run_id, history=text,
                      sha256=_sha256(text), event_count=len(history.events), archived_at=datetime.now(UTC))
    async with transaction(sessions) as session:
        return await store.insert_history(session, row)


async def archive_closed_cases(client: Client, sessions: async_sessionmaker[AsyncSession], *,
                               limit: int | None = None, concurrency: int = 8) -> ArchiveResult:
    """Archive every closed case (closed_at set) without an archived history; idempotent, safe to run anytime."""
    async with sessions() as session:
        pending = await unarchived_closed_cases(session, limit)
    result, gate = ArchiveResult(), asyncio.Semaphore(concurrency)

    async def one(case_no: str) -> None:
        async with gate:
            try:
                if await archive_case(client, sessions, case_no):
                    result.archived.append(case_no)
            except HistoryUnavailable as err:
                result.skipped[case_no] = str(err)

    await asyncio.gather(*(one(no) for no in pending))
    result.archived.sort()
    return result


async def archive_periodically(client: Client, sessions: async_sessionmaker[AsyncSession],
                               every: timedelta = timedelta(hours=1), batch: int = 1000) -> None:
    """Archive closed cases every ``every`` until cancelled (run it beside the worker; keep ``every`` well below
    the namespace's retention). A failed round is logged and retried at the next one."""
    while True:
        try:
            result = await archive_closed_cases(client, sessions, limit=batch)
            if result.archived or result.skipped:
                log.info("archived %d case histories, skipped %d", len(result.archived), len(result.skipped))
            async with sessions() as session:
                set_archive_gauges(client, *await archive_backlog(session, datetime.now(UTC)))
        except Exception:  # noqa: BLE001 - a database or server outage must not end the loop
            log.exception("archiving case histories failed; retrying in %s", every)
        await asyncio.sleep(every.total_seconds())
