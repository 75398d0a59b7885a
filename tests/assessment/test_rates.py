"""A hand-built month of orders and cases: every rate of every unit as counted by hand, the score and the ranking,
the drill-down, and the figures as a pure function of the events up to the period's end."""

from fractions import Fraction

import pytest

from casehall.assessment.rates import (
    Config,
    Event,
    Figures,
    Period,
    UnitTree,
    compute,
    figures,
    fold,
)
from tests.assessment.events import Script, at, generated_orders, unit_tree

MARCH = Period.month(2026, 3)
TREE = UnitTree({"C": None, "D1": "C", "D2": "C", "S1": "D1", "S2": "D1"},
                {"C": "市热线中心", "D1": "朝阳区", "D2": "南关区", "S1": "东风街道", "S2": "西安街道"})


def march_orders() -> list[Event]:
    s: list[Script] = []
    # A: on time everywhere, satisfied and solved at the first callback.
    s.append(Script("A").register(at(3, 2, 8)).dispatch(at(3, 2, 9), "S1", at(3, 9)).sign(at(3, 2, 10), "S1")
             .reply(at(3, 5), "S1", True).callback(at(3, 6), "very_satisfied", True).close(at(3, 6)))
    # B: a duplicate merged before dispatch (counted once, not a repeat call); signed late; two callers, the second
    # only basically satisfied (not in the top two grades).
    s.append(Script("B").register(at(3, 2, 8)).merge(at(3, 2, 9)).dispatch(at(3, 3), "S1", at(3, 10))
             .sign(at(3, 4), "S1", late=True).reply(at(3, 9), "S1", True)
             .callback(at(3, 10, 9), "satisfied", True, 0, [1]).callback(at(3, 10), "basically_satisfied", True, 1)
             .close(at(3, 10)))
    # C: returned by S1, dispatched to S2: S1 counts it as returned, S2 as its own.
    s.append(Script("C").register(at(3, 4, 8)).dispatch(at(3, 4), "S1", at(3, 11)).returned(at(3, 5), "S1")
             .dispatch(at(3, 5, 12), "S2", at(3, 12)).sign(at(3, 5, 13), "S2").reply(at(3, 11), "S2", True)
             .callback(at(3, 12), "satisfied", True).close(at(3, 12)))
    # D: due in March, extended before the reply to April 3: counts in April.
    s.append(Script("D").register(at(3, 20, 8)).dispatch(at(3, 20), "S1", at(3, 27)).sign(at(3, 20, 11), "S1")
             .extend(at(3, 25), at(3, 27), at(4, 3)))
    # E: due in February, extended into March; reopened after a dissatisfied callback (a supervision order),
    # satisfied and solved at the second callback.
    s.append(Script("E").register(at(2, 20, 8)).dispatch(at(2, 20), "S1", at(2, 27)).sign(at(2, 20, 11), "S1")
             .extend(at(2, 25), at(2, 27), at(3, 6)).reply(at(3, 5), "S1", True)
             .callback(at(3, 6), "dissatisfied", False).reopen(at(3, 6), "S1").supervise(at(3, 6), "S1", "callback")
             .reply(at(3, 9), "S1", True).callback(at(3, 10), "satisfied", True).close(at(3, 10)))
    # F: signed late, overdue (supervised), replied late, satisfied but unsolved: reopened; its second callback
    # comes after the end of March and is not read.
    s.append(Script("F").register(at(3, 10, 8)).dispatch(at(3, 10), "S1", at(3, 17)).sign(at(3, 12), "S1", True)
             .supervise(at(3, 17), "S1", "overdue").reply(at(3, 19), "S1", False)
             .callback(at(3, 20), "satisfied", False).reopen(at(3, 20), "S1").reply(at(3, 24), "S1", True)
             .callback(at(4, 2), "very_satisfied", True).close(at(4, 2)))
    # G: a repeated call after dispatch: closed, but not a one-time resolution.
    s.append(Script("G").register(at(3, 12, 8)).dispatch(at(3, 12), "S1", at(3, 19)).sign(at(3, 12, 11), "S1")
             .merge(at(3, 15)).reply(at(3, 16), "S1", True)
             .callback(at(3, 17, 9), "very_satisfied", True, 0, [1]).callback(at(3, 17), "satisfied", True, 1)
             .close(at(3, 17)))
    # H: never signed: a supervision order.
    s.append(Script("H").register(at(3, 25, 8)).dispatch(at(3, 25), "S1", at(3, 30))
             .supervise(at(3, 26), "S1", "not_signed"))
    # I: the district's own order, replied late, not called back by the end of March.
    s.append(Script("I").register(at(3, 5, 8)).dispatch(at(3, 5), "D1", at(3, 12)).sign(at(3, 5, 11), "D1")
             .reply(at(3, 14), "D1", False))
    # J: the other district: perfect.
    s.append(Script("J").register(at(3, 1, 8)).dispatch(at(3, 1), "D2", at(3, 8)).sign(at(3, 1, 11), "D2")
             .reply(at(3, 7), "D2", True).callback(at(3, 7, 15), "very_satisfied", True).close(at(3, 7, 15)))
    # K: due in February; L: answered at intake, no unit.
    s.append(Script("K").register(at(2, 1, 8)).dispatch(at(2, 1), "S1", at(2, 8)).sign(at(2, 1, 11), "S1")
             .reply(at(2, 5), "S1", True).callback(at(2, 6), "satisfied", True).close(at(2, 6)))
    s.append(Script("L").register(at(3, 3)).add("answered_directly", at(3, 3), answer="..."))
    return [e for script in s for e in script.events]


F = Fraction


def rates_of(result: Figures, unit: str) -> dict[str, object]:
    return {name: (None if v is None else pytest.approx(v)) for name, v in result.units[unit].rates.items()}


def test_every_order_rate_counted_by_hand() -> None:
    result = compute("orders", MARCH, TREE, march_orders())
    s1 = result.units["S1"]
    # S1: A B C E F G H received (D moved to April, K in February); C returned.
    assert s1.counts == {"received": 7, "returned": 1, "kept": 6, "signed_on_time": 3, "signed_late": 2,
                         "replied": 5, "replied_on_time": 4, "closed": 4, "extended": 1, "reopened": 2, "rated": 5,
                         "solved": 4, "satisfied": 4, "one_time": 2, "supervised": 3}
    expected: dict[str, Fraction | int] = {
        "received": 7, "completed": F(4, 6), "on_time": F(4, 6), "feedback": F(5, 6), "response": F(3, 7),
                "resolution": F(4, 5), "satisfaction": F(4, 5), "one_time": F(2, 5), "signed_late": F(2, 7),
                "returned": F(1, 7), "reopened": F(2, 5), "extended": F(1, 6), "supervised": F(3, 7)}
    assert rates_of(result, "S1") == {k: pytest.approx(float(v)) for k, v in expected.items()}
    # 30/35/35 on response, resolution, satisfaction
    assert s1.score == pytest.approx(float(30 * F(3, 7) + 35 * F(4, 5) + 35 * F(4, 5)), abs=1e-5)
    # D1 = its own order I + S1 + S2 (C's second dispatch).
    d1 = result.units["D1"]
    assert d1.counts["received"] == 9 and d1.counts["kept"] == 8 and d1.counts["replied"] == 7
    assert (d1.counts["signed_on_time"], d1.counts["rated"], d1.counts["satisfied"], d1.counts["solved"]) == (
        5, 6, 5, 5)
    assert d1.score == pytest.approx(float(30 * F(5, 9) + 35 * F(5, 6) + 35 * F(5, 6)), abs=1e-5)
    assert result.units["S2"].score == 100 and result.units["D2"].score == 100
    assert result.units["C"].counts["received"] == 10  # L was answered at intake: no unit, no figure
    # Ranking among the units of one level.
    assert [(u, result.units[u].rank, result.units[u].ranked_of) for u in ("D1", "D2", "S1", "S2")] == [
        ("D1", 2, 2), ("D2", 1, 2), ("S1", 2, 2), ("S2", 1, 2)]
    assert result.units["C"].rank == 1 and result.units["C"].level == 0


def test_top_three_grades_and_weights_are_configuration() -> None:
    result = compute("orders", MARCH, TREE, march_orders(), Config(top_grades=3))
    assert result.units["S1"].rates["satisfaction"] == pytest.approx(5 / 5)  # B's basically satisfied counts now
    only = compute("orders", MARCH, TREE, march_orders(), Config(weights={"on_time": 1}))
    assert only.units["S1"].score == pytest.approx(100 * 4 / 6, abs=1e-5)
    with pytest.raises(ValueError, match="no orders rate nonsense"):
        Config(weights={"nonsense": 1})
    with pytest.raises(ValueError, match="top_grades"):
        Config(top_grades=5)


def test_the_extended_order_counts_in_april_and_the_late_callback_in_april_only() -> None:
    april = compute("orders", Period.month(2026, 4), TREE, march_orders())
    assert [m.key for m in april.drill("S1", TREE, "extended", "numerator")] == ["D"]
    march = compute("orders", MARCH, TREE, march_orders())
    assert "F" not in [m.key for m in march.drill("S1", TREE, "completed", "numerator")]  # closed on April 2


def test_drill_down_lists_exactly_the_orders_behind_a_figure() -> None:
    result = compute("orders", MARCH, TREE, march_orders())
    keys = lambda rate, part, unit="S1": [m.key for m in result.drill(unit, TREE, rate, part)]  # noqa: E731
    assert keys("one_time", "numerator") == ["A", "B"]
    assert keys("one_time", "denominator") == ["A", "B", "E", "F", "G"]
    assert keys("returned", "numerator") == ["C"]
    assert keys("response", "denominator") == ["A", "B", "C", "E", "F", "G", "H"]
    assert keys("completed", "denominator") == ["A", "B", "E", "F", "G", "H"]
    assert keys("received", "numerator", "D1") == ["A", "B", "C", "C#2", "E", "F", "G", "H", "I"]
    assert [m.ref for m in result.drill("S2", TREE, "received", "numerator")] == ["C"]
    with pytest.raises(KeyError):
        result.drill("S1", TREE, "received", "denominator")


def hall_cases() -> list[Event]:
    s = [
        Script("H1").case_register(at(3, 1), "X").accept(at(3, 2), at(3, 20)).add("completed", at(3, 15))
        .add("callback_rated", at(3, 16), grade="very_satisfied"),
        Script("H2").case_register(at(3, 1), "X").accept(at(3, 2), at(3, 10)).add("veto_requested", at(3, 5))
        .add("veto_refused", at(3, 6), deadline=at(3, 14).isoformat()).add("completed", at(3, 16))
        .add("callback_dissatisfied", at(3, 17), grade="dissatisfied", due=at(3, 30).isoformat()),
        Script("H3").case_register(at(3, 1), "X").accept(at(3, 2), at(3, 25)).add("veto_requested", at(3, 10))
        .add("veto_approved", at(3, 11)),
        Script("H4").case_register(at(3, 1), "X").accept(at(3, 2), at(3, 28))
        .add("consultation_convened", at(3, 12)).add("consultation_concluded", at(3, 20),
                                                     deadline=at(4, 5).isoformat()),
        Script("H5").case_register(at(3, 1), "X").accept(at(3, 2), at(3, 30)),
        Script("H6").case_register(at(3, 1), "X").add("one_time_notice_issued", at(3, 2)),  # never accepted
    ]
    return [e for script in s for e in script.events]


HALL = UnitTree({"BUR": None, "DA": "BUR", "DB": "BUR"}, {}, {"X": "DA"})


def test_every_case_rate_counted_by_hand() -> None:
    result = compute("cases", MARCH, HALL, hall_cases())
    da = result.units["DA"]
    assert da.counts == {"received": 4, "decided": 3, "decided_on_time": 2, "rated": 2, "satisfied": 1,
                         "veto_requested": 2, "vetoed": 1}
    assert da.rates == {"received": 4, "completed": 3 / 4, "on_time": 2 / 4, "satisfaction": 1 / 2,
                        "vetoes_requested": 2 / 4, "vetoes_approved": 1 / 2, "consultations": 0.0}
    assert da.score == pytest.approx(50 * 0.5 + 50 * 0.5)
    assert result.units["DB"].score is None and result.units["DB"].rank is None
    april = compute("cases", Period.month(2026, 4), HALL, hall_cases())
    assert april.units["DA"].counts == {"received": 1, "consulted": 1}


@pytest.mark.parametrize("period", [Period.month(2026, 2), MARCH, Period.month(2026, 4),
                                    Period.parse("2026-03-10..2026-03-20")])
def test_facts_of_every_event_read_as_of_the_end_equal_a_recomputation(period: Period) -> None:
    """The incremental path folds all events, later ones included; read as of the period's end it must give the
    figures of the events before the end only."""
    events = march_orders()
    incremental = figures("orders", period, TREE, fold("orders", events, TREE))
    full = compute("orders", period, TREE, events)
    assert {c: u.as_dict("orders") for c, u in incremental.units.items()} == {
        c: u.as_dict("orders") for c, u in full.units.items()}
    cases = hall_cases()
    assert figures("cases", period, HALL, fold("cases", cases, HALL)).units.keys() == compute(
        "cases", period, HALL, cases).units.keys()
    assert {c: u.as_dict("cases") for c, u in figures("cases", period, HALL, fold("cases", cases, HALL)).units.items()
            } == {c: u.as_dict("cases") for c, u in compute("cases", period, HALL, cases).units.items()}


def test_generated_month_incremental_equals_full() -> None:
    parents = unit_tree(60)
    tree = UnitTree(parents)
    events = generated_orders(3000, parents)
    for period in (Period.month(2026, 2), MARCH, Period.month(2026, 4)):
        full = compute("orders", period, tree, events)
        inc = figures("orders", period, tree, fold("orders", events, tree))
        assert full.units["C"].counts["received"] > 0 or period != MARCH
        assert {c: u.as_dict("orders") for c, u in inc.units.items()} == {
            c: u.as_dict("orders") for c, u in full.units.items()}


def test_periods() -> None:
    assert Period.parse("2026-12").end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert Period.parse("2026-01").previous().label == "2025-12"
    for bad in ("2026-13", "march", "2026-03-05..2026-03-01"):
        with pytest.raises(ValueError):
            Period.parse(bad)
