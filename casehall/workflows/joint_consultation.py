"""Joint consultation (联合会商): a lead department asks the departments concerned for opinions by a deadline,
escalates the silent ones, and records a conclusion that the case then acts on."""

from datetime import datetime
from typing import Any

from temporalio import workflow

from casehall.workflows import clock, versions
from casehall.workflows.access import require_lead_manager, require_member, require_writer
from casehall.workflows.actions import Actions
from casehall.workflows.blocks import LOCAL_TIMEOUT, wait_with_schedule
from casehall.workflows.errors import FORBIDDEN, INVALID, INVALID_STATE, refuse
from casehall.workflows.recorder import Recorder

with workflow.unsafe.imports_passed_through():
    from casehall.activities.case import CaseActivities
    from casehall.models.activity_io import DeadlinesInput
    from casehall.models.case import Actor, Deadline
    from casehall.models.commands import Command
    from casehall.models.consultation import (
        Conclusion,
        ConclusionBody,
        ConsultationInput,
        ConsultationStatus,
        ConsultationTask,
        ConsultationView,
        ExtensionBody,
        Opinion,
        OpinionBody,
        RecordConsultationEventInput,
    )
    from casehall.models.enums import Role
    from casehall.models.events import ConsultationEventType as E
    from casehall.models.messages import N_

# The deadline is stored with the "convened" event (cases convened before computed it after, with the schedule).
DEADLINE_WHEN_CONVENED = "consultation-deadline-stored-when-convened"


@workflow.defn(name="JointConsultationWorkflow")
class JointConsultationWorkflow:
    @workflow.init
    def __init__(self, inp: ConsultationInput) -> None:
        self.inp = inp
        self.view = ConsultationView(
            consultation_id=inp.consultation_id, case_no=inp.case_no, lead_department=inp.lead_department,
            departments=inp.departments, question=inp.question, documents=inp.documents, opened_at=workflow.now(),
        )
        self.recorder = Recorder(self)
        self.actions = Actions(self.recorder)
        self.current = False  # set by run (versions.adopt)
        self.stable_times = False  # set by run (clock.adopt)
        self.computed: dict[int, list[Deadline]] = {}  # per schedule version

    @workflow.run
    async def run(self, inp: ConsultationInput) -> ConsultationView:
        self.current = versions.adopt()
        self.stable_times = self.current or clock.adopt()
        self.recorder.published.adopt(self.current)
        with clock.triggered():
            if versions.holds(self, DEADLINE_WHEN_CONVENED):
                deadline, *_ = await self._points(self.view.schedule_version)
                self.view.deadline, self.view.deadline_provisional = deadline.at, deadline.provisional
            await self._record(E.CONVENED, inp.convened_by, {
                "lead_department": inp.lead_department, "departments": inp.departments, "question": inp.question,
                "documents": inp.documents})
        while self.view.status == ConsultationStatus.OPEN:
            version = self.view.schedule_version
            await self._schedule(version)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _points(self, version: int) -> list[Deadline]:
        """Deadline, reminder and the lead's escalation for a schedule version (computed once per version)."""
        if version not in self.computed:
            days = self.inp.deadline_days + sum(e["days"] for e in self.view.extensions)
            points = [days, max(days - self.inp.reminder_days_before, 1), days + self.inp.lead_escalation_days]
            self.computed[version] = await self._deadlines(self.view.opened_at, points)
        return self.computed[version]

    async def _schedule(self, version: int) -> None:
        """Reminder before the deadline, the silent departments' managers at it, the lead's manager after."""
        deadline, remind, lead = await self._points(version)
        if self.view.deadline != deadline.at:
            self.view.deadline, self.view.deadline_provisional = deadline.at, deadline.provisional
        steps = [(remind.at, self._remind), (deadline.at, self._escalate_departments), (lead.at, self._escalate_lead)]

        def changed() -> bool:
            return self.view.status != ConsultationStatus.OPEN or self.view.schedule_version != version

        await wait_with_schedule(changed, steps, skip=self.view.steps_done)

    async def _remind(self) -> None:
        self.view.steps_done += 1
        if self.view.missing():
            await self._record(E.REMINDER, None, {"missing": self.view.missing()})

    async def _escalate_departments(self) -> None:
        self.view.steps_done += 1
        missing = self.view.missing()
        if missing:
            tasks = [self._task("consultation_overdue", d, "会商意见逾期未反馈") for d in missing]
            await self._record(E.ESCALATED_TO_DEPARTMENT_MANAGERS, None, {"missing": missing}, tasks)

    async def _escalate_lead(self) -> None:
        self.view.steps_done += 1
        missing = self.view.missing()
        if missing:
            task = self._task("consultation_lead", self.view.lead_department, f"会商逾期: {', '.join(missing)}")
            await self._record(E.ESCALATED_TO_LEAD, None, {"missing": missing}, [task])

    # ---- updates ---------------------------------------------------------------------------------
    @workflow.update
    async def answer(self, cmd: Command[OpinionBody]) -> ConsultationView:
        await self.actions.run("answer", cmd, lambda: self._check_answer(cmd), lambda: self._answer(cmd))
        return self.view

    async def _answer(self, cmd: Command[OpinionBody]) -> None:
        await self._convened()
        body = cmd.body
        department = body.department_code or cmd.actor.department_code
        versions = self.view.opinions.setdefault(department, [])
        opinion = Opinion(department_code=department, version=len(versions) + 1, decision=body.decision,
                          text=body.text, legal_basis=body.legal_basis, by=cmd.actor, at=clock.now(self))
        versions.append(opinion)
        event = E.OPINION_GIVEN if opinion.version == 1 else E.OPINION_AMENDED
        await self._record(event, cmd.actor, opinion.model_dump(mode="json", exclude={"by", "at"}))

    @answer.validator
    def _validate_answer(self, cmd: Command[OpinionBody]) -> None:
        self.actions.admit("answer", cmd, lambda: self._check_answer(cmd))

    def _check_answer(self, cmd: Command[OpinionBody]) -> None:
        require_writer(cmd.actor)
        self._require_open()
        department = cmd.body.department_code or cmd.actor.department_code
        if department not in self.view.departments:  # one's own department taking no part at all: no right
            outsider = cmd.body.department_code is None and department != self.view.lead_department
            raise refuse(FORBIDDEN if outsider else INVALID,
                         N_("department {department} is not consulted in {consultation_id}"),
                         department=department, consultation_id=self.view.consultation_id)
        require_member(cmd.actor, department, "answer for it")

    @workflow.update
    async def extend(self, cmd: Command[ExtensionBody]) -> ConsultationView:
        await self.actions.run("extend", cmd, lambda: self._check_extend(cmd), lambda: self._extend(cmd))
        return self.view

    async def _extend(self, cmd: Command[ExtensionBody]) -> None:
        await self._convened()
        self.view.extensions.append({"days": cmd.body.days, "reason": cmd.body.reason, "by": cmd.actor.username,
                                     "at": clock.now(self).isoformat()})
        self.view.schedule_version += 1
        self.view.steps_done = 0
        await self._record(E.DEADLINE_EXTENDED, cmd.actor, {"days": cmd.body.days, "reason": cmd.body.reason},
                           close_tasks=True)

    @extend.validator
    def _validate_extend(self, cmd: Command[ExtensionBody]) -> None:
        self.actions.admit("extend", cmd, lambda: self._check_extend(cmd))

    def _check_extend(self, cmd: Command[ExtensionBody]) -> None:
        require_lead_manager(cmd.actor, self.view.lead_department, "extend the deadline")
        self._require_open()

    @workflow.update
    async def conclude(self, cmd: Command[ConclusionBody]) -> ConsultationView:
        await self.actions.run("conclude", cmd, lambda: self._check_conclude(cmd), lambda: self._conclude(cmd))
        return self.view

    async def _conclude(self, cmd: Command[ConclusionBody]) -> None:
        await self._convened()
        body = cmd.body
        conclusion = Conclusion(decision=body.decision, reasons=body.reasons, legal_basis=body.legal_basis,
                                follows=body.follows, by=cmd.actor, at=clock.now(self), no_answer=self.view.missing())
        self.view.conclusion = conclusion
        self.view.status = ConsultationStatus.CONCLUDED
        await self._record(E.CONCLUDED, cmd.actor, conclusion.model_dump(mode="json", exclude={"by", "at"}),
                           close_tasks=True)

    @conclude.validator
    def _validate_conclude(self, cmd: Command[ConclusionBody]) -> None:
        self.actions.admit("conclude", cmd, lambda: self._check_conclude(cmd))

    def _check_conclude(self, cmd: Command[ConclusionBody]) -> None:
        require_member(cmd.actor, self.view.lead_department, "record the conclusion")
        self._require_open()
        unknown = set(cmd.body.follows) - {d for d, v in self.view.opinions.items() if v}
        if unknown:
            raise refuse(INVALID, N_("no opinion to follow from: {departments}"),
                         departments=", ".join(sorted(unknown)))
        if cmd.body.decision == "veto" and not cmd.body.legal_basis.strip():
            raise refuse(INVALID, N_("a conclusion that the matter is not lawful needs its legal basis"))

    @workflow.signal(name="retry_failed_work")
    def retry_failed_work(self) -> None:
        """An operator repaired what the database refused: try the waiting transition again."""
        self.recorder.retry_requested = True

    @workflow.query(name="state")
    def state(self) -> ConsultationView:
        return self.view

    # ---- helpers ---------------------------------------------------------------------------------
    async def _convened(self) -> None:
        """Answers wait until the consultation's "convened" is stored: it is always its first event."""
        if versions.holds(self, DEADLINE_WHEN_CONVENED):
            await workflow.wait_condition(lambda: self.recorder.stored_seq >= 1)

    def _require_open(self) -> None:
        if self.view.status != ConsultationStatus.OPEN:
            raise refuse(INVALID_STATE, N_("consultation {consultation_id} is already concluded"),
                         consultation_id=self.view.consultation_id)

    def _task(self, kind: str, department: str, summary: str) -> ConsultationTask:
        return ConsultationTask(kind=kind, role=Role.MANAGER.value, department_code=department, summary=summary,
                                due_at=None)

    async def _deadlines(self, start: datetime, days: list[int]) -> list[Deadline]:
        return await workflow.execute_local_activity_method(
            CaseActivities.compute_deadlines, DeadlinesInput(start=start, working_days=days),
            start_to_close_timeout=LOCAL_TIMEOUT)

    async def _record(self, event: E, actor: Actor | None, payload: dict[str, Any],
                      open_tasks: list[ConsultationTask] | None = None, close_tasks: bool = False) -> None:
        async def persist(seq: int, at: datetime, view: ConsultationView) -> None:
            await workflow.execute_local_activity_method(
                CaseActivities.record_consultation_event,
                RecordConsultationEventInput(seq=seq, type=event, actor=actor, at=at, payload=payload, view=view,
                                             open_tasks=open_tasks or [], close_tasks=close_tasks),
                start_to_close_timeout=LOCAL_TIMEOUT)

        await self.recorder.record(event, persist)
