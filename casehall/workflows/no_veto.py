"""The no-veto window: a clerk says yes alone, but "no" only with a manager's approval and a written notice."""

from datetime import datetime

from temporalio import workflow

from casehall.workflows.access import require_decider, require_writer
from casehall.workflows.errors import CONFLICT, FORBIDDEN, INVALID, INVALID_STATE, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.payloads import (
        Actor,
        CaseStatus,
        CaseView,
        DocumentSpec,
        ServiceItemInfo,
        VetoDecisionInput,
        VetoState,
    )

# States from which a clerk may ask to say no (never from a closed case or a pending veto).
VETO_FROM = frozenset(
    {
        CaseStatus.REGISTERED,
        CaseStatus.AWAITING_MATERIALS,
        CaseStatus.AWAITING_SUPPLEMENT,
        CaseStatus.SUPPLEMENT_OVERDUE,
        CaseStatus.IN_HANDLING,
    }
)


def check_request(view: CaseView) -> None:
    if view.status not in VETO_FROM:
        raise refuse(INVALID_STATE, f"a veto cannot be requested while the case is {view.status.value}")


def same_decision(veto: VetoState, inp: VetoDecisionInput) -> bool:
    return veto.approve == inp.approve and (inp.approve or veto.instruction == inp.instruction)


def check_decision(view: CaseView, item: ServiceItemInfo, inp: VetoDecisionInput) -> None:
    """Refuse a decision that breaks the rules; a repeat of the same decision passes (and records nothing)."""
    require_writer(inp.actor)
    veto = view.veto
    if veto is None:
        raise refuse(INVALID_STATE, f"case {view.case_no} has no veto request to decide")
    if veto.requested_by.user_id == inp.actor.user_id:
        raise refuse(FORBIDDEN, "the requester of a veto can never decide it")
    require_decider(inp.actor, item, "decide a veto")
    if veto.approve is not None:
        if same_decision(veto, inp):
            return
        by = veto.decided_by.username if veto.decided_by else "?"
        verdict = "approved" if veto.approve else "refused"
        raise refuse(CONFLICT, f"this veto was already {verdict} by {by}; a decision cannot be changed")
    if view.status != CaseStatus.VETO_REQUESTED:
        raise refuse(INVALID_STATE, f"no veto is pending while the case is {view.status.value}")
    if not inp.approve and inp.instruction is None:
        raise refuse(INVALID, "refusing a veto needs an instruction: accept, joint_consultation or assisted_handling")


def rejection_notice(view: CaseView, item: ServiceItemInfo, veto: VetoState, at: datetime) -> DocumentSpec:
    """不予受理告知书: the written notice of the reasons and the legal basis."""
    approver: Actor | None = veto.decided_by
    return DocumentSpec(
        kind="rejection_notice",
        title="不予受理告知书",
        content={
            "case_no": view.case_no,
            "applicant": view.applicant.name,
            "item": f"{item.code} {item.name}",
            "registered_at": view.registered_at.isoformat(),
            "decided_at": at.isoformat(),
            "reasons": veto.reasons,
            "legal_basis": veto.legal_basis,
            "requested_by": veto.requested_by.username,
            "approved_by": approver.username if approver else "",
            "approver_role": approver.role.value if approver else "",
        },
    )

