"""Search attributes on the Temporal dev server, as `casehall up` starts it: an operator finds cases by department
and status, the values hold no personal data, the histories with the upserts replay, and
`casehall temporal register-search-attributes` prepares a cluster that lacks them."""

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from typer.testing import CliRunner

from casehall.cli.main import app as cli
from casehall.core.codec import data_converter
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.models.case import Actor
from casehall.models.commands import Accept, Command, VetoRequest
from casehall.stack.embedded import TemporalDevServer, free_port, temporal_cli_path
from casehall.worker import build_worker, case_activities
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.observability import KEYS, missing_search_attributes
from casehall.workflows.registry import WORKFLOWS
from tests.cases import APPLICANT, eventually, handle, register
from tests.conftest import CODEC_KEYS

VETO = VetoRequest(reasons="申请经营的项目属于禁止类目录", legal_basis="《市场主体登记管理条例》第十二条")
HOUSING = ["施工合同", "施工图审查合格书", "安全施工措施资料", "建设资金落实证明"]


@pytest.fixture(scope="module")
def dev_server() -> Iterator[TemporalDevServer]:
    with tempfile.TemporaryDirectory(prefix="casehall-sa-") as tmp:
        server = TemporalDevServer(Path(tmp), free_port(), free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
async def dev_client(dev_server: TemporalDevServer, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                     ) -> AsyncIterator[Client]:
    client = await connect(f"127.0.0.1:{dev_server.port}", keys=CODEC_KEYS)
    async with build_worker(client, settings, case_activities(sessions, settings)):
        yield client


async def _ids(client: Client, query: str) -> set[str]:
    return {wf.id async for wf in client.list_workflows(query)}


async def test_operator_finds_cases_by_department_and_status(
    dev_client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor],
) -> None:
    clerk = actors["clerk"]
    mkt_veto, mkt_accepted, mkt_registered = [await register(dev_client, sessions, clerk) for _ in range(3)]
    housing_veto = await register(dev_client, sessions, clerk, item_code="HOUSING-002", materials=HOUSING)
    for view in (mkt_veto, housing_veto):
        await handle(dev_client, view.case_no).execute_update(CaseWorkflow.request_veto,
                                                              Command(actor=clerk, body=VETO))
    accepted = await handle(dev_client, mkt_accepted.case_no).execute_update(
        CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    assert accepted.deadline is not None
    wid = {v.case_no: f"case-{v.case_no}" for v in (mkt_veto, mkt_accepted, mkt_registered, housing_veto)}
    mine = " OR ".join(f'CaseNo="{no}"' for no in wid)

    async def visible() -> bool:
        return await _ids(dev_client, f"({mine}) AND CaseStatus=\"in_handling\"") == {wid[mkt_accepted.case_no]}

    await eventually(visible, seconds=30)  # visibility follows the upserts shortly
    assert await _ids(dev_client, f'({mine}) AND DepartmentCode="MKT" AND CaseStatus="veto_requested"') == {
        wid[mkt_veto.case_no]}
    assert await _ids(dev_client, f'({mine}) AND CaseStatus="veto_requested"') == {
        wid[mkt_veto.case_no], wid[housing_veto.case_no]}
    assert await _ids(dev_client, f'({mine}) AND DepartmentCode="HOUSING"') == {wid[housing_veto.case_no]}
    assert await _ids(dev_client, f'({mine}) AND ItemCode="MKT-001" AND CaseStatus="registered"') == {
        wid[mkt_registered.case_no]}
    assert await _ids(dev_client, f'({mine}) AND Kind="hall_case"') == set(wid.values())
    # The deadline is a datetime: the accepted case's, and no one else's (a veto request sets none).
    after = datetime(2000, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    assert await _ids(dev_client, f'({mine}) AND Deadline > "{after}"') == {wid[mkt_accepted.case_no]}
    assert await _ids(dev_client, f'({mine}) AND DeadlineProvisional = false') == {wid[mkt_accepted.case_no]}

    described = await handle(dev_client, mkt_accepted.case_no).describe()
    values: dict[str, Any] = {pair.key.name: pair.value for pair in described.typed_search_attributes}
    assert values["CaseNo"] == mkt_accepted.case_no and values["DepartmentCode"] == "MKT"
    assert values["ItemCode"] == "MKT-001" and values["CaseStatus"] == "in_handling"
    assert values["Deadline"] == accepted.deadline
    text = repr(values)
    for personal in (APPLICANT.name, APPLICANT.phone, APPLICANT.id_number):
        assert personal not in text

    # The history with its upserts (and the patch marker) replays against the current workflows.
    history = await handle(dev_client, mkt_veto.case_no).fetch_history()
    await Replayer(workflows=WORKFLOWS, data_converter=data_converter(CODEC_KEYS)).replay_workflow(history)


async def test_register_command_prepares_a_cluster_without_them(monkeypatch: pytest.MonkeyPatch) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli_path()),
                                                dev_server_extra_args=["--log-level", "error"])
    try:
        assert {key.name for key in await missing_search_attributes(env.client)} == {key.name for key in KEYS}
        monkeypatch.setenv("CASEHALL_TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
        monkeypatch.setenv("CASEHALL_CODEC_KEYS", CODEC_KEYS)
        runner = CliRunner()
        listed = await asyncio.to_thread(runner.invoke, cli, ["temporal", "search-attributes"])
        assert listed.exit_code == 1 and listed.output.count("missing") == len(KEYS), listed.output
        first = await asyncio.to_thread(runner.invoke, cli, ["temporal", "register-search-attributes"])
        assert first.exit_code == 0, first.output
        assert "registered in default: CaseNo, DepartmentCode" in first.output
        assert await missing_search_attributes(env.client) == []
        again = await asyncio.to_thread(runner.invoke, cli, ["temporal", "register-search-attributes"])
        assert again.exit_code == 0 and "already" in again.output, again.output
        listed = await asyncio.to_thread(runner.invoke, cli, ["temporal", "search-attributes"])
        assert listed.exit_code == 0 and listed.output.count("registered") == len(KEYS), listed.output
    finally:
        await env.shutdown()


async def test_command_says_when_temporal_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEHALL_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("CASEHALL_CODEC_KEYS", CODEC_KEYS)
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["temporal", "register-search-attributes"])
    assert result.exit_code == 1
    assert "cannot reach Temporal" in result.output and "Traceback" not in result.output
