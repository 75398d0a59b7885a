"""Text types that PostgreSQL can store: every string a workflow persists is one of these, so a value the
database would refuse (NUL, lone surrogates, other control characters) is refused at the boundary, before anything
is recorded."""

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# NUL cannot be stored in PostgreSQL text or jsonb; lone surrogates cannot be encoded as UTF-8; other C0 controls
# (except tab and line breaks) and DEL have no place in a clerk's text.
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(value: str) -> str:
    """The value unchanged, or ValueError if PostgreSQL would refuse it."""
    if _REFUSED.search(value):
        raise ValueError("含有不可保存的控制字符（如 NUL）")
    return value


Storable = AfterValidator(storable)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), Storable]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), Storable]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Storable]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), Storable]
