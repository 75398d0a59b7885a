"""Several matters at one window (统一受理、集中经办): one case, one child case per matter, each with its own
department and deadline; the case completes when every matter is completed or decided, with one combined result."""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from casehall.models.activity_io import DocumentSpec
    from casehall.models.case import CaseView, RegisterCaseInput
    from casehall.models.enums import CaseStatus

DONE = {CaseStatus.CLOSED: "办结", CaseStatus.REJECTED: "不予受理"}


def matter_inputs(parent: RegisterCaseInput) -> list[RegisterCaseInput]:
    """The child cases' inputs: same applicant, clerk and window; each its own item and materials."""
    shared = parent.model_dump(exclude={"case_no", "item", "submitted_materials", "matters", "parent_case_no",
                                        "carried"})
    return [
        RegisterCaseInput(case_no=m.case_no, item=m.item, submitted_materials=m.submitted_materials,
                          parent_case_no=parent.case_no, **shared)
        for m in parent.matters
    ]


def combined_result(parent: CaseView, matters: list[CaseView], at: datetime) -> DocumentSpec:
    """One result for the applicant, matter by matter."""
    lines = []
    for m in matters:
        reason = m.veto.reasons if m.status == CaseStatus.REJECTED and m.veto else ""
        basis = m.veto.legal_basis if m.status == CaseStatus.REJECTED and m.veto else ""
        lines.append({"case_no": m.case_no, "item": m.item_code, "department": m.department_code,
                      "outcome": DONE.get(m.status, m.status.value), "result": m.result or "", "reasons": reason,
                      "legal_basis": basis})
    return DocumentSpec(kind="combined_result", title="办理结果告知书", content={
        "case_no": parent.case_no, "applicant": parent.applicant.name, "issued_at": at.isoformat(),
        "matters": lines})


def summary(matters: list[CaseView]) -> str:
    done = sum(m.status == CaseStatus.CLOSED for m in matters)
    return f"{done} of {len(matters)} matters completed, {len(matters) - done} decided otherwise"
