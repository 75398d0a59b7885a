"""CaseWorkflow: one case at a window, from registration to callback (workflow id: ``ids.case_workflow_id``)."""

import asyncio
from typing import Any

from temporalio import workflow

from casehall.workflows import clock, several_matters, tolerant_acceptance, versions
from casehall.workflows.access import require_responsible
from casehall.workflows.actions import Actions
from casehall.workflows.assisted_handling import AssistedHandling
from casehall.workflows.case_base import CLERK_STATES
from casehall.workflows.case_callback import CaseCallback
from casehall.workflows.case_supplements import CaseSupplements
from casehall.workflows.case_veto import CaseVeto
from casehall.workflows.errors import INVALID, INVALID_STATE, refuse
from casehall.workflows.observability import case_at_start
from casehall.workflows.recorder import Recorder

with workflow.unsafe.imports_passed_through():
    from casehall.models import ids
    from casehall.models.case import CaseView, RegisterCaseInput
    from casehall.models.commands import (
        Accept,
        CalendarChanged,
        Command,
        Completion,
        Handling,
        Handover,
    )
    from casehall.models.consultation import ConsultationView
    from casehall.models.enums import FINAL_STATUSES, CaseStatus, HandlingMode, Role
    from casehall.models.events import EventType
    from casehall.models.messages import N_


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow(CaseVeto, CaseSupplements, CaseCallback, AssistedHandling):
    """The case: registration, acceptance, handling and completion here; the practices in their mixins."""

    @workflow.init
    def __init__(self, inp: RegisterCaseInput) -> None:
        self.inp = inp
        self.item = inp.item
        self.view = inp.carried or CaseView(
            case_no=inp.case_no, item_code=inp.item.code, department_code=inp.item.department_code,
            status=CaseStatus.REGISTERED, applicant=inp.applicant, channel=inp.channel, hall=inp.hall,
            window=inp.window, description=inp.description, handling_mode=inp.handling_mode,
            cross_region_urgent=inp.cross_region_urgent, first_clerk_id=inp.clerk.user_id,
            clerk_id=inp.clerk.user_id, registered_at=workflow.now(), phase_started_at=workflow.now(),
            missing_materials=[m.name for m in tolerant_acceptance.missing(inp.item, inp.submitted_materials)],
            parent_case_no=inp.parent_case_no, matters=[m.case_no for m in inp.matters],
        )
        self.recorder = Recorder(self)
        self.actions = Actions(self.recorder)
        self.current = False  # set by run (versions.adopt)
        self.stable_times = False  # set by run (clock.adopt)
        self.consultation: workflow.ChildWorkflowHandle[Any, ConsultationView] | None = None

    # ---- the case's life ------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: RegisterCaseInput) -> CaseView:
        self.current = versions.adopt()
        self.stable_times = self.current or clock.adopt()
        self.recorder.published.adopt(self.current)
        if inp.carried is None:
            with clock.triggered():
                await self._record(EventType.REGISTERED, inp.clerk, {
                    "item": inp.item.code, "submitted": inp.submitted_materials,
                    "missing": self.view.missing_materials, "handling_mode": inp.handling_mode.value,
                    "cross_region_urgent": inp.cross_region_urgent,
                    **({"matters": self.view.matters} if inp.matters else {}),
                })
            if inp.matters:
                await self._run_matters()
        while self.view.status not in FINAL_STATUSES:
            status = self.view.status
            phase = {
                CaseStatus.AWAITING_SUPPLEMENT: self._supplement_phase,
                CaseStatus.VETO_REQUESTED: self._veto_phase,
                CaseStatus.AWAITING_CALLBACK: self._callback_phase,
                CaseStatus.RECTIFICATION: self._rectification_phase,
                CaseStatus.IN_CONSULTATION: self._consultation_phase,
            }.get(status)
            await (phase() if phase else workflow.wait_condition(lambda s=status: self.view.status != s))  # type: ignore[misc]
            if workflow.info().is_continue_as_new_suggested() and self.view.status not in FINAL_STATUSES:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.inp.model_copy(update={"carried": self.view}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _run_matters(self) -> None:
        """Start one child case per matter, wait until each is completed or decided, give one combined result."""
        self._set_status(CaseStatus.IN_HANDLING)
        children = [
            await workflow.start_child_workflow(
                CaseWorkflow.run, child, id=ids.case_workflow_id(child.case_no),
                search_attributes=case_at_start(child.case_no, child.item.department_code, child.item.code))
            for child in several_matters.matter_inputs(self.inp)
        ]
        with clock.triggered():
            await self._record(EventType.MATTERS_DISPATCHED, None, {"matters": self.view.matters})
        results: list[CaseView] = list(await asyncio.gather(*children))
        finished = max((r.closed_at for r in results if r.closed_at), default=None)
        with clock.triggered(finished):  # when the last matter was decided: the time its own history holds
            now = clock.now(self)
            self.view.result = several_matters.summary(results)
            self._set_status(CaseStatus.AWAITING_CALLBACK)
            await self._record(EventType.MATTERS_FINISHED, None, {"result": self.view.result},
                               document=several_matters.combined_result(self.view, results, now))

    # ---- human actions: updates with validators, run one at a time (``Actions``) ------------------------
    @workflow.update
    async def registration(self) -> CaseView:
        """Answers once the registration is stored, so the caller can read the case at once."""
        await workflow.wait_condition(lambda: self.recorder.stored_seq >= 1)
        return self.view

    @workflow.update
    async def accept(self, cmd: Command[Accept]) -> CaseView:
        await self.actions.run("accept", cmd, lambda: self._check_accept(cmd),
                               lambda: self._accept(cmd.actor, EventType.ACCEPTED))
        return self.view

    @accept.validator
    def _validate_accept(self, cmd: Command[Accept]) -> None:
        self.actions.admit("accept", cmd, lambda: self._check_accept(cmd))

    def _check_accept(self, cmd: Command[Accept]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        self._require_status(CLERK_STATES, "accepted")

    @workflow.update
    async def handover(self, cmd: Command[Handover]) -> CaseView:
        await self.actions.run("handover", cmd, lambda: self._check_handover(cmd), lambda: self._handover(cmd))
        return self.view

    async def _handover(self, cmd: Command[Handover]) -> None:
        previous, to = self.view.clerk_id, cmd.body.to
        self.view.clerk_id = to.user_id
        await self._record(EventType.HANDED_OVER, cmd.actor, {"from": previous, "to": to.user_id,
                                                              "to_username": to.username, "reason": cmd.body.reason})

    @handover.validator
    def _validate_handover(self, cmd: Command[Handover]) -> None:
        self.actions.admit("handover", cmd, lambda: self._check_handover(cmd))

    def _check_handover(self, cmd: Command[Handover]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        self._require_open()
        if cmd.body.to.role != Role.CLERK or cmd.body.to.user_id == self.view.clerk_id:
            raise refuse(INVALID, N_("a case can be handed over only to another clerk"))

    @workflow.update
    async def arrange_handling(self, cmd: Command[Handling]) -> CaseView:
        await self.actions.run("arrange_handling", cmd, lambda: self._check_handling(cmd),
                               lambda: self._arrange_handling(cmd))
        return self.view

    async def _arrange_handling(self, cmd: Command[Handling]) -> None:
        body = cmd.body
        self.view.handling_mode = body.mode
        await self._record(EventType.HANDLING_ARRANGED, cmd.actor, {
            "mode": body.mode.value, "address": body.address,
            "appointment_at": body.appointment_at.isoformat() if body.appointment_at else None})

    @arrange_handling.validator
    def _validate_handling(self, cmd: Command[Handling]) -> None:
        self.actions.admit("arrange_handling", cmd, lambda: self._check_handling(cmd))

    def _check_handling(self, cmd: Command[Handling]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        self._require_open()
        if cmd.body.mode == HandlingMode.HOME_VISIT:
            at = cmd.body.appointment_at
            if at is None:
                raise refuse(INVALID, N_("a home visit needs an appointment time"))
            if at.tzinfo is None or at < workflow.now():
                raise refuse(INVALID, N_("a home visit needs an appointment time in the future, with its time zone"))

    @workflow.update
    async def complete(self, cmd: Command[Completion]) -> CaseView:
        await self.actions.run("complete", cmd, lambda: self._check_complete(cmd), lambda: self._complete(cmd))
        return self.view

    async def _complete(self, cmd: Command[Completion]) -> None:
        self.view.result = cmd.body.result
        if self.view.parent_case_no:  # a matter: the applicant is called back once, on the combined case
            self._close()
        else:
            self._set_status(CaseStatus.AWAITING_CALLBACK)
        await self._record(EventType.COMPLETED, cmd.actor, {"result": cmd.body.result})

    @complete.validator
    def _validate_complete(self, cmd: Command[Completion]) -> None:
        self.actions.admit("complete", cmd, lambda: self._check_complete(cmd))

    def _check_complete(self, cmd: Command[Completion]) -> None:
        require_responsible(cmd.actor, self.view, self.item)
        if self.view.matters:
            raise refuse(INVALID_STATE, N_("a case of several matters completes when each of its matters does"))
        self._require_status({CaseStatus.IN_HANDLING}, "completed")

    @workflow.signal(name="calendar_changed")
    async def calendar_changed(self, change: CalendarChanged) -> None:
        """A new official schedule: recompute a provisional legal deadline from how it was computed."""
        with clock.triggered():
            await self._recompute(change)

    async def _recompute(self, change: CalendarChanged) -> None:
        basis = self.view.deadline_basis
        if basis is None or not self.view.deadline_provisional or self.view.status in FINAL_STATUSES:
            return
        old = self.view.deadline
        if basis.working_days is not None:
            (new,) = await self._deadlines(basis.start, [basis.working_days], change.version)
            if self.view.clock_paused:
                self.view.remaining_seconds = await self._working_seconds(basis.start, new.at, change.version)
        else:
            new = await self._resumed_deadline(basis, change.version)
        if new.at == old and new.provisional:
            return
        self._set_deadline(new)
        await self._record(EventType.DEADLINE_RECOMPUTED, None, {
            "old": old.isoformat() if old else None, "new": new.at.isoformat(), "provisional": new.provisional,
            "calendar_year": change.year, "calendar_version": change.version})

    @workflow.query(name="state")
    def state(self) -> CaseView:
        return self.view
