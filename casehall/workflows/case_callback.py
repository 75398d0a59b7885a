"""Callback (回访): the applicant rates the case in five grades; no answer in time is the default rating; a bad rating
reopens it as a rectification for the manager, escalated to the director when overdue."""

from datetime import timedelta

from temporalio import workflow

from casehall.workflows import clock, versions
from casehall.workflows.access import require_decider, require_writer
from casehall.workflows.blocks import approval_with_escalation, deadline_with_reminders, wait_until
from casehall.workflows.case_base import CaseBase

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import CaseView
    from casehall.models.commands import Command, Completion, SatisfactionAnswer
    from casehall.models.enums import CaseStatus, Role
    from casehall.models.events import EventType

RECTIFICATION_ESCALATES_ONCE = "rectification-escalates-once"


class CaseCallback(CaseBase):
    async def _callback_phase(self) -> None:
        at = self.view.phase_started_at + timedelta(days=self.item.rules.callback_calendar_days)
        if not await wait_until(self._left(CaseStatus.AWAITING_CALLBACK), at):
            with clock.triggered():
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
        if versions.holds(self, RECTIFICATION_ESCALATES_ONCE):
            await deadline_with_reminders(done, due, [], remind=escalate, on_deadline=escalate,
                                          skip=self.view.phase_steps_done)
            return
        # Cases started before the patch recorded a redundant "rectification_overdue" at the same moment.
        await approval_with_escalation(
            done, due, due, remind=lambda: self._step(EventType.RECTIFICATION_OVERDUE, {}), escalate=escalate,
            skip=self.view.phase_steps_done,
        )

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
