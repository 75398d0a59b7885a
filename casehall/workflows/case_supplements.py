"""A case's side of tolerant acceptance (容缺受理): supplements arrive, reminders before the supplement deadline, and
the manager's decision once it passes (never an automatic rejection)."""

from temporalio import workflow

from casehall.workflows import tolerant_acceptance
from casehall.workflows.access import require_decider, require_responsible
from casehall.workflows.blocks import deadline_with_reminders
from casehall.workflows.case_base import SUPPLEMENT_STATES, CaseBase

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import CaseView
    from casehall.models.commands import Command, OverdueSupplementDecision, Supplement
    from casehall.models.enums import CaseStatus, Role
    from casehall.models.events import EventType


class CaseSupplements(CaseBase):
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
