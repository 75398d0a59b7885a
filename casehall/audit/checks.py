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

from casehall.audit.archive import HistoryUnavailable, archived_history, file_history, live_history
from casehall.audit.chain import ChainReport, verify_chains
from casehall.audit.replay import Replayed, ReplayReport, Verdict, replay_many, verify_history
from casehall.core.codec import CodecError, decode_history
from casehall.models.tables import Case

Source = Literal["auto", "live", "archive"]
SOURCES: tuple[Source, ...] = ("auto", "live", "archive")
CHAIN_BATCH = 1000  # cases per chain query (PostgreSQL takes at most 32767 parameters)
PREFETCH = 8  # histories loaded ahead of the replay, and comparisons with PostgreSQL at a time


async def load_history(client: Client | None, session: AsyncSession, case_no: str, source: Source
                       ) -> tuple[str, WorkflowHistory]:
    """(where it came from, history); ``auto`` asks the server first and falls back on the archive."""
    if source in ("live", "auto") and client is not None:
        try:
            return "live", (await live_history(client, case_no))[1]
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
    """Verify the chains of ``case_nos`` (and the newest anchor), then replay each case one after the other
    (from ``file`` when given: a history of the one case named)."""
    chains: dict[str, ChainReport] = {}
    summary = AuditSummary([])
    async with sessions() as session:
        for i in range(0, len(case_nos), CHAIN_BATCH):
            verification = await verify_chains(session, case_nos[i:i + CHAIN_BATCH])
            chains |= {r.case_no: r for r in verification.reports}
            summary.anchor_intact = verification.anchor_intact
    if file is not None:
        for case_no in case_nos:
            replayed = await replay_case(client, sessions, case_no, source=source, file=file, workflows=workflows,
                                         codec=codec)
            summary.cases.append(CaseAudit(case_no, replayed, chains.get(case_no) or ChainReport(case_no, 0, 0, "")))
            if progress:
                progress(summary.cases[-1])
        return summary
    summary.cases = await _replay_all(client, sessions, case_nos, source, workflows, codec, chains, progress)
    return summary


async def _replay_all(client: Client | None, sessions: async_sessionmaker[AsyncSession], case_nos: Sequence[str],
                      source: Source, workflows: Sequence[type] | None, codec: PayloadCodec | None,
                      chains: dict[str, ChainReport], progress: Callable[[CaseAudit], None] | None
                      ) -> list[CaseAudit]:
    """Every case's history loaded and decoded (PREFETCH at a time, ahead of the replay), replayed through one
    replaying worker (the workflows validated once, not per case), then compared with PostgreSQL (up to PREFETCH
    comparisons at a time); in the order of ``case_nos``."""
    codec = codec or (client.data_converter.payload_codec if client else None)
    audits: dict[str, CaseAudit] = {}
    loaded: dict[str, tuple[str, str]] = {}  # workflow id -> (case number, where the history came from)

    def done(report: ReplayReport, case_no: str) -> None:
        audits[case_no] = CaseAudit(case_no, report, chains.get(case_no) or ChainReport(case_no, 0, 0, ""))
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

    async def histories() -> AsyncIterator[WorkflowHistory]:
        todo = iter(case_nos)
        ahead: deque[asyncio.Task[tuple[str, str, WorkflowHistory | ReplayReport]]] = deque(
            asyncio.ensure_future(load(n)) for n in itertools.islice(todo, PREFETCH))
        while ahead:
            case_no, where, history = await ahead.popleft()
            for n in itertools.islice(todo, 1):
                ahead.append(asyncio.ensure_future(load(n)))
            if isinstance(history, ReplayReport):
                done(history, case_no)
                continue
            loaded[history.workflow_id] = (case_no, where)
            yield history

    comparing: set[asyncio.Task[None]] = set()
    limit = asyncio.Semaphore(PREFETCH)

    async def verify(history: WorkflowHistory, replayed: Replayed, case_no: str, where: str) -> None:
        async with limit, sessions() as session:
            done(await verify_history(session, history, where, case_no, workflows, replayed), case_no)

    async for history, replayed in replay_many(histories(), workflows):
        case_no, where = loaded.pop(history.workflow_id)
        await limit.acquire()  # no more than PREFETCH comparisons wait
        limit.release()
        task = asyncio.ensure_future(verify(history, replayed, case_no, where))
        comparing.add(task)
        task.add_done_callback(comparing.discard)
    await asyncio.gather(*comparing)
    return [audits[n] for n in case_nos if n in audits]


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
