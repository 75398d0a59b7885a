"""The no-veto window: a clerk says yes alone, but "no" only with a manager's approval and a written notice."""

from datetime import datetime

from temporalio import workflow

from casehall.workflows.access import require_decider, require_writer
from casehall.workflows.errors import CONFLICT, FORBIDDEN, INVALID, INVALID_STATE, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.activity_io import DocumentSpec
    from casehall.models.case import Actor, CaseView, ServiceItemInfo, VetoState
    from casehall.models.commands import Command, VetoDecision
    from casehall.models.enums import CaseStatus
    from casehall.models.messages import N_

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
        raise refuse(INVALID_STATE, N_("a veto cannot be requested while the case is {status}"),
                     status=view.status.value)


def same_decision(veto: VetoState, decision: VetoDecision) -> bool:
    return veto.approve == decision.approve and (decision.approve or veto.instruction == decision.instruction)


def check_decision(view: CaseView, item: ServiceItemInfo, cmd: Command[VetoDecision]) -> None:
    """Refuse a decision that breaks the rules; a repeat of the same decision passes (and records nothing)."""
    actor, decision = cmd.actor, cmd.body
    require_writer(actor)
    veto = view.veto
    if veto is None:
        raise refuse(INVALID_STATE, N_("case {case_no} has no veto request to decide"), case_no=view.case_no)
    if veto.requested_by.user_id == actor.user_id:
        raise refuse(FORBIDDEN, N_("the requester of a veto can never decide it"))
    require_decider(actor, item, "decide a veto")
    if veto.approve is not None:
        if same_decision(veto, decision):
            return
        by = veto.decided_by.username if veto.decided_by else "?"
        if veto.approve:
            raise refuse(CONFLICT, N_("this veto was already approved by {by}; a decision cannot be changed"), by=by)
        raise refuse(CONFLICT, N_("this veto was already refused by {by}; a decision cannot be changed"), by=by)
    if view.status != CaseStatus.VETO_REQUESTED:
        raise refuse(INVALID_STATE, N_("no veto is pending while the case is {status}"), status=view.status.value)
    if not decision.approve and decision.instruction is None:
        raise refuse(INVALID, N_("refusing a veto needs an instruction: accept, joint_consultation or "
                                 "assisted_handling"))


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

