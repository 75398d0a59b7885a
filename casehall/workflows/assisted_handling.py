"""Assisted handling (帮办代办): a manager names a helper for a key case, who acts for the applicant; everything the
helper does is recorded as done on the applicant's behalf."""

from temporalio import workflow

from casehall.workflows.access import require_decider, require_helper, require_writer
from casehall.workflows.case_base import CaseBase
from casehall.workflows.errors import FORBIDDEN, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import CaseView
    from casehall.models.commands import Command, Helper, Signature
    from casehall.models.events import EventType
    from casehall.models.messages import N_


class AssistedHandling(CaseBase):
    @workflow.update
    async def assign_helper(self, cmd: Command[Helper]) -> CaseView:
        await self.actions.run("assign_helper", cmd, lambda: self._check_assign_helper(cmd),
                               lambda: self._assign_helper(cmd))
        return self.view

    async def _assign_helper(self, cmd: Command[Helper]) -> None:
        helper = cmd.body.helper
        self.view.helper_id = helper.user_id
        await self._record(EventType.HELPER_ASSIGNED, cmd.actor, {"helper_id": helper.user_id,
                                                                  "helper": helper.username})

    @assign_helper.validator
    def _validate_assign_helper(self, cmd: Command[Helper]) -> None:
        self.actions.admit("assign_helper", cmd, lambda: self._check_assign_helper(cmd))

    def _check_assign_helper(self, cmd: Command[Helper]) -> None:
        require_decider(cmd.actor, self.item, "assign a helper (assisted handling)")
        self._require_open()
        require_helper(cmd.body.helper)

    @workflow.update
    async def sign_on_behalf(self, cmd: Command[Signature]) -> CaseView:
        await self.actions.run("sign_on_behalf", cmd, lambda: self._check_sign(cmd),
                               lambda: self._record(EventType.SIGNED_ON_BEHALF, cmd.actor, {
                                   "document": cmd.body.document, "note": cmd.body.note,
                                   "on_behalf_of_applicant": True}))
        return self.view

    @sign_on_behalf.validator
    def _validate_sign(self, cmd: Command[Signature]) -> None:
        self.actions.admit("sign_on_behalf", cmd, lambda: self._check_sign(cmd))

    def _check_sign(self, cmd: Command[Signature]) -> None:
        require_writer(cmd.actor)
        self._require_open()
        if cmd.actor.user_id != self.view.helper_id:
            raise refuse(FORBIDDEN, N_("only the assigned helper signs on the applicant's behalf"))
