"""Audits of one case or of every case closed in a period: replay its history (live, archived or from a file)
and verify its hash chain; what the CLI, the API and a periodic job call."""

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import PayloadCodec

from casehall.audit import anchors
from casehall.audit.archive import HistoryUnavailable, archived_history, file_history, latest_history
from casehall.audit.chain import ChainReport, Held, anchor_intact, check_held, held_cases
from casehall.audit.replay import ReplayReport, Verdict, judge, outcome, replay_many, verify_history
from casehall.core.codec import CodecError, decode_history
from casehall.models.tables import Case, ChainAnchor

Source = Literal["auto", "live", "archive"]
SOURCES: tuple[Source, ...] = ("auto", "live", "archive")
BATCH = 500  # cases whose rows and events are read together (PostgreSQL takes at most 32767 parameters)
PREFETCH = 8  # histories loaded and decoded ahead of the replay


async def load_history(client: Client | None, session: AsyncSession, case_no: str, source: Source
                       ) -> tuple[str, WorkflowHistory]:
    """(where it came from, history); ``auto`` asks the server first and falls back on the archive."""
    if source in ("live", "auto") and client is not None:
        try:
            return "live", await latest_history(client, case_no)
        except HistoryUnavailable:
            if source == "live":
                raise
    elif source == "live":
        raise HistoryUnavailable("no Temporal client to read live histories")
    return "archive", await archived_history(session, case_no)


async def replay_case(client: Client | None, sessions: async_sessionmaker[AsyncSession], case_no: str, *,
                      source: Source = "auto", file: Path | None = None, workflows: Sequence[type] | None = None,
                      codec: PayloadCodec | None = None) -> ReplayReport:
    """Replay one case with the current code (or ``workflows``) and compare with PostgreSQL; encrypted payloads
    are decoded with ``codec`` (by default the client's)."""
    codec = codec or (client.data_converter.payload_codec if client else None)
    async with sessions() as session:
        try:
            where, history = ("file", file_history(file, case_no)) if file else await load_history(
                client, session, case_no, source)
        except HistoryUnavailable as err:
            return ReplayReport(case_no, "file" if file else source, Verdict.FAILED, error=str(err))
        try:
            history = await decode_history(history, codec)
        except CodecError as err:
            return ReplayReport(case_no, where, Verdict.FAILED, error=str(err))
        return await verify_history(session, history, where, case_no, workflows)


@dataclass
class CaseAudit:
    case_no: str
    replay: ReplayReport
    chain: ChainReport

    @property
    def ok(self) -> bool:
        return self.replay.ok and self.chain.ok


@dataclass
class AuditSummary:
    cases: list[CaseAudit]
    anchor_intact: bool = True

    @property
    def failed(self) -> list[CaseAudit]:
        return [c for c in self.cases if not c.ok]

    @property
    def ok(self) -> bool:
        return self.anchor_intact and not self.failed

    def count(self, verdict: Verdict) -> int:
        return sum(c.replay.verdict == verdict for c in self.cases)

    @property
    def broken_chains(self) -> int:
        return sum(not c.chain.ok for c in self.cases)


async def closed_between(session: AsyncSession, start: datetime, end: datetime) -> list[str]:
    """Cases closed in [start, end), oldest first."""
    stmt = (select(col(Case.case_no)).where(col(Case.closed_at) >= start, col(Case.closed_at) < end)
            .order_by(col(Case.closed_at), col(Case.case_no)))
    return list((await session.scalars(stmt)).all())


async def audit_cases(client: Client | None, sessions: async_sessionmaker[AsyncSession], case_nos: Sequence[str], *,
                      source: Source = "auto", file: Path | None = None, workflows: Sequence[type] | None = None,
                      progress: Callable[[CaseAudit], None] | None = None, codec: PayloadCodec | None = None
                      ) -> AuditSummary:
    """Verify the chain of each case (against its row and the newest anchor) and replay its history (from ``file``
    when given: a history of the one case named), comparing the replay with PostgreSQL; in the order of
    ``case_nos``."""
    case_nos = list(dict.fromkeys(case_nos))
    newest = asyncio.ensure_future(_newest_anchor(sessions))  # read while the first histories load
    if file is None:
        cases = await _audit_all(client, sessions, case_nos, source, workflows, codec, newest, progress)
        return AuditSummary(cases, anchor_intact(await newest))
    summary = AuditSummary([], anchor_intact(await newest))
    for case_no in case_nos:
        async with sessions() as session:
            chain = check_held(case_no, (await held_cases(session, [case_no]))[case_no], await newest)
        replayed = await replay_case(client, sessions, case_no, source=source, file=file, workflows=workflows,
                                     codec=codec)
        summary.cases.append(CaseAudit(case_no, replayed, chain))
        if progress:
            progress(summary.cases[-1])
    return summary


async def _newest_anchor(sessions: async_sessionmaker[AsyncSession]) -> ChainAnchor | None:
    async with sessions() as session:
        return await anchors.newest_anchor(session)


async def _audit_all(client: Client | None, sessions: async_sessionmaker[AsyncSession], case_nos: Sequence[str],
                     source: Source, workflows: Sequence[type] | None, codec: PayloadCodec | None,
                     newest: asyncio.Future[ChainAnchor | None], progress: Callable[[CaseAudit], None] | None
                     ) -> list[CaseAudit]:
    """Every case's history loaded and decoded (PREFETCH at a time, ahead of the replay) and replayed through one
    replaying worker (the workflows validated once, not per case). The rows and events of each BATCH of cases are
    read in two queries while the replay goes on (the next batch's as soon as this one's are needed) and serve the
    chain checks (against the anchor ``newest`` gives) and the comparison of each replay with PostgreSQL; in the
    order of ``case_nos``. The first histories load and the first batch is read while the replayer starts."""
    codec = codec or (client.data_converter.payload_codec if client else None)
    batches = [case_nos[i:i + BATCH] for i in range(0, len(case_nos), BATCH)]
    reads: dict[int, asyncio.Task[dict[str, Held]]] = {}  # batch -> its rows and events, while some are not done
    left = [len(batch) for batch in batches]  # cases of each batch not yet done
    audits: dict[str, CaseAudit] = {}
    pending: dict[str, tuple[int, str, str]] = {}  # workflow id -> (index, case number, where the history came from)

    async def read(batch: Sequence[str]) -> dict[str, Held]:
        async with sessions() as session:
            return await held_cases(session, batch)

    def start_read(k: int) -> None:
        if k < len(batches) and left[k] and k not in reads:
            reads[k] = asyncio.ensure_future(read(batches[k]))

    async def held_of(index: int) -> dict[str, Held]:
        """What PostgreSQL holds of the batch of the ``index``-th case (the next batch's read started too)."""
        k = index // BATCH
        start_read(k)
        start_read(k + 1)
        return await reads[k]

    async def done(index: int, case_no: str, report: ReplayReport) -> None:
        held = await held_of(index)
        audits[case_no] = CaseAudit(case_no, report, check_held(case_no, held[case_no], await newest))
        k = index // BATCH
        left[k] -= 1
        if not left[k]:
            del reads[k]  # its rows and events are no longer needed
        if progress:
            progress(audits[case_no])

    async def load(case_no: str) -> tuple[str, str, WorkflowHistory | ReplayReport]:
        async with sessions() as session:
            try:
                where, history = await load_history(client, session, case_no, source)
            except HistoryUnavailable as err:
                return case_no, source, ReplayReport(case_no, source, Verdict.FAILED, error=str(err))
        try:
            return case_no, where, await decode_history(history, codec)
        except CodecError as err:
            return case_no, where, ReplayReport(case_no, where, Verdict.FAILED, error=str(err))

    todo = iter(case_nos)
    ahead: deque[asyncio.Task[tuple[str, str, WorkflowHistory | ReplayReport]]] = deque(
        asyncio.ensure_future(load(n)) for n in itertools.islice(todo, PREFETCH))
    start_read(0)

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for index in itertools.count():
            if not ahead:
                return
            case_no, where, history = await ahead.popleft()
            for n in itertools.islice(todo, 1):
                ahead.append(asyncio.ensure_future(load(n)))
            if isinstance(history, ReplayReport):
                await done(index, case_no, history)
                continue
            pending[history.workflow_id] = (index, case_no, where)
            yield history

    async for history, replayed in replay_many(histories(), workflows):
        index, case_no, where = pending.pop(history.workflow_id)
        report, view = outcome(history, replayed, where, case_no)
        if view is not None:
            held = await held_of(index)
            stored = held.get(report.case_no) or (await read([report.case_no]))[report.case_no]
            report = judge(report, view, replayed.records, stored)
        await done(index, case_no, report)
    return [audits[n] for n in case_nos]


async def audit_closed_between(client: Client | None, sessions: async_sessionmaker[AsyncSession], start: datetime,
                               end: datetime, *, source: Source = "auto", workflows: Sequence[type] | None = None,
                               progress: Callable[[CaseAudit], None] | None = None,
                               on_start: Callable[[int], None] | None = None, codec: PayloadCodec | None = None
                               ) -> AuditSummary:
    """Replay and chain-check every case closed in [start, end)."""
    async with sessions() as session:
        case_nos = await closed_between(session, start, end)
    if on_start:
        on_start(len(case_nos))
    return await audit_cases(client, sessions, case_nos, source=source, workflows=workflows, progress=progress,
                             codec=codec)
