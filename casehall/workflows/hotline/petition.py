"""Petitions (信访) on the order's life, with their statutory limits (``HotlineProfile.petition``): acceptance
decided by the dispatcher within its limit (or handed to the supervisors), handled within the limit counted from
acceptance (not from dispatch), one extension with notice; after the reply a review (复查) may be requested within
its limit and a supervisor answers within its own. One-time resolution: solved at the first handling, without a repeat
visit (merged call) or a review. Also a unit's appeal of a wrong or malicious rating (申诉复核), reviewed by a
supervisor: an upheld appeal excludes the rating (the ``appeal_upheld`` event the assessment reads)."""

from datetime import datetime
from typing import Any

from temporalio import workflow

from casehall.workflows.access import require_dispatcher, require_operator, require_supervisor, require_unit_member
from casehall.workflows.blocks import wait_until
from casehall.workflows.errors import INVALID, INVALID_STATE, refuse
from casehall.workflows.hotline.dispatch import OrderDispatch

with workflow.unsafe.imports_passed_through():
    from casehall.models.commands import Command
    from casehall.models.enums import DISSATISFIED, Role
    from casehall.models.hotline import (
        AcceptanceDecision,
        Appeal,
        AppealDecision,
        OrderChannel,
        OrderStatus,
        OrderView,
        PetitionLimits,
        PetitionState,
        RatingAppeal,
        ReviewDecision,
        ReviewRequest,
    )
    from casehall.models.messages import N_
    from casehall.models.order_events import OrderEventType


# A closed petition's review window is computed before its closing is recorded, so the stored petition shows it
# (petitions closed before this patch computed it after: not stored until their next event).
REVIEW_WINDOW_AT_CLOSING = "petition-review-window-at-closing"


class OrderPetition(OrderDispatch):
    # ---- hooks the order's life calls ---------------------------------------------------------------------------
    def _is_petition(self) -> bool:
        return self.inp.call.channel == OrderChannel.PETITION

    def _petition_limits(self) -> PetitionLimits:
        assert self.view.profile.petition is not None  # the API files no petition on a profile without limits
        return self.view.profile.petition

    def _pet(self) -> PetitionState:
        assert self.view.petition is not None
        return self.view.petition

    async def _start_petition(self) -> None:
        """At intake: the acceptance clock; first, which rules this petition follows (a patch decided before any local
        activity: one decided after one can fall in another workflow task on replay)."""
        self.review_window_at_closing = workflow.patched(REVIEW_WINDOW_AT_CLOSING)
        (due,) = await self._limits(workflow.now(), [self._petition_limits().accept_within])
        self.view.petition = PetitionState(accept_due=due)

    def _awaiting_acceptance(self) -> bool:
        p = self.view.petition
        return p is not None and p.accepted is None and self.view.status == OrderStatus.AWAITING_DISPATCH

    async def _acceptance_phase(self) -> None:
        """Until the dispatcher decides: past the limit, handed to the supervisors (once)."""
        p = self._pet()
        decided = lambda: p.accepted is not None  # noqa: E731
        if not p.acceptance_overdue and not await wait_until(decided, p.accept_due):
            p.acceptance_overdue = True
            await self._record(OrderEventType.ACCEPTANCE_OVERDUE, None, {"accept_due": p.accept_due.isoformat()},
                               open_tasks=[self._task("acceptance", Role.SUPERVISOR, None,
                                                      f"信访超期未决定受理：{self.view.content[:60]}")])
        await workflow.wait_condition(decided)

    async def _handling_window(self, handle_due: datetime, extension_limit: datetime) -> tuple[datetime, datetime]:
        """A petition is handled within its limit from acceptance, extended by at most its own maximum."""
        p = self.view.petition
        if p is None or p.handle_due is None:
            return handle_due, extension_limit
        (limit,) = await self._limits(p.handle_due, [self._petition_limits().extension_max])
        return p.handle_due, limit

    async def _before_closing(self) -> None:
        p = self.view.petition
        if p is not None and p.review_until is None and self.view.replied_at is not None \
                and self.review_window_at_closing:
            p.review_until = await self._review_window()

    async def _review_window(self) -> datetime:
        """Until when a review may be requested: this long after the reply."""
        assert self.view.replied_at is not None
        (until,) = await self._limits(self.view.replied_at, [self._petition_limits().review_request_within])
        return until

    def _closing_facts(self) -> dict[str, Any]:
        """At closing: whether a petition was solved at once (first handling, no repeat visit, no review), and until
        when a review may be requested."""
        p = self.view.petition
        if p is None:
            return {}
        p.one_time_resolved = (self.view.handlings == 1 and len(self.view.calls) == 1
                               and p.review_requested_at is None)
        window = {"review_until": p.review_until.isoformat()} if p.review_until else {}
        return {"one_time_resolved": p.one_time_resolved, **window}

    async def _after_final(self) -> bool:
        """A closed petition: a review may be requested until its limit; True when the review sends it back to the
        unit (the order lives on), False when it is over."""
        p = self.view.petition
        if p is None or self.view.status != OrderStatus.CLOSED or self.view.replied_at is None:
            return False
        if p.review_until is None:  # closed before REVIEW_WINDOW_AT_CLOSING
            p.review_until = await self._review_window()
        if p.review_upheld is not None or not await wait_until(lambda: p.review_requested_at is not None,
                                                                 p.review_until):
            return False
        assert p.review_due is not None
        if not await wait_until(lambda: p.review_upheld is not None, p.review_due):
            p.review_overdue = True
            await self._record(OrderEventType.REVIEW_OVERDUE, None, {"review_due": p.review_due.isoformat()})
            await workflow.wait_condition(lambda: p.review_upheld is not None)
        await workflow.wait_condition(lambda: self.view.status != OrderStatus.UNDER_REVIEW)
        return self.view.status != OrderStatus.CLOSED

    # ---- acceptance -----------------------------------------------------------------------------------------------
    def _check_dispatch(self, cmd: Any) -> None:
        super()._check_dispatch(cmd)
        if self.view.petition is not None and not self.view.petition.accepted:
            raise refuse(INVALID_STATE, N_("petition {order_no} is dispatched once it is accepted"),
                         order_no=self.view.order_no)

    @workflow.update
    async def decide_acceptance(self, cmd: Command[AcceptanceDecision]) -> OrderView:
        await self.actions.run("decide_acceptance", cmd, lambda: self._check_acceptance(cmd),
                               lambda: self._decide_acceptance(cmd))
        return self.view

    @decide_acceptance.validator
    def _validate_acceptance(self, cmd: Command[AcceptanceDecision]) -> None:
        self.actions.admit("decide_acceptance", cmd, lambda: self._check_acceptance(cmd))

    def _check_acceptance(self, cmd: Command[AcceptanceDecision]) -> None:
        p = self.view.petition
        if p is None:
            raise refuse(INVALID_STATE, N_("order {order_no} is not a petition"), order_no=self.view.order_no)
        require_dispatcher(cmd.actor, "decide on accepting a petition", escalated=p.acceptance_overdue)
        if p.accepted is not None:
            raise refuse(INVALID_STATE, N_("the acceptance of petition {order_no} was decided already"),
                         order_no=self.view.order_no)

    async def _decide_acceptance(self, cmd: Command[AcceptanceDecision]) -> None:
        p, now, body = self._pet(), workflow.now(), cmd.body
        p.accepted, p.decided_at, p.decision_reason = body.accept, now, body.reason
        if not body.accept:
            self._set_status(OrderStatus.NOT_ACCEPTED)
            self.view.closed_at = now
            await self._record(OrderEventType.PETITION_NOT_ACCEPTED, cmd.actor, {
                "reason": body.reason, "on_time": now <= p.accept_due, "written_notice": True}, close=["*"])
            return
        (p.handle_due,) = await self._limits(now, [self._petition_limits().handle])
        await self._record(OrderEventType.PETITION_ACCEPTED, cmd.actor, {
            "reason": body.reason, "on_time": now <= p.accept_due, "handle_due": p.handle_due.isoformat()},
            close=["acceptance"],
            open_tasks=[self._task("dispatch", Role.DISPATCHER, None, f"信访已受理，待派单：{self.view.content[:60]}")])

    # ---- review (复查) -------------------------------------------------------------------------------------------
    @workflow.update
    async def request_review(self, cmd: Command[ReviewRequest]) -> OrderView:
        await self.actions.run("request_review", cmd, lambda: self._check_review_request(cmd),
                               lambda: self._request_review(cmd))
        return self.view

    @request_review.validator
    def _validate_review_request(self, cmd: Command[ReviewRequest]) -> None:
        self.actions.admit("request_review", cmd, lambda: self._check_review_request(cmd))

    def _check_review_request(self, cmd: Command[ReviewRequest]) -> None:
        require_operator(cmd.actor)
        p = self.view.petition
        if p is None or self.view.status != OrderStatus.CLOSED or p.review_requested_at is not None:
            raise refuse(INVALID_STATE, N_("order {order_no} is not a closed petition open to review"),
                         order_no=self.view.order_no)
        if p.review_until is None or workflow.now() > p.review_until:
            raise refuse(INVALID_STATE, N_("the time to request a review of {order_no} ended"),
                         order_no=self.view.order_no)

    async def _request_review(self, cmd: Command[ReviewRequest]) -> None:
        p, now = self._pet(), workflow.now()
        (p.review_due,) = await self._limits(now, [self._petition_limits().review_within])
        p.review_requested_at, p.review_reason, p.one_time_resolved = now, cmd.body.reason, False
        self._set_status(OrderStatus.UNDER_REVIEW)
        await self._record(OrderEventType.REVIEW_REQUESTED, cmd.actor, {
            "reason": cmd.body.reason, "review_due": p.review_due.isoformat(), "one_time_resolved": False},
            open_tasks=[self._task("review", Role.SUPERVISOR, None, f"信访复查：{cmd.body.reason[:60]}",
                                   p.review_due)])

    @workflow.update
    async def decide_review(self, cmd: Command[ReviewDecision]) -> OrderView:
        await self.actions.run("decide_review", cmd, lambda: self._check_review(cmd), lambda: self._review(cmd))
        return self.view

    @decide_review.validator
    def _validate_review(self, cmd: Command[ReviewDecision]) -> None:
        self.actions.admit("decide_review", cmd, lambda: self._check_review(cmd))

    def _check_review(self, cmd: Command[ReviewDecision]) -> None:
        require_supervisor(cmd.actor, "answer a review")
        self._require_status({OrderStatus.UNDER_REVIEW}, "reviewed")

    async def _review(self, cmd: Command[ReviewDecision]) -> None:
        p, now, body = self._pet(), workflow.now(), cmd.body
        assert p.review_due is not None
        p.review_upheld, p.review_opinion = body.uphold, body.opinion
        await self._record(OrderEventType.REVIEW_DECIDED, cmd.actor, {
            "uphold": body.uphold, "opinion": body.opinion, "on_time": now <= p.review_due}, close=["review"])
        if body.uphold:
            self._set_status(OrderStatus.CLOSED)
            self.view.closed_at = now
            await self._record(OrderEventType.CLOSED, cmd.actor, {"calls": len(self.view.calls), "review": True,
                                                                  "one_time_resolved": False})
            return
        self.view.closed_at = None
        await self._reopen([])

    # ---- appeal of a rating (申诉复核) ------------------------------------------------------------------------------
    @workflow.update
    async def appeal_rating(self, cmd: Command[RatingAppeal]) -> OrderView:
        await self.actions.run("appeal_rating", cmd, lambda: self._check_appeal(cmd), lambda: self._appeal(cmd))
        return self.view

    @appeal_rating.validator
    def _validate_appeal(self, cmd: Command[RatingAppeal]) -> None:
        self.actions.admit("appeal_rating", cmd, lambda: self._check_appeal(cmd))

    def _check_appeal(self, cmd: Command[RatingAppeal]) -> None:
        if self.view.round is None:
            raise refuse(INVALID_STATE, N_("order {order_no} has no rating to appeal"), order_no=self.view.order_no)
        require_unit_member(cmd.actor, self._round().lead.code, "appeal a rating of this order")
        n = cmd.body.call
        rating = self.view.calls[n].callback if n < len(self.view.calls) else None
        if rating is None or rating.grade not in DISSATISFIED:
            raise refuse(INVALID, N_("call {n} of order {order_no} has no bad rating to appeal"), n=n,
                         order_no=self.view.order_no)
        if any(a.call == n for a in self.view.appeals):
            raise refuse(INVALID_STATE, N_("the rating of call {n} was appealed already"), n=n)

    async def _appeal(self, cmd: Command[RatingAppeal]) -> None:
        n, now = cmd.body.call, workflow.now()
        rating = self.view.calls[n].callback
        assert rating is not None
        rated = self.view.rated_at.get(n)
        if rated is not None:  # the limit is on the calendar: counted here, refused with nothing recorded
            (until,) = await self._limits(rated, [self.view.profile.appeal_within])
            if now > until:
                raise refuse(INVALID_STATE, N_("the time to appeal this rating ended at {at}"), at=until.isoformat())
        self.view.appeals.append(Appeal(call=n, grade=rating.grade, reason=cmd.body.reason, requested_by=cmd.actor,
                                        requested_at=now))
        await self._record(OrderEventType.RATING_APPEALED, cmd.actor, {
            "call": n, "grade": rating.grade.value, "reason": cmd.body.reason, "unit": self._round().lead.code},
            open_tasks=[self._task("appeal", Role.SUPERVISOR, None, f"差评申诉：{cmd.body.reason[:60]}")])

    @workflow.update
    async def decide_appeal(self, cmd: Command[AppealDecision]) -> OrderView:
        await self.actions.run("decide_appeal", cmd, lambda: self._check_appeal_decision(cmd),
                               lambda: self._decide_appeal(cmd))
        return self.view

    @decide_appeal.validator
    def _validate_appeal_decision(self, cmd: Command[AppealDecision]) -> None:
        self.actions.admit("decide_appeal", cmd, lambda: self._check_appeal_decision(cmd))

    def _check_appeal_decision(self, cmd: Command[AppealDecision]) -> None:
        require_supervisor(cmd.actor, "decide on an appeal of a rating")
        if not any(a.upheld is None for a in self.view.appeals):
            raise refuse(INVALID_STATE, N_("order {order_no} has no appeal waiting for a decision"),
                         order_no=self.view.order_no)

    async def _decide_appeal(self, cmd: Command[AppealDecision]) -> None:
        appeal = next(a for a in self.view.appeals if a.upheld is None)
        appeal.upheld, appeal.decided_by, appeal.opinion = cmd.body.uphold, cmd.actor, cmd.body.opinion
        event = OrderEventType.APPEAL_UPHELD if cmd.body.uphold else OrderEventType.APPEAL_REFUSED
        await self._record(event, cmd.actor, {
            "call": appeal.call, "grade": appeal.grade.value, "unit": appeal.requested_by.department_code,
            "opinion": cmd.body.opinion, "rating_excluded": cmd.body.uphold}, close=["appeal"])
