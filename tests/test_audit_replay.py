"""Replay verification: a case replays with the current code from the server, the archive or an exported file and
reaches what PostgreSQL holds; changed code is non-deterministic on old histories; edited rows are mismatches."""

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import workflow
from temporalio.client import Client

from casehall.audit.archive import archive_closed_cases, archive_periodically
from casehall.audit.checks import replay_case
from casehall.audit.replay import Verdict
from casehall.core.db import transaction
from casehall.models.case import Actor, CaseView, RegisterCaseInput
from casehall.models.commands import Accept, Command
from casehall.models.enums import Satisfaction
from casehall.models.events import EventType
from casehall.models.tables import CaseHistory
from casehall.workflows.case import CaseWorkflow
from tests.cases import HISTORIES, closed_case, eventually, handle, register


@workflow.defn(name="CaseWorkflow", sandboxed=False)  # this test module would not import in the sandbox
class SkipsARecord(CaseWorkflow):
    """A careless change: the second event is counted but never recorded."""

    @workflow.run
    async def run(self, inp: RegisterCaseInput) -> CaseView:
        return await super().run(inp)

    async def _record(self, event: EventType, *args: Any, **kw: Any) -> None:
        if self.view.last_seq == 1:
            self.view.last_seq += 1
            return
        await super()._record(event, *args, **kw)


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class ExtraLocalActivity(CaseWorkflow):
    """Another: every event is preceded by one more local activity."""

    @workflow.run
    async def run(self, inp: RegisterCaseInput) -> CaseView:
        return await super().run(inp)

    async def _record(self, event: EventType, *args: Any, **kw: Any) -> None:
        await self._deadlines(workflow.now(), [1])
        await super()._record(event, *args, **kw)


def case_histories() -> list[Path]:
    """The recorded histories of CaseWorkflow (tests/histories also holds other workflows')."""
    return sorted(p for p in HISTORIES.rglob("*.json") if '"name": "CaseWorkflow"' in p.read_text()[:2000])


async def sql(sessions: async_sessionmaker[AsyncSession], statement: str, **params: Any) -> None:
    async with transaction(sessions) as s:
        await s.execute(text(statement), params)


async def test_replays_from_server_archive_and_file(client: Client, sessions: async_sessionmaker[AsyncSession],
                                                    actors: dict[str, Actor], tmp_path: Path) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放",
                                  grade=Satisfaction.VERY_SATISFIED)
    live = await replay_case(client, sessions, case_no, source="live")
    assert live.ok and live.source == "live" and live.replayed_events == 4, live

    archived = await archive_closed_cases(client, sessions)
    assert case_no in archived.archived and not archived.skipped
    assert case_no not in (await archive_closed_cases(client, sessions)).archived  # idempotent
    async with sessions() as s:
        row = await s.get(CaseHistory, case_no)
    assert row is not None and row.event_count > 10 and row.workflow_id == f"case-{case_no}"
    keyless = await replay_case(None, sessions, case_no, source="archive")  # encrypted: the keys are needed
    assert not keyless.ok and "payload keys" in (keyless.error or ""), keyless
    codec = client.data_converter.payload_codec
    from_archive = await replay_case(None, sessions, case_no, source="archive", codec=codec)
    assert from_archive.ok and from_archive.source == "archive", from_archive

    exported = tmp_path / f"{case_no}.json"
    exported.write_text((await handle(client, case_no).fetch_history()).to_json())
    from_file = await replay_case(None, sessions, case_no, file=exported, codec=codec)
    assert from_file.ok and from_file.source == "file", from_file


async def test_open_case_replays_to_its_current_state(client: Client, sessions: async_sessionmaker[AsyncSession],
                                                      actors: dict[str, Actor]) -> None:
    view = await register(client, sessions, actors["clerk"], materials=["经营者身份证明", "经营场所使用证明"])
    await handle(client, view.case_no).execute_update(CaseWorkflow.accept, Command(actor=actors["clerk"],
            body=Accept()))
    report = await replay_case(client, sessions, view.case_no)
    assert report.ok and report.replayed_events == 2, report  # registered, accepted_tolerantly
    assert not (await archive_closed_cases(client, sessions)).skipped  # an open case is not archived


async def test_archive_source_needs_an_archived_history(client: Client, sessions: async_sessionmaker[AsyncSession],
                                                        actors: dict[str, Actor]) -> None:
    view = await register(client, sessions, actors["clerk"])
    report = await replay_case(client, sessions, view.case_no, source="archive")
    assert report.verdict == Verdict.FAILED and "not archived" in (report.error or "")
    missing = await replay_case(client, sessions, "HALL-19990101-000001", source="live")
    assert missing.verdict == Verdict.FAILED and "no longer has" in (missing.error or "")


async def test_archiving_periodically(client: Client, sessions: async_sessionmaker[AsyncSession],
                                     actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放",
                                  grade=Satisfaction.VERY_SATISFIED)
    job = asyncio.create_task(archive_periodically(client, sessions, every=timedelta(milliseconds=50)))

    async def archived() -> bool:
        async with sessions() as s:
            return await s.get(CaseHistory, case_no) is not None

    try:
        await eventually(archived)
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job


async def test_unreadable_file(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path in (bad, tmp_path / "missing.json"):
        report = await replay_case(None, sessions, "HALL-1", file=path)
        assert report.verdict == Verdict.FAILED and report.source == "file"
        assert (report.error or "").startswith(f"cannot read a history from {path}")


@pytest.mark.parametrize("changed", [SkipsARecord, ExtraLocalActivity], ids=lambda c: c.__name__)
@pytest.mark.parametrize("path", case_histories(), ids=lambda p: p.stem)
async def test_changed_code_is_nondeterministic_on_old_histories(
    sessions: async_sessionmaker[AsyncSession], path: Path, changed: type
) -> None:
    report = await replay_case(None, sessions, path.stem, file=path, workflows=[changed])
    assert report.verdict == Verdict.NONDETERMINISTIC, report
    assert report.error and report.error.startswith(
        "NondeterminismError" if changed is SkipsARecord else "replay failed")


async def test_old_histories_replay_with_the_current_code(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The same files replay cleanly with the real workflow; only their cases are not this database's."""
    assert len(case_histories()) >= 6
    for path in case_histories():
        report = await replay_case(None, sessions, path.stem, file=path)
        assert report.verdict == Verdict.MISMATCH and report.replayed_events >= 1, report
        assert report.mismatches[0].startswith("the history is of case HALL-")


async def test_edited_case_row_is_a_mismatch(client: Client, sessions: async_sessionmaker[AsyncSession],
                                             actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放",
                                  grade=Satisfaction.VERY_SATISFIED)
    await sql(sessions, "UPDATE cases SET status = 'in_handling', satisfaction = 'dissatisfied' WHERE case_no = :c",
              c=case_no)
    report = await replay_case(client, sessions, case_no)
    assert report.verdict == Verdict.MISMATCH
    assert report.mismatches == ["cases.status is 'in_handling', replay reaches 'closed'",
                                 "cases.satisfaction is 'dissatisfied', replay reaches 'very_satisfied'"]


async def test_edited_events_are_mismatches(client: Client, sessions: async_sessionmaker[AsyncSession],
                                            actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放",
                                  grade=Satisfaction.VERY_SATISFIED)
    await sql(sessions, "UPDATE case_events SET payload = payload || '{\"result\": \"改\"}' "
              "WHERE case_no = :c AND seq = 3", c=case_no)
    await sql(sessions, "DELETE FROM case_events WHERE case_no = :c AND seq = 4", c=case_no)
    report = await replay_case(client, sessions, case_no)
    assert report.verdict == Verdict.MISMATCH
    assert report.mismatches == [
        "case_events holds 3 events, replay reaches last_seq 4",
        "event 3 (completed) differs from what the replay records: payload",
        "event 4 (callback_rated) recorded by the replay is missing from case_events",
    ]


async def test_replay_endpoint(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], client: Client,
                               sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放",
                                  grade=Satisfaction.VERY_SATISFIED)
    r = await api.get(f"/audit/cases/{case_no}/replay", headers=tokens["auditor"])
    assert r.status_code == 200, r.text
    assert r.json() | {"error": None} == {"case_no": case_no, "source": "live", "ok": True, "verdict": "ok",
                                          "mismatches": [], "error": None, "replayed_events": 4}
    archive = (await api.get(f"/audit/cases/{case_no}/replay?source=archive", headers=tokens["director"])).json()
    assert archive["verdict"] == "failed" and "not archived" in archive["error"]
    assert (await api.get(f"/audit/cases/{case_no}/replay", headers=tokens["clerk2"])).status_code == 403
    assert (await api.get("/audit/cases/NO-SUCH/replay", headers=tokens["admin"])).status_code == 404
