"""The event loop of casehall's processes: uvloop where it is installed (libuv; the API's requests and the worker's
many small database and Temporal calls cost less CPU each), asyncio's own loop elsewhere (Windows)."""

import asyncio
from collections.abc import Callable


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """For ``asyncio.Runner(loop_factory=...)``: uvloop's loop, or None for asyncio's default."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency wherever it builds
        return None
    return uvloop.new_event_loop
