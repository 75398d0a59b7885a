"""Case throughput against the running stack: ``python -m bench.case_throughput [--cases N] [--concurrency C]``.

Drives N cases through register -> accept -> complete on the real casehall worker (the one ``make run`` /
``casehall up`` runs), then runs a bare one-activity workflow N times on a worker inside this process, with the
same concurrency, and prints cases/s, mean and p95 latency per case for both and their ratio.
"""

import asyncio
import math
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from bench.baseline import TASK_QUEUE as BASELINE_QUEUE
from bench.baseline import BenchBaselineWorkflow, bench_noop
from casehall.api.intake import RegisterCase, UnknownItem, register_case
from casehall.core.db import make_engine, make_sessionmaker
from casehall.core.settings import Settings
from casehall.models.case import Actor, ApplicantIn
from casehall.models.commands import Accept, Command, Completion
from casehall.models.enums import CaseStatus
from casehall.models.ids import case_workflow_id
from casehall.stack.runtime import StartupError, check_database, connect_temporal
from casehall.store import queries
from casehall.workflows.case import CaseWorkflow

WARMUP = 5
ITEM = "MKT-001"
MATERIALS = ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]
CLERK = "clerk"
# "bench" as the applicant's name makes the benchmark's cases easy to find (and to tell from real ones).
APPLICANT = ApplicantIn(name="bench", phone="13800000000", id_number="220201199001011238")
STEP_TIMEOUT = 60.0  # seconds one case (or one baseline workflow) may take before we give up

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


class BenchError(RuntimeError):
    """The benchmark cannot run or went wrong; the message is one line."""


@dataclass
class Run:
    name: str
    latencies: list[float]  # seconds, one per case
    seconds: float  # wall time of the whole run

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[math.ceil(0.95 * len(ordered)) - 1] * 1000  # nearest rank


async def measure(name: str, n: int, concurrency: int, one: Callable[[int], Awaitable[object]]) -> Run:
    """Run ``one(i)`` for i in 0..n-1, at most ``concurrency`` at a time (each lane starts the next as soon as
    its previous one finished); returns each one's latency and the wall time."""
    latencies: list[float] = []
    indexes = iter(range(n))

    async def lane() -> None:
        for i in indexes:
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, n)):
                group.create_task(lane())
    except BaseExceptionGroup as errors:
        # The lanes cancelled after the first failure may end with the SDK's "cancelled" error: report the cause.
        causes = [e for e in errors.exceptions if not isinstance(e, WorkflowUpdateRPCTimeoutOrCancelledError)]
        raise (causes or errors.exceptions)[0] from None
    return Run(name, latencies, time.perf_counter() - started)


async def _within(what: str, awaitable: Awaitable[T]) -> T:
    # asyncio.timeout, not wait_for: no inner task whose error (the SDK turns a cancelled update into its own
    # exception) would be logged as "never retrieved".
    deadline = asyncio.timeout(STEP_TIMEOUT)
    try:
        async with deadline:
            return await awaitable
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        if deadline.expired():
            raise BenchError(f"{what} got no answer within {STEP_TIMEOUT:.0f}s; is the casehall worker healthy? "
                             "(see the `make run` log)") from None
        raise


class StartedWorkflows(Interceptor):
    """Records the id of every workflow a client starts, so that the benchmark can terminate all of its cases,
    even one whose registration never answered (``register_case`` returns the case number only at the end)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _RecordStarts(next, self.ids)


class _RecordStarts(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, ids: list[str]) -> None:
        super().__init__(next)
        self._ids = ids

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        self._ids.append(input.id)
        return await super().start_workflow(input)


class CaseDriver:
    """Register -> accept -> complete one case as the demo clerk, remembering every case it started."""

    def __init__(self, client: Client, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 clerk: Actor) -> None:
        self.started = StartedWorkflows()
        # The project's client (same connection and pydantic data converter), recording the workflows it starts.
        self.client = Client(**(client.config() | {"interceptors": [self.started]}))  # type: ignore[arg-type]
        self.sessions, self.settings, self.clerk = sessions, settings, clerk

    async def one(self, i: int) -> None:
        body = RegisterCase(item_code=ITEM, applicant=APPLICANT, submitted_materials=MATERIALS,
                            description=f"casehall benchmark, case {i}")
        view = await _within("registering a case", register_case(
            self.client, self.sessions, self.settings.task_queue, body, self.clerk,
            tz=self.settings.timezone))
        handle = self.client.get_workflow_handle_for(CaseWorkflow.run, case_workflow_id(view.case_no))
        view = await _within(f"accepting {view.case_no}",
                             handle.execute_update(CaseWorkflow.accept, Command(actor=self.clerk, body=Accept())))
        if view.status != CaseStatus.IN_HANDLING:
            raise BenchError(f"{view.case_no} is {view.status.value} after accepting, expected in_handling")
        view = await _within(f"completing {view.case_no}", handle.execute_update(
            CaseWorkflow.complete, Command(actor=self.clerk, body=Completion(result="benchmark: done"))))
        if view.status != CaseStatus.AWAITING_CALLBACK:
            raise BenchError(f"{view.case_no} is {view.status.value} after completing, expected awaiting_callback")

    async def terminate_all(self, concurrency: int) -> tuple[int, int]:
        """Terminate the cases' workflows (they would wait 3 days for the callback).
        Returns (terminated, could not be terminated); already closed ones count as neither."""
        limit = asyncio.Semaphore(concurrency)

        async def terminate(workflow: str) -> bool | None:
            async with limit:
                try:
                    await self.client.get_workflow_handle(workflow).terminate(reason="casehall benchmark finished")
                except RPCError as err:
                    if err.status == RPCStatusCode.NOT_FOUND:  # already closed, or never started
                        return None
                    raise
                return True

        results = await asyncio.gather(*(terminate(id_) for id_ in self.started.ids), return_exceptions=True)
        return sum(r is True for r in results), sum(isinstance(r, BaseException) for r in results)


async def baseline_one(client: Client, i: int) -> None:
    value = f"bench-{i}"
    result = await _within("a baseline workflow", client.execute_workflow(
        BenchBaselineWorkflow.run, value, id=f"bench-baseline-{uuid.uuid4()}", task_queue=BASELINE_QUEUE))
    if result != value:
        raise BenchError(f"the baseline workflow returned {result!r}, expected {value!r}")


async def require_worker(client: Client, task_queue: str) -> None:
    """Fail at once, rather than after a timeout, when no casehall worker polls the task queue."""
    answer = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace=client.namespace, task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
    if not answer.pollers:
        raise BenchError(f"no casehall worker polls task queue {task_queue!r}: start the stack first (`make run`)")


async def find_clerk(sessions: async_sessionmaker[AsyncSession]) -> Actor:
    async with sessions() as session:
        user = await queries.user_by_name(session, CLERK)
        item = await queries.service_item(session, ITEM)
    if user is None or item is None:
        raise BenchError(f"the demo data (user {CLERK!r}, item {ITEM}) is missing: start the stack with "
                         "`make run` (it seeds the demo data)")
    return queries.actor_of(user)


async def bench(settings: Settings, cases: int, concurrency: int) -> tuple[Run, Run, int]:
    """Returns the two runs and how many of the benchmark's workflows it terminated."""
    client = await connect_temporal(settings)
    await check_database(settings)
    await require_worker(client, settings.task_queue)
    engine = make_engine(settings.resolved_database_url(), pool_size=min(max(concurrency, 5), 20))
    try:
        sessions = make_sessionmaker(engine)
        driver = CaseDriver(client, sessions, settings, await find_clerk(sessions))
        try:
            async with Worker(client, task_queue=BASELINE_QUEUE, workflows=[BenchBaselineWorkflow],
                              activities=[bench_noop]):
                console.print(f"warming up ({WARMUP} cases, {WARMUP} baseline workflows) ...")
                await measure("warm-up", WARMUP, concurrency, driver.one)
                await measure("warm-up", WARMUP, concurrency, lambda i: baseline_one(client, i))
                console.print(f"casehall: {cases} cases, {concurrency} at a time ...")
                casehall = await measure("casehall", cases, concurrency, driver.one)
                console.print(f"baseline: {cases} workflows, {concurrency} at a time ...")
                baseline = await measure("baseline", cases, concurrency, lambda i: baseline_one(client, i))
        finally:
            terminated, failed = await driver.terminate_all(concurrency)
            if failed:
                err_console.print(f"[yellow]warning:[/yellow] {failed} benchmark workflows could not be terminated "
                                  "(ids start with 'case-', applicant 'bench')", soft_wrap=True)
    except UnknownItem as err:
        raise BenchError(str(err)) from None
    finally:
        await engine.dispose()
    return casehall, baseline, terminated


def report(casehall: Run, baseline: Run, concurrency: int, terminated: int) -> None:
    table = Table(title=f"casehall throughput ({len(casehall.latencies)} each, concurrency {concurrency})")
    table.add_column("workload")
    for column in ("runs", "wall s", "cases/s", "mean ms", "p95 ms"):
        table.add_column(column, justify="right")
    table.add_row("casehall: register -> accept -> complete", str(len(casehall.latencies)),
                  f"{casehall.seconds:.2f}", f"{casehall.rate:.1f}", f"{casehall.mean_ms:.1f}",
                  f"{casehall.p95_ms:.1f}")
    table.add_row("baseline: bare workflow, one activity", str(len(baseline.latencies)),
                  f"{baseline.seconds:.2f}", f"{baseline.rate:.1f}", f"{baseline.mean_ms:.1f}",
                  f"{baseline.p95_ms:.1f}")
    ratio = casehall.rate / baseline.rate
    table.add_row("[bold]ratio casehall / baseline[/bold]", "", "", f"[bold]{ratio:.2f}[/bold]",
                  f"{casehall.mean_ms / baseline.mean_ms:.2f}", f"{casehall.p95_ms / baseline.p95_ms:.2f}")
    console.print(table)
    console.print(f"terminated {terminated} benchmark workflows (warm-up included); their cases stay "
                  f"'awaiting_callback' in the database (applicant name '{APPLICANT.name}').")


def main(
    cases: Annotated[int, typer.Option(min=1, help="Cases (and baseline workflows) to measure.")] = 100,
    concurrency: Annotated[int, typer.Option(min=1, help="How many run at the same time.")] = 10,
) -> None:
    """Measure cases/s of register -> accept -> complete on the running stack against a bare workflow."""
    settings = Settings()
    try:
        casehall, baseline, terminated = asyncio.run(bench(settings, cases, concurrency))
    except StartupError as err:
        err_console.print(f"[red]error:[/red] the casehall stack is not running, start it first with `make run` "
                          f"({err})", soft_wrap=True)
        raise typer.Exit(1) from None
    except BenchError as err:
        err_console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(1) from None
    except (TemporalError, SQLAlchemyError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else ""
        err_console.print(f"[red]error:[/red] the benchmark failed: {type(err).__name__}: {reason} "
                          "(see the `make run` log)", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    report(casehall, baseline, concurrency, terminated)


app = typer.Typer(add_completion=False)
app.command()(main)

if __name__ == "__main__":
    app()
