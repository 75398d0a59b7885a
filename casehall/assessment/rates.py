"""The rates of the assessment, defined once: what each counts, over what, what it leaves out, and when a hotline
order or a hall case counts in a period. ``docs/assessment.md`` is the prose of this module.

The figures are a pure function of the recorded events up to the period's end::

    compute(period, tree, events) == figures(period, tree, fold(events before period.end))

``fold_order`` / ``fold_case`` turn one order's (case's) events into *facts* that keep the time of every milestone,
and ``order_flags`` / ``case_flags`` read those facts **as of** the period's end, ignoring every milestone after it.
So facts folded from all events (the incremental ``assessment_facts`` table, refreshed per batch of new events) give
the same figures as facts folded from the events up to the end (a full recomputation); tests prove both equal.

When an item counts: **in the period in which its handling deadline falls**, as the deadline stood at the period's
end (an extension approved before the first reply moves it; a reopening does not). Rates by closing would never see
the orders that were never closed; by deadline, every order due in the month is in its denominator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from casehall.models.enums import Satisfaction

TZ = ZoneInfo("Asia/Shanghai")
Domain = Literal["orders", "cases"]
DOMAINS: tuple[Domain, ...] = ("orders", "cases")
GRADES: tuple[str, ...] = tuple(g.value for g in Satisfaction)  # best first


# ---- periods ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """[start, end): a month in Asia/Shanghai by default, or any range."""

    start: datetime
    end: datetime
    label: str

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12 or not 2000 <= year <= 2999:
            raise ValueError(f"no month {year}-{month:02d}")
        start = datetime(year, month, 1, tzinfo=TZ)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TZ)
        return cls(start, end, f"{year:04d}-{month:02d}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``YYYY-MM`` (a month) or ``YYYY-MM-DD..YYYY-MM-DD`` (days, the last one included)."""
        text = text.strip()
        try:
            if ".." in text:
                a, b = (date.fromisoformat(p) for p in text.split("..", 1))
                if b < a:
                    raise ValueError("the range ends before it starts")
                start = datetime(a.year, a.month, a.day, tzinfo=TZ)
                end = datetime.combine(date.fromordinal(b.toordinal() + 1), datetime.min.time(), TZ)
                return cls(start, end, f"{a.isoformat()}..{b.isoformat()}")
            year, month = text.split("-")
            return cls.month(int(year), int(month))
        except ValueError as exc:
            raise ValueError(f"period {text!r}: expected YYYY-MM or YYYY-MM-DD..YYYY-MM-DD ({exc})") from None

    def previous(self) -> Period:
        first = self.start.date()
        return Period.month(first.year - (first.month == 1), (first.month - 2) % 12 + 1)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


# ---- the inputs: events and the unit tree ------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One recorded event of an order (``key`` = order number) or of a case (case number)."""

    key: str
    seq: int
    type: str
    at: datetime
    payload: Mapping[str, Any]
    id: int = 0  # the row id: the incremental refresher's watermark


@dataclass(frozen=True)
class UnitTree:
    """The units (hotline) or departments (hall) with their parents; ``item_departments``: service item -> department
    (a case belongs to the department of its item)."""

    parents: Mapping[str, str | None]
    names: Mapping[str, str] = field(default_factory=dict)
    item_departments: Mapping[str, str] = field(default_factory=dict)

    def path(self, code: str) -> list[str]:
        """The unit, then its ancestors up to the root."""
        out: list[str] = []
        cur: str | None = code
        while cur is not None and cur not in out and cur in self.parents:
            out.append(cur)
            cur = self.parents[cur]
        return out

    def level(self, code: str) -> int:
        return len(self.path(code)) - 1

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def children(self, code: str | None) -> list[str]:
        return sorted(c for c, p in self.parents.items() if p == code)


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _upto(moment: datetime | None, end: datetime) -> bool:
    return moment is not None and moment < end


# ---- hotline orders ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallbackRound:
    """The callback of every caller about one reply: each caller's grade and whether they said it was solved."""

    at: datetime  # when the last caller was reached
    grades: tuple[str, ...]
    solved: tuple[bool, ...]


@dataclass(frozen=True)
class Assignment:
    """One dispatch of an order to a lead unit (a round; a reopening continues it: same unit, second handling).
    Every milestone keeps its time, so the facts can be read as of any moment."""

    key: str  # order number; ``<order>#<n>`` for its n-th dispatch (n > 1)
    order_no: str
    unit: str
    dispatched_at: datetime
    due: datetime  # the handling deadline given at dispatch
    ext_at: datetime | None = None  # an extension approved before the first reply: the deadline moves ...
    ext_due: datetime | None = None  # ... to here
    extended_at: datetime | None = None  # the first approved extension (any handling)
    signed_at: datetime | None = None
    signed_late: bool = False
    returned_at: datetime | None = None  # the return approved: the order leaves the unit
    replied_at: datetime | None = None  # the first reply
    replied_on_time: bool = False
    reopened_at: datetime | None = None  # the first reopening (callback: unsolved or dissatisfied)
    repeat_at: datetime | None = None  # the first call merged into the order after this dispatch
    supervised_at: datetime | None = None  # the first supervision order against the unit in this round
    closed_at: datetime | None = None
    callbacks: tuple[CallbackRound, ...] = ()

    def due_as_of(self, end: datetime) -> datetime:
        return self.ext_due if self.ext_due is not None and _upto(self.ext_at, end) else self.due


def fold_order(events: Iterable[Event]) -> list[Assignment]:
    """An order's events (any order of rows) -> its assignments, one per dispatch."""
    out: list[Assignment] = []
    grades: list[str] = []
    solved: list[bool] = []
    for e in sorted(events, key=lambda e: e.seq):
        p, t = e.payload, e.type
        if t == "dispatched":
            n = len(out) + 1
            out.append(Assignment(key=e.key if n == 1 else f"{e.key}#{n}", order_no=e.key, unit=str(p["lead_unit"]),
                                  dispatched_at=e.at, due=_when(p["handle_due"]) or e.at))
            continue
        if not out:
            continue  # registered, merged before dispatch (counted once: the duplicate joins this order)
        a = out[-1]
        if t == "signed" and a.signed_at is None:
            a = replace(a, signed_at=e.at, signed_late=bool(p.get("late")))
        elif t == "return_approved":
            a = replace(a, returned_at=e.at)
        elif t == "extension_approved":
            if a.extended_at is None:
                a = replace(a, extended_at=e.at)
            if a.replied_at is None:
                a = replace(a, ext_at=e.at, ext_due=_when(p.get("handle_due")))
        elif t in ("supervision_ordered", "supervision_raised"):
            if a.supervised_at is None and p.get("against_unit", a.unit) == a.unit:
                a = replace(a, supervised_at=e.at)
        elif t == "replied":
            grades, solved = [], []
            if a.replied_at is None:
                a = replace(a, replied_at=e.at, replied_on_time=bool(p.get("on_time")))
        elif t == "called_back":
            grades.append(str(p.get("grade")))
            solved.append(bool(p.get("solved")))
            if not p.get("waiting"):
                a = replace(a, callbacks=(*a.callbacks, CallbackRound(e.at, tuple(grades), tuple(solved))))
                grades, solved = [], []
        elif t == "reopened" and a.reopened_at is None:
            a = replace(a, reopened_at=e.at)
        elif t == "call_merged" and a.repeat_at is None:
            a = replace(a, repeat_at=e.at)
        elif t == "closed":
            a = replace(a, closed_at=e.at)
        out[-1] = a
    return out


# ---- hall cases ------------------------------------------------------------------------------------------------
DEADLINE_KEYS = {"deadline_recomputed": "new", "accepted_tolerantly": "deadline_if_complete"}
DECISIONS = {"completed": "completed", "matters_finished": "completed", "veto_approved": "vetoed"}


@dataclass(frozen=True)
class CaseFacts:
    key: str
    department: str
    deadlines: tuple[tuple[datetime, datetime], ...] = ()  # (recorded at, the legal deadline from then on)
    decided_at: datetime | None = None  # completed, or its veto approved (a decision of no is a decision)
    vetoed: bool = False
    vetoes: tuple[datetime, ...] = ()  # each veto requested
    consultations: tuple[datetime, ...] = ()  # each joint consultation convened
    ratings: tuple[tuple[datetime, str], ...] = ()  # each callback grade

    def deadline_as_of(self, end: datetime) -> datetime | None:
        seen = [d for at, d in self.deadlines if at < end]
        return seen[-1] if seen else None


def fold_case(events: Iterable[Event], item_departments: Mapping[str, str]) -> CaseFacts | None:
    """A case's events -> its facts; None for a case whose item no department answers for."""
    facts: CaseFacts | None = None
    for e in sorted(events, key=lambda e: e.seq):
        p, t = e.payload, e.type
        if t == "registered":
            dept = item_departments.get(str(p.get("item")))
            if dept is None:
                return None
            facts = CaseFacts(key=e.key, department=dept)
            continue
        if facts is None:
            continue
        deadline = _when(p.get(DEADLINE_KEYS.get(t, "deadline")))
        if deadline is not None:
            facts = replace(facts, deadlines=(*facts.deadlines, (e.at, deadline)))
        if t in DECISIONS and facts.decided_at is None:
            facts = replace(facts, decided_at=e.at, vetoed=DECISIONS[t] == "vetoed")
        elif t == "veto_requested":
            facts = replace(facts, vetoes=(*facts.vetoes, e.at))
        elif t == "consultation_convened":
            facts = replace(facts, consultations=(*facts.consultations, e.at))
        elif t in ("callback_rated", "callback_dissatisfied"):
            facts = replace(facts, ratings=(*facts.ratings, (e.at, str(p.get("grade")))))
    return facts


# ---- the definitions -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """``numerator`` / ``denominator``: flags of an order (case) read as of the period's end; a count has no
    denominator."""

    name: str
    zh: str
    en: str
    numerator: str
    denominator: str | None
    meaning: str


ORDER_RATES: tuple[Rate, ...] = (
    Rate("received", "受理量", "received", "received", None,
         "orders dispatched to the unit whose handling deadline falls in the period"),
    Rate("completed", "办结率", "completed", "closed", "kept",
         "closed (every caller called back, solved and satisfied) by the period's end / received and not returned"),
    Rate("on_time", "按时办结率", "on time", "replied_on_time", "kept",
         "first reply by the handling deadline / received and not returned"),
    Rate("feedback", "反馈率", "feedback", "replied", "kept",
         "replied to the centre by the period's end / received and not returned"),
    Rate("response", "响应率", "response", "signed_on_time", "received",
         "signed for within the sign-for limit / received"),
    Rate("resolution", "解决率", "resolution", "solved", "rated",
         "every caller said solved at the last callback / orders called back"),
    Rate("satisfaction", "满意率", "satisfaction", "satisfied", "rated",
         "every caller gave one of the top grades at the last callback / orders called back"),
    Rate("one_time", "一次性化解率", "one-time resolution", "one_time", "rated",
         "closed without a reopening and without a call merged after dispatch / orders called back"),
    Rate("signed_late", "超时签收率", "signed late", "signed_late", "received",
         "signed for after the sign-for limit / received"),
    Rate("returned", "回退率", "returned", "returned", "received", "return approved / received"),
    Rate("reopened", "重办率", "reopened", "reopened", "replied",
         "reopened after a callback (second handling) / replied"),
    Rate("extended", "延期率", "extended", "extended", "kept", "an extension approved / received and not returned"),
    Rate("supervised", "督办率", "supervised", "supervised", "received",
         "at least one supervision order against the unit / received"),
)

CASE_RATES: tuple[Rate, ...] = (
    Rate("received", "应办结件数", "received", "received", None,
         "cases of the department whose legal deadline falls in the period"),
    Rate("completed", "办结率", "completed", "decided", "received",
         "decided (completed, or a veto approved) by the period's end / received"),
    Rate("on_time", "按时办结率", "on time", "decided_on_time", "received",
         "decided by the legal deadline / received"),
    Rate("satisfaction", "满意率", "satisfaction", "satisfied", "rated",
         "the last callback grade is one of the top grades / cases rated"),
    Rate("vetoes_requested", "否决申请率", "vetoes requested", "veto_requested", "received",
         "at least one veto requested / received"),
    Rate("vetoes_approved", "否决批准率", "vetoes approved", "vetoed", "veto_requested",
         "the veto approved / cases with a veto requested"),
    Rate("consultations", "联合会商率", "consultations convened", "consulted", "received",
         "at least one joint consultation convened / received"),
)

RATES: dict[Domain, tuple[Rate, ...]] = {"orders": ORDER_RATES, "cases": CASE_RATES}
EXCLUSIONS = (
    "Merged duplicates count once: a repeated call joins the open order (call_merged) and makes no order of its "
    "own. Orders answered directly at intake reach no unit and count nowhere. casehall records no flag for "
    "unreasonable requests or matters for courts or arbitration: no such exclusion is applied (there is nothing "
    "to read it from). Hall cases without a legal deadline (never accepted) count nowhere."
)


def rate(domain: Domain, name: str) -> Rate:
    for r in RATES[domain]:
        if r.name == name:
            return r
    raise KeyError(f"no {domain} rate {name!r}: one of {', '.join(r.name for r in RATES[domain])}")


@dataclass(frozen=True)
class Config:
    """What varies by locality: the weights of the score and how many top grades count as satisfied."""

    weights: Mapping[str, float] = field(default_factory=lambda: {"response": 30, "resolution": 35,
                                                                   "satisfaction": 35})
    case_weights: Mapping[str, float] = field(default_factory=lambda: {"on_time": 50, "satisfaction": 50})
    top_grades: int = 2  # 2: very satisfied and satisfied; 3: basically satisfied too

    def __post_init__(self) -> None:
        if not 1 <= self.top_grades <= len(GRADES) - 1:
            raise ValueError(f"top_grades must be between 1 and {len(GRADES) - 1}")
        for domain, weights in (("orders", self.weights), ("cases", self.case_weights)):
            names = {r.name for r in RATES[domain] if r.denominator is not None}  # type: ignore[index]
            unknown = sorted(set(weights) - names)
            if unknown:
                raise ValueError(f"no {domain} rate {', '.join(unknown)} to weigh: one of {', '.join(sorted(names))}")
            if any(w < 0 for w in weights.values()) or not sum(weights.values()) > 0:
                raise ValueError("weights are non-negative and not all zero")

    def weights_of(self, domain: Domain) -> Mapping[str, float]:
        return self.weights if domain == "orders" else self.case_weights

    def top(self) -> frozenset[str]:
        return frozenset(GRADES[: self.top_grades])

    def as_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "case_weights": dict(self.case_weights), "top_grades": self.top_grades}

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Config:
        data = data or {}
        default = cls()
        return cls(weights=dict(data.get("weights") or default.weights),
                   case_weights=dict(data.get("case_weights") or default.case_weights),
                   top_grades=int(data.get("top_grades") or default.top_grades))


def order_flags(a: Assignment, period: Period, top: frozenset[str]) -> frozenset[str] | None:
    """The flags of an assignment as of the period's end; None if it does not count in the period."""
    end = period.end
    if not _upto(a.dispatched_at, end) or not period.holds(a.due_as_of(end)):
        return None
    flags = {"received"}
    returned = _upto(a.returned_at, end)
    flags.add("returned" if returned else "kept")
    if _upto(a.signed_at, end):
        flags.add("signed_late" if a.signed_late else "signed_on_time")
    if not returned:
        if _upto(a.replied_at, end):
            flags.add("replied")
            if a.replied_on_time:
                flags.add("replied_on_time")
        if _upto(a.closed_at, end):
            flags.add("closed")
        if _upto(a.extended_at, end):
            flags.add("extended")
        if _upto(a.reopened_at, end):
            flags.add("reopened")
        rounds = [r for r in a.callbacks if r.at < end]
        if rounds:
            last = rounds[-1]
            flags.add("rated")
            if all(last.solved):
                flags.add("solved")
            if all(g in top for g in last.grades):
                flags.add("satisfied")
            if "closed" in flags and "reopened" not in flags and not _upto(a.repeat_at, end):
                flags.add("one_time")
    if _upto(a.supervised_at, end):
        flags.add("supervised")
    return frozenset(flags)


def case_flags(c: CaseFacts, period: Period, top: frozenset[str]) -> frozenset[str] | None:
    end = period.end
    deadline = c.deadline_as_of(end)
    if deadline is None or not period.holds(deadline):
        return None
    flags = {"received"}
    if _upto(c.decided_at, end):
        flags.add("decided")
        assert c.decided_at is not None
        if c.decided_at <= deadline:
            flags.add("decided_on_time")
        if c.vetoed:
            flags.add("vetoed")
    if any(at < end for at in c.vetoes):
        flags.add("veto_requested")
    if any(at < end for at in c.consultations):
        flags.add("consulted")
    ratings = [g for at, g in c.ratings if at < end]
    if ratings:
        flags.add("rated")
        if ratings[-1] in top:
            flags.add("satisfied")
    return frozenset(flags)


# ---- the figures -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """An order (case) counted in a period for a unit, with its flags."""

    key: str
    ref: str  # the order or case number: its timeline and chain check
    unit: str
    flags: frozenset[str]


@dataclass
class UnitFigures:
    unit: str
    name: str
    level: int
    parent: str | None
    counts: dict[str, int]
    rates: dict[str, float | None]
    score: float | None = None
    rank: int | None = None
    ranked_of: int = 0

    def as_dict(self, domain: Domain) -> dict[str, Any]:
        return {
            "unit": self.unit, "name": self.name, "level": self.level, "parent": self.parent,
            "score": self.score, "rank": self.rank, "ranked_of": self.ranked_of,
            "rates": {r.name: {"value": self.rates[r.name], "numerator": self.counts.get(r.numerator, 0),
                               "denominator": self.counts.get(r.denominator, 0) if r.denominator else None}
                      for r in RATES[domain]},
            "counts": dict(sorted(self.counts.items())),
        }


@dataclass
class Figures:
    period: Period
    domain: Domain
    config: Config
    units: dict[str, UnitFigures]
    members: list[Member]

    def drill(self, unit: str, tree: UnitTree, rate_name: str, part: Literal["numerator", "denominator"]
              ) -> list[Member]:
        """The orders (cases) behind a figure of ``unit`` (its subtree): exactly those counted in it."""
        r = rate(self.domain, rate_name)
        flag = r.numerator if part == "numerator" else r.denominator
        if flag is None:
            raise KeyError(f"{rate_name} is a count: it has no denominator")
        return sorted((m for m in self.members if flag in m.flags and unit in tree.path(m.unit)),
                      key=lambda m: m.key)


def members(domain: Domain, period: Period, facts: Iterable[Assignment | CaseFacts], config: Config) -> list[Member]:
    top = config.top()
    out: list[Member] = []
    for f in facts:
        if isinstance(f, Assignment):
            flags = order_flags(f, period, top)
            if flags is not None:
                out.append(Member(f.key, f.order_no, f.unit, flags))
        else:
            flags = case_flags(f, period, top)
            if flags is not None:
                out.append(Member(f.key, f.key, f.department, flags))
    return out


def _score(rates: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """Σ weight × rate / Σ weight over the weighted rates that have a denominator, × 100; None if none has."""
    parts = [(w, rates[n]) for n, w in weights.items() if w > 0 and rates.get(n) is not None]
    total = sum(w for w, _ in parts)
    if not parts or total == 0:
        return None
    return round(100 * sum(w * v for w, v in parts if v is not None) / total, 6)


def figures(domain: Domain, period: Period, tree: UnitTree, facts: Iterable[Assignment | CaseFacts],
            config: Config | None = None) -> Figures:
    """Every unit's figures (its own items and those of its subtree), score and rank among the units of its level."""
    config = config or Config()
    found = members(domain, period, facts, config)
    own: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in found:
        for f in m.flags:
            own[m.unit][f] += 1
    totals: dict[str, dict[str, int]] = {code: defaultdict(int) for code in tree.parents}
    for unit, counts in own.items():
        for code in tree.path(unit) or [unit]:
            bucket = totals.setdefault(code, defaultdict(int))
            for f, n in counts.items():
                bucket[f] += n
    units: dict[str, UnitFigures] = {}
    for code, counts in sorted(totals.items()):
        rates: dict[str, float | None] = {}
        for r in RATES[domain]:
            if r.denominator is None:
                rates[r.name] = float(counts.get(r.numerator, 0))
            else:
                den = counts.get(r.denominator, 0)
                rates[r.name] = counts.get(r.numerator, 0) / den if den else None
        units[code] = UnitFigures(code, tree.name(code), tree.level(code), tree.parents.get(code), dict(counts),
                                  rates, _score(rates, config.weights_of(domain)) if counts.get("received") else None)
    by_level: dict[int, list[UnitFigures]] = defaultdict(list)
    for u in units.values():
        by_level[u.level].append(u)
    for level in by_level.values():
        scored = sorted((u for u in level if u.score is not None), key=lambda u: (-(u.score or 0.0), u.unit))
        for i, u in enumerate(scored):
            # Equal scores share a rank (1, 2, 2, 4).
            u.rank = i + 1 if i == 0 or u.score != scored[i - 1].score else scored[i - 1].rank
            u.ranked_of = len(scored)
    return Figures(period, domain, config, units, found)


def fold(domain: Domain, events: Iterable[Event], tree: UnitTree) -> list[Assignment | CaseFacts]:
    """Every order's (case's) facts from a flat list of events."""
    by_key: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_key[e.key].append(e)
    out: list[Assignment | CaseFacts] = []
    for key in sorted(by_key):
        if domain == "orders":
            out.extend(fold_order(by_key[key]))
        else:
            c = fold_case(by_key[key], tree.item_departments)
            if c is not None:
                out.append(c)
    return out


def compute(domain: Domain, period: Period, tree: UnitTree, events: Sequence[Event],
            config: Config | None = None) -> Figures:
    """The figures of ``period`` from the events recorded before its end: events after it are ignored."""
    return figures(domain, period, tree, fold(domain, [e for e in events if e.at < period.end], tree), config)
