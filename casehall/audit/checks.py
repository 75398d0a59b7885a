"""Audits of one case or of every case closed in a period: replay its history (live, archived or from a file)
and verify its hash chain; what the CLI, the API and a periodic job call."""

from collections.abc import Callable, Sequence
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
from casehall.audit.replay import ReplayReport, Verdict, verify_history
from casehall.core.codec import CodecError, decode_history
from casehall.models.tables import Case

Source = Literal["auto", "live", "archive"]
SOURCES: tuple[Source, ...] = ("auto", "live", "archive")
CHAIN_BATCH = 1000  # cases per chain query (PostgreSQL takes at most 32767 parameters)


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
    for case_no in case_nos:
        replayed = await replay_case(client, sessions, case_no, source=source, file=file, workflows=workflows,
                                     codec=codec)
        audit = CaseAudit(case_no, replayed, chains.get(case_no) or ChainReport(case_no, 0, 0, ""))
        summary.cases.append(audit)
        if progress:
            progress(audit)
    return summary


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
