"""The casehall worker: runs the case workflows and their activities against PostgreSQL."""

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from casehall.activities.case import CaseActivities
from casehall.audit.archive import archive_periodically
from casehall.calendar.store import CalendarStore
from casehall.core.db import make_engine, make_sessionmaker
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.joint_consultation import JointConsultationWorkflow

WORKFLOWS = [CaseWorkflow, JointConsultationWorkflow]


def build_worker(client: Client, settings: Settings, activities: CaseActivities) -> Worker:
    return Worker(
        client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities.all(),
    )


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    engine = make_engine(settings.resolved_database_url())
    sessions = make_sessionmaker(engine)
    client = client or await connect(settings.resolved_temporal_address(), settings.temporal_namespace)
    activities = CaseActivities(sessions, CalendarStore(sessions, settings))
    archiver = None
    if settings.archive_every_minutes > 0:  # keep closed histories beyond Temporal's retention
        every = timedelta(minutes=settings.archive_every_minutes)
        archiver = asyncio.create_task(archive_periodically(client, sessions, every))
    try:
        await build_worker(client, settings, activities).run()
    finally:
        if archiver:
            archiver.cancel()
        await engine.dispose()


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
