"""Supervision orders (督办单): to the unit's parent when the unit does not sign for an order in time, when it is
overdue, or when a callback reopens it; an overdue order's supervision order that passes its own deadline is raised
to the level above, up to the centre. Each is counted against the unit (``supervision_orders``)."""

from temporalio import workflow

from casehall.workflows.blocks import wait_until
from casehall.workflows.hotline.base import OrderBase

with workflow.unsafe.imports_passed_through():
    from casehall.models.enums import Role
    from casehall.models.hotline import Supervision, SupervisionReason, UnitRef
    from casehall.models.order_events import OrderEventType

SUMMARY = {SupervisionReason.NOT_SIGNED: "督办：超时未签收", SupervisionReason.OVERDUE: "督办：超期未办结",
           SupervisionReason.CALLBACK: "督办：回访未解决或不满意，二次办理"}


def supervisor_of(unit: UnitRef, level: int) -> str:
    """The unit ``level`` steps above ``unit`` (1: its parent), or the top of its path."""
    return unit.path[min(level, len(unit.path) - 1)]


class OrderSupervision(OrderBase):
    async def _supervise(self, reason: SupervisionReason, level: int, raised: bool = False) -> None:
        """Issue a supervision order ``level`` steps above the lead unit, with its own deadline."""
        rnd, now = self._round(), workflow.now()
        (due,) = await self._limits(now, [self.view.profile.supervision])
        to_unit = supervisor_of(rnd.lead, level)
        self._see([to_unit])
        self.view.supervisions.append(Supervision(seq=self.view.last_seq + 1, reason=reason,
                                                  against_unit=rnd.lead.code, to_unit=to_unit, level=level,
                                                  at=now, due=due))
        if reason == SupervisionReason.OVERDUE:
            rnd.supervision_level, rnd.supervision_due = level, due
        event = OrderEventType.SUPERVISION_RAISED if raised else OrderEventType.SUPERVISION_ORDERED
        await self._record(event, None, {
            "reason": reason.value, "against_unit": rnd.lead.code, "to_unit": to_unit, "level": level,
            "due": due.isoformat(), "round": self.view.rounds},
            open_tasks=[self._task("supervision", Role.UNIT_HEAD, to_unit,
                                   f"{SUMMARY[reason]}（{rnd.lead.name}）{self.view.content[:60]}", due)])

    async def _handle_watch(self, round_no: int) -> None:
        """The handling clock of one dispatch round, running from dispatch: past the deadline a supervision order
        to the parent; past the supervision order's deadline, raised to the level above, up to the top."""
        over = self._round_over(round_no)
        while not over():
            rnd = self._round()
            if rnd.supervision_level == 0:
                due = rnd.handle_due  # an approved extension moves it: wait again for the new one
                if not await wait_until(lambda r=rnd, d=due: over() or r.handle_due != d, due):  # type: ignore[misc]
                    await self._overdue()
                continue
            if rnd.supervision_level >= len(rnd.lead.path) - 1 or rnd.supervision_due is None:
                await workflow.wait_condition(over)  # supervised from the top: nothing higher to raise it to
                return
            if not await wait_until(over, rnd.supervision_due):
                await self._supervise(SupervisionReason.OVERDUE, rnd.supervision_level + 1, raised=True)

    async def _overdue(self) -> None:
        self.view.overdue = True
        await self._supervise(SupervisionReason.OVERDUE, 1)
