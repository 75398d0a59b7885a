"""A period's table as CSV and as a printable A4 PDF (landscape, the documents' font embedded)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer

from casehall.assessment.rates import RATES, Domain
from casehall.documents.fonts import register
from casehall.documents.layout import page_number, para, table

SUBJECT = {"orders": "12345 热线工单", "cases": "政务服务办件"}


def _value(rate: dict[str, Any]) -> str:
    v = rate.get("value")
    return "" if v is None else f"{v:.6f}"


def to_csv(domain: Domain, rows: Sequence[dict[str, Any]]) -> str:
    """One line per unit: period, unit, level, rank, score, then each rate's value, numerator and denominator."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    head = ["period", "unit", "name", "level", "parent", "rank", "ranked_of", "score"]
    for r in RATES[domain]:
        head += [r.name] if r.denominator is None else [r.name, f"{r.name}_numerator", f"{r.name}_denominator"]
    w.writerow(head)
    for row in rows:
        f = row["figures"]
        line = [row["period"], row["unit"], row["name"], row["level"], row.get("parent") or "",
                "" if f.get("rank") is None else f["rank"], f.get("ranked_of", 0),
                "" if f.get("score") is None else f"{f['score']:.6f}"]
        for r in RATES[domain]:
            rate = f["rates"][r.name]
            line += ([rate["numerator"]] if r.denominator is None
                     else [_value(rate), rate["numerator"], rate["denominator"]])
        w.writerow(line)
    return out.getvalue()


def _pct(rate: dict[str, Any]) -> str:
    v = rate.get("value")
    return "—" if v is None else f"{100 * v:.1f}%\n{rate['numerator']}/{rate['denominator']}"


def to_pdf(domain: Domain, period: str, rows: Sequence[dict[str, Any]], title: str | None = None) -> bytes:
    """The ranking table of ``rows`` (one level, or one unit) and each unit's message; the font is embedded."""
    font = register()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=title or f"{period} 考核报告",
                            author="casehall", creator="casehall", invariant=True, lang="zh-CN",
                            initialFontName=font)
    rates = [r for r in RATES[domain] if r.denominator is not None]
    head = ["排名", "单位", "得分", "件数", *[r.zh for r in rates]]
    width = landscape(A4)[0] - 24 * mm
    widths = [12 * mm, 42 * mm, 16 * mm, 14 * mm]
    rest = (width - sum(widths)) / len(rates)
    body = [head]
    for row in rows:
        f = row["figures"]
        body.append(["" if f.get("rank") is None else str(f["rank"]), row["name"],
                     "" if f.get("score") is None else f"{f['score']:.2f}", str(f["rates"]["received"]["numerator"]),
                     *[_pct(f["rates"][r.name]) for r in rates]])
    story: list[Any] = [para(title or f"{SUBJECT[domain]}考核报告（{period}）", "number"), Spacer(1, 4 * mm),
                        table(body, widths + [rest] * len(rates), header=True), Spacer(1, 4 * mm),
                        para("口径：按办理时限所在月份计入；各项数据由哈希链事件计算，可逐件核查（docs/assessment.md）。",
                             "small")]
    messages = [r for r in rows if r.get("message")]
    if 0 < len(messages) <= 40:
        story.append(PageBreak())
        for row in messages:
            story += [para(row["message"], "small"), Spacer(1, 3 * mm)]
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()
