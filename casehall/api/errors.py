"""The one layer that maps domain and Temporal errors to HTTP answers a clerk understands."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from casehall.api.intake import UnknownItem
from casehall.workflows.errors import CONFLICT, FORBIDDEN, INVALID, INVALID_STATE

STATUS_OF = {FORBIDDEN: 403, INVALID_STATE: 409, CONFLICT: 409, INVALID: 422}


class NotFound(LookupError):
    """A case, user or document that does not exist."""


class Closed(RuntimeError):
    """The case or consultation has finished: nothing more can be recorded."""


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


async def _update_failed(_: Request, err: Exception) -> JSONResponse:
    cause = err.__cause__ if isinstance(err, WorkflowUpdateFailedError) else err
    if isinstance(cause, ApplicationError):
        return _answer(STATUS_OF.get(cause.type or "", 409), cause.message)
    return _answer(409, str(cause or err))


async def _rpc(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RPCError)
    if err.status == RPCStatusCode.NOT_FOUND:
        if "completed" in err.message:
            return _answer(409, "this case is already closed: no further action can be recorded")
        return _answer(404, "no such case is running")
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return _answer(503, "the workflow engine is not reachable; try again shortly")
    if err.status == RPCStatusCode.ALREADY_EXISTS:
        return _answer(409, "a case with this number is already running")
    return _answer(502, f"workflow engine error: {err.message}")


async def _not_found(_: Request, err: Exception) -> JSONResponse:
    return _answer(404, str(err))


async def _closed(_: Request, err: Exception) -> JSONResponse:
    return _answer(409, str(err))


async def _unknown_item(_: Request, err: Exception) -> JSONResponse:
    return _answer(422, str(err))


def install(app: FastAPI) -> None:
    app.add_exception_handler(WorkflowUpdateFailedError, _update_failed)
    app.add_exception_handler(ApplicationError, _update_failed)
    app.add_exception_handler(RPCError, _rpc)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Closed, _closed)
    app.add_exception_handler(UnknownItem, _unknown_item)
