"""Business refusals raised by update validators; ``type`` tells the API which HTTP status to answer."""

from temporalio.exceptions import ApplicationError

FORBIDDEN = "Forbidden"
INVALID_STATE = "InvalidState"
CONFLICT = "Conflict"
INVALID = "Invalid"


def refuse(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)
