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
from casehall.workflows.registry import WORKFLOWS, runner

log = logging.getLogger("casehall.worker")
# A stop request: in-flight activities may finish for SHUTDOWN_GRACE_SECONDS, then they are cancelled; whatever still
# runs at SHUTDOWN_SECONDS is abandoned; closing the pool waits DISPOSE_SECONDS at most.
SHUTDOWN_GRACE_SECONDS = 10
SHUTDOWN_SECONDS = 20
DISPOSE_SECONDS = 5


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


def build_worker(client: Client, settings: Settings, activities: CaseActivities,
                 graceful_shutdown: timedelta = timedelta()) -> Worker:
    return Worker(
        client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities.all(),
        workflow_runner=runner(settings.worker_workflow_sandbox),
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_local_activities=settings.worker_max_concurrent_local_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=graceful_shutdown,
    )


async def run_until_cancelled(worker: Worker) -> None:
    """Run the worker until this task is cancelled (the process is asked to stop), then stop it within
    ``SHUTDOWN_SECONDS``: it polls no new task, in-flight activities get ``SHUTDOWN_GRACE_SECONDS`` to finish before
    they are cancelled, and whatever has not stopped by then is abandoned (Temporal retries it after its timeout).

    It stops through the SDK's ``shutdown()``, never by cancelling the SDK's tasks: its pollers must keep running
    until the cached workflows are evicted, or its last step waits forever."""
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.shield(running)  # returns or raises (a fatal worker error) only while not asked to stop
    except asyncio.CancelledError:
        log.info("worker stopping: no new tasks, in-flight activities have %d s", SHUTDOWN_GRACE_SECONDS)
        stopping = asyncio.create_task(worker.shutdown())
        done, _ = await asyncio.wait([running], timeout=SHUTDOWN_SECONDS)
        if not done:
            log.warning("worker did not stop within %d s: abandoning its in-flight work", SHUTDOWN_SECONDS)
        elif not running.cancelled() and (error := running.exception()):
            log.warning("worker stopped with an error", exc_info=error)
        stopping.cancel()
        raise
    finally:
        if not running.done():  # abandoned, or cancelled again while stopping: the SDK ends at its next await
            running.cancel()
            await asyncio.wait([running], timeout=1)


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
        await run_until_cancelled(build_worker(client, settings, case_activities(sessions, settings),
                                               timedelta(seconds=SHUTDOWN_GRACE_SECONDS)))
    finally:
        if archiver:
            archiver.cancel()
        try:  # closing the pooled connections to an unresponsive server is not waited for past DISPOSE_SECONDS
            await asyncio.wait_for(engine.dispose(), DISPOSE_SECONDS)
        except TimeoutError:
            log.warning("the database pool did not close within %d s", DISPOSE_SECONDS)


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    install_worker_metrics(settings)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
