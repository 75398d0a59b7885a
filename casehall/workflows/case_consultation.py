"""A case's side of joint consultation (联合会商): convene one as a child workflow, wait, act on its conclusion."""

from typing import Any

from temporalio import workflow

from casehall.workflows.access import require_decider, require_responsible
from casehall.workflows.case_base import CLERK_STATES, CaseBase
from casehall.workflows.joint_consultation import JointConsultationWorkflow
from casehall.workflows.no_veto import VETO_FROM

with workflow.unsafe.imports_passed_through():
    from casehall.models.consultation import ConclusionDecision, ConsultationInput, ConsultationView, ConveneInput
    from casehall.models.payloads import (
        Actor,
        CaseStatus,
        CaseView,
        Instruction,
        StartConsultation,
    )

# States from which a joint consultation may be convened (the same from which a veto may be asked).
CONSULT_FROM = VETO_FROM


class CaseConsultation(CaseBase):
    consultation: workflow.ChildWorkflowHandle[Any, ConsultationView] | None

    async def _consultation_phase(self) -> None:
        await workflow.wait_condition(lambda: self.consultation is not None)
        assert self.consultation is not None
        result = await self.consultation
        self.consultation = None
        await self._apply_conclusion(result)

    @workflow.update
    async def convene_consultation(self, inp: ConveneInput) -> CaseView:
        spec = StartConsultation.model_validate(inp.model_dump(exclude={"actor", "cannot_be_handled"}))
        await self._convene(inp.actor, spec, inp.cannot_be_handled)
        return self.view

    @convene_consultation.validator
    def _validate_convene(self, inp: ConveneInput) -> None:
        if inp.cannot_be_handled:
            require_responsible(inp.actor, self.view, self.item)
        else:
            require_decider(inp.actor, self.item, "convene a joint consultation")
        self._require_status(CONSULT_FROM, "sent to a joint consultation")

    async def _convene(self, actor: Actor, spec: StartConsultation, cannot_be_handled: bool) -> None:
        """Start a joint consultation as a child workflow; the case waits for its conclusion."""
        consultation_id = f"{self.view.case_no}-C{len(self.view.consultations) + 1}"
        self.view.consultations.append(consultation_id)
        self.view.consultation_resume = self.view.status
        self._set_status(CaseStatus.IN_CONSULTATION)
        self.consultation = await workflow.start_child_workflow(
            JointConsultationWorkflow.run,
            ConsultationInput(consultation_id=consultation_id, case_no=self.view.case_no, convened_by=actor,
                              **spec.model_dump()),
            id=f"consultation-{consultation_id}",
        )
        await self._record("consultation_convened", actor, {
            "consultation_id": consultation_id, "lead_department": spec.lead_department,
            "departments": spec.departments, "question": spec.question, "cannot_be_handled": cannot_be_handled},
            close_tasks=["supplement_overdue"])

    async def _apply_conclusion(self, result: ConsultationView) -> None:
        """The case continues as the consultation concluded: accept, ask to say no, or assisted handling."""
        conclusion = result.conclusion
        assert conclusion is not None
        resume = self.view.consultation_resume or CaseStatus.REGISTERED
        self._set_status(resume)
        await self._record("consultation_concluded", conclusion.by, {
            "consultation_id": result.consultation_id, "decision": conclusion.decision.value,
            "reasons": conclusion.reasons, "legal_basis": conclusion.legal_basis, "follows": conclusion.follows,
            "no_answer": conclusion.no_answer})
        if conclusion.decision == ConclusionDecision.ACCEPT and resume in CLERK_STATES:
            await self._accept(conclusion.by, "accepted_after_consultation")
        elif conclusion.decision == ConclusionDecision.VETO:
            await self._request_veto(conclusion.by, conclusion.reasons, conclusion.legal_basis,
                                     {"consultation_id": result.consultation_id})
        elif conclusion.decision == ConclusionDecision.ASSISTED_HANDLING:
            self.view.instruction = Instruction.ASSISTED_HANDLING
