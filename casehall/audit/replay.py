"""Replay a case's Temporal history with the current workflow code and check that it reaches what PostgreSQL holds:
the ``cases`` row and, event for event, the content of ``case_events``.

A workflow interceptor keeps the replayed ``CaseWorkflow`` instance (its ``view`` is read once the history is
consumed) and every ``record_case_event`` input the replayed code produced, so the comparison is with what the
current code does, not with the result the old run wrote into the history."""

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from casehall.core.hashing import canonical
from casehall.models.activity_io import RecordEventInput
from casehall.models.case import CaseView
from casehall.models.tables import Case, CaseEvent
from casehall.store import queries
from casehall.workflows.registry import WORKFLOWS

RECORD_ACTIVITY = "record_case_event"
# The audit's replays import casehall's own modules once instead of once per history (the sandbox still guards the
# standard library): five times the rate of a fully sandboxed replay. Non-deterministic workflow code is caught
# where the modules stay sandboxed: the worker and tests/test_replay.py.
AUDIT_RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("casehall"))


class Verdict(StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    NONDETERMINISTIC = "nondeterministic"  # the current code cannot replay the history (NondeterminismError or other)
    FAILED = "failed"  # no history to replay, or nothing to compare with


@dataclass
class ReplayReport:
    case_no: str
    source: str  # live | archive | file
    verdict: Verdict = Verdict.OK
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None
    replayed_events: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.OK


@dataclass
class _Run:
    instance: Any = None
    records: list[Any] = field(default_factory=list)


class _Capture(Interceptor):
    """Keeps, per workflow id, the replayed instance and the ``record_case_event`` inputs it produced."""

    def __init__(self) -> None:
        self.runs: dict[str, _Run] = {}

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        runs = self.runs

        class Outbound(WorkflowOutboundInterceptor):
            def start_local_activity(self, input: StartLocalActivityInput) -> Any:
                if input.activity == RECORD_ACTIVITY and input.args:
                    runs[workflow.info().workflow_id].records.append(input.args[0])
                return super().start_local_activity(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                runs.setdefault(workflow.info().workflow_id, _Run()).instance = workflow.instance()
                return await super().execute_workflow(input)

        return Inbound


@dataclass
class Replayed:
    """What the current code reached on a history: its final view and the events it recorded."""

    view: CaseView | None
    records: list[RecordEventInput]
    failure: Exception | None


def _as_activity_saw(record: Any) -> RecordEventInput:
    """The input as the activity received it: through the data converter, like the original run."""
    converter = pydantic_data_converter.payload_converter
    (decoded,) = converter.from_payloads(converter.to_payloads([record]), [RecordEventInput])
    return decoded  # type: ignore[no-any-return]


async def replay(history: WorkflowHistory, workflows: Sequence[type] | None = None) -> Replayed:
    """Replay ``history`` with ``workflows`` (the worker's by default)."""
    capture = _Capture()
    replayer = Replayer(workflows=WORKFLOWS if workflows is None else workflows, workflow_runner=AUDIT_RUNNER,
                        data_converter=pydantic_data_converter, interceptors=[capture])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    run = capture.runs.get(history.workflow_id, _Run())
    view = getattr(run.instance, "view", None)
    return Replayed(view.model_copy(deep=True) if isinstance(view, CaseView) else None,
                    [_as_activity_saw(r) for r in run.records], result.replay_failure)


async def replay_many(histories: AsyncIterator[WorkflowHistory], workflows: Sequence[type] | None = None
                      ) -> AsyncIterator[tuple[WorkflowHistory, Replayed]]:
    """Replay a stream of histories through one replaying worker (validating the workflows once, not per case)."""
    capture = _Capture()
    replayer = Replayer(workflows=WORKFLOWS if workflows is None else workflows, workflow_runner=AUDIT_RUNNER,
                        data_converter=pydantic_data_converter, interceptors=[capture])
    async with replayer.workflow_replay_iterator(histories) as results:
        async for result in results:
            run = capture.runs.pop(result.history.workflow_id, _Run())
            view = getattr(run.instance, "view", None)
            yield result.history, Replayed(view.model_copy(deep=True) if isinstance(view, CaseView) else None,
                                           [_as_activity_saw(r) for r in run.records], result.replay_failure)


def describe_failure(failure: Exception) -> str:
    """One line: a NondeterminismError, or another failure of the current code on the recorded history."""
    found = re.search(r'message: "((?:[^"\\]|\\.)*)"', str(failure))
    text = (found.group(1) if found else str(failure)).replace("\\n", " ").strip()
    label = "NondeterminismError" if isinstance(failure, workflow.NondeterminismError) else "replay failed"
    return f"{label}: {text[:400]}"


def _differences(stored: CaseEvent, rec: RecordEventInput) -> list[str]:
    """The columns of a stored event that differ from what ``repository.record_event`` writes for ``rec``."""
    recorded: dict[str, Any] = {
        "actor_id": rec.actor.user_id if rec.actor else None,
        "actor_role": rec.actor.role.value if rec.actor else None,
        "at": rec.at,
        "payload": canonical(rec.payload | ({"actor": rec.actor.username} if rec.actor else {})),
    }
    have = {"actor_id": stored.actor_id, "actor_role": stored.actor_role, "at": stored.at,
            "payload": canonical(stored.payload)}
    return [name for name, value in recorded.items() if have[name] != value]


def compare(view: CaseView, records: Sequence[RecordEventInput], case: Case | None, events: Sequence[CaseEvent]
            ) -> list[str]:
    """Every difference between the replayed state and events and what PostgreSQL holds."""
    if case is None:
        return [f"no row in cases for {view.case_no}"]
    found = []
    expected = {
        "status": view.status.value, "deadline": view.deadline, "clerk_id": view.clerk_id,
        "satisfaction": view.satisfaction.value if view.satisfaction else None, "closed_at": view.closed_at,
        "last_seq": view.last_seq, "result": view.result, "clock_paused": view.clock_paused,
    }
    for name, want in expected.items():
        have = getattr(case, name)
        if have != want:
            found.append(f"cases.{name} is {have!r}, replay reaches {want!r}")
    if len(events) != view.last_seq:
        found.append(f"case_events holds {len(events)} events, replay reaches last_seq {view.last_seq}")
    by_seq = {e.seq: e for e in events}
    for rec in records:
        stored = by_seq.get(rec.seq)
        if stored is None:
            found.append(f"event {rec.seq} ({rec.type}) recorded by the replay is missing from case_events")
            continue
        if stored.type != rec.type:
            found.append(f"event {rec.seq} is {stored.type} in case_events, replay records {rec.type}")
            continue
        differs = _differences(stored, rec)
        if differs:
            found.append(f"event {rec.seq} ({rec.type}) differs from what the replay records: {', '.join(differs)}")
    return found


async def verify_history(session: AsyncSession, history: WorkflowHistory, source: str, case_no: str | None = None,
                         workflows: Sequence[type] | None = None, replayed: Replayed | None = None) -> ReplayReport:
    """Replay one history (unless ``replayed`` is its replay) and compare it with the case's row and events in
    PostgreSQL."""
    report = ReplayReport(case_no or history.workflow_id.removeprefix("case-"), source)
    replayed = replayed or await replay(history, workflows)
    report.replayed_events = len(replayed.records)
    if replayed.failure is not None:
        report.verdict, report.error = Verdict.NONDETERMINISTIC, describe_failure(replayed.failure)
        return report
    if replayed.view is None:
        report.verdict, report.error = Verdict.FAILED, "the replay did not reach a case view"
        return report
    if case_no and replayed.view.case_no != case_no:
        report.mismatches.append(f"the history is of case {replayed.view.case_no}, not {case_no}")
    report.case_no = replayed.view.case_no
    case = await session.get(Case, replayed.view.case_no, populate_existing=True)
    events = await queries.case_events(session, replayed.view.case_no)
    report.mismatches += compare(replayed.view, replayed.records, case, events)
    if report.mismatches:
        report.verdict = Verdict.MISMATCH
    return report
