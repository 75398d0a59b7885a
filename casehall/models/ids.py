"""Every workflow id and derived number, built in one place."""

CASE_PREFIX = "case-"
CONSULTATION_PREFIX = "consultation-"
ORDER_PREFIX = "order-"


def case_workflow_id(case_no: str) -> str:
    return f"{CASE_PREFIX}{case_no}"


def case_no_of(workflow_id: str) -> str:
    return workflow_id.removeprefix(CASE_PREFIX)


def matter_case_no(case_no: str, n: int) -> str:
    """The n-th matter (from 1) of a combined case."""
    return f"{case_no}-{n}"


def consultation_id(case_no: str, n: int) -> str:
    """The n-th joint consultation (from 1) of a case."""
    return f"{case_no}-C{n}"


def consultation_workflow_id(consultation: str) -> str:
    return f"{CONSULTATION_PREFIX}{consultation}"


def order_workflow_id(order_no: str) -> str:
    """A 12345 hotline order (工单)."""
    return f"{ORDER_PREFIX}{order_no}"
