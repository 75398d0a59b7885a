"""Human actions one at a time. Each update's validator refuses a wrong action before anything is recorded; but
handlers await (deadlines, persistence) before their transition completes, so a concurrent identical call could pass
its validator too. ``Actions.run`` re-checks inside one lock: a duplicate of the action just recorded (the same actor,
the same body: a double click, a retried request) gets the same answer (the stored outcome) and records nothing;
anything else the state no longer allows is refused."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from casehall.workflows import clock
from casehall.workflows.access import require_acting_role
from casehall.workflows.errors import INVALID_STATE
from casehall.workflows.recorder import Recorder, in_action

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from casehall.models.case import Actor


# An identical action this soon after the last one is its duplicate even where the state would allow it again
# (a signature, an extension, an amended opinion); later, only a refused repeat is answered as a duplicate.
REPEAT_WINDOW = timedelta(minutes=2)


class Actions:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.lock = asyncio.Lock()
        self.last: str | None = None  # the fingerprint of the last action recorded
        self.last_at: datetime | None = None
        self.running: str | None = None  # the fingerprint of the action being recorded now

    def repeats(self, name: str, command: BaseModel, check: Callable[[], None]) -> bool:
        """True if ``command`` is a duplicate of the action being recorded, or of the last one: identical and
        within ``REPEAT_WINDOW``, or identical and no longer allowed (its first copy changed the state)."""
        key = f"{name}:{command.model_dump_json()}"
        if key == self.running:
            return True
        if key != self.last:
            return False
        if self.last_at and workflow.now() - self.last_at <= REPEAT_WINDOW:
            return True
        try:
            check()
        except ApplicationError:
            return True
        return False

    def admit(self, name: str, command: BaseModel, check: Callable[[], None]) -> None:
        """The update's validator: a role that never acts is refused first; a duplicate is admitted (it will get the
        stored outcome), else ``check``."""
        actor = getattr(command, "actor", None)
        if isinstance(actor, Actor):
            require_acting_role(actor)
        if self.repeats(name, command, check):
            return
        try:
            check()
        except ApplicationError as err:
            raise self._stating_seq(err) from None

    def _stating_seq(self, err: ApplicationError) -> ApplicationError:
        """A refusal for the state, with the sequence number of the last transition stored: a caller whose
        database shows a later one knows the engine is still catching up (a task cut off by a crash runs again)
        and may ask again in a moment."""
        details = err.details[0] if err.details else None
        if err.type != INVALID_STATE or not isinstance(details, dict):
            return err
        return ApplicationError(err.message, {**details, "seq": self.recorder.stored_seq}, type=err.type,
                                non_retryable=True)

    async def run(self, name: str, command: BaseModel, check: Callable[[], None],
                  transition: Callable[[], Awaitable[None]]) -> None:
        """Run the action's transition unless it is a duplicate; ``check`` again first, under the lock."""
        with clock.triggered():
            await self._run(name, command, check, transition)

    async def _run(self, name: str, command: BaseModel, check: Callable[[], None],
                   transition: Callable[[], Awaitable[None]]) -> None:
        async with self.lock:
            if self.repeats(name, command, check):
                return
            check()
            key = f"{name}:{command.model_dump_json()}"
            token, self.running = in_action.set(True), key
            try:
                await transition()
            finally:
                in_action.reset(token)
                self.running = None
            self.last, self.last_at = key, workflow.now()

