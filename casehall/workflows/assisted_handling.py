"""Assisted handling (帮办代办): a manager names a helper for a key case, who acts for the applicant; everything the
helper does is recorded as done on the applicant's behalf."""

from temporalio import workflow

from casehall.workflows.access import require_decider, require_writer
from casehall.workflows.case_base import CaseBase
from casehall.workflows.errors import FORBIDDEN, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.payloads import (
        CaseView,
        HelperInput,
        SignatureInput,
    )


class AssistedHandling(CaseBase):
    @workflow.update
    async def assign_helper(self, inp: HelperInput) -> CaseView:
        self.view.helper_id = inp.helper.user_id
        await self._record("helper_assigned", inp.actor, {"helper_id": inp.helper.user_id,
                                                          "helper": inp.helper.username})
        return self.view

    @assign_helper.validator
    def _validate_assign_helper(self, inp: HelperInput) -> None:
        require_decider(inp.actor, self.item, "assign a helper (assisted handling)")
        self._require_open()
        require_writer(inp.helper)

    @workflow.update
    async def sign_on_behalf(self, inp: SignatureInput) -> CaseView:
        await self._record("signed_on_behalf", inp.actor, {"document": inp.document, "note": inp.note,
                                                           "on_behalf_of_applicant": True})
        return self.view

    @sign_on_behalf.validator
    def _validate_sign(self, inp: SignatureInput) -> None:
        require_writer(inp.actor)
        self._require_open()
        if inp.actor.user_id != self.view.helper_id:
            raise refuse(FORBIDDEN, "only the assigned helper signs on the applicant's behalf")
