"""The events of a case and of a joint consultation. Each case event carries the status it leaves the case in, so the
workflow, the audit rebuild and the screens read the state machine from one table. Workflow-safe: stdlib only."""

from enum import StrEnum

from casehall.models.enums import CaseStatus

S = CaseStatus


class EventType(StrEnum):
    """A case event. ``status``: where it leaves the case (None: unchanged, or see ``resumes``); ``suspends``: the case
    will come back to its current status; ``resumes``: it comes back now."""

    status: CaseStatus | None
    suspends: bool
    resumes: bool

    def __new__(cls, value: str, status: CaseStatus | None = None, move: str = "") -> "EventType":
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.status, obj.suspends, obj.resumes = status, move == "suspends", move == "resumes"
        return obj

    REGISTERED = "registered", S.REGISTERED
    ONE_TIME_NOTICE_ISSUED = "one_time_notice_issued", S.AWAITING_MATERIALS
    ACCEPTED = "accepted", S.IN_HANDLING
    ACCEPTED_ON_INSTRUCTION = "accepted_on_instruction", S.IN_HANDLING
    ACCEPTED_AFTER_CONSULTATION = "accepted_after_consultation", S.IN_HANDLING
    ACCEPTED_TOLERANTLY = "accepted_tolerantly", S.AWAITING_SUPPLEMENT
    SUPPLEMENT_RECEIVED = "supplement_received"
    SUPPLEMENT_REMINDER = "supplement_reminder"
    SUPPLEMENT_OVERDUE = "supplement_overdue", S.SUPPLEMENT_OVERDUE
    SUPPLEMENT_EXTENDED = "supplement_extended", S.AWAITING_SUPPLEMENT
    MATERIALS_COMPLETE = "materials_complete", S.IN_HANDLING
    PROCEED_WITHOUT_MISSING = "proceed_without_missing", S.IN_HANDLING
    VETO_REQUESTED = "veto_requested", S.VETO_REQUESTED, "suspends"
    VETO_REMINDER = "veto_reminder"
    VETO_ESCALATED = "veto_escalated"
    VETO_APPROVED = "veto_approved", S.REJECTED
    VETO_REFUSED = "veto_refused", None, "resumes"
    CONSULTATION_CONVENED = "consultation_convened", S.IN_CONSULTATION, "suspends"
    CONSULTATION_CONCLUDED = "consultation_concluded", None, "resumes"
    MATTERS_DISPATCHED = "matters_dispatched", S.IN_HANDLING
    MATTERS_FINISHED = "matters_finished", S.AWAITING_CALLBACK
    COMPLETED = "completed", S.AWAITING_CALLBACK  # a matter of a combined case closes instead (no callback of its own)
    CALLBACK_RATED = "callback_rated", S.CLOSED
    CALLBACK_DISSATISFIED = "callback_dissatisfied", S.RECTIFICATION
    RECTIFIED = "rectified", S.CLOSED
    RECTIFICATION_OVERDUE = "rectification_overdue"  # cases started before "rectification-escalates-once"
    RECTIFICATION_ESCALATED = "rectification_escalated"
    HANDED_OVER = "handed_over"
    HANDLING_ARRANGED = "handling_arranged"
    HELPER_ASSIGNED = "helper_assigned"
    SIGNED_ON_BEHALF = "signed_on_behalf"
    DEADLINE_RECOMPUTED = "deadline_recomputed"


class ConsultationEventType(StrEnum):
    CONVENED = "convened"
    REMINDER = "reminder"
    ESCALATED_TO_DEPARTMENT_MANAGERS = "escalated_to_department_managers"
    ESCALATED_TO_LEAD = "escalated_to_lead"
    OPINION_GIVEN = "opinion_given"
    OPINION_AMENDED = "opinion_amended"
    DEADLINE_EXTENDED = "deadline_extended"
    CONCLUDED = "concluded"
