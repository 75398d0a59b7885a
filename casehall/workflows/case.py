"""CaseWorkflow: one case at a window, from registration to callback (workflow id: ``ids.case_workflow_id``)."""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow

from casehall.workflows import no_veto, several_matters, tolerant_acceptance
from casehall.workflows.access import require_decider, require_responsible, require_writer
from casehall.workflows.actions import Actions
from casehall.workflows.assisted_handling import AssistedHandling
from casehall.workflows.blocks import approval_with_escalation, deadline_with_reminders, wait_until
from casehall.workflows.case_base import CLERK_STATES, SUPPLEMENT_STATES
from casehall.workflows.case_consultation import CaseConsultation
from casehall.workflows.errors import INVALID, INVALID_STATE, refuse
from casehall.workflows.recorder import Recorder

with workflow.unsafe.imports_passed_through():
    from casehall.models import ids
    from casehall.models.case import CaseView, RegisterCaseInput
    from casehall.models.commands import (
        Accept,
        CalendarChanged,
        Command,
        Completion,
        Handling,
        Handover,
        OverdueSupplementDecision,
        SatisfactionAnswer,
        Supplement,
        VetoDecision,
        VetoRequest,
    )
    from casehall.models.consultation import ConsultationView
    from casehall.models.enums import FINAL_STATUSES, CaseStatus, HandlingMode, Instruction, Role
    from casehall.models.events import EventType
    from casehall.models.messages import N_

RECTIFICATION_ESCALATES_ONCE = "rectification-escalates-once"


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow(CaseConsultation, AssistedHandling):
    @workflow.init
    def __init__(self, inp: RegisterCaseInput) -> None:
        self.inp = inp
        self.item = inp.item
        self.view = inp.carried or CaseView(
            case_no=inp.case_no, item_code=inp.item.code, department_code=inp.item.department_code,
            status=CaseStatus.REGISTERED, applicant=inp.applicant, channel=inp.channel, hall=inp.hall,
            window=inp.window, description=inp.description, handling_mode=inp.handling_mode,
            cross_region_urgent=inp.cross_region_urgent, first_clerk_id=inp.clerk.user_id,
            clerk_id=inp.clerk.user_id, registered_at=workflow.now(), phase_started_at=workflow.now(),
            missing_materials=[m.name for m in tolerant_acceptance.missing(inp.item, inp.submitted_materials)],
            parent_case_no=inp.parent_case_no, matters=[m.case_no for m in inp.matters],
        )
        self.recorder = Recorder(self)
        self.actions = Actions()
        self.consultation: workflow.ChildWorkflowHandle[Any, ConsultationView] | None = None

    # ---- the case's life ------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: RegisterCaseInput) -> CaseView:
        if inp.carried is None:
            await self._record(EventType.REGISTERED, inp.clerk, {
                "item": inp.item.code, "submitted": inp.submitted_materials,
                "missing": self.view.missing_materials, "handling_mode": inp.handling_mode.value,
                "cross_region_urgent": inp.cross_region_urgent,
                **({"matters": self.view.matters} if inp.matters else {}),
            })
            if inp.matters:
                await self._run_matters()
        while self.view.status not in FINAL_STATUSES:
            status = self.view.status
            phase = {
                CaseStatus.AWAITING_SUPPLEMENT: self._supplement_phase,
                CaseStatus.VETO_REQUESTED: self._veto_phase,
                CaseStatus.AWAITING_CALLBACK: self._callback_phase,
                CaseStatus.RECTIFICATION: self._rectification_phase,
                CaseStatus.IN_CONSULTATION: self._consultation_phase,
            }.get(status)
            await (phase() if phase else workflow.wait_condition(lambda s=status: self.view.status != s))  # type: ignore[misc]
            if workflow.info().is_continue_as_new_suggested() and self.view.status not in FINAL_STATUSES:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.inp.model_copy(update={"carried": self.view}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _supplement_phase(self) -> None:
        rules = self.item.rules
        days = self.view.supplement_window_days or rules.supplement_days
        points = [days] + ([days - rules.supplement_reminder_days] if days > rules.supplement_reminder_days
                           and rules.supplement_reminder_days else [])
        deadline, *reminders = await self._deadlines(self.view.phase_started_at, points)
        await deadline_with_reminders(
            self._left(CaseStatus.AWAITING_SUPPLEMENT), deadline.at, [r.at for r in reminders],
            remind=lambda: self._step(EventType.SUPPLEMENT_REMINDER, {"missing": self.view.missing_materials}),
            on_deadline=self._supplement_overdue, skip=self.view.phase_steps_done,
        )

    async def _supplement_overdue(self) -> None:
        self._set_status(CaseStatus.SUPPLEMENT_OVERDUE)
        await self._record(EventType.SUPPLEMENT_OVERDUE, None, {"missing": self.view.missing_materials},
                           open_task=self._task("supplement_overdue", Role.MANAGER, "补正期限已到，材料仍未补齐"))

    async def _veto_phase(self) -> None:
        veto = self.view.veto
        assert veto is not None
        await workflow.wait_condition(lambda: veto.escalate_at is not None)
        assert veto.remind_at is not None and veto.escalate_at is not None
        await approval_with_escalation(
            self._left(CaseStatus.VETO_REQUESTED), veto.remind_at, veto.escalate_at,
            remind=lambda: self._step(EventType.VETO_REMINDER, {"to": Role.MANAGER.value}),
            escalate=lambda: self._step(
                EventType.VETO_ESCALATED, {"to": Role.DIRECTOR.value},
                open_task=self._task("veto", Role.DIRECTOR, "否决申请超时未审批，已升级")),
            skip=self.view.phase_steps_done,
        )

    async def _callback_phase(self) -> None:
        at = self.view.phase_started_at + timedelta(days=self.item.rules.callback_calendar_days)
        if not await wait_until(self._left(CaseStatus.AWAITING_CALLBACK), at):
            await self._rate(None, self.item.rules.default_rating, "no answer: default rating")

    async def _rectification_phase(self) -> None:
        """The manager rectifies by the due time, or the director is asked to."""
        await workflow.wait_condition(lambda: self.view.rectification_due is not None)
        due = self.view.rectification_due
        assert due is not None
        escalate = lambda: self._step(  # noqa: E731
            EventType.RECTIFICATION_ESCALATED, {"to": Role.DIRECTOR.value},
            open_task=self._task("rectification", Role.DIRECTOR, "整改超期，已升级"))
        done = self._left(CaseStatus.RECTIFICATION)
        if workflow.patched(RECTIFICATION_ESCALATES_ONCE):
            await deadline_with_reminders(done, due, [], remind=escalate, on_deadline=escalate,
                                          skip=self.view.phase_steps_done)
            return
        # Cases started before the patch recorded a redundant "rectification_overdue" at the same moment.
        await approval_with_escalation(
            done, due, due, remind=lambda: self._step(EventType.RECTIFICATION_OVERDUE, {}), escalate=escalate,
            skip=self.view.phase_steps_done,
        )

    async def _run_matters(self) -> None:
        """Start one child case per matter, wait until each is completed or decided, give one combined result."""
        self._set_status(CaseStatus.IN_HANDLING)
        children = [
            await workflow.start_child_workflow(CaseWorkflow.run, child, id=ids.case_workflow_id(child.case_no))
            for child in several_matters.matter_inputs(self.inp)
        ]
        await self._record(EventType.MATTERS_DISPATCHED, None, {"matters": self.view.matters})
        results: list[CaseView] = list(await asyncio.gather(*children))
        now = workflow.now()
        self.view.result = several_matters.summary(results)
        self._set_status(CaseStatus.AWAITING_CALLBACK)
        await self._record(EventType.MATTERS_FINISHED, None, {"result": self.view.result},
                           document=several_matters.combined_result(self.view, results, now))

    # ---- human actions: updates with validators, run one at a time (``Actions``) ------------------------
    @workflow.update
    async def registration(self) -> CaseView:
        """Answers once the registration is stored, so the caller can read the case at once."""
        await workflow.wait_condition(lambda: self.recorder.stored_seq >= 1)
        return self.view

    @workflow.update
    async def accept(self, cmd: Command[Accept]) -> CaseView:
        await self.actions.run("accept", cmd, lambda: self._check_accept(cmd),
                               lambda: self._accept(cmd.actor, EventType.ACCEPTED))
        return self.view

    @accept.validator
    def _validate_accept(self, cmd: Command[Accept]) -> None:
        self.actions.admit("accept", cmd, lambda: self._check_accept(cmd))

    def _check_accept(self, cmd: Command[Accept]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        self._require_status(CLERK_STATES, "accepted")

    @workflow.update
    async def supplement(self, cmd: Command[Supplement]) -> CaseView:
        await self.actions.run("supplement", cmd, lambda: self._check_supplement(cmd),
                               lambda: self._supplement(cmd))
        return self.view

    async def _supplement(self, cmd: Command[Supplement]) -> None:
        body = cmd.body
        self.view.missing_materials = [m for m in self.view.missing_materials if m not in body.items]
        by_helper = cmd.actor.user_id == self.view.helper_id
        payload = {"items": body.items, "still_missing": self.view.missing_materials,
                   "on_behalf_of_applicant": body.on_behalf_of_applicant or by_helper, "by_helper": by_helper}
        await self._record(EventType.SUPPLEMENT_RECEIVED, cmd.actor, payload)
        if not tolerant_acceptance.main_missing(self.item, self.view.missing_materials):
            if self.view.status == CaseStatus.AWAITING_MATERIALS:
                await self._accept(cmd.actor, EventType.ACCEPTED)
            elif not self.view.missing_materials and self.view.status in SUPPLEMENT_STATES:
                await self._resume_clock(cmd.actor, EventType.MATERIALS_COMPLETE, close=["supplement_overdue"])

    @supplement.validator
    def _validate_supplement(self, cmd: Command[Supplement]) -> None:
        self.actions.admit("supplement", cmd, lambda: self._check_supplement(cmd))

    def _check_supplement(self, cmd: Command[Supplement]) -> None:
        require_responsible(cmd.actor, self.view, self.item, allow_helper=True)
        self._require_status(SUPPLEMENT_STATES | {CaseStatus.AWAITING_MATERIALS}, "supplemented")
        tolerant_acceptance.check_supplement(self.view, cmd.body.items)

    @workflow.update
    async def decide_overdue_supplement(self, cmd: Command[OverdueSupplementDecision]) -> CaseView:
        await self.actions.run("decide_overdue_supplement", cmd, lambda: self._check_overdue(cmd),
                               lambda: self._decide_overdue(cmd))
        return self.view

    async def _decide_overdue(self, cmd: Command[OverdueSupplementDecision]) -> None:
        if cmd.body.extend_days:
            self.view.supplement_window_days = cmd.body.extend_days
            self._set_status(CaseStatus.AWAITING_SUPPLEMENT)
            await self._record(EventType.SUPPLEMENT_EXTENDED, cmd.actor, {"days": cmd.body.extend_days},
                               close_tasks=["supplement_overdue"])
        else:
            await self._resume_clock(cmd.actor, EventType.PROCEED_WITHOUT_MISSING, close=["supplement_overdue"])

    @decide_overdue_supplement.validator
    def _validate_overdue(self, cmd: Command[OverdueSupplementDecision]) -> None:
        self.actions.admit("decide_overdue_supplement", cmd, lambda: self._check_overdue(cmd))

    def _check_overdue(self, cmd: Command[OverdueSupplementDecision]) -> None:
        require_decider(cmd.actor, self.item, "decide on overdue supplements")
        self._require_status({CaseStatus.SUPPLEMENT_OVERDUE}, "given an overdue-supplement decision")

    @workflow.update
    async def request_veto(self, cmd: Command[VetoRequest]) -> CaseView:
        await self.actions.run("request_veto", cmd, lambda: self._check_request_veto(cmd),
                               lambda: self._request_veto(cmd.actor, cmd.body.reasons, cmd.body.legal_basis, {}))
        return self.view

    @request_veto.validator
    def _validate_request_veto(self, cmd: Command[VetoRequest]) -> None:
        self.actions.admit("request_veto", cmd, lambda: self._check_request_veto(cmd))

    def _check_request_veto(self, cmd: Command[VetoRequest]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        no_veto.check_request(self.view)

    @workflow.update
    async def decide_veto(self, cmd: Command[VetoDecision]) -> CaseView:
        await self.actions.run("decide_veto", cmd, lambda: self._check_decide_veto(cmd),
                               lambda: self._decide_veto(cmd))
        return self.view

    async def _decide_veto(self, cmd: Command[VetoDecision]) -> None:
        veto, body = self.view.veto, cmd.body
        assert veto is not None
        if veto.approve is not None:  # the same decision again: the first answer, nothing recorded
            return
        now = workflow.now()
        veto.decided_by, veto.approve, veto.instruction = cmd.actor, body.approve, body.instruction
        veto.comment, veto.decided_at = body.comment, now
        payload = {"approve": body.approve, "instruction": body.instruction, "comment": body.comment}
        if body.approve:
            self._set_status(CaseStatus.REJECTED)
            self.view.closed_at = now
            await self._record(EventType.VETO_APPROVED, cmd.actor, payload,
                               document=no_veto.rejection_notice(self.view, self.item, veto, now))
            return
        self.view.instruction = body.instruction
        self._set_status(veto.resume_status)  # the case continues where it was, with the instruction
        await self._record(EventType.VETO_REFUSED, cmd.actor, payload, close_tasks=["veto"])
        if body.instruction == Instruction.ACCEPT and veto.resume_status in CLERK_STATES:
            await self._accept(cmd.actor, EventType.ACCEPTED_ON_INSTRUCTION)
        elif body.instruction == Instruction.JOINT_CONSULTATION and body.consultation is not None:
            await self._convene(cmd.actor, body.consultation, cannot_be_handled=False)

    @decide_veto.validator
    def _validate_decide_veto(self, cmd: Command[VetoDecision]) -> None:
        self.actions.admit("decide_veto", cmd, lambda: self._check_decide_veto(cmd))

    def _check_decide_veto(self, cmd: Command[VetoDecision]) -> None:
        no_veto.check_decision(self.view, self.item, cmd)

    @workflow.update
    async def handover(self, cmd: Command[Handover]) -> CaseView:
        await self.actions.run("handover", cmd, lambda: self._check_handover(cmd), lambda: self._handover(cmd))
        return self.view

    async def _handover(self, cmd: Command[Handover]) -> None:
        previous, to = self.view.clerk_id, cmd.body.to
        self.view.clerk_id = to.user_id
        await self._record(EventType.HANDED_OVER, cmd.actor, {"from": previous, "to": to.user_id,
                                                              "to_username": to.username, "reason": cmd.body.reason})

    @handover.validator
    def _validate_handover(self, cmd: Command[Handover]) -> None:
        self.actions.admit("handover", cmd, lambda: self._check_handover(cmd))

    def _check_handover(self, cmd: Command[Handover]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        self._require_open()
        if cmd.body.to.role != Role.CLERK or cmd.body.to.user_id == self.view.clerk_id:
            raise refuse(INVALID, N_("a case can be handed over only to another clerk"))

    @workflow.update
    async def arrange_handling(self, cmd: Command[Handling]) -> CaseView:
        await self.actions.run("arrange_handling", cmd, lambda: self._check_handling(cmd),
                               lambda: self._arrange_handling(cmd))
        return self.view

    async def _arrange_handling(self, cmd: Command[Handling]) -> None:
        body = cmd.body
        self.view.handling_mode = body.mode
        await self._record(EventType.HANDLING_ARRANGED, cmd.actor, {
            "mode": body.mode.value, "address": body.address,
            "appointment_at": body.appointment_at.isoformat() if body.appointment_at else None})

    @arrange_handling.validator
    def _validate_handling(self, cmd: Command[Handling]) -> None:
        self.actions.admit("arrange_handling", cmd, lambda: self._check_handling(cmd))

    def _check_handling(self, cmd: Command[Handling]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        self._require_open()
        if cmd.body.mode == HandlingMode.HOME_VISIT:
            at = cmd.body.appointment_at
            if at is None:
                raise refuse(INVALID, N_("a home visit needs an appointment time"))
            if at.tzinfo is None or at < workflow.now():
                raise refuse(INVALID, N_("a home visit needs an appointment time in the future, with its time zone"))

    @workflow.update
    async def complete(self, cmd: Command[Completion]) -> CaseView:
        await self.actions.run("complete", cmd, lambda: self._check_complete(cmd), lambda: self._complete(cmd))
        return self.view

    async def _complete(self, cmd: Command[Completion]) -> None:
        self.view.result = cmd.body.result
        if self.view.parent_case_no:  # a matter: the applicant is called back once, on the combined case
            self._close()
        else:
            self._set_status(CaseStatus.AWAITING_CALLBACK)
        await self._record(EventType.COMPLETED, cmd.actor, {"result": cmd.body.result})

    @complete.validator
    def _validate_complete(self, cmd: Command[Completion]) -> None:
        self.actions.admit("complete", cmd, lambda: self._check_complete(cmd))

    def _check_complete(self, cmd: Command[Completion]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        if self.view.matters:
            raise refuse(INVALID_STATE, N_("a case of several matters completes when each of its matters does"))
        self._require_status({CaseStatus.IN_HANDLING}, "completed")

    @workflow.update
    async def record_satisfaction(self, cmd: Command[SatisfactionAnswer]) -> CaseView:
        await self.actions.run("record_satisfaction", cmd, lambda: self._check_satisfaction(cmd),
                               lambda: self._rate(cmd.actor, cmd.body.grade, cmd.body.comment))
        return self.view

    @record_satisfaction.validator
    def _validate_satisfaction(self, cmd: Command[SatisfactionAnswer]) -> None:
        self.actions.admit("record_satisfaction", cmd, lambda: self._check_satisfaction(cmd))

    def _check_satisfaction(self, cmd: Command[SatisfactionAnswer]) -> None:
        require_writer(cmd.actor)
        self._require_status({CaseStatus.AWAITING_CALLBACK}, "rated")

    @workflow.update
    async def rectify(self, cmd: Command[Completion]) -> CaseView:
        await self.actions.run("rectify", cmd, lambda: self._check_rectify(cmd), lambda: self._rectify(cmd))
        return self.view

    async def _rectify(self, cmd: Command[Completion]) -> None:
        self.view.result = cmd.body.result
        self._close()
        await self._record(EventType.RECTIFIED, cmd.actor, {"result": cmd.body.result})

    @rectify.validator
    def _validate_rectify(self, cmd: Command[Completion]) -> None:
        self.actions.admit("rectify", cmd, lambda: self._check_rectify(cmd))

    def _check_rectify(self, cmd: Command[Completion]) -> None:
        require_decider(cmd.actor, self.item, "record a rectification")
        self._require_status({CaseStatus.RECTIFICATION}, "rectified")

    @workflow.signal(name="calendar_changed")
    async def calendar_changed(self, change: CalendarChanged) -> None:
        """A new official schedule: recompute a provisional legal deadline from how it was computed."""
        basis = self.view.deadline_basis
        if basis is None or not self.view.deadline_provisional or self.view.status in FINAL_STATUSES:
            return
        old = self.view.deadline
        if basis.working_days is not None:
            (new,) = await self._deadlines(basis.start, [basis.working_days], change.version)
            if self.view.clock_paused:
                self.view.remaining_seconds = await self._working_seconds(basis.start, new.at, change.version)
        else:
            new = await self._resumed_deadline(basis, change.version)
        if new.at == old and new.provisional:
            return
        self._set_deadline(new)
        await self._record(EventType.DEADLINE_RECOMPUTED, None, {
            "old": old.isoformat() if old else None, "new": new.at.isoformat(), "provisional": new.provisional,
            "calendar_year": change.year, "calendar_version": change.version})

    @workflow.query(name="state")
    def state(self) -> CaseView:
        return self.view
