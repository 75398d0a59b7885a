"""The casehall worker: runs the case workflows and their activities against PostgreSQL."""

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from casehall.activities.case import CaseActivities
from casehall.activities.hotline import OrderActivities
from casehall.assessment.activity import AssessmentActivities
from casehall.audit.archive import archive_periodically
from casehall.calendar.store import CalendarStore
from casehall.core.db import engine_for, make_sessionmaker
from casehall.core.metrics import install_worker_metrics
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.store.case_store import CaseStore
from casehall.store.hotline_repository import OrderStore
from casehall.workflows.observability import ensure_search_attributes
from casehall.workflows.registry import RUNNER, WORKFLOWS

log = logging.getLogger("casehall.worker")


class WorkerActivities(CaseActivities):
    """The activities of cases, hotline orders and the monthly assessment, on one pool and one calendar cache."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        calendars = CalendarStore(sessions, settings)
        super().__init__(CaseStore(sessions), calendars)
        self.orders = OrderActivities(OrderStore(sessions), calendars)
        self.assessment = AssessmentActivities(sessions)

    def all(self) -> list[Callable[..., Any]]:
        return [*super().all(), *self.orders.all(), *self.assessment.all()]


def case_activities(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> CaseActivities:
    """The activities on PostgreSQL: the case and order stores and the working calendars."""
    return WorkerActivities(sessions, settings)


def build_worker(client: Client, settings: Settings, activities: CaseActivities) -> Worker:
    return Worker(
        client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities.all(),
        workflow_runner=RUNNER, max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_local_activities=settings.worker_max_concurrent_local_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
    )


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    engine = engine_for(settings)
    sessions = make_sessionmaker(engine)
    client = client or await connect(settings.resolved_temporal_address(), settings.temporal_namespace, settings)
    await ensure_search_attributes(client, settings.temporal_namespace)  # the workflows upsert them
    archiver = None
    if settings.archive_every_minutes > 0:  # keep closed histories beyond Temporal's retention
        every = timedelta(minutes=settings.archive_every_minutes)
        archiver = asyncio.create_task(archive_periodically(client, sessions, every))
    log.info("worker polling task queue %s on %s (namespace %s)", settings.task_queue,
             settings.resolved_temporal_address(), settings.temporal_namespace)
    try:
        await build_worker(client, settings, case_activities(sessions, settings)).run()
    finally:
        if archiver:
            archiver.cancel()
        await engine.dispose()


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    install_worker_metrics(settings)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
