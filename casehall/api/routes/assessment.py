"""Assessment: each unit's monthly rates (hotline orders) and each department's (hall cases), their definitions, the
ranking of a level, a unit's trend over months, the drill-down to the orders (cases) behind any figure with links
to their timeline and chain check, and exports as CSV and printable PDF. Who reads what:
``access.assessment_unit_of``."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from casehall.api.deps import SessionDep
from casehall.api.errors import ApiError, NotFound
from casehall.api.hotline import HotlineActor
from casehall.assessment import store
from casehall.assessment.export import to_csv, to_pdf
from casehall.assessment.rates import EXCLUSIONS, RATES, Config, Domain, Period, rate
from casehall.assessment.report import compute_period, message
from casehall.audit.chain import ChainReport
from casehall.audit.orders import verify_orders
from casehall.models.hotline_tables import Order
from casehall.models.messages import N_
from casehall.workflows.access import assessment_unit_of, require_assessment_of, sees_order
from casehall.workflows.errors import FORBIDDEN, refuse

router = APIRouter(tags=["assessment"])

DomainPath = Annotated[Literal["orders", "cases"],
                       Path(description="orders (hotline units) or cases (hall departments)")]
PeriodPath = Annotated[str, Path(max_length=32, description="YYYY-MM, or YYYY-MM-DD..YYYY-MM-DD")]
UnitPath = Annotated[str, Path(max_length=32)]
COUNTING = ("An order (case) counts in the period in which its handling (legal) deadline falls, as the deadline "
            "stood at the period's end; every figure reads only the events recorded before the period's end.")


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError:
        raise ApiError(422, "invalid_period", N_("no period {period}: expected YYYY-MM or YYYY-MM-DD..YYYY-MM-DD"),
                       field="period", period=text) from None


class RatePublic(BaseModel):
    name: str
    zh: str
    en: str
    numerator: str
    denominator: str | None
    meaning: str


class Definitions(BaseModel):
    domain: str
    counting: str
    exclusions: str
    default_weights: dict[str, float]
    default_top_grades: int
    rates: list[RatePublic]


@router.get("/assessment/{domain}/rates")
async def definitions(domain: DomainPath, actor: HotlineActor) -> Definitions:
    """What each rate counts: numerator, denominator, exclusions, and when an item counts in a period."""
    assessment_unit_of(actor, domain)
    d: Domain = domain
    return Definitions(domain=d, counting=COUNTING, exclusions=EXCLUSIONS,
                       default_weights=dict(Config().weights_of(d)), default_top_grades=Config().top_grades,
                       rates=[RatePublic(**r.__dict__) for r in RATES[d]])


class ReportRow(BaseModel):
    period: str
    domain: str
    unit: str
    name: str
    level: int
    parent: str | None
    score: float | None
    rank: int | None
    figures: dict[str, Any]
    config: dict[str, Any]
    message: str
    digest: str
    stored: bool = True


def _row(r: dict[str, Any]) -> ReportRow:
    return ReportRow(**{k: r[k] for k in ReportRow.model_fields if k in r})


async def _level_rows(session: SessionDep, domain: Domain, period: Period, level: int | None, unit: str | None
                      ) -> list[ReportRow]:
    """The stored reports of the period (a level, or one unit); computed now, unstored, if the period has none."""
    rows = await store.stored(session, domain, period=period.label, level=level,
                              units=[unit] if unit is not None else None)
    if rows:
        return [_row(r) for r in rows]
    if await store.stored(session, domain, period=period.label, limit=1):
        return []  # the period is stored: nothing at this level (or no such unit)
    computed = await compute_period(session, domain, period, Config())
    result = computed.figures
    out = []
    for code, u in result.units.items():
        if (level is not None and u.level != level) or (unit is not None and code != unit):
            continue
        figures = u.as_dict(domain)
        out.append(ReportRow(period=period.label, domain=domain, unit=code, name=u.name, level=u.level,
                             parent=u.parent, score=u.score, rank=u.rank, figures=figures,
                             config=result.config.as_dict(), message=message(u, domain, period),
                             digest=store.digest(figures, result.config.as_dict()), stored=False))
    return sorted(out, key=lambda r: (r.rank is None, r.rank or 0, r.unit))


@router.get("/assessment/{domain}/periods")
async def periods(domain: DomainPath, session: SessionDep, actor: HotlineActor) -> list[str]:
    """The periods with stored reports, oldest first."""
    assessment_unit_of(actor, domain)
    return await store.periods(session, domain)


@router.get("/assessment/{domain}/{period}/units")
async def level_table(domain: DomainPath, period: PeriodPath, session: SessionDep, actor: HotlineActor,
                      level: Annotated[int | None, Query(ge=0, le=32)] = None) -> list[ReportRow]:
    """The ranking of one level of the unit tree (all levels without ``level``); a unit head gets their unit only."""
    own = assessment_unit_of(actor, domain)
    return await _level_rows(session, domain, _period(period), level, own)


@router.get("/assessment/{domain}/{period}/units/{unit}")
async def unit_report(domain: DomainPath, period: PeriodPath, unit: UnitPath, session: SessionDep,
                      actor: HotlineActor) -> ReportRow:
    """One unit's figures (its subtree's), score, rank and the message to its head."""
    require_assessment_of(actor, domain, unit)
    rows = await _level_rows(session, domain, _period(period), None, unit)
    if not rows:
        raise NotFound(N_("unit {unit} has no figures for {period}"), unit=unit, period=period)
    return rows[0]


class TrendPoint(BaseModel):
    period: str
    score: float | None
    rank: int | None
    ranked_of: int
    rates: dict[str, float | None]
    received: int


@router.get("/assessment/{domain}/units/{unit}/trend")
async def trend(domain: DomainPath, unit: UnitPath, session: SessionDep, actor: HotlineActor,
                periods: Annotated[int, Query(ge=1, le=120)] = 12) -> list[TrendPoint]:
    """Each rate of the unit over its last ``periods`` stored months, oldest first."""
    require_assessment_of(actor, domain, unit)
    rows = [r for r in await store.stored(session, domain, unit=unit) if ".." not in r["period"]][-periods:]
    return [TrendPoint(period=r["period"], score=r["score"], rank=r["rank"], ranked_of=r["figures"]["ranked_of"],
                       rates={k: v["value"] for k, v in r["figures"]["rates"].items()},
                       received=r["figures"]["rates"]["received"]["numerator"]) for r in rows]


class DrillItem(BaseModel):
    key: str
    ref: str
    unit: str
    flags: list[str]
    timeline: str
    chain: str


class Drill(BaseModel):
    domain: str
    period: str
    unit: str
    rate: str
    part: str
    flag: str
    count: int
    items: list[DrillItem]


@router.get("/assessment/{domain}/{period}/units/{unit}/drill")
async def drill(domain: DomainPath, period: PeriodPath, unit: UnitPath, session: SessionDep, actor: HotlineActor,
                rate_name: Annotated[str, Query(alias="rate", max_length=40)],
                part: Literal["numerator", "denominator"] = "numerator") -> Drill:
    """Exactly the orders (cases) behind one figure of the unit, each with its timeline and chain check."""
    require_assessment_of(actor, domain, unit)
    d: Domain = domain
    try:
        definition = rate(d, rate_name)
    except KeyError:
        raise ApiError(422, "unknown_rate", N_("no {what} rate {rate}"), field="rate", what=d,
                       rate=rate_name) from None
    flag = definition.numerator if part == "numerator" else definition.denominator
    if flag is None:
        raise ApiError(422, "unknown_rate", N_("no {what} rate {rate}"), field="part", what=f"{d} denominator of",
                       rate=rate_name)
    p = _period(period)
    computed = await compute_period(session, d, p, Config())
    members = computed.figures.drill(unit, computed.tree, rate_name, part)
    base = "/orders/{ref}/events" if d == "orders" else "/cases/{ref}/timeline"
    chain = "/assessment/orders/{ref}/chain" if d == "orders" else "/cases/{ref}/chain"
    items = [DrillItem(key=m.key, ref=m.ref, unit=m.unit, flags=sorted(m.flags), timeline=base.format(ref=m.ref),
                       chain=chain.format(ref=m.ref)) for m in members]
    return Drill(domain=d, period=p.label, unit=unit, rate=rate_name, part=part, flag=flag, count=len(items),
                 items=items)


class OrderChain(BaseModel):
    order_no: str
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    breaks: list[dict[str, Any]]

    @classmethod
    def of(cls, r: ChainReport) -> "OrderChain":
        return cls(order_no=r.case_no, ok=r.ok, events=r.events, head_seq=r.head_seq, head_hash=r.head_hash,
                   breaks=[{"seq": b.seq, "kind": b.kind.value, "detail": b.detail} for b in r.breaks])


@router.get("/assessment/orders/{order_no}/chain")
async def order_chain(order_no: Annotated[str, Path(max_length=40)], session: SessionDep, actor: HotlineActor
                      ) -> OrderChain:
    """The order's hash chain, checked link by link and against the ``orders`` row (``casehall.audit.orders``)."""
    own = assessment_unit_of(actor, "orders")
    order = await session.get(Order, order_no)
    if order is None:
        raise NotFound(N_("no order {order_no}"), order_no=order_no)
    if own is not None and not sees_order(actor, order.unit_codes):
        raise refuse(FORBIDDEN, N_("only the figures of {unit} are yours to read"), unit=own)
    (report,) = await verify_orders(session, [order_no])
    return OrderChain.of(report)


@router.get("/assessment/{domain}/{period}/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def export_csv(domain: DomainPath, period: PeriodPath, session: SessionDep, actor: HotlineActor,
                     level: Annotated[int | None, Query(ge=0, le=32)] = None) -> Response:
    """The period's table (a level, or every unit) as CSV; a unit head's has their unit only."""
    own = assessment_unit_of(actor, domain)
    rows = await _level_rows(session, domain, _period(period), level, own)
    return Response(to_csv(domain, [r.model_dump() for r in rows]), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="assessment-{domain}-{period}.csv"'})


@router.get("/assessment/{domain}/{period}/export.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def export_pdf(domain: DomainPath, period: PeriodPath, session: SessionDep, actor: HotlineActor,
                     level: Annotated[int | None, Query(ge=0, le=32)] = None) -> Response:
    """The period's ranking and the messages to the heads as a printable A4 PDF (the font embedded)."""
    own = assessment_unit_of(actor, domain)
    rows = await _level_rows(session, domain, _period(period), level, own)
    pdf = to_pdf(domain, _period(period).label, [r.model_dump() for r in rows])
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="assessment-{domain}-{period}.pdf"'})
