"""The one way to reach Temporal: worker, API, CLI and tests all use ``connect``."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect(address: str, namespace: str = "default") -> Client:
    """A client that passes pydantic models across the workflow boundary."""
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


def workflow_id(case_no: str) -> str:
    return f"case-{case_no}"
