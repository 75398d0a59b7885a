"""Sign for (签收): the lead unit signs within its kind's limit. The handling clock already runs from dispatch, so
not signing gains nothing; no signature in time: a reminder, then a supervision order to the unit's parent."""

from temporalio import workflow

from casehall.workflows.access import require_unit_member
from casehall.workflows.blocks import deadline_with_reminders
from casehall.workflows.hotline.supervision import OrderSupervision

with workflow.unsafe.imports_passed_through():
    from casehall.models.commands import Command
    from casehall.models.enums import Role
    from casehall.models.hotline import OrderStatus, OrderView, SignFor, SupervisionReason
    from casehall.models.order_events import OrderEventType


class OrderSignFor(OrderSupervision):
    @workflow.update
    async def sign(self, cmd: Command[SignFor]) -> OrderView:
        await self.actions.run("sign", cmd, lambda: self._check_sign(cmd), lambda: self._sign(cmd))
        return self.view

    @sign.validator
    def _validate_sign(self, cmd: Command[SignFor]) -> None:
        self.actions.admit("sign", cmd, lambda: self._check_sign(cmd))

    def _check_sign(self, cmd: Command[SignFor]) -> None:
        self._require_status({OrderStatus.DISPATCHED}, "signed for")
        require_unit_member(cmd.actor, self._round().lead.code, "sign for this order")

    async def _sign(self, cmd: Command[SignFor]) -> None:
        rnd, now = self._round(), workflow.now()
        rnd.signed_at, rnd.signed_by = now, cmd.actor
        self._set_status(OrderStatus.IN_HANDLING)
        await self._record(OrderEventType.SIGNED, cmd.actor, {
            "unit": rnd.lead.code, "after_seconds": (now - rnd.dispatched_at).total_seconds(),
            "late": now > rnd.sign_due, "handle_due": rnd.handle_due.isoformat(), "note": cmd.body.note},
            close=["sign_for"],
            open_tasks=[self._task("reply", Role.UNIT_HANDLER, rnd.lead.code, f"办理反馈：{self.view.content[:80]}",
                                   rnd.handle_due)])

    async def _sign_watch(self, round_no: int) -> None:
        """Until the lead unit signs: a reminder at the sign-for limit, a supervision order after the grace."""
        rnd = self._round()
        if rnd.signed_at is not None:
            return
        over = self._round_over(round_no)
        await deadline_with_reminders(
            lambda: over() or rnd.signed_at is not None, rnd.supervise_unsigned_at, [rnd.sign_due],
            remind=self._sign_reminder, on_deadline=self._unsigned, skip=rnd.sign_steps_done)

    async def _sign_reminder(self) -> None:
        rnd = self._round()
        rnd.sign_steps_done += 1
        await self._record(OrderEventType.SIGN_REMINDER, None, {
            "unit": rnd.lead.code, "sign_due": rnd.sign_due.isoformat(),
            "supervision_at": rnd.supervise_unsigned_at.isoformat()})

    async def _unsigned(self) -> None:
        self._round().sign_steps_done += 1
        await self._supervise(SupervisionReason.NOT_SIGNED, 1)
