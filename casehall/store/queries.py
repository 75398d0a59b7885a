"""Read queries for the API, CLI and intake: lists and searches read PostgreSQL, never the workflow."""

import base64
import binascii
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ARRAY, ColumnElement, Text, func, literal, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.models.case import Actor, ItemRules, Material, ServiceItemInfo
from casehall.models.enums import CLOCK_RUNNING, Role
from casehall.models.messages import N_
from casehall.models.tables import (
    Case,
    CaseEvent,
    Consultation,
    ConsultationEvent,
    Department,
    Document,
    ServiceItem,
    Task,
    User,
)

# The hall's combined item (several matters in one registration): migration 0004 creates it with the centre.
COMBINED_ITEM = "HALL-COMBINED"


_PARENTS = "casehall_department_parents"


async def department_parents(session: AsyncSession) -> dict[str, str | None]:
    """The department tree (code -> parent code), read once per transaction of ``session``: a page of cases asks
    for it once per case."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_PARENTS)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    parents = dict((await session.execute(select(col(Department.code), col(Department.parent_code)))).all())
    session.info[_PARENTS] = (session.sync_session.get_transaction(), parents)
    return parents


async def department_path(session: AsyncSession, code: str) -> list[str]:
    """The department and its ancestors, nearest first."""
    parents = await department_parents(session)
    path: list[str] = []
    current: str | None = code
    while current is not None and current not in path:
        path.append(current)
        current = parents.get(current)
    return path


async def department_subtree(session: AsyncSession, code: str) -> list[str]:
    """The department and every department below it."""
    rows = list((await department_parents(session)).items())
    tree, frontier = {code}, [code]
    while frontier:
        frontier = [child for child, parent in rows if parent in frontier and child not in tree]
        tree.update(frontier)
    return sorted(tree)


async def service_item(session: AsyncSession, code: str) -> ServiceItemInfo | None:
    item = await session.get(ServiceItem, code)
    if item is None:
        return None
    return ServiceItemInfo(
        code=item.code, name=item.name, department_code=item.department_code,
        department_path=await department_path(session, item.department_code),
        time_limit_days=item.time_limit_days, expedited_days=item.expedited_days,
        materials=[Material.model_validate(m) for m in item.materials], rules=ItemRules.model_validate(item.rules),
    )


async def withdrawn_at(session: AsyncSession, code: str) -> datetime | None:
    """When the item was withdrawn from the catalogue (None: it is offered, or unknown)."""
    item = await session.get(ServiceItem, code)
    return item.withdrawn_at if item is not None else None


async def service_items(session: AsyncSession) -> Sequence[ServiceItem]:
    return (await session.scalars(select(ServiceItem).order_by(col(ServiceItem.code)))).all()


def actor_of(user: User) -> Actor:
    assert user.id is not None
    return Actor(user_id=user.id, username=user.username, role=Role(user.role), department_code=user.department_code)


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(col(User.username) == username))


def escape_like(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern: ``%``, ``_`` and the escape character itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Lists count exactly up to COUNT_UP_TO rows (?count=exact: EXACT_COUNT_UP_TO); past it ``total`` is the planner's
# estimate. A page never counts millions of rows. A Chinese text search counts up to TEXT_COUNT_UP_TO only: each match
# is a row on a page of its own (a name is spread over five years), and the planner cannot estimate how many cases
# hold a name, so past it the page says no more than that more matched ("200+").
COUNT_UP_TO = 1_000
TEXT_COUNT_UP_TO = 200
EXACT_COUNT_UP_TO = 100_000
# ``offset`` reads every row it skips: lists refuse deeper offsets (page on with the keyset cursor instead).
OFFSET_UP_TO = 10_000
# What a case number looks like from its beginning (HALL-20261121-000123): searched by prefix, not in the text.
CASE_NO_START = re.compile(r"^[A-Za-z]+-[0-9][0-9-]*$")


class BadCursor(ValueError):
    """A ``cursor`` that no list gave out."""


BAD_CURSOR = N_("not a cursor of this list: pass next_cursor as a previous page gave it")


def _pack(moment: datetime, key: str | int) -> str:
    raw = json.dumps([moment.isoformat(), key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _unpack(text: str, kind: type[str] | type[int]) -> tuple[datetime, str | int]:
    """(moment, key) of a cursor ``_pack`` wrote with a key of type ``kind``; BadCursor otherwise."""
    try:
        moment, key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        at = datetime.fromisoformat(moment)
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor(BAD_CURSOR) from None
    if at.tzinfo is None or type(key) is not kind:
        raise BadCursor(BAD_CURSOR)
    if isinstance(key, str) and (len(key) > 64 or not key.isprintable()):
        raise BadCursor(BAD_CURSOR)
    if isinstance(key, int) and not 0 < key < 2**31:
        raise BadCursor(BAD_CURSOR)
    return at, key


@dataclass(frozen=True)
class Cursor:
    """Where a page of cases ended: its last case's (registered_at, case_no); opaque to clients."""

    registered_at: datetime
    case_no: str

    def encode(self) -> str:
        return _pack(self.registered_at, self.case_no)

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        at, case_no = _unpack(text, str)
        return cls(at, str(case_no))


@dataclass(frozen=True)
class TaskCursor:
    """Where a page of the inbox ended: its last task's (opened_at, id); opaque to clients."""

    opened_at: datetime
    task_id: int

    def encode(self) -> str:
        return _pack(self.opened_at, self.task_id)

    @classmethod
    def decode(cls, text: str) -> "TaskCursor":
        at, task_id = _unpack(text, int)
        return cls(at, int(task_id))


@dataclass
class CaseFilter:
    status: str | None = None
    department_code: str | None = None
    clerk_id: int | None = None
    overdue: bool | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    text: str | None = None
    offset: int = 0
    limit: int = 50
    cursor: Cursor | None = None  # the page after this case (keyset); offset still applies after it
    exact_count: bool = False


@dataclass(frozen=True)
class Count:
    """How many cases a list holds: ``total`` exactly, or (``more_than`` set) more than ``more_than``: the count
    stopped at its cap, and ``total`` is the planner's estimate or, for a text search, ``more_than`` + 1."""

    total: int
    more_than: int | None = None


@dataclass
class CasePage:
    total: int
    total_exact: bool  # False: ``total`` is an estimate
    more_than: int | None  # the count stopped at this cap (more matched); None: exact, or not counted at all
    rows: Sequence[Case]
    next_cursor: str | None  # None: this is the last page


def bigrams(text: str) -> set[str]:
    """The two-character pieces of ``text`` (as ``casehall_bigrams`` in SQL cuts them)."""
    lowered = text.lower()
    return {lowered[i:i + 2] for i in range(len(lowered) - 1)}


# Element frequencies of the bigram index (pg_stats, refreshed by ANALYZE): kept for a few minutes per process.
_TERM_STATS: dict[str, tuple[float, dict[str, float], float]] = {}
TERM_STATS_SECONDS = 300.0
# A text found in at least this share of cases is searched newest-first through the registration index (50 hits
# come after ~50/share rows); a rarer one through the bigram index, then sorted.
WALK_FROM = 0.005


async def bigram_shares(session: AsyncSession) -> tuple[dict[str, float], float]:
    """(share of cases holding each common bigram, the smallest share listed: rarer bigrams are not listed)."""
    cached = _TERM_STATS.get("cases")
    if cached is not None and time.monotonic() - cached[0] < TERM_STATS_SECONDS:
        return cached[1], cached[2]
    row = (await session.execute(text(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
        " WHERE tablename = 'ix_cases_text_bigrams'"))).first()
    shares: dict[str, float] = {}
    floor = 0.0
    if row is not None and row[0] and row[1]:
        shares = dict(zip(row[0], row[1], strict=False))  # the frequencies end with min, max and null share
        floor = float(row[1][-3])
    _TERM_STATS["cases"] = (time.monotonic(), shares, floor)
    return shares, floor


# The bigrams of a text an index lookup asks for: its rarest few (a company's name holds 长春, 有限, 公司 like a
# third of all cases; reading those posting lists costs more than the rare pieces save). ILIKE checks the rest.
SEARCH_PIECES = 3


async def search_pieces(session: AsyncSession, text_: str) -> list[str]:
    """The rarest ``SEARCH_PIECES`` bigrams of ``text_`` by the index statistics, in a stable order."""
    shares, floor = await bigram_shares(session)
    ranked = sorted(bigrams(text_), key=lambda piece: (shares.get(piece, floor / 2), piece))
    return sorted(ranked[:SEARCH_PIECES])


async def text_share(session: AsyncSession, text_: str) -> float:
    """The share of cases that may hold ``text_`` at most (its rarest bigram's), from the index statistics."""
    shares, floor = await bigram_shares(session)
    pieces = bigrams(text_)
    if not pieces:
        return 1.0
    return min(shares.get(piece, floor / 2) for piece in pieces)


def text_condition(text_: str, common: bool = False, pieces: list[str] | None = None) -> ColumnElement[bool]:
    """A case number from its beginning, or an applicant name or description containing ``text_``.

    Names and descriptions are found through the bigram index of migration 0009 (``casehall_case_terms``: every
    two-character piece of the text must be there), then checked with ILIKE. A ``common`` text (or one character)
    is only checked with ILIKE: the list reads the newest cases until the page is full.
    """
    prefix = col(Case.case_no).like(f"{escape_like(text_.upper())}%", escape="\\")
    if CASE_NO_START.match(text_):
        return prefix
    like = f"%{escape_like(text_)}%"
    contains = col(Case.applicant_name).ilike(like, escape="\\") | col(Case.description).ilike(like, escape="\\")
    if len(text_) >= 2 and not common:
        contains = plain_terms(text_ if pieces is None else pieces) & contains
    return prefix | contains if text_.isascii() else contains


def plain_terms(pieces: list[str] | str) -> ColumnElement[bool]:
    """Cases whose name or description holds every bigram of ``pieces`` (of a text: cut by SQL), through the bigram
    index of migration 0009."""
    terms = func.casehall_case_terms(col(Case.applicant_name), col(Case.description))
    if isinstance(pieces, str):
        return terms.op("@>")(func.casehall_bigrams(pieces))
    return terms.op("@>")(literal(pieces, ARRAY(Text), literal_execute=True))


# A text search reads the newest weeks first, through the weekly bigram index of migration 0013
# (``casehall_case_terms_weekly``: each bigram of a case tagged with the week of its registration): these windows of
# weeks one after another, then everything older through the plain bigram index, until the page is full.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEEK = timedelta(weeks=1)
SEARCH_WEEKS = (2, 3, 12, 48)


def week_of(moment: datetime) -> int:
    """Weeks since 1970-01-01 00:00 UTC (as ``casehall_case_terms_weekly`` numbers them)."""
    return (moment - EPOCH) // WEEK


def weekly_condition(pieces: list[str], weeks: range) -> ColumnElement[bool]:
    """Cases registered in one of ``weeks`` whose name or description holds every bigram of ``pieces``."""
    terms = func.casehall_case_terms_weekly(col(Case.applicant_name), col(Case.description), col(Case.registered_at))
    # Inline arrays, not parameters: a generic plan would not know how rare the tagged bigrams are.
    if len(pieces) == 1:  # one index scan for all the weeks (one per week: 2.7 against 1.4 ms for 48 weeks)
        return terms.op("&&")(literal([f"{week}:{pieces[0]}" for week in weeks], ARRAY(Text), literal_execute=True))
    return or_(*(terms.op("@>")(literal([f"{week}:{piece}" for piece in pieces], ARRAY(Text), literal_execute=True))
                 for week in weeks))


def searched_by_week(text_: str | None) -> bool:
    """Whether a list searching ``text_`` is read week by week: a Chinese text of two characters or more (whose
    bigrams Python cuts as SQL does: no letter that lower() would change outside ASCII)."""
    return bool(text_) and len(text_ or "") >= 2 and not (text_ or "").isascii() \
        and all(c.isascii() or c.lower() == c for c in text_ or "")


# Cases whose legal clock runs (migration 0013 indexes them alone, ``ix_cases_running_registered``: keep its
# predicate equal to this list).
RUNNING_STATUSES = sorted(s.value for s in CLOCK_RUNNING)


def case_conditions(f: CaseFilter, common_text: bool = False, pieces: list[str] | None = None
                    ) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        conditions.append(col(Case.status) == f.status)
    if f.department_code:
        conditions.append(col(Case.department_code) == f.department_code)
    if f.clerk_id is not None:
        conditions.append(col(Case.clerk_id) == f.clerk_id)
    if f.overdue is not None:
        # The statuses inline, not as parameters: the planner then proves the predicate of ix_cases_running_registered.
        running = col(Case.status).in_([literal(s, literal_execute=True) for s in RUNNING_STATUSES])
        late = running & ~col(Case.clock_paused) & (col(Case.deadline) < func.now())
        conditions.append(late if f.overdue else ~late)
    if f.registered_from:
        conditions.append(col(Case.registered_at) >= f.registered_from)
    if f.registered_to:
        conditions.append(col(Case.registered_at) < f.registered_to)
    if f.text:
        conditions.append(text_condition(f.text, common_text, pieces))
    return conditions


async def estimated_cases(session: AsyncSession, conditions: list[ColumnElement[bool]]) -> int:
    """How many cases match, as the planner estimates it (no rows read)."""
    if not conditions:
        return int(await session.scalar(
            text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'cases'::regclass")) or 0)
    stmt = select(literal(1)).select_from(Case).where(*conditions)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    return int(await session.scalar(select(func.casehall_plan_rows(sql))) or 0)


async def count_cases(session: AsyncSession, conditions: list[ColumnElement[bool]], exact: bool,
                      cap: int | None = None, estimate: bool = True) -> Count:
    """Counted up to ``cap`` (default COUNT_UP_TO; ``exact``: EXACT_COUNT_UP_TO); past it the planner's estimate, or
    with ``estimate`` False only that more than the cap matched."""
    cap = EXACT_COUNT_UP_TO if exact else COUNT_UP_TO if cap is None else cap
    upto = select(literal(1)).select_from(Case).where(*conditions).limit(cap + 1).subquery()
    counted = await session.scalar(select(func.count()).select_from(upto)) or 0
    if counted <= cap:
        return Count(counted)
    return Count(max(await estimated_cases(session, conditions), counted) if estimate else counted, more_than=cap)


async def case_page(session: AsyncSession, f: CaseFilter) -> CasePage:
    """A page of cases, newest first, with its total and the cursor of the next page."""
    common = bool(f.text) and len(f.text or "") >= 2 and not CASE_NO_START.match(f.text or "") \
        and await text_share(session, f.text or "") >= WALK_FROM
    weekly = not common and searched_by_week(f.text)
    pieces = await search_pieces(session, f.text or "") if weekly else None
    conditions = case_conditions(f, common, pieces)
    after = [] if f.cursor is None else [tuple_(col(Case.registered_at), col(Case.case_no))
                                         < tuple_(literal(f.cursor.registered_at), literal(f.cursor.case_no))]
    paged = conditions + after
    order = (col(Case.registered_at).desc(), col(Case.case_no).desc())
    counted: Count | None = None
    if weekly and pieces:
        # Counted first, through the plain bigram index (up to TEXT_COUNT_UP_TO): a text held by that few cases is
        # read the same way, from pages the count just touched; a commoner one week by week, newest first.
        before = (await session.execute(_SET_PROBE)).one()[:len(PROBE_SETTINGS)]  # for this transaction only
        counted = await count_cases(session, conditions, f.exact_count, TEXT_COUNT_UP_TO, estimate=False)
        if counted.total <= TEXT_COUNT_UP_TO:
            rows = (await session.scalars(select(Case).where(*paged).order_by(*order).offset(f.offset)
                                          .limit(f.limit))).all()
        else:  # the weekly index finds the text, ILIKE checks it
            rows = await newest_matches(session, f, pieces, case_conditions(f, common_text=True) + after)
        await session.execute(_RESET_PROBE, dict(zip(PROBE_SETTINGS, before, strict=True)))
    elif f.overdue:  # the page's keys from the covering partial index alone (no row read to test a deadline), then rows
        keys = select(col(Case.case_no)).where(*paged).order_by(*order).offset(f.offset).limit(f.limit).subquery()
        rows = (await session.scalars(
            select(Case).join(keys, col(Case.case_no) == keys.c.case_no).order_by(*order))).all()
    else:
        rows = (await session.scalars(select(Case).where(*paged).order_by(*order).offset(f.offset).limit(f.limit))
                ).all()
    estimated = False
    if f.cursor is None and len(rows) < f.limit and (rows or not f.offset):  # the whole list is in sight
        counted = Count(f.offset + len(rows))
    elif counted is None and common and not f.exact_count:  # counting would read thousands of rows: not counted,
        counted, estimated = Count(await estimated_cases(session, conditions)), True  # the planner's figure
    elif counted is None:
        counted = await count_cases(session, conditions, f.exact_count)
    exact = counted.more_than is None and not estimated
    total = counted.total
    last = rows[-1] if len(rows) == f.limit else None
    if not exact and f.cursor is None:  # an estimate, but never fewer than the pages seen
        total = max(total, f.offset + len(rows) + (last is not None))
    return CasePage(total=total, total_exact=exact, more_than=counted.more_than, rows=rows,
                    next_cursor=Cursor(last.registered_at, last.case_no).encode() if last else None)


# The planner guesses a week-tagged bigram far commoner than it is (its statistics list only the commonest
# elements), and would then scan the table computing every case's bigrams, or start parallel workers for a dozen
# rows: while a search reads, only bitmap scans of the bigram indexes, in this process.
# _SET_PROBE answers the values it replaces, _RESET_PROBE puts them back (no read of the pg_settings view: 1 ms).
PROBE_SETTINGS = {"enable_seqscan": "off", "enable_indexscan": "off", "max_parallel_workers_per_gather": "0"}
_SET_PROBE = text("WITH was AS MATERIALIZED (SELECT " + ", ".join(f"current_setting('{k}') AS {k}"
                                                                   for k in PROBE_SETTINGS)
                  + ") SELECT was.*, " + ", ".join(f"set_config('{k}', '{v}', true)" for k, v in PROBE_SETTINGS.items())
                  + " FROM was")
_RESET_PROBE = text("SELECT " + ", ".join(f"set_config('{k}', :{k}, true)" for k in PROBE_SETTINGS))


async def newest_matches(session: AsyncSession, f: CaseFilter, pieces: list[str],
                         conditions: list[ColumnElement[bool]]) -> Sequence[Case]:
    """The page of a text search (``conditions``: the filters and the text's ILIKE), window of weeks by window of
    weeks (``SEARCH_WEEKS``) from the newest, then all older cases: each window reads only its own matches through
    the weekly bigram index, so a name found in thousands of cases costs about what a rare one does. (Run under
    ``PROBE_SETTINGS``.)"""
    return await _newest_matches(session, pieces, f, conditions)


async def _newest_matches(session: AsyncSession, pieces: list[str], f: CaseFilter,
                          conditions: list[ColumnElement[bool]]) -> Sequence[Case]:
    order = (col(Case.registered_at).desc(), col(Case.case_no).desc())
    wanted = f.offset + f.limit
    found: list[Case] = []
    # The first window also holds the week after (cases are registered by the server's clock: none lies further).
    upper = week_of(f.cursor.registered_at if f.cursor else datetime.now(UTC)) + 2
    for size in SEARCH_WEEKS:
        window = weekly_condition(pieces, range(upper - 1, upper - size - 1, -1))
        found += (await session.scalars(select(Case).where(*conditions, window).order_by(*order)
                                        .limit(wanted - len(found)))).all()
        upper -= size
        if len(found) >= wanted:
            return found[f.offset:]
    older = col(Case.registered_at) < EPOCH + upper * WEEK
    found += (await session.scalars(select(Case).where(*conditions, older, plain_terms(pieces)).order_by(*order)
                                    .limit(wanted - len(found)))).all()
    return found[f.offset:]


async def case_events(session: AsyncSession, case_no: str) -> Sequence[CaseEvent]:
    stmt = select(CaseEvent).where(col(CaseEvent.case_no) == case_no).order_by(col(CaseEvent.seq))
    return (await session.scalars(stmt)).all()


async def case_documents(session: AsyncSession, case_no: str) -> Sequence[Document]:
    stmt = select(Document).where(col(Document.case_no) == case_no).order_by(col(Document.seq))
    return (await session.scalars(stmt)).all()


INBOX_PAGE = 100  # tasks per page of the inbox unless the client asks for fewer or more (at most 200)


@dataclass
class InboxPage:
    total: int  # every open task of the inbox, not only this page's
    rows: Sequence[tuple[Task, Case]]
    next_cursor: str | None  # None: this is the last page


async def inbox(session: AsyncSession, user: User, limit: int = INBOX_PAGE, after: TaskCursor | None = None
                ) -> InboxPage:
    """Open tasks for the user's role in the user's department and below, oldest first, with their case: one page
    after ``after`` (keyset on (opened_at, id), the partial index ``ix_tasks_open``) and the count of them all."""
    departments = await department_subtree(session, user.department_code)
    mine = [col(Task.closed_at).is_(None), col(Task.role) == user.role, col(Task.department_code).in_(departments)]
    total = await session.scalar(select(func.count()).select_from(Task).where(*mine)) or 0
    paged = list(mine)
    if after is not None:
        paged.append(tuple_(col(Task.opened_at), col(Task.id))
                     > tuple_(literal(after.opened_at), literal(after.task_id)))
    rows = (await session.execute(
        select(Task, Case).join(Case, col(Case.case_no) == col(Task.case_no)).where(*paged)
        .order_by(col(Task.opened_at), col(Task.id)).limit(limit + 1)  # one more: is there a next page?
    )).all()
    page = [(task, case) for task, case in rows[:limit]]
    last = page[-1][0] if len(rows) > limit else None
    return InboxPage(total=total, rows=page,
                     next_cursor=TaskCursor(last.opened_at, last.id).encode() if last and last.id else None)


async def consultations_of(session: AsyncSession, case_nos: list[str]) -> Sequence[Consultation]:
    rows = await session.scalars(
        select(Consultation).where(col(Consultation.case_no).in_(case_nos)).order_by(col(Consultation.opened_at))
    )
    return rows.all()


async def cases_helped_by(session: AsyncSession, user_id: int) -> Sequence[Case]:
    rows = await session.scalars(select(Case).where(col(Case.helper_id) == user_id).order_by(col(Case.registered_at)))
    return rows.all()


async def consultation_events(session: AsyncSession, consultation_id: str) -> Sequence[ConsultationEvent]:
    rows = await session.scalars(
        select(ConsultationEvent).where(col(ConsultationEvent.consultation_id) == consultation_id)
        .order_by(col(ConsultationEvent.seq))
    )
    return rows.all()


async def matters_of(session: AsyncSession, case_no: str) -> Sequence[Case]:
    rows = await session.scalars(select(Case).where(col(Case.parent_case_no) == case_no).order_by(col(Case.case_no)))
    return rows.all()
