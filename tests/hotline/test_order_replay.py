"""Finished hotline orders replay with the current code (as tests/test_replay.py does for cases): a change to
``OrderWorkflow`` that would break running orders fails here. Record anew with CASEHALL_RECORD_HISTORIES=1."""

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from casehall.workflows.registry import WORKFLOWS

HISTORIES = Path(__file__).parent.parent / "histories"
ORDER_HISTORIES = ["order_merged_called_back"]


@pytest.mark.parametrize("name", ORDER_HISTORIES)
async def test_order_history_replays(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(name, await asyncio.to_thread(path.read_text))
    assert history.events[0].workflow_execution_started_event_attributes.workflow_type.name == "OrderWorkflow"
    result = await Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter).replay_workflow(history)
    assert result.replay_failure is None
