"""Who may do what: every access rule of casehall, used by the update validators (the one choke point for actions)
and by the API for reads and registration. Refusals name the rule, in the user's language via their message id."""

from collections.abc import Iterable
from typing import Literal

from temporalio import workflow

from casehall.workflows.errors import CONFLICT, FORBIDDEN, INVALID, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import Actor, CaseView, ServiceItemInfo
    from casehall.models.enums import Role
    from casehall.models.messages import N_

CASE_WORKERS = frozenset({Role.CLERK, Role.MANAGER, Role.DIRECTOR})
DECIDERS = frozenset({Role.MANAGER, Role.DIRECTOR})
AUDIT_READERS = frozenset({Role.AUDITOR, Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
CALENDAR_ADMINS = frozenset({Role.ADMIN})


# Roles that act on no case, consultation or order whatever its state: auditors read, admins administer.
NEVER_ACT = frozenset({Role.AUDITOR, Role.ADMIN})


def require_acting_role(actor: Actor) -> None:
    """Checked before anything else of an action (``Actions.admit``): such a user is refused the same way whatever
    the state of the case or order, so the answer tells nothing of it."""
    if actor.role in NEVER_ACT:
        raise refuse(FORBIDDEN, N_("a user with role {role} cannot act on cases"), role=actor.role.value)


def require_writer(actor: Actor) -> None:
    """Auditors read everything and write nothing; admins manage users, not cases."""
    if actor.role not in CASE_WORKERS:
        raise refuse(FORBIDDEN, N_("a user with role {role} cannot act on cases"), role=actor.role.value)


def require_helper(helper: Actor) -> None:
    """A helper (assisted handling) must be someone who can act on cases: a wrong choice is bad input."""
    if helper.role not in CASE_WORKERS:
        raise refuse(INVALID, N_("{username} ({role}) cannot be named helper: choose a clerk, manager or director"),
                     username=helper.username, role=helper.role.value)


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
        raise refuse(FORBIDDEN, N_("case {case_no} is handled by another clerk; ask for a handover or a manager of "
                                   "{department}"), case_no=view.case_no, department=item.department_code)


def require_decider(actor: Actor, item: ServiceItemInfo, what: str) -> None:
    require_writer(actor)
    if not is_decider(actor, item):
        raise refuse(FORBIDDEN, N_("only a manager or director of {department} may {what}"),
                     department=item.department_code, what=what)


def require_lead_manager(actor: Actor, lead_department: str, what: str) -> None:
    """A manager or director of a consultation's lead department."""
    require_writer(actor)
    if actor.department_code != lead_department or actor.role not in DECIDERS:
        raise refuse(FORBIDDEN, N_("only a manager of the lead department {department} may {what}"),
                     department=lead_department, what=what)


def require_member(actor: Actor, department: str, what: str) -> None:
    """A user of ``department`` (answering for it in a consultation, concluding as its lead)."""
    require_writer(actor)
    if actor.department_code != department:
        raise refuse(FORBIDDEN, N_("only users of {department} may {what}"), department=department, what=what)


def sees_id_number(actor: Actor, clerk_ids: Iterable[int | None], department_path: list[str]) -> bool:
    """The case's responsible and first clerks and the deciders of the item's department need the full number."""
    if actor.user_id in set(clerk_ids):
        return True
    return actor.role in DECIDERS and actor.department_code in department_path


def require_registrar(actor: Actor) -> None:
    """Who may register cases at a window."""
    require_writer(actor)


# ---- audit reads -----------------------------------------------------------------------------------------------
# Auditors and admins read the audit of every case; a manager or director reads that of the cases of their own
# department and of every department below it (its subtree: a section's cases are its department's too); clerks and
# hotline users read none. An export of a closing period is cut to the same cases.
AUDIT_READS_ALL = frozenset({Role.AUDITOR, Role.ADMIN})


def require_audit_reader(actor: Actor) -> None:
    if actor.role not in AUDIT_READERS:
        raise refuse(FORBIDDEN, N_("a user with role {role} cannot read the audit"), role=actor.role.value)


def reads_every_audit(actor: Actor) -> bool:
    return actor.role in AUDIT_READS_ALL


def reads_audit_of(actor: Actor, department_path: list[str]) -> bool:
    """``department_path``: the case's department, then its ancestors up to the bureau."""
    if reads_every_audit(actor):
        return True
    return actor.role in DECIDERS and actor.department_code in department_path


def require_audit_of(actor: Actor, case_no: str, department_path: list[str]) -> None:
    require_audit_reader(actor)
    if not reads_audit_of(actor, department_path):
        raise refuse(FORBIDDEN, N_("case {case_no} belongs to {department}: its audit is read by that department, "
                                   "the departments above it, auditors and administrators"),
                     case_no=case_no, department=department_path[0] if department_path else "?")


def require_calendar_admin(actor: Actor) -> None:
    if actor.role not in CALENDAR_ADMINS:
        raise refuse(FORBIDDEN, N_("only an administrator may import calendars"))


# ---- user administration ----------------------------------------------------------------------------------------
# Administrators manage the accounts: list, create, edit, disable and enable, reset passwords, lift sign-in locks,
# read the sign-in log. The log of those changes is read by administrators and by auditors too (auditors oversee
# the administrators and change nothing); the sign-in log stays with the administrators (addresses, lock work).
# An administrator never disables or changes the role of their own account (another administrator does, so that
# nobody locks themselves out by a slip); the last active administrator is never disabled or demoted (a state of
# the accounts, checked by the store under a lock).
USER_ADMINS = frozenset({Role.ADMIN})
ADMIN_CHANGE_READERS = frozenset({Role.ADMIN, Role.AUDITOR})


def require_user_admin(actor: Actor) -> None:
    if actor.role not in USER_ADMINS:
        raise refuse(FORBIDDEN, N_("only an administrator may manage user accounts"))


def require_admin_change_reader(actor: Actor) -> None:
    if actor.role not in ADMIN_CHANGE_READERS:
        raise refuse(FORBIDDEN, N_("only administrators and auditors may read the log of account changes"))


def require_other_account(actor: Actor, username: str, what: Literal["disable", "change_role"]) -> None:
    """An administrator neither disables nor changes the role of their own account."""
    require_user_admin(actor)
    if actor.username == username:
        if what == "disable":
            raise refuse(CONFLICT, N_("you cannot disable your own account: ask another administrator"))
        raise refuse(CONFLICT, N_("you cannot change your own role: ask another administrator"))


# ---- the department tree and the service catalogue -----------------------------------------------------------------
# Everyone signed in reads the service items (a clerk chooses one). Administrators create and edit departments and
# items, take departments out of use and withdraw items; the tree with what each department holds and the log of
# every change are read by administrators and auditors (who oversee them and change nothing).
CATALOGUE_ADMINS = frozenset({Role.ADMIN})
CATALOGUE_OVERSEERS = frozenset({Role.ADMIN, Role.AUDITOR})


def require_catalogue_admin(actor: Actor) -> None:
    if actor.role not in CATALOGUE_ADMINS:
        raise refuse(FORBIDDEN, N_("only an administrator may change the departments and the service catalogue"))


def require_catalogue_overseer(actor: Actor) -> None:
    if actor.role not in CATALOGUE_OVERSEERS:
        raise refuse(FORBIDDEN, N_("only administrators and auditors may read the department tree's administration "
                                   "and the log of catalogue changes"))


def sees_consultation(actor: Actor, taking_part: Iterable[list[str]]) -> bool:
    """Auditors and administrators; the users of the departments taking part; the managers and directors of the
    departments above one of them (who read those departments' cases and decide them). ``taking_part``: the
    department path (the department, then its ancestors) of the lead and of each consulted department."""
    if reads_every_audit(actor):
        return True
    return any(actor.department_code == path[0] or (actor.role in DECIDERS and actor.department_code in path)
               for path in taking_part if path)


# ---- the 12345 hotline: the centre (operators, dispatchers, supervisors) and the units -----------------------------
# For hotline users the API vouches the unit they answer for in ``Actor.department_code`` (``unit_members``).
HOTLINE_CENTRE = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR})
UNIT_ROLES = frozenset({Role.UNIT_HANDLER, Role.UNIT_HEAD})
ORDER_READERS_ALL = HOTLINE_CENTRE | {Role.AUDITOR}


def require_operator(actor: Actor) -> None:
    """Who takes calls: operators, and dispatchers and supervisors of the centre."""
    if actor.role not in HOTLINE_CENTRE:
        raise refuse(FORBIDDEN, N_("a user with role {role} cannot take hotline calls"), role=actor.role.value)


def require_dispatcher(actor: Actor, what: str, escalated: bool = False) -> None:
    """Dispatchers dispatch and decide returns and extensions; once a decision is escalated, supervisors too."""
    allowed = {Role.DISPATCHER, Role.SUPERVISOR} if escalated else {Role.DISPATCHER}
    if actor.role not in allowed:
        raise refuse(FORBIDDEN, N_("only a dispatcher of the hotline centre may {what}"), what=what)


def require_supervisor(actor: Actor, what: str) -> None:
    """Supervisors of the centre review petitions' replies and units' appeals of ratings."""
    if actor.role != Role.SUPERVISOR:
        raise refuse(FORBIDDEN, N_("only a supervisor of the hotline centre may {what}"), what=what)


def require_unit_member(actor: Actor, unit_code: str, what: str) -> None:
    """A handler or head of the unit the order is dispatched to."""
    if actor.role not in UNIT_ROLES or actor.department_code != unit_code:
        raise refuse(FORBIDDEN, N_("only users of unit {unit} may {what}"), unit=unit_code, what=what)


def sees_order(actor: Actor, units: Iterable[str]) -> bool:
    """The centre and auditors see every order; a unit's users only the orders their unit had or supervises."""
    if actor.role in ORDER_READERS_ALL:
        return True
    return actor.role in UNIT_ROLES and actor.department_code in set(units)


def sees_caller(actor: Actor, confidential: bool) -> bool:
    """The caller's name and phone: the centre always; a unit only if the caller did not ask for confidentiality."""
    return actor.role in ORDER_READERS_ALL or (actor.role in UNIT_ROLES and not confidential)


# ---- assessment: the monthly figures of units (orders) and departments (cases) ------------------------------------
# Auditors, administrators and the hotline's supervisors read every unit's figures; a unit head reads only those of
# their unit (hotline orders); a manager or director only those of their department (hall cases).
ASSESSMENT_READS_ALL = frozenset({Role.AUDITOR, Role.ADMIN, Role.SUPERVISOR})


def assessment_unit_of(actor: Actor, domain: str) -> str | None:
    """None: the actor reads every unit's figures; else the one unit (department) whose figures they read."""
    if actor.role in ASSESSMENT_READS_ALL:
        return None
    if (domain == "orders" and actor.role == Role.UNIT_HEAD) or (domain == "cases" and actor.role in DECIDERS):
        return actor.department_code
    raise refuse(FORBIDDEN, N_("a user with role {role} cannot read the assessment of {domain}"),
                 role=actor.role.value, domain=domain)


def require_assessment_of(actor: Actor, domain: str, unit: str) -> None:
    own = assessment_unit_of(actor, domain)
    if own is not None and own != unit:
        raise refuse(FORBIDDEN, N_("only the figures of {unit} are yours to read"), unit=own)
