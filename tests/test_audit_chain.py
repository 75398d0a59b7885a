"""The hash-chain verifier finds and names every kind of tampering done in SQL; anchors catch a deleted tail."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client

from casehall.audit import anchors
from casehall.audit.chain import BreakKind, ChainBroken, ChainReport, anchor_chains, verify_chains
from casehall.core.db import transaction
from casehall.core.hashing import event_hash
from casehall.models.case import Actor
from casehall.models.tables import ChainAnchor
from tests.cases import closed_case, events


async def sql(sessions: async_sessionmaker[AsyncSession], *statements: str, **params: Any) -> None:
    async with transaction(sessions) as s:
        for statement in statements:
            await s.execute(text(statement), params)


async def chain_of(sessions: async_sessionmaker[AsyncSession], case_no: str, use_anchor: bool = False
                   ) -> ChainReport:
    async with sessions() as s:
        (report,) = (await verify_chains(s, [case_no], use_anchor=use_anchor)).reports
    return report


async def forge(sessions: async_sessionmaker[AsyncSession], case_no: str, seq: int, prev_hash: str) -> None:
    """Insert a well-formed event (its hash computed like the real ones) chained to ``prev_hash``."""
    last = (await events(sessions, case_no))[-1]
    at, payload = last.at + timedelta(minutes=1), {"result": "伪造", "actor": "clerk"}
    digest = event_hash(prev_hash, case_no, seq, "completed", last.actor_id, at, payload)
    await sql(sessions, "INSERT INTO case_events (case_no, seq, type, actor_id, actor_role, at, payload, prev_hash, "
              "hash) VALUES (:c, :seq, 'completed', :actor, 'clerk', :at, CAST(:payload AS JSONB), :prev, :hash)",
              c=case_no, seq=seq, actor=last.actor_id, at=at, payload='{"result": "伪造", "actor": "clerk"}',
              prev=prev_hash, hash=digest)


async def test_intact_chains_verify_and_anchor(client: Client, sessions: async_sessionmaker[AsyncSession],
                                               actors: dict[str, Actor]) -> None:
    numbers = [await closed_case(client, sessions, actors["clerk"], result="营业执照已发放") for _ in range(3)]
    async with sessions() as s:
        result = await verify_chains(s)
    assert result.ok and {r.case_no for r in result.reports} >= set(numbers)
    assert all(r.events == 4 and r.head_seq == 4 for r in result.reports if r.case_no in numbers)

    anchor = await anchor_chains(sessions)
    assert anchor.case_count == len(result.reports) and anchor.digest == anchors.heads_digest(anchor.heads)
    assert anchor.heads[numbers[0]] == [4, (await events(sessions, numbers[0]))[-1].hash]
    async with sessions() as s:
        again = await verify_chains(s)
    assert again.ok and again.anchor is not None and again.anchor.id == anchor.id


async def test_changed_payload(client: Client, sessions: async_sessionmaker[AsyncSession],
                               actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    await sql(sessions, "UPDATE case_events SET payload = payload || '{\"result\": \"改过的结果\"}' "
              "WHERE case_no = :c AND seq = 3", c=case_no)
    report = await chain_of(sessions, case_no)
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.CHANGED, 3)]
    assert "completed" in report.breaks[0].detail


async def test_changed_and_rehashed(client: Client, sessions: async_sessionmaker[AsyncSession],
                                    actors: dict[str, Actor]) -> None:
    """A forger who recomputes the changed event's hash still breaks the link to its successor."""
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    row = (await events(sessions, case_no))[2]
    payload = row.payload | {"result": "改过的结果"}
    digest = event_hash(row.prev_hash, case_no, 3, row.type, row.actor_id, row.at, payload)
    async with transaction(sessions) as s:
        await s.execute(update(type(row)).where(col(type(row).id) == row.id).values(payload=payload, hash=digest))
    report = await chain_of(sessions, case_no)
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.CHANGED, 3)]


async def test_deleted_event(client: Client, sessions: async_sessionmaker[AsyncSession],
                             actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    await sql(sessions, "DELETE FROM case_events WHERE case_no = :c AND seq = 2", c=case_no)
    report = await chain_of(sessions, case_no)
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.DELETED, 2)]
    assert "event(s) 2 are missing before 3" in report.breaks[0].detail


async def test_deleted_and_renumbered(client: Client, sessions: async_sessionmaker[AsyncSession],
                                      actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    await sql(sessions, "DELETE FROM case_events WHERE case_no = :c AND seq = 2",
              "UPDATE case_events SET seq = seq - 1 WHERE case_no = :c AND seq > 2",
              "UPDATE cases SET last_seq = 3 WHERE case_no = :c", c=case_no)
    report = await chain_of(sessions, case_no)
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.DELETED, 2)]


async def test_inserted_in_the_middle(client: Client, sessions: async_sessionmaker[AsyncSession],
                                      actors: dict[str, Actor]) -> None:
    """Events 3 and 4 move to 4 and 5; a well-formed event, chained to event 2, takes seq 3."""
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    second = (await events(sessions, case_no))[1]
    await sql(sessions, "UPDATE case_events SET seq = seq + 1000 WHERE case_no = :c AND seq >= 3",
              "UPDATE case_events SET seq = seq - 999 WHERE case_no = :c AND seq > 1000",
              "UPDATE cases SET last_seq = 5 WHERE case_no = :c", c=case_no)
    await forge(sessions, case_no, 3, second.hash)
    report = await chain_of(sessions, case_no)
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.INSERTED, 3)]


@pytest.mark.parametrize("linked", [False, True], ids=["bogus-prev", "well-chained"])
async def test_inserted_at_the_end(client: Client, sessions: async_sessionmaker[AsyncSession],
                                   actors: dict[str, Actor], linked: bool) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    head = (await events(sessions, case_no))[-1]
    await forge(sessions, case_no, 5, head.hash if linked else "f" * 64)
    report = await chain_of(sessions, case_no)
    found = [(b.kind, b.seq, b.source) for b in report.breaks]
    expected = [(BreakKind.INSERTED, 5, "projection")]  # the case itself recorded only 4 events
    assert found == (expected if linked else [(BreakKind.INSERTED, 5, "chain"), *expected])


async def test_reordered_events(client: Client, sessions: async_sessionmaker[AsyncSession],
                                actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    await sql(sessions, "UPDATE case_events SET seq = -2 WHERE case_no = :c AND seq = 2",
              "UPDATE case_events SET seq = 2 WHERE case_no = :c AND seq = 3",
              "UPDATE case_events SET seq = 3 WHERE case_no = :c AND seq = -2", c=case_no)
    report = await chain_of(sessions, case_no)
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.REORDERED, 2)]
    assert "chained as event 3" in report.breaks[0].detail


async def test_anchor_refuses_broken_chains(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(ChainBroken, match="broken chain"):
        await anchor_chains(sessions)


async def test_truncated_tail_is_found_by_the_anchor(client: Client, sessions: async_sessionmaker[AsyncSession],
                                                     actors: dict[str, Actor]) -> None:
    """The last events deleted and the projection adjusted: only the anchor still knows the chain was longer."""
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    anchor = await anchor_chains(sessions, force=True)  # earlier tests left broken chains behind
    assert anchor.heads[case_no][0] == 4
    await sql(sessions, "DELETE FROM case_events WHERE case_no = :c AND seq >= 3",
              "UPDATE cases SET last_seq = 2, status = 'in_handling', closed_at = NULL WHERE case_no = :c",
              c=case_no)
    assert (await chain_of(sessions, case_no, use_anchor=False)).ok  # what is left is a valid chain
    report = await chain_of(sessions, case_no, use_anchor=True)
    assert [(b.kind, b.seq, b.source) for b in report.breaks] == [(BreakKind.DELETED, 3, "anchor")]
    assert f"anchor #{anchor.id}" in report.breaks[0].detail and "reached 4" in report.breaks[0].detail


async def test_altered_anchor_is_noticed(client: Client, sessions: async_sessionmaker[AsyncSession],
                                         actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    anchor = await anchor_chains(sessions, force=True)
    async with transaction(sessions) as s:
        heads = dict(anchor.heads) | {case_no: [3, "0" * 64]}
        await s.execute(update(ChainAnchor).where(col(ChainAnchor.id) == anchor.id).values(heads=heads))
    async with sessions() as s:
        result = await verify_chains(s, [case_no])
    assert not result.anchor_intact and not result.ok
    await anchor_chains(sessions, force=True)  # a fresh, intact anchor for the tests that follow


async def test_chain_endpoint(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], client: Client,
                              sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> None:
    case_no = await closed_case(client, sessions, actors["clerk"], result="营业执照已发放")
    ok = await api.get(f"/audit/cases/{case_no}/chain", headers=tokens["auditor"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["events"] == 4 and ok.json()["breaks"] == []
    await sql(sessions, "UPDATE case_events SET at = at + interval '1 second' WHERE case_no = :c AND seq = 1",
              c=case_no)
    broken = (await api.get(f"/audit/cases/{case_no}/chain", headers=tokens["manager"])).json()
    assert not broken["ok"] and broken["breaks"][0] == {
        "seq": 1, "kind": "changed", "source": "chain", "detail": "event 1 (registered) does not match its hash"}
    assert (await api.get(f"/audit/cases/{case_no}/chain", headers=tokens["clerk"])).status_code == 403
    assert (await api.get("/audit/cases/NO-SUCH/chain", headers=tokens["auditor"])).status_code == 404
