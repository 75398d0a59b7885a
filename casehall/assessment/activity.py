"""The activity of ``MonthlyReportWorkflow`` (``casehall.workflows.assessment``), registered by name: the worker
adds ``AssessmentActivities(sessions).all()`` to its activities."""

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from casehall.assessment.report import run_month
from casehall.models.assessment import ComputeReportInput, MonthlyReportResult
from casehall.workflows.assessment import COMPUTE_ACTIVITY


class AssessmentActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name=COMPUTE_ACTIVITY)
    async def compute_monthly_report(self, inp: ComputeReportInput) -> MonthlyReportResult:
        """Fold the new events, compute the period for every unit, store the reports and the messages."""
        return await run_month(self.sessions, inp)

    def all(self) -> list[Callable[..., Any]]:
        return [self.compute_monthly_report]
