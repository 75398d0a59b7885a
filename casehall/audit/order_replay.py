"""Replay a hotline order's Temporal history with the current ``OrderWorkflow`` and check that it reaches what
PostgreSQL holds, as ``casehall.audit.replay`` does for cases: every ``record_order_event`` the replayed code makes
(sequence, type, moment, payload, actor) against ``order_events``, and its final view against the ``orders`` row.
The chain of the order is verified beside it (``casehall.audit.orders``)."""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from casehall.audit.chain import ChainReport
from casehall.audit.orders import verify_orders
from casehall.audit.replay import Verdict, describe_failure
from casehall.core.codec import CodecError, decode_history
from casehall.core.hashing import canonical
from casehall.models.hotline import OrderView, RecordOrderEventInput
from casehall.models.hotline_tables import Order, OrderEvent
from casehall.models.ids import order_workflow_id
from casehall.workflows.registry import WORKFLOWS

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


class _Capture(Interceptor):
    """The replayed order's instance and every ``record_order_event`` input it produced."""

    def __init__(self) -> None:
        self.instance: Any = None
        self.records: list[Any] = []

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        capture = self

        class Outbound(WorkflowOutboundInterceptor):
            def start_local_activity(self, input: StartLocalActivityInput) -> Any:
                if input.activity == RECORD_ACTIVITY and input.args:
                    capture.records.append(input.args[0])
                return super().start_local_activity(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                capture.instance = workflow.instance()
                return await super().execute_workflow(input)

        return Inbound


def _as_stored(record: Any) -> RecordOrderEventInput:
    converter = pydantic_data_converter.payload_converter
    (decoded,) = converter.from_payloads(converter.to_payloads([record]), [RecordOrderEventInput])
    return decoded  # type: ignore[no-any-return]


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
    capture = _Capture()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, interceptors=[capture])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        report.verdict, report.error = Verdict.NONDETERMINISTIC, describe_failure(result.replay_failure)
    records = [_as_stored(r) for r in capture.records]
    report.replayed_events = len(records)
    view = getattr(capture.instance, "view", None)
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
