"""A case's side of the no-veto window (窗口无否决权): the request to say no, its reminders and escalation to the
director, and the one decision by a manager or director (the rules themselves are in ``no_veto``)."""

from temporalio import workflow

from casehall.workflows import clock, no_veto
from casehall.workflows.access import require_responsible
from casehall.workflows.blocks import approval_with_escalation
from casehall.workflows.case_base import CLERK_STATES
from casehall.workflows.case_consultation import CaseConsultation

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import CaseView
    from casehall.models.commands import Command, VetoDecision, VetoRequest
    from casehall.models.enums import CaseStatus, Instruction, Role
    from casehall.models.events import EventType


class CaseVeto(CaseConsultation):
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
        now = clock.now(self)
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
