"""Replay a hotline order's Temporal history with the current ``OrderWorkflow`` and check that it reaches what
PostgreSQL holds, as ``casehall.audit.replay`` does for cases: every ``record_order_event`` the replayed code makes
(sequence, type, moment, payload, actor) against ``order_events``, and its final view against the ``orders`` row.
The chain of the order is verified beside it (``casehall.audit.orders``)."""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import PayloadCodec
from temporalio.service import RPCError, RPCStatusCode

from casehall.audit.chain import ChainReport
from casehall.audit.orders import verify_orders
from casehall.audit.replay import Capture, Verdict, as_received, audit_replayer, describe_failure
from casehall.core.codec import CodecError, decode_history
from casehall.core.hashing import canonical
from casehall.models.hotline import OrderView, RecordOrderEventInput
from casehall.models.hotline_tables import Order, OrderEvent
from casehall.models.ids import order_workflow_id

RECORD_ACTIVITY = "record_order_event"
ORDER_PREFIX = "12345-"


def is_order_no(number: str) -> bool:
    """Hotline orders are numbered ``12345-YYYYMMDD-NNNNNN``; anything else is a hall case."""
    return number.startswith(ORDER_PREFIX)


@dataclass
class OrderReplayReport:
    order_no: str
    source: str  # live | file
    verdict: Verdict = Verdict.OK
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None
    replayed_events: int = 0
    chain: ChainReport | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.OK and (self.chain is None or self.chain.ok)


def compare(view: OrderView | None, records: list[RecordOrderEventInput], row: Order | None,
            events: list[OrderEvent]) -> list[str]:
    """What differs between the replay and PostgreSQL (empty: nothing)."""
    out: list[str] = []
    stored = {e.seq: e for e in events}
    for rec in records:
        e = stored.get(rec.seq)
        if e is None:
            out.append(f"event {rec.seq} ({rec.type}) replayed but not stored")
            continue
        payload = rec.payload | ({"actor": rec.actor.username} if rec.actor else {})
        if e.type != str(rec.type):
            out.append(f"event {rec.seq}: stored {e.type}, replayed {rec.type}")
        elif e.at != rec.at:
            out.append(f"event {rec.seq} ({e.type}): stored at {e.at.isoformat()}, replayed {rec.at.isoformat()}")
        elif canonical(e.payload) != canonical(payload):
            out.append(f"event {rec.seq} ({e.type}): payload differs")
        elif e.actor_id != (rec.actor.user_id if rec.actor else None):
            out.append(f"event {rec.seq} ({e.type}): actor differs")
    replayed = {r.seq for r in records}
    out += [f"event {seq} ({stored[seq].type}) stored but not replayed" for seq in sorted(set(stored) - replayed)]
    if row is None:
        out.append("no row in orders")
    elif view is not None:
        if row.status != view.status.value:
            out.append(f"orders.status is {row.status}, the replay reached {view.status.value}")
        if row.last_seq != view.last_seq:
            out.append(f"orders.last_seq is {row.last_seq}, the replay reached {view.last_seq}")
    return out


async def verify_order_history(session: AsyncSession, history: WorkflowHistory, source: str, order_no: str
                               ) -> OrderReplayReport:
    """Replay ``history`` (decoded) and compare with what PostgreSQL holds of ``order_no``."""
    report = OrderReplayReport(order_no, source)
    capture = Capture(RECORD_ACTIVITY)
    result = await audit_replayer(capture).replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        report.verdict, report.error = Verdict.NONDETERMINISTIC, describe_failure(result.replay_failure)
    run = capture.take(history.workflow_id)
    records = as_received(run.records, RecordOrderEventInput)
    report.replayed_events = len(records)
    view = getattr(run.instance, "view", None)
    row = await session.get(Order, order_no)
    events = list((await session.scalars(select(OrderEvent).where(col(OrderEvent.order_no) == order_no)
                                         .order_by(col(OrderEvent.seq)))).all())
    report.mismatches = compare(view if isinstance(view, OrderView) else None, records, row, events)
    if report.mismatches and report.verdict == Verdict.OK:
        report.verdict = Verdict.MISMATCH
    chains = await verify_orders(session, [order_no])
    report.chain = chains[0] if chains else None
    return report


async def replay_order(client: Client | None, session: AsyncSession, order_no: str, *, file: Path | None = None,
                       codec: PayloadCodec | None = None) -> OrderReplayReport:
    """Replay one order from the Temporal server (or a history file) and compare with PostgreSQL."""
    source = "file" if file else "live"
    try:
        if file is not None:
            text = await asyncio.to_thread(file.read_text, encoding="utf-8")
            history = WorkflowHistory.from_json(order_workflow_id(order_no), text)
        elif client is None:
            return OrderReplayReport(order_no, source, Verdict.FAILED, error="no Temporal client to read the history")
        else:
            history = await client.get_workflow_handle(order_workflow_id(order_no)).fetch_history()
        history = await decode_history(history, codec or (client.data_converter.payload_codec if client else None))
    except RPCError as err:
        why = "no such order on the Temporal server" if err.status == RPCStatusCode.NOT_FOUND else err.message
        return OrderReplayReport(order_no, source, Verdict.FAILED, error=why)
    except (OSError, ValueError, json_format.Error, CodecError) as err:
        return OrderReplayReport(order_no, source, Verdict.FAILED, error=f"cannot read the history: {err}")
    return await verify_order_history(session, history, source, order_no)
