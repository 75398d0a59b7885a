"""Dispatch (派单) to a lead unit and co-units; return (退单) only with a reason and extension (延期) only before
the deadline, each decided by the dispatcher (approval with escalation: reminded, then the supervisors take it
over). An approved return is re-dispatched, and the time the order spent with the unit is charged to it."""

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

from casehall.workflows.access import require_dispatcher, require_unit_member
from casehall.workflows.blocks import approval_with_escalation
from casehall.workflows.errors import INVALID, INVALID_STATE, refuse
from casehall.workflows.hotline.sign_for import OrderSignFor

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import Actor
    from casehall.models.commands import Command
    from casehall.models.enums import Role
    from casehall.models.hotline import (
        Decision,
        Dispatch,
        DispatchRound,
        ExtensionDecision,
        ExtensionRequest,
        OrderStatus,
        OrderView,
        ReturnDecision,
        ReturnRequest,
    )
    from casehall.models.messages import N_
    from casehall.models.order_events import OrderEventType

UNIT_TASKS = ["sign_for", "reply", "assist", "supervision", "return_decision", "extension_decision"]


class OrderDispatch(OrderSignFor):
    # ---- dispatch -----------------------------------------------------------------------------------------------
    @workflow.update
    async def dispatch(self, cmd: Command[Dispatch]) -> OrderView:
        await self.actions.run("dispatch", cmd, lambda: self._check_dispatch(cmd),
                               lambda: self._dispatch(cmd.actor, cmd.body))
        return self.view

    @dispatch.validator
    def _validate_dispatch(self, cmd: Command[Dispatch]) -> None:
        self.actions.admit("dispatch", cmd, lambda: self._check_dispatch(cmd))

    def _check_dispatch(self, cmd: Command[Dispatch]) -> None:
        require_dispatcher(cmd.actor, "dispatch orders")
        self._require_status({OrderStatus.AWAITING_DISPATCH}, "dispatched")
        self._check_units(cmd.body)

    @staticmethod
    def _check_units(body: Dispatch) -> None:
        codes = [u.code for u in body.co_units]
        if body.lead.code in codes or len(set(codes)) != len(codes):
            raise refuse(INVALID, N_("the lead unit and the co-units must be different units"))

    async def _dispatch(self, actor: Actor, body: Dispatch) -> None:
        """The handling clock starts now: sign-for and handling limits are both counted from dispatch."""
        now, profile = workflow.now(), self.view.profile
        limits = profile.kinds[self.view.kind]
        sign_due, handle_due, return_until = await self._limits(
            now, [limits.sign_for, limits.handle, profile.return_within])
        (supervise_at,) = await self._limits(sign_due, [profile.sign_for_grace])
        (extension_limit,) = await self._limits(handle_due, [profile.extension_max])
        handle_due, extension_limit = await self._handling_window(handle_due, extension_limit)
        self.view.round = DispatchRound(
            lead=body.lead, co_units=body.co_units, dispatched_at=now, sign_due=sign_due,
            supervise_unsigned_at=supervise_at, handle_due=handle_due, return_until=return_until,
            extension_limit=extension_limit)
        self.view.rounds += 1
        self._see([body.lead.code, *(u.code for u in body.co_units)])
        self._set_status(OrderStatus.DISPATCHED)
        summary = f"{self.view.kind.value} {self.view.category_name}：{self.view.content[:80]}"
        await self._record(OrderEventType.DISPATCHED, actor, {
            "lead_unit": body.lead.code, "co_units": [u.code for u in body.co_units], "note": body.note,
            "round": self.view.rounds, "sign_due": sign_due.isoformat(), "handle_due": handle_due.isoformat(),
            "return_until": return_until.isoformat()},
            close=["dispatch"],
            open_tasks=[self._task("sign_for", Role.UNIT_HANDLER, body.lead.code, f"签收：{summary}", sign_due),
                        *(self._task("assist", Role.UNIT_HANDLER, u.code, f"协办：{summary}", handle_due)
                          for u in body.co_units)])

    # ---- return ---------------------------------------------------------------------------------------------------
    @workflow.update
    async def request_return(self, cmd: Command[ReturnRequest]) -> OrderView:
        await self.actions.run("request_return", cmd, lambda: self._check_return(cmd),
                               lambda: self._request_decision(cmd.actor, "return", cmd.body.reason))
        return self.view

    @request_return.validator
    def _validate_return(self, cmd: Command[ReturnRequest]) -> None:
        self.actions.admit("request_return", cmd, lambda: self._check_return(cmd))

    def _check_return(self, cmd: Command[ReturnRequest]) -> None:
        self._require_status({OrderStatus.DISPATCHED, OrderStatus.IN_HANDLING}, "returned")
        rnd = self._round()
        require_unit_member(cmd.actor, rnd.lead.code, "return this order")
        if rnd.second_handling:
            raise refuse(INVALID_STATE, N_("an order reopened after its callback cannot be returned"))
        if workflow.now() > rnd.return_until:
            raise refuse(INVALID_STATE, N_("the time to return order {order_no} ended at {at}"),
                         order_no=self.view.order_no, at=rnd.return_until.isoformat())
        self._require_no_decision()

    def _require_no_decision(self) -> None:
        d = self.view.decision
        if d is not None and d.approve is None:
            raise refuse(INVALID_STATE, N_("order {order_no} already waits for a decision on a {what}"),
                         order_no=self.view.order_no, what=d.kind)

    async def _request_decision(self, actor: Actor, kind: str, reason: str, new_due: datetime | None = None) -> None:
        now, profile = workflow.now(), self.view.profile
        remind_at, escalate_at = await self._limits(now, [profile.decision_reminder, profile.decision_escalation])
        decision = Decision(kind="return" if kind == "return" else "extension", requested_by=actor, reason=reason,
                            requested_at=now, new_due=new_due, remind_at=remind_at, escalate_at=escalate_at)
        self.view.decision = decision
        payload = {"reason": reason, "remind_at": remind_at.isoformat(), "escalate_at": escalate_at.isoformat()}
        if kind == "return":
            self.view.resume_status = self.view.status
            self._set_status(OrderStatus.RETURN_REQUESTED)
            event, label = OrderEventType.RETURN_REQUESTED, "退单审核"
        else:
            assert decision.new_due is not None
            payload["new_due"] = decision.new_due.isoformat()
            event, label = OrderEventType.EXTENSION_REQUESTED, "延期审核"
        await self._record(event, actor, payload, open_tasks=[
            self._task(f"{kind}_decision", Role.DISPATCHER, None, f"{label}：{reason[:80]}", escalate_at)])

    @workflow.update
    async def decide_return(self, cmd: Command[ReturnDecision]) -> OrderView:
        await self.actions.run("decide_return", cmd, lambda: self._check_decision(cmd, "return"),
                               lambda: self._decide_return(cmd))
        return self.view

    @decide_return.validator
    def _validate_decide_return(self, cmd: Command[ReturnDecision]) -> None:
        self.actions.admit("decide_return", cmd, lambda: self._check_decision(cmd, "return"))

    def _check_decision(self, cmd: Command[ReturnDecision] | Command[ExtensionDecision], kind: str) -> None:
        d = self.view.decision
        if d is None or d.kind != kind or d.approve is not None:
            raise refuse(INVALID_STATE, N_("order {order_no} has no {what} waiting for a decision"),
                         order_no=self.view.order_no, what=kind)
        require_dispatcher(cmd.actor, f"decide on a {kind}", escalated=d.steps_done >= 2)
        if isinstance(cmd.body, ReturnDecision) and cmd.body.redispatch is not None:
            if not cmd.body.approve:
                raise refuse(INVALID, N_("only an approved return is dispatched again"))
            if cmd.body.redispatch.lead.code == self._round().lead.code:
                raise refuse(INVALID, N_("a returned order is dispatched to another unit"))
            self._check_units(cmd.body.redispatch)

    async def _decide_return(self, cmd: Command[ReturnDecision]) -> None:
        d, rnd, body, now = self.view.decision, self._round(), cmd.body, workflow.now()
        assert d is not None
        d.approve, d.decided_by, d.comment = body.approve, cmd.actor, body.comment
        if not body.approve:
            self._set_status(self.view.resume_status or OrderStatus.DISPATCHED)
            await self._record(OrderEventType.RETURN_REFUSED, cmd.actor, {"comment": body.comment},
                               close=["return_decision"])
            return
        charged = (now - rnd.dispatched_at).total_seconds()  # the bounced time is the returning unit's
        unit = rnd.lead.code
        self.view.charged_seconds[unit] = self.view.charged_seconds.get(unit, 0.0) + charged
        self._set_status(OrderStatus.AWAITING_DISPATCH)
        await self._record(OrderEventType.RETURN_APPROVED, cmd.actor, {
            "comment": body.comment, "reason": d.reason, "charged_unit": unit, "charged_seconds": charged,
            "returned_by": d.requested_by.username}, close=UNIT_TASKS,
            open_tasks=[] if body.redispatch else [
                self._task("dispatch", Role.DISPATCHER, None, f"重新派单：{self.view.content[:80]}")])
        if body.redispatch is not None:
            await self._dispatch(cmd.actor, body.redispatch)

    # ---- extension -----------------------------------------------------------------------------------------------
    @workflow.update
    async def request_extension(self, cmd: Command[ExtensionRequest]) -> OrderView:
        await self.actions.run("request_extension", cmd, lambda: self._check_extension(cmd),
                               lambda: self._request_decision(cmd.actor, "extension", cmd.body.reason,
                                                              cmd.body.new_due))
        return self.view

    @request_extension.validator
    def _validate_extension(self, cmd: Command[ExtensionRequest]) -> None:
        self.actions.admit("request_extension", cmd, lambda: self._check_extension(cmd))

    def _check_extension(self, cmd: Command[ExtensionRequest]) -> None:
        self._require_status({OrderStatus.IN_HANDLING}, "extended")
        rnd = self._round()
        require_unit_member(cmd.actor, rnd.lead.code, "ask for an extension")
        if rnd.extended:
            raise refuse(INVALID_STATE, N_("order {order_no} was extended once already"), order_no=self.view.order_no)
        if workflow.now() >= rnd.handle_due:
            raise refuse(INVALID_STATE, N_("an extension is asked for before the deadline ({due})"),
                         due=rnd.handle_due.isoformat())
        new_due = cmd.body.new_due
        if new_due.tzinfo is None or not rnd.handle_due < new_due <= rnd.extension_limit:
            raise refuse(INVALID, N_("the new date must be after {due} and no later than {limit}, with its time "
                                     "zone"), due=rnd.handle_due.isoformat(), limit=rnd.extension_limit.isoformat())
        self._require_no_decision()

    @workflow.update
    async def decide_extension(self, cmd: Command[ExtensionDecision]) -> OrderView:
        await self.actions.run("decide_extension", cmd, lambda: self._check_decision(cmd, "extension"),
                               lambda: self._decide_extension(cmd))
        return self.view

    @decide_extension.validator
    def _validate_decide_extension(self, cmd: Command[ExtensionDecision]) -> None:
        self.actions.admit("decide_extension", cmd, lambda: self._check_decision(cmd, "extension"))

    async def _decide_extension(self, cmd: Command[ExtensionDecision]) -> None:
        d, rnd, body = self.view.decision, self._round(), cmd.body
        assert d is not None and d.new_due is not None
        d.approve, d.decided_by, d.comment = body.approve, cmd.actor, body.comment
        if not body.approve:
            await self._record(OrderEventType.EXTENSION_REFUSED, cmd.actor, {
                "comment": body.comment, "handle_due": rnd.handle_due.isoformat()}, close=["extension_decision"])
            return
        old, rnd.handle_due, rnd.extended = rnd.handle_due, d.new_due, True
        await self._record(OrderEventType.EXTENSION_APPROVED, cmd.actor, {
            "comment": body.comment, "old_due": old.isoformat(), "handle_due": d.new_due.isoformat(),
            "callers_told": len(self.view.calls)},  # every caller is told the new date
            close=["extension_decision", "reply"],
            open_tasks=[self._task("reply", Role.UNIT_HANDLER, rnd.lead.code,
                                   f"办理反馈（已延期）：{self.view.content[:80]}", d.new_due)])

    # ---- the decision's clock ---------------------------------------------------------------------------------
    async def _decision_watch(self, round_no: int) -> None:
        """While a return or extension waits: remind the dispatchers, then hand it to the supervisors."""
        over = self._round_over(round_no)
        while True:
            await workflow.wait_condition(
                lambda: over() or (self.view.decision is not None and self.view.decision.approve is None))
            if over():
                return
            d = self.view.decision
            assert d is not None
            await approval_with_escalation(
                self._decided(d, over), d.remind_at, d.escalate_at,
                remind=lambda: self._decision_step(OrderEventType.DECISION_REMINDER, None),
                escalate=lambda: self._decision_step(OrderEventType.DECISION_ESCALATED, Role.SUPERVISOR),
                skip=d.steps_done)

    def _decided(self, d: Decision, over: Callable[[], bool]) -> Callable[[], bool]:
        return lambda: over() or self.view.decision is not d or d.approve is not None

    async def _decision_step(self, event: OrderEventType, to: Role | None) -> None:
        d = self.view.decision
        assert d is not None
        d.steps_done += 1
        tasks = [] if to is None else [self._task(f"{d.kind}_decision", to, None,
                                                  f"{d.kind} 超时未审核，已提交督办：{d.reason[:60]}")]
        await self._record(event, None, {"kind": d.kind, "to": (to or Role.DISPATCHER).value}, open_tasks=tasks)
