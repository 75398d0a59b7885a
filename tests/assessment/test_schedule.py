"""The Temporal Schedule fires on the 1st of the month at 00:30 Asia/Shanghai and stores the report of the month
before. The time-skipping test server implements no schedules (CreateSchedule: unimplemented), so this runs on the
dev server and moves time the way Temporal does for a schedule: a backfill over a past month runs exactly the
actions the spec would have fired in it, each with its nominal time (TemporalScheduledStartTime)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casehall.assessment import store
from casehall.assessment.activity import AssessmentActivities
from casehall.assessment.rates import TZ, compute
from casehall.assessment.schedule import ensure_schedule
from casehall.core.codec import data_converter
from casehall.models.assessment import MonthlyReportInput, MonthlyReportResult, ReportConfig
from casehall.stack.embedded import temporal_cli_path
from casehall.workflows.assessment import MonthlyReportWorkflow
from tests.assessment.data import on_demo_units, store_events
from tests.assessment.test_rates import MARCH, march_orders
from tests.conftest import CODEC_KEYS

QUEUE = "assessment-test"


@pytest.fixture(scope="module")
async def dev() -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli_path()),
                                                dev_server_extra_args=["--log-level", "error"],
                                                data_converter=data_converter(CODEC_KEYS))
    yield env.client
    await env.shutdown()


async def runs(client: Client) -> list[tuple[str, WorkflowExecutionStatus | None]]:
    return [(w.id, w.status) async for w in client.list_workflows('WorkflowType = "MonthlyReportWorkflow"')]


async def test_the_schedule_fires_on_the_first_and_stores_the_report(
        dev: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await store_events(session, on_demo_units(march_orders()))
    schedule_id = f"assessment-{uuid.uuid4().hex[:8]}"
    async with Worker(dev, task_queue=QUEUE, workflows=[MonthlyReportWorkflow],
                      activities=AssessmentActivities(sessions).all()):
        created = await ensure_schedule(dev, QUEUE, ReportConfig(), schedule_id=schedule_id)
        assert created.created
        assert not (await ensure_schedule(dev, QUEUE, ReportConfig(top_grades=2), schedule_id=schedule_id)).created
        handle = dev.get_schedule_handle(schedule_id)
        desc = await handle.describe()
        upcoming = [t.astimezone(TZ) for t in desc.info.next_action_times]
        assert upcoming and all((t.day, t.hour, t.minute) == (1, 0, 30) for t in upcoming), upcoming
        # Back to March 15 .. April 15: the 1st of April, 00:30 in Shanghai, is the one firing in that month.
        await handle.backfill(ScheduleBackfill(start_at=datetime(2026, 3, 15, tzinfo=TZ),
                                               end_at=datetime(2026, 4, 15, tzinfo=TZ),
                                               overlap=ScheduleOverlapPolicy.ALLOW_ALL))
        for _ in range(240):
            done = [r for r in await runs(dev) if r[1] == WorkflowExecutionStatus.COMPLETED]
            if done:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # a second firing, had there been one, would be listed by now
        fired = await runs(dev)
        assert len(fired) == 1 and fired[0][1] == WorkflowExecutionStatus.COMPLETED, fired
        result = await dev.get_workflow_handle(fired[0][0], result_type=MonthlyReportResult).result()
        assert result.period == "2026-03"  # the month before the 1st it fired for
        await handle.delete()
        # re-run the past month by hand: identical figures
        again = await dev.execute_workflow(MonthlyReportWorkflow.run, MonthlyReportInput(period="2026-03"),
                                           id=f"rerun-{uuid.uuid4().hex[:6]}", task_queue=QUEUE,
                                           execution_timeout=timedelta(minutes=5))
        assert again == result
    async with sessions() as session:
        (row,) = await store.stored(session, "orders", period="2026-03", unit="D01-S01")
        tree = await store.tree_of(session, "orders")
        events = await store.read_events(session, "orders")
    assert row["runs"] == 2
    expected = compute("orders", MARCH, tree, events).units["D01-S01"].as_dict("orders")
    assert row["figures"] == expected and row["figures"]["rates"]["received"]["numerator"] == 7
