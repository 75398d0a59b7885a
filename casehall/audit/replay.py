"""Replay a case's Temporal history with the current workflow code and check that it reaches what PostgreSQL holds:
the ``cases`` row and, event for event, the content of ``case_events``.

A workflow interceptor keeps the replayed ``CaseWorkflow`` instance (its ``view`` is read once the history is
consumed) and every ``record_case_event`` input the replayed code produced, so the comparison is with what the
current code does, not with the result the old run wrote into the history."""

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

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

from casehall.audit.chain import Held, held_cases
from casehall.core.hashing import canonical
from casehall.models.activity_io import RecordEventInput
from casehall.models.case import CaseView
from casehall.models.tables import Case, CaseEvent
from casehall.workflows.registry import RUNNER, WORKFLOWS

RECORD_ACTIVITY = "record_case_event"
T = TypeVar("T")


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
class CapturedRun:
    """What the replayed code did on one history: its workflow instance and the inputs of its recorder's calls."""

    instance: Any = None
    records: list[Any] = field(default_factory=list)


class Capture(Interceptor):
    """Keeps, per workflow id, the replayed workflow instance and the inputs of every call of the local activity
    ``activity`` (the recorder of its events): hall cases (``record_case_event``) and hotline orders
    (``record_order_event``) are audited with it alike."""

    def __init__(self, activity: str) -> None:
        self.activity = activity
        self.runs: dict[str, CapturedRun] = {}

    def take(self, workflow_id: str) -> CapturedRun:
        """The run of ``workflow_id`` (empty if its code never started), forgotten here."""
        return self.runs.pop(workflow_id, None) or CapturedRun()

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        runs, activity = self.runs, self.activity

        class Outbound(WorkflowOutboundInterceptor):
            def start_local_activity(self, input: StartLocalActivityInput) -> Any:
                if input.activity == activity and input.args:
                    runs[workflow.info().workflow_id].records.append(input.args[0])
                return super().start_local_activity(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                runs.setdefault(workflow.info().workflow_id, CapturedRun()).instance = workflow.instance()
                return await super().execute_workflow(input)

        return Inbound


def audit_replayer(capture: Capture, workflows: Sequence[type] | None = None) -> Replayer:
    """A replayer of decoded histories with ``workflows`` (the worker's by default), the audit's runner and
    ``capture`` watching."""
    return Replayer(workflows=WORKFLOWS if workflows is None else workflows, workflow_runner=RUNNER,
                    data_converter=pydantic_data_converter, interceptors=[capture])


def as_received(records: Sequence[Any], type_: type[T]) -> list[T]:
    """The recorder's inputs as the activity received them: through the data converter, like the original run."""
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(converter.to_payloads(records), [type_] * len(records))  # type: ignore[return-value]


@dataclass
class Replayed:
    """What the current code reached on a history: its final view and the events it recorded."""

    view: CaseView | None
    records: list[RecordEventInput]
    failure: Exception | None


def _replayed(run: CapturedRun, failure: Exception | None) -> Replayed:
    """The case's outcome; the instance is read once the replayer has let go of it (history consumed, evicted)."""
    view = getattr(run.instance, "view", None)
    return Replayed(view if isinstance(view, CaseView) else None, as_received(run.records, RecordEventInput), failure)


async def replay(history: WorkflowHistory, workflows: Sequence[type] | None = None) -> Replayed:
    """Replay ``history`` with ``workflows`` (the worker's by default)."""
    capture = Capture(RECORD_ACTIVITY)
    result = await audit_replayer(capture, workflows).replay_workflow(history, raise_on_replay_failure=False)
    return _replayed(capture.take(history.workflow_id), result.replay_failure)


async def replay_many(histories: AsyncIterator[WorkflowHistory], workflows: Sequence[type] | None = None
                      ) -> AsyncIterator[tuple[WorkflowHistory, Replayed]]:
    """Replay a stream of histories through one replaying worker (validating the workflows once, not per case)."""
    capture = Capture(RECORD_ACTIVITY)
    async with audit_replayer(capture, workflows).workflow_replay_iterator(histories) as results:
        async for result in results:
            yield result.history, _replayed(capture.take(result.history.workflow_id), result.replay_failure)


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


def outcome(history: WorkflowHistory, replayed: Replayed, source: str, case_no: str | None = None
            ) -> tuple[ReplayReport, CaseView | None]:
    """The report of a replay before any comparison, and the view to compare with PostgreSQL (None: the replay
    failed and the report is final); the report names the case the replay reached."""
    report = ReplayReport(case_no or history.workflow_id.removeprefix("case-"), source)
    report.replayed_events = len(replayed.records)
    if replayed.failure is not None:
        report.verdict, report.error = Verdict.NONDETERMINISTIC, describe_failure(replayed.failure)
        return report, None
    if replayed.view is None:
        report.verdict, report.error = Verdict.FAILED, "the replay did not reach a case view"
        return report, None
    if case_no and replayed.view.case_no != case_no:
        report.mismatches.append(f"the history is of case {replayed.view.case_no}, not {case_no}")
    report.case_no = replayed.view.case_no
    return report, replayed.view


def judge(report: ReplayReport, view: CaseView, records: Sequence[RecordEventInput], held: Held) -> ReplayReport:
    """``report`` completed with every difference between the replay and what PostgreSQL holds of the case."""
    report.mismatches += compare(view, records, held.case, held.events)
    if report.mismatches:
        report.verdict = Verdict.MISMATCH
    return report


async def verify_history(session: AsyncSession, history: WorkflowHistory, source: str, case_no: str | None = None,
                         workflows: Sequence[type] | None = None) -> ReplayReport:
    """Replay one history and compare it with the case's row and events in PostgreSQL."""
    replayed = await replay(history, workflows)
    report, view = outcome(history, replayed, source, case_no)
    if view is None:
        return report
    return judge(report, view, replayed.records, (await held_cases(session, [report.case_no]))[report.case_no])
