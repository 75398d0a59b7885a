"""Who may act on a case: checked in every update validator, the one choke point."""

from temporalio import workflow

from casehall.workflows.errors import FORBIDDEN, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.payloads import Actor, CaseView, Role, ServiceItemInfo

CASE_WORKERS = frozenset({Role.CLERK, Role.MANAGER, Role.DIRECTOR})
DECIDERS = frozenset({Role.MANAGER, Role.DIRECTOR})


def require_writer(actor: Actor) -> None:
    """Auditors read everything and write nothing; admins manage users, not cases."""
    if actor.role not in CASE_WORKERS:
        raise refuse(FORBIDDEN, f"a user with role {actor.role.value} cannot act on cases")


def is_decider(actor: Actor, item: ServiceItemInfo) -> bool:
    """A manager or director of the item's department, or of a department above it."""
    return actor.role in DECIDERS and actor.department_code in item.department_path


def require_responsible(actor: Actor, view: CaseView, item: ServiceItemInfo, allow_helper: bool = False) -> None:
    """The responsible clerk drives the case; the department's managers may step in; the assigned helper
    (assisted handling) may act for the applicant where ``allow_helper``."""
    require_writer(actor)
    if allow_helper and view.helper_id is not None and actor.user_id == view.helper_id:
        return
    if actor.user_id != view.clerk_id and not is_decider(actor, item):
        raise refuse(
            FORBIDDEN,
            f"case {view.case_no} is handled by another clerk; ask for a handover or a manager of "
            f"{item.department_code}",
        )


def require_decider(actor: Actor, item: ServiceItemInfo, what: str) -> None:
    require_writer(actor)
    if not is_decider(actor, item):
        raise refuse(FORBIDDEN, f"only a manager or director of {item.department_code} may {what}")
