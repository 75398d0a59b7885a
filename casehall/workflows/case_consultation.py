"""A case's side of joint consultation (联合会商): convene one as a child workflow, wait, act on its conclusion."""

from typing import Any

from temporalio import workflow

from casehall.workflows import clock
from casehall.workflows.access import require_decider, require_responsible
from casehall.workflows.case_base import CLERK_STATES, CaseBase
from casehall.workflows.joint_consultation import JointConsultationWorkflow
from casehall.workflows.no_veto import VETO_FROM
from casehall.workflows.observability import consultation_at_start

with workflow.unsafe.imports_passed_through():
    from casehall.models import ids
    from casehall.models.case import Actor, CaseView
    from casehall.models.commands import Command, StartConsultation
    from casehall.models.consultation import ConclusionDecision, ConsultationInput, ConsultationView, Convene
    from casehall.models.enums import CaseStatus, Instruction
    from casehall.models.events import EventType

# States from which a joint consultation may be convened (the same from which a veto may be asked).
CONSULT_FROM = VETO_FROM


class CaseConsultation(CaseBase):
    consultation: workflow.ChildWorkflowHandle[Any, ConsultationView] | None

    async def _consultation_phase(self) -> None:
        await workflow.wait_condition(lambda: self.consultation is not None)
        assert self.consultation is not None
        result = await self.consultation
        self.consultation = None
        with clock.triggered(result.conclusion.at if result.conclusion else None):  # as the consultation holds it
            await self._apply_conclusion(result)

    @workflow.update
    async def convene_consultation(self, cmd: Command[Convene]) -> CaseView:
        spec = StartConsultation.model_validate(cmd.body.model_dump(exclude={"cannot_be_handled"}))
        await self.actions.run("convene_consultation", cmd, lambda: self._check_convene(cmd),
                               lambda: self._convene(cmd.actor, spec, cmd.body.cannot_be_handled))
        return self.view

    @convene_consultation.validator
    def _validate_convene(self, cmd: Command[Convene]) -> None:
        self.actions.admit("convene_consultation", cmd, lambda: self._check_convene(cmd))

    def _check_convene(self, cmd: Command[Convene]) -> None:
        if cmd.body.cannot_be_handled:
            require_responsible(cmd.actor, self.view, self.item)
        else:
            require_decider(cmd.actor, self.item, "convene a joint consultation")
        self._require_status(CONSULT_FROM, "sent to a joint consultation")

    async def _convene(self, actor: Actor, spec: StartConsultation, cannot_be_handled: bool) -> None:
        """Start a joint consultation as a child workflow; the case waits for its conclusion."""
        consultation_id = ids.consultation_id(self.view.case_no, len(self.view.consultations) + 1)
        self.view.consultations.append(consultation_id)
        self.view.consultation_resume = self.view.status
        self._set_status(CaseStatus.IN_CONSULTATION)
        self.consultation = await workflow.start_child_workflow(
            JointConsultationWorkflow.run,
            ConsultationInput(consultation_id=consultation_id, case_no=self.view.case_no, convened_by=actor,
                              **spec.model_dump()),
            id=ids.consultation_workflow_id(consultation_id),
            search_attributes=consultation_at_start(self.view.case_no, spec.lead_department),
        )
        await self._record(EventType.CONSULTATION_CONVENED, actor, {
            "consultation_id": consultation_id, "lead_department": spec.lead_department,
            "departments": spec.departments, "question": spec.question, "cannot_be_handled": cannot_be_handled},
            close_tasks=["supplement_overdue"])

    async def _apply_conclusion(self, result: ConsultationView) -> None:
        """The case continues as the consultation concluded: accept, ask to say no, or assisted handling."""
        conclusion = result.conclusion
        assert conclusion is not None
        resume = self.view.consultation_resume or CaseStatus.REGISTERED
        self._set_status(resume)
        await self._record(EventType.CONSULTATION_CONCLUDED, conclusion.by, {
            "consultation_id": result.consultation_id, "decision": conclusion.decision.value,
            "reasons": conclusion.reasons, "legal_basis": conclusion.legal_basis, "follows": conclusion.follows,
            "no_answer": conclusion.no_answer})
        if conclusion.decision == ConclusionDecision.ACCEPT and resume in CLERK_STATES:
            await self._accept(conclusion.by, EventType.ACCEPTED_AFTER_CONSULTATION)
        elif conclusion.decision == ConclusionDecision.VETO:
            await self._request_veto(conclusion.by, conclusion.reasons, conclusion.legal_basis,
                                     {"consultation_id": result.consultation_id})
        elif conclusion.decision == ConclusionDecision.ASSISTED_HANDLING:
            self.view.instruction = Instruction.ASSISTED_HANDLING
