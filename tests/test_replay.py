"""Histories of finished cases of every kind replay with the current code: a change that would break running
cases fails here (guard real changes with ``workflow.patched``). Record anew with CASEHALL_RECORD_HISTORIES=1."""

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from casehall.workflows.registry import WORKFLOWS

ROOT = Path(__file__).parent / "histories"
# The current recordings, and under v<n>/ those of earlier code (cases started before a change still run).
HISTORIES = sorted(ROOT.rglob("*.json"))
KINDS = {"yes_path", "callback_default_rating", "rectification", "tolerant_acceptance", "supplement_overdue_extended",
         "veto_escalated_20261127", "several_matters", "several_matters_vetoed_matter", "consultation_then_veto",
         "joint_consultation"}


def test_every_kind_of_case_has_a_history() -> None:
    current = {p.stem for p in ROOT.glob("*.json")}
    assert current >= KINDS, KINDS - current
    first = {p.stem for p in (ROOT / "v1").glob("*.json")}  # before the command envelope and the recorder
    assert KINDS | {"rectification_before_patch"} <= first
    second = {p.stem for p in (ROOT / "v2").glob("*.json")}  # before event times were the trigger's moment
    assert second >= KINDS
    third = {p.stem for p in (ROOT / "v3").glob("*.json")}  # before the patches were decided at the start of run
    assert third >= KINDS
    fourth = {p.stem for p in (ROOT / "v4").glob("*.json")}  # before one patch stood for all (versions.CURRENT)
    assert fourth >= KINDS
    fifth = {p.stem for p in (ROOT / "v5").glob("*.json")}  # before a petition's review window was set at closing
    assert "petition_reviewed" in current and "petition_reviewed" in fifth
    sixth = {p.stem for p in (ROOT / "v6").glob("*.json")}  # before children started with their search attributes
    assert sixth >= {"several_matters", "several_matters_vetoed_matter", "joint_consultation", "consultation_then_veto"}


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: str(p.relative_to(ROOT).with_suffix("")))
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
