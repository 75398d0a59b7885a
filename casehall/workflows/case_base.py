"""What every step of a case shares: its state, the transitions that say yes or ask to say no, and the one way
a transition is persisted (the recorder: a local activity keyed on case + sequence)."""

from datetime import datetime
from typing import Any

from temporalio import workflow

from casehall.workflows import clock, tolerant_acceptance
from casehall.workflows.actions import Actions
from casehall.workflows.blocks import LOCAL_TIMEOUT
from casehall.workflows.errors import INVALID_STATE, refuse
from casehall.workflows.recorder import Recorder

with workflow.unsafe.imports_passed_through():
    from casehall.activities.case import CaseActivities
    from casehall.models.activity_io import (
        DeadlinesInput,
        DocumentSpec,
        RecordEventInput,
        ResumeClockInput,
        TaskSpec,
        WorkingTimeInput,
    )
    from casehall.models.case import (
        Actor,
        CaseView,
        Deadline,
        DeadlineBasis,
        RegisterCaseInput,
        ServiceItemInfo,
        VetoState,
    )
    from casehall.models.enums import DISSATISFIED, FINAL_STATUSES, CaseStatus, Role, Satisfaction
    from casehall.models.events import EventType
    from casehall.models.messages import N_

CLERK_STATES = frozenset({CaseStatus.REGISTERED, CaseStatus.AWAITING_MATERIALS})
SUPPLEMENT_STATES = frozenset({CaseStatus.AWAITING_SUPPLEMENT, CaseStatus.SUPPLEMENT_OVERDUE})


class CaseBase:
    """State and transitions of ``CaseWorkflow``; the mixins and the workflow build on it."""

    inp: RegisterCaseInput
    item: ServiceItemInfo
    view: CaseView
    current: bool  # a run of the current code (versions.adopt)
    stable_times: bool  # event times are the trigger's moment (clock.adopt)
    recorder: Recorder
    actions: Actions

    def _left(self, status: CaseStatus) -> Any:
        return lambda: self.view.status != status

    # ---- transitions --------------------------------------------------------------------------------
    async def _accept(self, actor: Actor, event: EventType) -> None:
        """Say yes: no approval. Missing main materials -> one-time notice; secondary -> tolerant acceptance."""
        now = clock.now(self)
        if tolerant_acceptance.main_missing(self.item, self.view.missing_materials):
            self._set_status(CaseStatus.AWAITING_MATERIALS)
            await self._record(EventType.ONE_TIME_NOTICE_ISSUED, actor, {"missing": self.view.missing_materials},
                               document=tolerant_acceptance.one_time_notice(self.view, self.item, None, now))
            return
        days = self.item.expedited_days if self.view.cross_region_urgent else self.item.time_limit_days
        self.view.deadline_basis = DeadlineBasis(start=now, working_days=days)
        if not self.view.missing_materials:
            (deadline,) = await self._deadlines(now, [days])
            self._set_deadline(deadline)
            self._set_status(CaseStatus.IN_HANDLING)
            await self._record(event, actor, {"deadline": deadline.at.isoformat(), "working_days": days})
            return
        deadline, window = await self._deadlines(now, [days, self.item.rules.supplement_days])
        self._set_deadline(deadline)
        self.view.remaining_seconds = await self._working_seconds(now, deadline.at)
        self.view.clock_paused = True
        self._set_status(CaseStatus.AWAITING_SUPPLEMENT)
        await self._record(EventType.ACCEPTED_TOLERANTLY, actor, {
            "deadline_if_complete": deadline.at.isoformat(), "missing": self.view.missing_materials,
            "supplement_deadline": window.at.isoformat()},
            document=tolerant_acceptance.one_time_notice(self.view, self.item, window.at, now))

    async def _request_veto(self, actor: Actor, reasons: str, legal_basis: str, basis: dict[str, Any]) -> None:
        """Ask to say no: the case waits for a manager of the item's department."""
        veto = VetoState(requested_by=actor, reasons=reasons, legal_basis=legal_basis,
                         requested_at=clock.now(self), resume_status=self.view.status)
        self.view.veto = veto
        self._set_status(CaseStatus.VETO_REQUESTED)
        rules = self.item.rules
        remind, escalate = await self._deadlines(veto.requested_at,
                                                 [rules.veto_reminder_days, rules.veto_escalation_days])
        veto.remind_at, veto.escalate_at = remind.at, escalate.at
        await self._record(EventType.VETO_REQUESTED, actor,
                           {"reasons": reasons, "legal_basis": legal_basis, **basis,
                            "remind_at": remind.at.isoformat(), "escalate_at": escalate.at.isoformat()},
                           close_tasks=["supplement_overdue"],
                           open_task=self._task("veto", Role.MANAGER, f"否决申请: {reasons[:80]}", escalate.at))

    async def _resume_clock(self, actor: Actor, event: EventType, close: list[str]) -> None:
        basis = DeadlineBasis(start=clock.now(self), seconds=self.view.remaining_seconds or 0.0)
        self.view.deadline_basis = basis
        deadline = await self._resumed_deadline(basis)
        self._set_deadline(deadline)
        self.view.clock_paused, self.view.remaining_seconds = False, None
        self._set_status(CaseStatus.IN_HANDLING)
        await self._record(event, actor, {"deadline": deadline.at.isoformat(),
                                          "waived": self.view.missing_materials}, close_tasks=close)

    async def _resumed_deadline(self, basis: DeadlineBasis, version: str | None = None) -> Deadline:
        return await workflow.execute_local_activity_method(
            CaseActivities.resume_legal_clock,
            ResumeClockInput(start=basis.start, seconds=basis.seconds or 0.0, calendar_version=version),
            start_to_close_timeout=LOCAL_TIMEOUT)

    async def _working_seconds(self, start: datetime, end: datetime, version: str | None = None) -> float:
        return await workflow.execute_local_activity_method(
            CaseActivities.working_seconds_between, WorkingTimeInput(start=start, end=end, calendar_version=version),
            start_to_close_timeout=LOCAL_TIMEOUT)

    async def _rate(self, actor: Actor | None, grade: Satisfaction, comment: str) -> None:
        self.view.satisfaction = grade
        if grade in DISSATISFIED:
            self._set_status(CaseStatus.RECTIFICATION)
            (due,) = await self._deadlines(clock.now(self), [self.item.rules.rectification_days])
            self.view.rectification_due = due.at
            await self._record(EventType.CALLBACK_DISSATISFIED, actor,
                               {"grade": grade.value, "comment": comment, "due": due.at.isoformat()},
                               open_task=self._task("rectification", Role.MANAGER, f"回访不满意: {comment[:80]}",
                                                    due.at))
        else:
            self._close()
            await self._record(EventType.CALLBACK_RATED, actor, {"grade": grade.value, "comment": comment})

    # ---- helpers ------------------------------------------------------------------------------------
    def _require_status(self, allowed: frozenset[CaseStatus] | set[CaseStatus], verb: str) -> None:
        if self.view.status not in allowed:
            raise refuse(INVALID_STATE, N_("case {case_no} is {status}: it cannot be {verb} now"),
                         case_no=self.view.case_no, status=self.view.status.value, verb=verb)

    def _require_open(self) -> None:
        if self.view.status in FINAL_STATUSES:
            raise refuse(INVALID_STATE, N_("case {case_no} is {status}"), case_no=self.view.case_no,
                         status=self.view.status.value)

    def _set_status(self, status: CaseStatus) -> None:
        self.view.status = status
        self.view.phase_started_at = clock.now(self)
        self.view.phase_steps_done = 0

    def _set_deadline(self, deadline: Deadline) -> None:
        self.view.deadline, self.view.deadline_provisional = deadline.at, deadline.provisional

    def _close(self) -> None:
        self._set_status(CaseStatus.CLOSED)
        self.view.closed_at = clock.now(self)

    def _task(self, kind: str, role: Role, summary: str, due_at: datetime | None = None) -> TaskSpec:
        return TaskSpec(kind=kind, role=role, department_code=self.item.department_code, summary=summary,
                        due_at=due_at)

    async def _deadlines(self, start: datetime, days: list[int], version: str | None = None) -> list[Deadline]:
        return await workflow.execute_local_activity_method(
            CaseActivities.compute_deadlines, DeadlinesInput(start=start, working_days=days, calendar_version=version),
            start_to_close_timeout=LOCAL_TIMEOUT)

    async def _step(self, event: EventType, payload: dict[str, Any], open_task: TaskSpec | None = None) -> None:
        self.view.phase_steps_done += 1
        await self._record(event, None, payload, open_task=open_task)

    async def _record(self, event: EventType, actor: Actor | None, payload: dict[str, Any], *,
                      close_tasks: list[str] | None = None, open_task: TaskSpec | None = None,
                      document: DocumentSpec | None = None) -> None:
        """Persist one transition with the case as it stands now."""

        async def persist(seq: int, at: datetime, case: CaseView) -> None:
            await workflow.execute_local_activity_method(
                CaseActivities.record_case_event,
                RecordEventInput(seq=seq, type=event, actor=actor, at=at, payload=payload, case=case,
                                 close_tasks=close_tasks or [], open_task=open_task, document=document),
                start_to_close_timeout=LOCAL_TIMEOUT)

        await self.recorder.record(event, persist)

    @workflow.signal(name="retry_failed_work")
    def retry_failed_work(self) -> None:
        """An operator repaired what the database refused: try the waiting transition again."""
        self.recorder.retry_requested = True
