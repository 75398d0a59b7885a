"""The events of a hotline order. Like ``EventType`` for cases, each carries the status it leaves the order in (None:
unchanged), so the workflow, the audit and the screens read the state machine from one table. Workflow-safe."""

from enum import StrEnum


class OrderStatus(StrEnum):
    ANSWERED = "answered"  # a consultation answered at intake from the knowledge base (final)
    AWAITING_DISPATCH = "awaiting_dispatch"
    DISPATCHED = "dispatched"  # with the unit, not signed for: the handling clock already runs
    IN_HANDLING = "in_handling"  # signed for
    RETURN_REQUESTED = "return_requested"  # the unit asks to return it; the dispatcher decides; the clock runs
    AWAITING_CALLBACK = "awaiting_callback"  # replied; the callers are called back
    CLOSED = "closed"
    NOT_ACCEPTED = "not_accepted"  # a petition not accepted (final): the petitioner gets the reasons in writing
    UNDER_REVIEW = "under_review"  # a petition's reply under review (复查) by the level above


S = OrderStatus


class OrderEventType(StrEnum):
    """An order event; ``status``: where it leaves the order (None: unchanged, or back where it was)."""

    status: OrderStatus | None

    def __new__(cls, value: str, status: OrderStatus | None = None) -> "OrderEventType":
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.status = status
        return obj

    REGISTERED = "registered", S.AWAITING_DISPATCH
    ANSWERED_DIRECTLY = "answered_directly", S.ANSWERED  # a consultation answered from the knowledge base
    CALL_MERGED = "call_merged"  # a repeated call joins the open order (并单); its caller is called back too
    DISPATCHED = "dispatched", S.DISPATCHED
    SIGNED = "signed", S.IN_HANDLING
    SIGN_REMINDER = "sign_reminder"
    RETURN_REQUESTED = "return_requested", S.RETURN_REQUESTED
    RETURN_APPROVED = "return_approved", S.AWAITING_DISPATCH
    RETURN_REFUSED = "return_refused"  # back to where it was
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    DECISION_REMINDER = "decision_reminder"
    DECISION_ESCALATED = "decision_escalated"
    SUPERVISION_ORDERED = "supervision_ordered"  # 督办单: to the parent unit (or higher), counted against the unit
    SUPERVISION_RAISED = "supervision_raised"  # the supervision order's deadline passed: raised a level
    REPLIED = "replied", S.AWAITING_CALLBACK
    CALLED_BACK = "called_back"  # one caller answered; the order waits for the others
    REOPENED = "reopened", S.IN_HANDLING  # unsolved or dissatisfied: second handling by the same unit
    CLOSED = "closed", S.CLOSED
    # Petitions (信访): acceptance decided within its limit, a review (复查) requested and answered within theirs.
    PETITION_ACCEPTED = "petition_accepted"  # the handling limit runs from here
    PETITION_NOT_ACCEPTED = "petition_not_accepted", S.NOT_ACCEPTED
    ACCEPTANCE_OVERDUE = "acceptance_overdue"  # not decided in time: handed to the supervisors
    REVIEW_REQUESTED = "review_requested", S.UNDER_REVIEW
    REVIEW_OVERDUE = "review_overdue"
    REVIEW_DECIDED = "review_decided"  # then closed (reply upheld) or reopened (handled again)
    # A unit's appeal of a wrong or malicious rating (申诉复核), reviewed by a supervisor.
    RATING_APPEALED = "rating_appealed"
    APPEAL_UPHELD = "appeal_upheld"  # the rating is excluded from the unit's figures
    APPEAL_REFUSED = "appeal_refused"
