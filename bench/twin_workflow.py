"""The bare twin of a yes-path case (``bench/twin.py``): its workflow and its one activity, nothing else."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import asyncpg

TASK_QUEUE = "casehall-bench-twin"
# The worker's connection pool to the twin's database (set by ``bench.twin.run_worker``).
POOL: dict[str, asyncpg.Pool] = {}


@dataclass
class TwinStep:
    case: str
    seq: int
    kind: str


@activity.defn(name="bench_twin_record")
async def record(step: TwinStep) -> int:
    """One row per step, as casehall's recorder writes one transaction per transition."""
    async with POOL["pool"].acquire() as conn:
        return int(await conn.fetchval(
            "INSERT INTO twin_steps (case_id, seq, kind, at, payload) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            step.case, step.seq, step.kind, datetime.now(UTC), json.dumps({"kind": step.kind})))


@workflow.defn(name="BenchTwinWorkflow")
class TwinWorkflow:
    """Start + registration, accept, complete: one local activity each; then the callback wait."""

    @workflow.init
    def __init__(self, case: str) -> None:
        self.case = case
        self.seq = 0
        self.completed = False

    @workflow.run
    async def run(self, case: str) -> None:
        await workflow.wait_condition(lambda: self.completed)
        await workflow.sleep(timedelta(days=3))

    async def _step(self, kind: str) -> int:
        self.seq += 1
        return await workflow.execute_local_activity(record, TwinStep(self.case, self.seq, kind),
                                                     start_to_close_timeout=timedelta(seconds=10))

    @workflow.update
    async def registration(self) -> int:
        return await self._step("registered")

    @workflow.update
    async def accept(self) -> int:
        return await self._step("accepted")

    @workflow.update
    async def complete(self) -> int:
        row = await self._step("completed")
        self.completed = True
        return row
