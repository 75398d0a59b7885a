"""Auditing a period: every case closed in it is replayed and chain-checked, by the function and by the CLI (exit
code 1 on any finding); the other audit commands run against the same services."""

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from typer.testing import CliRunner, Result

from casehall.audit import checks
from casehall.audit.checks import CaseAudit, audit_closed_between
from casehall.audit.replay import Verdict
from casehall.cli.main import app
from casehall.core.db import transaction
from casehall.models.case import Actor
from casehall.models.ids import case_workflow_id
from casehall.models.tables import Case, CaseHistory
from tests.cases import closed_case, events, handle
from tests.conftest import CODEC_KEYS

CASES = 12  # proves the point; bench/audit_replay.py replays hundreds against the raw Replayer


async def cli(database_url: str, client: Client, *args: str) -> Result:
    """``casehall audit ...`` in a thread (it runs its own event loop) against the test services."""
    env = {"CASEHALL_DATABASE_URL": database_url, "CASEHALL_CODEC_KEYS": CODEC_KEYS,
           "CASEHALL_TEMPORAL_ADDRESS": client.service_client.config.target_host}
    return await asyncio.to_thread(CliRunner().invoke, app, ["audit", *args], env=env)


async def sql(sessions: async_sessionmaker[AsyncSession], statement: str, **params: object) -> None:
    async with transaction(sessions) as s:
        await s.execute(text(statement), params)


async def period(sessions: async_sessionmaker[AsyncSession], numbers: list[str]) -> tuple[datetime, datetime]:
    closed: list[datetime] = []
    async with sessions() as s:
        for n in numbers:
            case = await s.get(Case, n)
            assert case is not None and case.closed_at is not None
            closed.append(case.closed_at)
    return min(closed), max(closed) + timedelta(seconds=1)


async def test_bulk_replay_of_closed_cases(client: Client, sessions: async_sessionmaker[AsyncSession],
                                           actors: dict[str, Actor], database_url: str) -> None:
    numbers = [await closed_case(client, sessions, actors["clerk"]) for _ in range(CASES)]
    start, end = await period(sessions, numbers)
    seen: list[CaseAudit] = []
    summary = await audit_closed_between(client, sessions, start, end, source="live", progress=seen.append)
    assert summary.ok and len(summary.cases) == CASES and len(seen) == CASES
    assert {c.case_no for c in summary.cases} == set(numbers) and summary.count(Verdict.OK) == CASES

    edited, forged = numbers[3], numbers[7]
    original = (await events(sessions, forged))[1].payload
    await sql(sessions, "UPDATE cases SET status = 'rejected' WHERE case_no = :c", c=edited)
    await sql(sessions, "UPDATE case_events SET payload = payload || '{\"working_days\": 30}' "
              "WHERE case_no = :c AND seq = 2", c=forged)
    summary = await audit_closed_between(client, sessions, start, end, source="live")
    assert not summary.ok and {c.case_no for c in summary.failed} == {edited, forged}
    by_case = {c.case_no: c for c in summary.cases}
    assert by_case[edited].replay.verdict == Verdict.MISMATCH and by_case[edited].chain.ok
    assert by_case[forged].replay.mismatches == ["event 2 (accepted) differs from what the replay records: payload"]
    assert [b.kind.value for b in by_case[forged].chain.breaks] == ["changed"]

    result = await cli(database_url, client, "replay", "--closed-between", start.isoformat(), end.isoformat())
    assert result.exit_code == 1, result.output
    assert edited in result.output and forged in result.output
    assert f"{CASES} cases: {CASES - 2} ok, 2 with findings" in result.output
    assert "mismatch 2" in result.output and "broken chains 1" in result.output

    await sql(sessions, "UPDATE cases SET status = 'closed' WHERE case_no = :c", c=edited)
    await sql(sessions, "UPDATE case_events SET payload = CAST(:p AS JSONB) WHERE case_no = :c AND seq = 2",
              c=forged, p=json.dumps(original))
    result = await cli(database_url, client, "replay", "--closed-between", start.isoformat(), end.isoformat())
    assert result.exit_code == 0, result.output
    assert f"{CASES} cases: {CASES} ok, 0 with findings" in result.output


async def test_audit_commands(client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor],
                              database_url: str, tmp_path: Path) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"])
    verify = await cli(database_url, client, "verify")
    assert verify.exit_code == 0 and "anchor: none yet" in verify.output and "0 broken" in verify.output
    anchored = await cli(database_url, client, "anchor")
    assert anchored.exit_code == 0 and "digest" in anchored.output, anchored.output

    archived = await cli(database_url, client, "archive")
    assert archived.exit_code == 0 and f"archived {CASES + 1} histories" in archived.output, archived.output
    assert "archived 0 histories" in (await cli(database_url, client, "archive")).output
    from_archive = await cli(database_url, client, "replay", case_no, "--source", "archive")
    assert from_archive.exit_code == 0 and "OK" in from_archive.output and "chain ok" in from_archive.output

    exported = tmp_path / "history.json"
    exported.write_text((await handle(client, case_no).fetch_history()).to_json())
    from_file = await cli(database_url, client, "replay", case_no, "--file", str(exported))
    assert from_file.exit_code == 0 and "replayed from file" in from_file.output, from_file.output

    await sql(sessions, "DELETE FROM case_events WHERE case_no = :c AND seq = 4", c=case_no)
    await sql(sessions, "UPDATE cases SET last_seq = 3 WHERE case_no = :c", c=case_no)
    broken = await cli(database_url, client, "verify")
    assert broken.exit_code == 1 and case_no in broken.output and "deleted" in broken.output, broken.output
    replayed = await cli(database_url, client, "replay", case_no)
    assert replayed.exit_code == 1 and "MISMATCH" in replayed.output and "anchor" in replayed.output
    refused = await cli(database_url, client, "anchor")
    assert refused.exit_code == 1 and "not anchored" in refused.output

    usage = await cli(database_url, client, "replay")
    assert usage.exit_code == 2


async def test_bulk_audit_reads_in_batches(client: Client, sessions: async_sessionmaker[AsyncSession],
                                           actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches smaller than the audit (rows and events read three cases at a time, two histories ahead): every
    planted change is still found in its own case, an unknown case fails alone, results keep the order asked."""
    monkeypatch.setattr(checks, "BATCH", 3)
    monkeypatch.setattr(checks, "PREFETCH", 2)
    numbers = [await closed_case(client, sessions, actors["clerk"]) for _ in range(7)]
    edited, forged, cut, other = numbers[1], numbers[3], numbers[5], numbers[6]
    await sql(sessions, "UPDATE cases SET status = 'rejected' WHERE case_no = :c", c=edited)
    await sql(sessions, "UPDATE case_events SET payload = payload || '{\"working_days\": 30}' "
              "WHERE case_no = :c AND seq = 2", c=forged)
    await sql(sessions, "DELETE FROM case_events WHERE case_no = :c AND seq = 4", c=cut)
    unknown = "HALL-20000101-000001"
    asked = [*numbers[:3], unknown, *numbers[3:6], numbers[0]]  # a repeat is audited once
    seen: list[CaseAudit] = []
    summary = await checks.audit_cases(client, sessions, asked, source="live", progress=seen.append)
    assert [c.case_no for c in summary.cases] == [*numbers[:3], unknown, *numbers[3:6]]
    assert sorted(c.case_no for c in seen) == sorted(c.case_no for c in summary.cases)
    assert {c.case_no for c in summary.failed} == {edited, forged, cut, unknown} and summary.anchor_intact
    by_case = {c.case_no: c for c in summary.cases}
    assert by_case[edited].replay.mismatches == ["cases.status is 'rejected', replay reaches 'closed'"]
    assert by_case[edited].chain.ok
    assert by_case[forged].replay.mismatches == ["event 2 (accepted) differs from what the replay records: payload"]
    assert [b.kind.value for b in by_case[forged].chain.breaks] == ["changed"]
    assert by_case[cut].replay.mismatches == [
        "case_events holds 3 events, replay reaches last_seq 4",
        "event 4 (callback_rated) recorded by the replay is missing from case_events"]
    assert [(b.kind.value, b.source) for b in by_case[cut].chain.breaks] == [("deleted", "projection")]
    assert by_case[unknown].replay.verdict == Verdict.FAILED and by_case[unknown].chain.ok
    assert "no longer has the history" in (by_case[unknown].replay.error or "")

    # An archive rewritten consistently (its checksum too) with another case's history: the replay names that
    # case and is compared with that case's rows, read apart from the batch.
    swapped = (await handle(client, other).fetch_history()).to_json()
    async with transaction(sessions) as s:
        s.add(CaseHistory(case_no=numbers[0], workflow_id=case_workflow_id(numbers[0]), run_id="swapped",
                          history=swapped, sha256=hashlib.sha256(swapped.encode()).hexdigest(), event_count=1,
                          archived_at=datetime.now(UTC)))
    (audit,) = (await checks.audit_cases(client, sessions, [numbers[0]], source="archive")).cases
    assert audit.replay.source == "archive" and audit.replay.verdict == Verdict.MISMATCH and audit.chain.ok
    assert audit.replay.mismatches == [f"the history is of case {other}, not {numbers[0]}"]
