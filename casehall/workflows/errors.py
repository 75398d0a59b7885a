"""Business refusals raised by update validators and handlers; ``type`` tells the API which HTTP status to answer,
``details`` carry the message id and its parameters so the API answers in the user's language."""

from typing import Any

from temporalio.exceptions import ApplicationError

FORBIDDEN = "Forbidden"
INVALID_STATE = "InvalidState"
CONFLICT = "Conflict"
INVALID = "Invalid"


def refuse(kind: str, msgid: str, **params: Any) -> ApplicationError:
    """A non-retryable refusal: the English text, and ``{"msgid", "params"}`` for translation."""
    return ApplicationError(msgid.format(**params), {"msgid": msgid, "params": params}, type=kind,
                            non_retryable=True)
