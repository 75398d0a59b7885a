"""The vocabularies of a case: roles, statuses, grades, channels. Workflow-safe: stdlib only."""

from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"
    MANAGER = "manager"
    DIRECTOR = "director"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # The 12345 hotline: the centre takes calls, dispatches and supervises; units sign for, handle and reply.
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    UNIT_HANDLER = "unit_handler"
    UNIT_HEAD = "unit_head"
    SUPERVISOR = "supervisor"


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    AWAITING_MATERIALS = "awaiting_materials"  # main materials missing: one-time notice, nothing rejected
    AWAITING_SUPPLEMENT = "awaiting_supplement"  # tolerant acceptance: accepted, legal clock paused
    SUPPLEMENT_OVERDUE = "supplement_overdue"  # supplement deadline passed: the manager decides
    IN_HANDLING = "in_handling"
    VETO_REQUESTED = "veto_requested"
    IN_CONSULTATION = "in_consultation"  # a joint consultation runs; the case waits for its conclusion
    AWAITING_CALLBACK = "awaiting_callback"
    RECTIFICATION = "rectification"
    CLOSED = "closed"
    REJECTED = "rejected"


FINAL_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.REJECTED})
# States in which the legal clock runs: past the deadline here, a case is overdue. A completed case awaiting its
# callback is not, nor is one whose clock is paused for supplements.


CLOCK_RUNNING = frozenset(
    {CaseStatus.IN_HANDLING, CaseStatus.VETO_REQUESTED, CaseStatus.IN_CONSULTATION, CaseStatus.SUPPLEMENT_OVERDUE}
)


class Satisfaction(StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


DISSATISFIED = frozenset({Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED})


class Channel(StrEnum):
    WINDOW = "window"
    ONLINE = "online"
    PHONE = "phone"
    HOTLINE = "hotline"


class HandlingMode(StrEnum):
    WINDOW = "window"
    ONLINE = "online"
    HOME_VISIT = "home_visit"


class Instruction(StrEnum):
    """What a manager tells the clerk to do instead of saying no."""

    ACCEPT = "accept"
    JOINT_CONSULTATION = "joint_consultation"
    ASSISTED_HANDLING = "assisted_handling"
