"""The baseline the case benchmark is compared with: a bare workflow that runs one regular activity."""

from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "casehall-bench-baseline"


@activity.defn(name="bench_noop")
async def bench_noop(value: str) -> str:
    return value


@workflow.defn(name="BenchBaselineWorkflow")
class BenchBaselineWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return await workflow.execute_activity(bench_noop, value, start_to_close_timeout=timedelta(seconds=30))
