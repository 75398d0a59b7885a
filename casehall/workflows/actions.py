"""Human actions one at a time. Each update's validator refuses a wrong action before anything is recorded; but
handlers await (deadlines, persistence) before their transition completes, so a concurrent identical call could pass
its validator too. ``Actions.run`` re-checks inside one lock: a duplicate of the action just recorded gets the same
answer (the stored outcome) and records nothing; anything else the state no longer allows is refused."""

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from casehall.workflows.recorder import in_action

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel


class Actions:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.last: str | None = None  # the fingerprint of the last action recorded

    async def run(self, name: str, command: BaseModel, validate: Callable[[], None],
                  transition: Callable[[], Awaitable[None]]) -> None:
        key = f"{name}:{command.model_dump_json()}"
        async with self.lock:
            try:
                validate()
            except ApplicationError:
                if key == self.last:
                    return
                raise
            token = in_action.set(True)
            try:
                await transition()
            finally:
                in_action.reset(token)
            self.last = key
