"""OrderWorkflow: one 12345 hotline order (工单), from the call to the callback (workflow id:
``ids.order_workflow_id``). Intake → (answered directly | dispatch → sign for → reply) → callback of every caller →
closed, or reopened to the same unit for a second handling with a supervision order."""

import asyncio

from temporalio import workflow

from casehall.workflows import versions
from casehall.workflows.access import require_operator, require_unit_member
from casehall.workflows.actions import Actions
from casehall.workflows.errors import INVALID, INVALID_STATE, refuse
from casehall.workflows.hotline.dispatch import UNIT_TASKS
from casehall.workflows.hotline.petition import OrderPetition
from casehall.workflows.recorder import Recorder

with workflow.unsafe.imports_passed_through():
    from casehall.models.commands import Command
    from casehall.models.enums import DISSATISFIED, Role
    from casehall.models.hotline import (
        ORDER_FINAL,
        WITH_UNIT,
        CallbackAnswer,
        MergeCall,
        OrderStatus,
        OrderView,
        Reply,
        StartOrderInput,
        SupervisionReason,
    )
    from casehall.models.messages import N_
    from casehall.models.order_events import OrderEventType


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow(OrderPetition):
    @workflow.init
    def __init__(self, inp: StartOrderInput) -> None:
        self.inp = inp
        self.view = OrderView(
            order_no=inp.order_no, status=OrderStatus.AWAITING_DISPATCH, kind=inp.kind,
            category_code=inp.category_code, category_name=inp.category_name, suggested_unit=inp.suggested_unit,
            location=inp.location, content=inp.content, calls=[inp.call], operator=inp.operator,
            registered_at=workflow.now(), profile=inp.profile)
        self.recorder = Recorder(self)
        self.actions = Actions(self.recorder)
        self.current = False  # set by run (versions.adopt)
        self.review_window_at_closing = False  # a petition's, set at its start (petition.REVIEW_WINDOW_AT_CLOSING)

    @workflow.run
    async def run(self, inp: StartOrderInput) -> OrderView:
        self.current = versions.adopt()
        self.recorder.published.adopt(self.current)
        call = inp.call
        petition: dict[str, str] = {}
        if self._is_petition():  # the statutory clock of the acceptance decision starts at receipt
            await self._start_petition()
            petition = {"accept_due": self._pet().accept_due.isoformat()}
        await self._record(OrderEventType.REGISTERED, inp.operator, {
            "kind": inp.kind.value, "category": inp.category_code, "channel": call.channel.value,
            "anonymous": call.caller.anonymous, "confidential": call.caller.confidential,
            "address": inp.location.address, "content": inp.content, "suggested_unit": inp.suggested_unit,
            **petition},
            open_tasks=[] if inp.answer else [self._task(
                "acceptance" if petition else "dispatch", Role.DISPATCHER, None,
                f"{inp.kind.value} {inp.category_name}：{inp.content[:80]}",
                self._pet().accept_due if petition else None)])
        if inp.answer is not None:  # a consultation answered while the caller waits: closed at intake
            self.view.answer, self.view.kb_entry_id = inp.answer, inp.kb_entry_id
            self._set_status(OrderStatus.ANSWERED)
            self.view.closed_at = workflow.now()
            await self._record(OrderEventType.ANSWERED_DIRECTLY, inp.operator,
                               {"kb_entry_id": inp.kb_entry_id, "answer": inp.answer})
        while self.view.status not in ORDER_FINAL or await self._after_final():
            status = self.view.status
            if status in WITH_UNIT:
                await self._unit_phase()
            elif self._awaiting_acceptance():
                await self._acceptance_phase()
            else:
                await workflow.wait_condition(lambda s=status: self.view.status != s)  # type: ignore[misc]
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _unit_phase(self) -> None:
        """One dispatch round: the sign-for clock, the handling clock and any pending decision run side by side
        until the order leaves the unit (replied, returned and re-dispatched)."""
        round_no = self.view.rounds
        await asyncio.gather(self._sign_watch(round_no), self._handle_watch(round_no),
                             self._decision_watch(round_no))

    # ---- human actions --------------------------------------------------------------------------------------------
    @workflow.update
    async def registration(self) -> OrderView:
        """Answers once the intake is stored (and the direct answer, for a consultation answered at once)."""
        stored = 2 if self.inp.answer is not None else 1
        await workflow.wait_condition(lambda: self.recorder.stored_seq >= stored)
        return self.view

    @workflow.update
    async def merge_call(self, cmd: Command[MergeCall]) -> OrderView:
        await self.actions.run("merge_call", cmd, lambda: self._check_merge(cmd), lambda: self._merge(cmd))
        return self.view

    @merge_call.validator
    def _validate_merge(self, cmd: Command[MergeCall]) -> None:
        self.actions.admit("merge_call", cmd, lambda: self._check_merge(cmd))

    def _check_merge(self, cmd: Command[MergeCall]) -> None:
        require_operator(cmd.actor)
        if self.view.status in ORDER_FINAL:
            raise refuse(INVALID_STATE, N_("order {order_no} is {status}: a new call cannot join it"),
                         order_no=self.view.order_no, status=self.view.status.value)
        if any(c.code_hash == cmd.body.call.code_hash for c in self.view.calls):
            raise refuse(INVALID, N_("this call is already part of order {order_no}"), order_no=self.view.order_no)

    async def _merge(self, cmd: Command[MergeCall]) -> None:
        call = cmd.body.call
        self.view.calls.append(call)
        await self._record(OrderEventType.CALL_MERGED, cmd.actor, {
            "call": len(self.view.calls) - 1, "channel": call.channel.value, "anonymous": call.caller.anonymous,
            "content": call.content})

    @workflow.update
    async def reply(self, cmd: Command[Reply]) -> OrderView:
        await self.actions.run("reply", cmd, lambda: self._check_reply(cmd), lambda: self._reply(cmd))
        return self.view

    @reply.validator
    def _validate_reply(self, cmd: Command[Reply]) -> None:
        self.actions.admit("reply", cmd, lambda: self._check_reply(cmd))

    def _check_reply(self, cmd: Command[Reply]) -> None:
        self._require_status({OrderStatus.IN_HANDLING}, "replied to (sign for it first)")
        require_unit_member(cmd.actor, self._round().lead.code, "reply to this order")

    async def _reply(self, cmd: Command[Reply]) -> None:
        rnd, now = self._round(), workflow.now()
        on_time = now <= rnd.handle_due
        self.view.reply, self.view.replied_at = cmd.body.result, now
        self.view.overdue = self.view.overdue or not on_time
        self.view.handlings += 1
        if self.view.decision is not None and self.view.decision.approve is None:
            self.view.decision = None  # a pending extension lapses with the reply
        for call in self.view.calls:
            call.callback = None  # every caller is called back about this reply
        self._set_status(OrderStatus.AWAITING_CALLBACK)
        await self._record(OrderEventType.REPLIED, cmd.actor, {
            "result": cmd.body.result, "unit": rnd.lead.code, "on_time": on_time,
            "seconds_since_dispatch": (now - rnd.dispatched_at).total_seconds(),
            "handle_due": rnd.handle_due.isoformat(), "handling": self.view.handlings},
            close=UNIT_TASKS,
            open_tasks=[self._task("callback", Role.OPERATOR, None, f"回访（{len(self.view.calls)} 位来电人）："
                                                                     f"{self.view.content[:80]}")])

    @workflow.update
    async def callback(self, cmd: Command[CallbackAnswer]) -> OrderView:
        await self.actions.run("callback", cmd, lambda: self._check_callback(cmd), lambda: self._callback(cmd))
        return self.view

    @callback.validator
    def _validate_callback(self, cmd: Command[CallbackAnswer]) -> None:
        self.actions.admit("callback", cmd, lambda: self._check_callback(cmd))

    def _check_callback(self, cmd: Command[CallbackAnswer]) -> None:
        require_operator(cmd.actor)
        self._require_status({OrderStatus.AWAITING_CALLBACK}, "called back")
        n = cmd.body.call
        if n >= len(self.view.calls):
            raise refuse(INVALID, N_("order {order_no} has {count} calls: there is no call {n}"),
                         order_no=self.view.order_no, count=len(self.view.calls), n=n)
        if self.view.calls[n].callback is not None:
            raise refuse(INVALID_STATE, N_("the caller of call {n} was already called back"), n=n)

    async def _callback(self, cmd: Command[CallbackAnswer]) -> None:
        body = cmd.body
        self.view.calls[body.call].callback = body
        self.view.rated_at[body.call] = workflow.now()
        waiting = [i for i, c in enumerate(self.view.calls) if c.callback is None]
        await self._record(OrderEventType.CALLED_BACK, cmd.actor, {
            "call": body.call, "solved": body.solved, "grade": body.grade.value, "comment": body.comment,
            "waiting": waiting})
        if waiting:
            return
        unhappy = [i for i, c in enumerate(self.view.calls)
                   if c.callback is not None and (not c.callback.solved or c.callback.grade in DISSATISFIED)]
        if not unhappy:
            await self._before_closing()
            self._set_status(OrderStatus.CLOSED)
            self.view.closed_at = workflow.now()
            await self._record(OrderEventType.CLOSED, cmd.actor, {"calls": len(self.view.calls),
                                                                  **self._closing_facts()})
            return
        await self._reopen(unhappy)

    async def _reopen(self, unhappy: list[int]) -> None:
        """Back to the same unit for a second handling, with a new handling limit and a supervision order."""
        old, now = self._round(), workflow.now()
        (handle_due,) = await self._limits(now, [self.view.profile.kinds[self.view.kind].handle])
        (extension_limit,) = await self._limits(handle_due, [self.view.profile.extension_max])
        self.view.round = old.model_copy(update={
            "dispatched_at": now, "sign_due": now, "supervise_unsigned_at": now, "handle_due": handle_due,
            "return_until": now, "extension_limit": extension_limit, "signed_at": now, "sign_steps_done": 2,
            "supervision_level": 0, "supervision_due": None, "extended": False, "second_handling": True})
        self.view.rounds += 1
        self._set_status(OrderStatus.IN_HANDLING)
        await self._record(OrderEventType.REOPENED, None, {
            "unit": old.lead.code, "unhappy_calls": unhappy, "handle_due": handle_due.isoformat(),
            "round": self.view.rounds},
            open_tasks=[self._task("reply", Role.UNIT_HANDLER, old.lead.code,
                                   f"二次办理：{self.view.content[:80]}", handle_due)])
        await self._supervise(SupervisionReason.CALLBACK, 1)

    @workflow.query(name="state")
    def state(self) -> OrderView:
        return self.view
