"""The hash chain of a case's events: sha256 over a canonical JSON encoding."""

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    prev_hash: str, case_no: str, seq: int, type_: str, actor_id: int | None, at: datetime, payload: dict[str, Any]
) -> str:
    body = canonical(
        {"prev": prev_hash, "case": case_no, "seq": seq, "type": type_, "actor": actor_id,
         "at": at.isoformat(), "payload": payload}
    )
    return hashlib.sha256(body.encode()).hexdigest()
