"""Verify the hash chain of every case: name the first broken link (changed, deleted, inserted, reordered), compare
the chain with the ``cases`` projection and with the newest anchor, so that a deleted tail shows as well."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casehall.audit import anchors
from casehall.core.db import transaction
from casehall.core.hashing import GENESIS, event_hash
from casehall.models.tables import Case, CaseEvent, ChainAnchor

SEARCH_MARGIN = 100  # how far past the last seq a renumbered event's original seq is looked for


class BreakKind(StrEnum):
    CHANGED = "changed"  # the event's content no longer matches its hash
    DELETED = "deleted"  # an event is missing: a gap, a link to nothing, a tail shorter than anchored
    INSERTED = "inserted"  # an extra event that the chain does not lead to
    REORDERED = "reordered"  # the events are intact but in another order than they were chained


@dataclass(frozen=True)
class ChainBreak:
    case_no: str
    seq: int
    kind: BreakKind
    detail: str
    source: str = "chain"  # chain | projection | anchor


@dataclass
class ChainReport:
    case_no: str
    events: int
    head_seq: int
    head_hash: str
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


@dataclass
class ChainVerification:
    reports: list[ChainReport]
    anchor: ChainAnchor | None
    anchor_intact: bool = True

    @property
    def broken(self) -> list[ChainReport]:
        return [r for r in self.reports if not r.ok]

    @property
    def ok(self) -> bool:
        return self.anchor_intact and not self.broken


class ChainBroken(ValueError):
    """Refusal to anchor chains that do not verify."""


def _digest(row: CaseEvent, seq: int) -> str:
    return event_hash(row.prev_hash, row.case_no, seq, row.type, row.actor_id, row.at, row.payload)


def _origin(row: CaseEvent, last: int) -> int | None:
    """The seq the row's hash was computed for: its own when intact, another when renumbered, None when changed."""
    if _digest(row, row.seq) == row.hash:
        return row.seq
    return next((s for s in range(1, last + SEARCH_MARGIN) if s != row.seq and _digest(row, s) == row.hash), None)


def first_break(case_no: str, rows: Sequence[CaseEvent], last_seq: int | None = None) -> ChainBreak | None:
    """The first broken link of one case's events (ordered by seq), or None when the chain holds; ``last_seq`` of
    the ``cases`` row tells a rewritten event (its successor was recorded) from an appended one."""
    if not rows:
        return None
    last = rows[-1].seq
    origins = [_origin(r, last) for r in rows]
    by_hash = {r.hash: r for r in rows}
    permuted = None not in origins and sorted(o for o in origins if o is not None) == [r.seq for r in rows]
    prev: CaseEvent | None = None

    def brk(kind: BreakKind, seq: int, detail: str) -> ChainBreak:
        return ChainBreak(case_no, seq, kind, detail)

    for i, (row, origin) in enumerate(zip(rows, origins, strict=True)):
        expected_seq, expected_prev = (prev.seq + 1, prev.hash) if prev else (1, GENESIS)
        later = rows[i + 1:]
        if origin is None:
            return brk(BreakKind.CHANGED, row.seq, f"event {row.seq} ({row.type}) does not match its hash")
        if origin != row.seq:
            if permuted:
                return brk(BreakKind.REORDERED, row.seq, f"event {row.seq} ({row.type}) was chained as event {origin}")
            if origin < row.seq:
                pred = by_hash.get(row.prev_hash)
                at = pred.seq + 1 if pred else row.seq - 1
                return brk(BreakKind.INSERTED, at, f"an event was inserted at {at}: event {origin} ({row.type}) "
                           f"now stands at {row.seq}")
            return brk(BreakKind.DELETED, row.seq, f"events were deleted before {row.seq}: event {origin} "
                       f"({row.type}) now stands at {row.seq}")
        if row.prev_hash == expected_prev and row.seq == expected_seq:
            prev = row
            continue
        linked = by_hash.get(row.prev_hash)
        if any(q.hash == row.prev_hash for q in later):
            assert linked is not None
            return brk(BreakKind.REORDERED, row.seq, f"event {row.seq} ({row.type}) is chained after the later "
                       f"event {linked.seq}")
        if any(q.prev_hash == expected_prev for q in later):
            return brk(BreakKind.INSERTED, row.seq, f"event {row.seq} ({row.type}) is not chained to event "
                       f"{expected_seq - 1}, which a later event follows")
        if row.seq > expected_seq:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}-{row.seq - 1}"
            return brk(BreakKind.DELETED, expected_seq, f"event(s) {missing} are missing before {row.seq}")
        if linked is not None:
            return brk(BreakKind.INSERTED, linked.seq + 1, f"event {row.seq} ({row.type}) follows event "
                       f"{linked.seq}: the events between were inserted")
        if prev is not None and (later or (last_seq is not None and row.seq <= last_seq)):
            return brk(BreakKind.CHANGED, prev.seq, f"event {prev.seq} ({prev.type}) was rewritten: event "
                       f"{row.seq} is chained to another event")
        return brk(BreakKind.INSERTED, row.seq, f"event {row.seq} ({row.type}) is not chained to event "
                   f"{expected_seq - 1}")
    return None


def projection_break(case_no: str, rows: Sequence[CaseEvent], last_seq: int) -> ChainBreak | None:
    """The ``cases`` row counts ``last_seq`` events: more is an insertion, fewer a deletion."""
    head = rows[-1].seq if rows else 0
    if head > last_seq:
        return ChainBreak(case_no, last_seq + 1, BreakKind.INSERTED,
                          f"events after {last_seq}, the last the case recorded, were added", "projection")
    if head < last_seq:
        return ChainBreak(case_no, head + 1, BreakKind.DELETED,
                          f"the case recorded {last_seq} events, only {head} remain", "projection")
    return None


def anchor_break(case_no: str, rows: Sequence[CaseEvent], anchor: ChainAnchor) -> ChainBreak | None:
    """The event the anchor saw as this case's head must still be there, with the same hash."""
    if case_no not in anchor.heads:
        return None
    seq, digest = anchor.heads[case_no]
    row = next((r for r in rows if r.seq == seq), None)
    when = f"anchor #{anchor.id} of {anchor.anchored_at:%Y-%m-%d %H:%M:%S%z}"
    if row is None:
        head = rows[-1].seq if rows else 0
        return ChainBreak(case_no, head + 1, BreakKind.DELETED,
                          f"the chain ends at {head} but reached {seq} at {when}", "anchor")
    if row.hash != digest:
        return ChainBreak(case_no, seq, BreakKind.CHANGED, f"event {seq} differs from the head seen by {when}",
                          "anchor")
    return None


def check_case(case_no: str, rows: Sequence[CaseEvent], last_seq: int | None, anchor: ChainAnchor | None
               ) -> ChainReport:
    head = rows[-1] if rows else None
    report = ChainReport(case_no, len(rows), head.seq if head else 0, head.hash if head else GENESIS)
    found = [first_break(case_no, rows, last_seq),
             None if last_seq is None else projection_break(case_no, rows, last_seq),
             anchor_break(case_no, rows, anchor) if anchor else None]
    report.breaks = [b for b in found if b is not None]
    return report


@dataclass
class Held:
    """What PostgreSQL holds of one case: its ``cases`` row (None: none) and its events in seq order."""

    case: Case | None = None
    events: list[CaseEvent] = field(default_factory=list)


async def held_cases(session: AsyncSession, case_nos: Sequence[str]) -> dict[str, Held]:
    """The rows and events of ``case_nos`` (at most ~30,000: one parameter each), read in two queries."""
    held = {no: Held() for no in case_nos}
    cases = select(Case).where(col(Case.case_no).in_(case_nos)).execution_options(populate_existing=True)
    for case in await session.scalars(cases):
        held[case.case_no].case = case
    events = (select(CaseEvent).where(col(CaseEvent.case_no).in_(case_nos))
              .order_by(col(CaseEvent.case_no), col(CaseEvent.seq)).execution_options(populate_existing=True))
    for event in await session.scalars(events):
        held[event.case_no].events.append(event)
    return held


def check_held(case_no: str, held: Held, anchor: ChainAnchor | None) -> ChainReport:
    """The chain of a case read by ``held_cases``, against its projection and ``anchor``."""
    return check_case(case_no, held.events, held.case.last_seq if held.case else None, anchor)


def anchor_intact(anchor: ChainAnchor | None) -> bool:
    """The anchor's digest still matches the heads it lists (no anchor: nothing to contradict)."""
    return anchor is None or anchors.heads_digest(anchor.heads) == anchor.digest


async def _grouped(session: AsyncSession, case_nos: Sequence[str] | None
                   ) -> AsyncIterator[tuple[str, list[CaseEvent]]]:
    stmt = select(CaseEvent).order_by(col(CaseEvent.case_no), col(CaseEvent.seq))
    if case_nos is not None:
        stmt = stmt.where(col(CaseEvent.case_no).in_(case_nos))
    current: list[CaseEvent] = []
    async for row in await session.stream_scalars(stmt.execution_options(yield_per=2000)):
        if current and current[0].case_no != row.case_no:
            yield current[0].case_no, current
            current = []
        current.append(row)
    if current:
        yield current[0].case_no, current


async def verify_chains(session: AsyncSession, case_nos: Sequence[str] | None = None, *, use_anchor: bool = True
                        ) -> ChainVerification:
    """Check the chains of ``case_nos`` (every case when None) against the projection and the newest anchor."""
    anchor = await anchors.newest_anchor(session) if use_anchor else None
    cases = select(col(Case.case_no), col(Case.last_seq))
    if case_nos is not None:
        cases = cases.where(col(Case.case_no).in_(case_nos))
    last_seqs: dict[str, int] = {no: seq for no, seq in (await session.execute(cases)).all()}
    reports = [check_case(no, rows, last_seqs.get(no), anchor) async for no, rows in _grouped(session, case_nos)]
    seen = {r.case_no for r in reports}
    expected = set(last_seqs) | (set(anchor.heads) if anchor else set())
    if case_nos is not None:
        expected &= set(case_nos)
    for no in sorted(expected - seen):
        reports.append(check_case(no, [], last_seqs.get(no), anchor))
    reports.sort(key=lambda r: r.case_no)
    return ChainVerification(reports, anchor, anchor_intact(anchor))


async def anchor_chains(sessions: async_sessionmaker[AsyncSession], *, force: bool = False) -> ChainAnchor:
    """Verify every chain, then anchor their heads; refuse (ChainBroken) to anchor broken chains unless forced."""
    async with transaction(sessions) as session:
        if not force:
            verification = await verify_chains(session)
            if not verification.ok:
                names = ", ".join(r.case_no for r in verification.broken[:5]) or "the newest anchor"
                raise ChainBroken(f"{len(verification.broken)} broken chain(s) ({names}): not anchored")
        return await anchors.write_anchor(session)
