"""Events of hotline orders and hall cases as their workflows record them (the same types and payload keys), for
hand-built months and for generated ones (tests and ``bench/assessment.py``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casehall.assessment.rates import Event

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH)


@dataclass
class Script:
    """One order's (case's) events, seq by seq."""

    key: str
    events: list[Event] = field(default_factory=list)

    def add(self, type_: str, when: datetime, **payload: Any) -> Script:
        self.events.append(Event(self.key, len(self.events) + 1, type_, when, payload))
        return self

    # ---- orders ----
    def register(self, when: datetime) -> Script:
        return self.add("registered", when, kind="normal", category="010101", channel="phone")

    def dispatch(self, when: datetime, unit: str, due: datetime) -> Script:
        return self.add("dispatched", when, lead_unit=unit, co_units=[], handle_due=due.isoformat(),
                        sign_due=(when + timedelta(hours=24)).isoformat(), round=1)

    def sign(self, when: datetime, unit: str, late: bool = False) -> Script:
        return self.add("signed", when, unit=unit, late=late)

    def merge(self, when: datetime, call: int = 1) -> Script:
        return self.add("call_merged", when, call=call, channel="phone")

    def returned(self, when: datetime, unit: str) -> Script:
        self.add("return_requested", when - timedelta(hours=1), reason="not ours")
        return self.add("return_approved", when, charged_unit=unit, charged_seconds=3600.0)

    def extend(self, when: datetime, old: datetime, new: datetime) -> Script:
        self.add("extension_requested", when - timedelta(hours=1), reason="need time", new_due=new.isoformat())
        return self.add("extension_approved", when, old_due=old.isoformat(), handle_due=new.isoformat())

    def supervise(self, when: datetime, unit: str, reason: str) -> Script:
        return self.add("supervision_ordered", when, reason=reason, against_unit=unit, to_unit="parent", level=1)

    def reply(self, when: datetime, unit: str, on_time: bool) -> Script:
        return self.add("replied", when, unit=unit, on_time=on_time, result="done")

    def callback(self, when: datetime, grade: str, solved: bool, call: int = 0, waiting: list[int] | None = None
                 ) -> Script:
        return self.add("called_back", when, call=call, grade=grade, solved=solved, waiting=waiting or [])

    def reopen(self, when: datetime, unit: str) -> Script:
        return self.add("reopened", when, unit=unit, unhappy_calls=[0])

    def close(self, when: datetime) -> Script:
        return self.add("closed", when, calls=1)

    # ---- cases ----
    def case_register(self, when: datetime, item: str) -> Script:
        return self.add("registered", when, item=item)

    def accept(self, when: datetime, deadline: datetime) -> Script:
        return self.add("accepted", when, deadline=deadline.isoformat(), working_days=10)


# ---- a generated month at scale --------------------------------------------------------------------------------
def unit_tree(units: int) -> dict[str, str | None]:
    """A centre, 10 districts (or departments), streets under them, communities under the streets: ``units`` in all."""
    parents: dict[str, str | None] = {"C": None}
    districts = [f"D{i:02d}" for i in range(10)]
    parents.update({d: "C" for d in districts})
    streets = [f"S{i:04d}" for i in range(max(0, min(units - 11, (units - 11) // 5)))]
    parents.update({s: districts[i % 10] for i, s in enumerate(streets)})
    n = 0
    while len(parents) < units:
        parents[f"K{n:05d}"] = streets[n % len(streets)] if streets else "C"
        n += 1
    return parents


def generated_orders(n: int, parents: dict[str, str | None], year: int = 2026, month: int = 3, seed: int = 7
                     ) -> list[Event]:
    """``n`` orders with their whole life: due around ``month``, returns, extensions, late signatures, merged calls,
    reopenings and callbacks in the proportions of the seeds' hotlines."""
    rng = random.Random(seed)
    leaves = [u for u in parents if u != "C"]
    grades = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]
    weights = [55, 30, 8, 5, 2]
    start = datetime(year, month, 1, tzinfo=SH) - timedelta(days=10)
    out: list[Event] = []
    for i in range(n):
        s = Script(f"12345-{year}{month:02d}00-{i:06d}")
        t = start + timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
        s.register(t)
        if rng.random() < 0.05:
            s.merge(t + timedelta(minutes=5))
        unit = rng.choice(leaves)
        due = t + timedelta(days=7)
        s.dispatch(t + timedelta(minutes=30), unit, due)
        t += timedelta(minutes=30)
        if rng.random() < 0.03:  # a wrong dispatch: returned and dispatched to another unit
            s.returned(t + timedelta(hours=5), unit)
            unit = rng.choice(leaves)
            t += timedelta(hours=6)
            due = t + timedelta(days=7)
            s.dispatch(t, unit, due)
        if rng.random() < 0.02:
            continue  # never signed
        late = rng.random() < 0.04
        s.sign(t + timedelta(hours=30 if late else 2), unit, late)
        t += timedelta(hours=30 if late else 2)
        if rng.random() < 0.04:
            new_due = due + timedelta(days=5)
            s.extend(t + timedelta(days=2), due, new_due)
            due = new_due
        if rng.random() < 0.03:
            s.supervise(due, unit, "overdue")
        if rng.random() < 0.02:
            s.merge(t + timedelta(days=1), call=1)
        reply = t + timedelta(hours=rng.randrange(4, 220))
        s.reply(reply, unit, reply <= due)
        grade = rng.choices(grades, weights)[0]
        solved = rng.random() < 0.93
        cb = reply + timedelta(hours=rng.randrange(2, 48))
        s.callback(cb, grade, solved)
        if not solved or grade in ("dissatisfied", "very_dissatisfied"):
            s.reopen(cb, unit)
            s.supervise(cb, unit, "callback")
            second = cb + timedelta(days=rng.randrange(1, 6))
            s.reply(second, unit, True)
            s.callback(second + timedelta(hours=5), rng.choices(grades, weights)[0], True)
            cb = second + timedelta(hours=5)
        s.close(cb)
        out.extend(s.events)
    return out
