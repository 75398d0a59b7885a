"""Tolerant acceptance (容缺受理): main materials complete, secondary ones missing -> accept now, supplement later,
with one one-time notice (一次性告知单) that lists every missing item and how to supply it."""

from datetime import datetime

from temporalio import workflow

from casehall.workflows.errors import INVALID, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.activity_io import DocumentSpec
    from casehall.models.case import CaseView, Material, ServiceItemInfo
    from casehall.models.messages import N_


def missing(item: ServiceItemInfo, submitted: list[str]) -> list[Material]:
    have = set(submitted)
    return [m for m in item.materials if m.name not in have]


def main_missing(item: ServiceItemInfo, missing_names: list[str]) -> list[str]:
    return [m.name for m in item.materials if m.main and m.name in missing_names]


def check_supplement(view: CaseView, items: list[str]) -> None:
    unknown = sorted(set(items) - set(view.missing_materials))
    if unknown:
        raise refuse(INVALID, N_("not among the missing materials of {case_no}: {materials}"), case_no=view.case_no,
                     materials="、".join(unknown))


def one_time_notice(
    view: CaseView, item: ServiceItemInfo, supplement_deadline: datetime | None, at: datetime
) -> DocumentSpec:
    missing_set = set(view.missing_materials)
    lines = [
        {"material": m.name, "main": m.main, "how_to_supply": m.how_to_supply or "提交原件或加盖公章的复印件"}
        for m in item.materials
        if m.name in missing_set
    ]
    return DocumentSpec(
        kind="one_time_notice",
        title="一次性告知单",
        content={
            "case_no": view.case_no,
            "applicant": view.applicant.name,
            "item": f"{item.code} {item.name}",
            "issued_at": at.isoformat(),
            "accepted": not main_missing(item, view.missing_materials),
            "missing": lines,
            "supplement_deadline": supplement_deadline.isoformat() if supplement_deadline else None,
        },
    )
