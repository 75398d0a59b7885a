"""The store the worker's activities write through: each call one transaction. A write PostgreSQL refuses for a
reason a retry cannot change (bad data, a missing reference) raises ``StoreRefused``; anything else (the database
down, a deadlock) propagates and is retried."""

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.activities.case import StoreRefused
from casehall.core.db import transaction
from casehall.models.activity_io import FailingWorkInput, RecordEventInput
from casehall.models.consultation import RecordConsultationEventInput
from casehall.models.enums import FINAL_STATUSES
from casehall.models.events import EventType
from casehall.models.tables import FailingWork
from casehall.store import repository

T = TypeVar("T")
log = logging.getLogger("casehall.cases")
LOGGED = {EventType.REGISTERED, EventType.VETO_REQUESTED, EventType.VETO_ESCALATED, EventType.SUPPLEMENT_OVERDUE,
          EventType.RECTIFICATION_ESCALATED}  # and every event that closes a case
# SQLSTATE classes no retry can change: data exceptions, integrity violations, cardinality, syntax / undefined object.
PERMANENT_CLASSES = ("21", "22", "23", "42", "44")


def permanent(err: BaseException) -> str | None:
    """The reason, if ``err`` is a refusal no retry can change."""
    if isinstance(err, UnicodeError):  # text PostgreSQL cannot encode
        return f"text cannot be stored: {err}"
    if isinstance(err, DBAPIError | StatementError):
        orig = getattr(err, "orig", None)
        state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
        if isinstance(state, str) and state[:2] in PERMANENT_CLASSES:
            return f"{state}: {str(orig).splitlines()[0] if orig else err}"
        if isinstance(err.orig, UnicodeError):
            return f"text cannot be stored: {err.orig}"
    return None


class CaseStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        try:
            async with transaction(self.sessions) as session:
                return await work(session)
        except (DBAPIError, StatementError, UnicodeError) as err:
            reason = permanent(err)
            if reason is None:
                raise
            raise StoreRefused(reason) from err

    async def record_case_event(self, inp: RecordEventInput) -> bool:
        new = await self._write(lambda s: repository.record_event(s, inp))
        level = logging.INFO if inp.type in LOGGED or inp.case.status in FINAL_STATUSES else logging.DEBUG
        log.log(level, "case %s: %s (seq %d)%s -> %s", inp.case.case_no, inp.type, inp.seq,
                "" if new else " rewritten", inp.case.status)
        return new

    async def record_consultation_event(self, inp: RecordConsultationEventInput) -> bool:
        return await self._write(lambda s: repository.record_consultation_event(s, inp))

    async def report_failing_work(self, inp: FailingWorkInput) -> None:
        async def report(session: AsyncSession) -> None:
            await session.execute(insert(FailingWork).values(
                workflow_id=inp.workflow_id, seq=inp.seq, event_type=inp.event_type, error=inp.error[:2000],
                failed_at=inp.at).on_conflict_do_nothing(constraint="uq_failing_work_seq"))

        await self._write(report)
