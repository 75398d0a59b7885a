"""Joint consultation (联合会商): a lead department asks the departments concerned for opinions by a deadline,
escalates the silent ones, and records a conclusion that the case then acts on."""

import asyncio
from typing import Any

from temporalio import workflow

from casehall.workflows.access import DECIDERS, require_writer
from casehall.workflows.blocks import LOCAL_TIMEOUT, wait_with_schedule
from casehall.workflows.errors import FORBIDDEN, INVALID, INVALID_STATE, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.consultation import (
        Conclusion,
        ConclusionInput,
        ConsultationInput,
        ConsultationStatus,
        ConsultationTask,
        ConsultationView,
        ExtensionInput,
        Opinion,
        OpinionInput,
        RecordConsultationEventInput,
    )
    from casehall.models.payloads import Actor, Deadline, DeadlinesInput, Role


@workflow.defn(name="JointConsultationWorkflow")
class JointConsultationWorkflow:
    @workflow.init
    def __init__(self, inp: ConsultationInput) -> None:
        self.inp = inp
        self.view = ConsultationView(
            consultation_id=inp.consultation_id, case_no=inp.case_no, lead_department=inp.lead_department,
            departments=inp.departments, question=inp.question, documents=inp.documents, opened_at=workflow.now(),
        )
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: ConsultationInput) -> ConsultationView:
        await self._record("convened", inp.convened_by, {
            "lead_department": inp.lead_department, "departments": inp.departments, "question": inp.question,
            "documents": inp.documents})
        while self.view.status == ConsultationStatus.OPEN:
            version = self.view.schedule_version
            await self._schedule(version)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _schedule(self, version: int) -> None:
        """Reminder before the deadline, the silent departments' managers at it, the lead's manager after."""
        days = self.inp.deadline_days + sum(e["days"] for e in self.view.extensions)
        points = [days, max(days - self.inp.reminder_days_before, 1), days + self.inp.lead_escalation_days]
        deadline, remind, lead = await self._deadlines(self.view.opened_at, points)
        if self.view.deadline != deadline.at:
            self.view.deadline, self.view.deadline_provisional = deadline.at, deadline.provisional
        steps = [(remind.at, self._remind), (deadline.at, self._escalate_departments), (lead.at, self._escalate_lead)]

        def changed() -> bool:
            return self.view.status != ConsultationStatus.OPEN or self.view.schedule_version != version

        await wait_with_schedule(changed, steps, skip=self.view.steps_done)

    async def _remind(self) -> None:
        self.view.steps_done += 1
        if self.view.missing():
            await self._record("reminder", None, {"missing": self.view.missing()})

    async def _escalate_departments(self) -> None:
        self.view.steps_done += 1
        missing = self.view.missing()
        if missing:
            tasks = [self._task("consultation_overdue", d, "会商意见逾期未反馈") for d in missing]
            await self._record("escalated_to_department_managers", None, {"missing": missing}, tasks)

    async def _escalate_lead(self) -> None:
        self.view.steps_done += 1
        missing = self.view.missing()
        if missing:
            task = self._task("consultation_lead", self.view.lead_department, f"会商逾期: {', '.join(missing)}")
            await self._record("escalated_to_lead", None, {"missing": missing}, [task])

    # ---- updates ---------------------------------------------------------------------------------
    @workflow.update
    async def answer(self, inp: OpinionInput) -> ConsultationView:
        department = inp.department_code or inp.actor.department_code
        versions = self.view.opinions.setdefault(department, [])
        opinion = Opinion(department_code=department, version=len(versions) + 1, decision=inp.decision,
                          text=inp.text, legal_basis=inp.legal_basis, by=inp.actor, at=workflow.now())
        versions.append(opinion)
        event = "opinion_given" if opinion.version == 1 else "opinion_amended"
        await self._record(event, inp.actor, opinion.model_dump(mode="json", exclude={"by", "at"}))
        return self.view

    @answer.validator
    def _validate_answer(self, inp: OpinionInput) -> None:
        require_writer(inp.actor)
        self._require_open()
        department = inp.department_code or inp.actor.department_code
        if department not in self.view.departments:
            raise refuse(INVALID, f"department {department} is not consulted in {self.view.consultation_id}")
        if inp.actor.department_code != department:
            raise refuse(FORBIDDEN, f"only users of {department} can answer for it")

    @workflow.update
    async def extend(self, inp: ExtensionInput) -> ConsultationView:
        self.view.extensions.append({"days": inp.days, "reason": inp.reason, "by": inp.actor.username,
                                     "at": workflow.now().isoformat()})
        self.view.schedule_version += 1
        self.view.steps_done = 0
        await self._record("deadline_extended", inp.actor, {"days": inp.days, "reason": inp.reason},
                           close_tasks=True)
        return self.view

    @extend.validator
    def _validate_extend(self, inp: ExtensionInput) -> None:
        self._require_lead_manager(inp.actor, "extend the deadline")
        self._require_open()

    @workflow.update
    async def conclude(self, inp: ConclusionInput) -> ConsultationView:
        conclusion = Conclusion(decision=inp.decision, reasons=inp.reasons, legal_basis=inp.legal_basis,
                                follows=inp.follows, by=inp.actor, at=workflow.now(), no_answer=self.view.missing())
        self.view.conclusion = conclusion
        self.view.status = ConsultationStatus.CONCLUDED
        await self._record("concluded", inp.actor, conclusion.model_dump(mode="json", exclude={"by", "at"}),
                           close_tasks=True)
        return self.view

    @conclude.validator
    def _validate_conclude(self, inp: ConclusionInput) -> None:
        require_writer(inp.actor)
        if inp.actor.department_code != self.view.lead_department:
            raise refuse(FORBIDDEN, f"only the lead department {self.view.lead_department} records the conclusion")
        self._require_open()
        unknown = set(inp.follows) - {d for d, v in self.view.opinions.items() if v}
        if unknown:
            raise refuse(INVALID, f"no opinion to follow from: {', '.join(sorted(unknown))}")
        if inp.decision == "veto" and not inp.legal_basis.strip():
            raise refuse(INVALID, "a conclusion that the matter is not lawful needs its legal basis")

    @workflow.query
    def state(self) -> ConsultationView:
        return self.view

    # ---- helpers ---------------------------------------------------------------------------------
    def _require_open(self) -> None:
        if self.view.status != ConsultationStatus.OPEN:
            raise refuse(INVALID_STATE, f"consultation {self.view.consultation_id} is already concluded")

    def _require_lead_manager(self, actor: Actor, what: str) -> None:
        require_writer(actor)
        if actor.department_code != self.view.lead_department or actor.role not in DECIDERS:
            raise refuse(FORBIDDEN, f"only a manager of the lead department {self.view.lead_department} may {what}")

    def _task(self, kind: str, department: str, summary: str) -> ConsultationTask:
        return ConsultationTask(kind=kind, role=Role.MANAGER.value, department_code=department, summary=summary,
                                due_at=None)

    async def _deadlines(self, start: Any, days: list[int]) -> list[Deadline]:
        return await workflow.execute_local_activity(
            "compute_deadlines", DeadlinesInput(start=start, working_days=days), result_type=list[Deadline],
            start_to_close_timeout=LOCAL_TIMEOUT)

    async def _record(self, event: str, actor: Actor | None, payload: dict[str, Any],
                      open_tasks: list[ConsultationTask] | None = None, close_tasks: bool = False) -> None:
        async with self.lock:
            self.view.last_seq += 1
            await workflow.execute_local_activity(
                "record_consultation_event",
                RecordConsultationEventInput(seq=self.view.last_seq, type=event, actor=actor, at=workflow.now(),
                                             payload=payload, view=self.view.model_copy(deep=True),
                                             open_tasks=open_tasks or [], close_tasks=close_tasks),
                result_type=bool, start_to_close_timeout=LOCAL_TIMEOUT)
