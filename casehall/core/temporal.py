"""The one way to reach Temporal: worker, API, CLI and tests all use ``connect``."""

from temporalio.client import Client

from casehall.core.codec import Keyring, data_converter
from casehall.core.settings import Settings


async def connect(address: str, namespace: str = "default", keys: Settings | Keyring | str | None = None) -> Client:
    """A client that passes pydantic models across the workflow boundary, encrypted with ``keys`` (settings, a
    keyring or its text form; see ``casehall.core.codec``). Without keys payloads are stored in clear."""
    return await Client.connect(address, namespace=namespace, data_converter=data_converter(keys))


def workflow_id(case_no: str) -> str:
    return f"case-{case_no}"
