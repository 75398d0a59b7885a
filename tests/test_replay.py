"""Histories of finished cases of every kind replay with the current code: a change that would break running
cases fails here (guard real changes with ``workflow.patched``). Record anew with CASEHALL_RECORD_HISTORIES=1."""

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from casehall.workflows.registry import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_kind_of_case_has_a_history() -> None:
    names = {p.stem for p in HISTORIES}
    expected = {"yes_path", "callback_default_rating", "rectification", "tolerant_acceptance",
                "supplement_overdue_extended", "veto_escalated_20261127", "several_matters",
                "several_matters_vetoed_matter", "consultation_then_veto", "joint_consultation",
                "rectification_before_patch"}
    assert expected <= names, expected - names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
