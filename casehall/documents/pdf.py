"""PDF rendering of formal notices (不予受理告知书, 一次性告知单) with reportlab's built-in CJK font."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CLOSING_LINE = "如对本决定不服，可依法申请行政复议或者提起行政诉讼。"
TITLES = {"rejection_notice": "不予受理告知书", "one_time_notice": "一次性告知单"}


@cache
def _styles() -> dict[str, ParagraphStyle]:
    """Register the CID font once and build the paragraph styles."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=17, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1, spaceAfter=6 * mm),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=10, leading=14),
        "right": ParagraphStyle("right", parent=body, alignment=2),
    }


def format_local(value: datetime | str | None) -> str:
    """Format a datetime (or ISO string) as Asia/Shanghai local time; naive values are taken as UTC."""
    if value is None or value == "":
        return ""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(LOCAL_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _p(text: Any, style: str = "body") -> Paragraph:
    """A paragraph of user text, XML-escaped so markup characters render literally."""
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), _styles()[style])


def _table(rows: list[list[Any]], widths: list[float], header: bool = False) -> Table:
    """A bordered table whose cells are escaped, wrapping paragraphs."""
    table = Table([[_p(cell, "cell") for cell in row] for row in rows], colWidths=widths, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")))
    table.setStyle(TableStyle(style))
    return table


def _case_rows(content: dict[str, Any]) -> list[list[Any]]:
    """The identification rows shared by both notices."""
    return [
        ["案件编号", content.get("case_no", "")],
        ["申请人", content.get("applicant", "")],
        ["事项", content.get("item", "")],
    ]


def _rejection(content: dict[str, Any]) -> list[Flowable]:
    """Body of a 不予受理告知书."""
    approver = " ".join(str(x) for x in (content.get("approved_by"), content.get("approver_role")) if x)
    rows = _case_rows(content) + [
        ["受理登记时间", format_local(content.get("registered_at"))],
        ["决定时间", format_local(content.get("decided_at"))],
        ["不予受理理由", content.get("reasons", "")],
        ["法律依据", content.get("legal_basis", "")],
        ["审批人", approver],
    ]
    return [_table(rows, [35 * mm, 135 * mm]), Spacer(1, 6 * mm), _p(CLOSING_LINE)]


def _one_time(content: dict[str, Any]) -> list[Flowable]:
    """Body of a 一次性告知单: missing materials, status and supplement deadline."""
    rows = _case_rows(content) + [["告知时间", format_local(content.get("issued_at"))]]
    missing = [["材料名称", "类别", "补正方式"]] + [
        [m.get("material", ""), "主要材料" if m.get("main") else "次要材料", m.get("how_to_supply", "")]
        for m in content.get("missing") or []
    ]
    if content.get("accepted"):
        status = "您的申请已予容缺受理。以下次要材料尚缺，请按要求补正，补正前不影响案件办理。"
    else:
        status = "您的申请因缺少以下主要材料暂未受理（并非不予受理）。请按要求一次性补正后再行提交，补齐后即予受理。"
    flow: list[Flowable] = [
        _table(rows, [35 * mm, 135 * mm]),
        Spacer(1, 5 * mm),
        _p(status),
        Spacer(1, 3 * mm),
        _table(missing, [55 * mm, 25 * mm, 90 * mm], header=True),
    ]
    if deadline := content.get("supplement_deadline"):
        flow += [Spacer(1, 4 * mm), _p(f"请于{format_local(deadline)}前补正上述材料。")]
    return flow


def _generic(content: dict[str, Any]) -> list[Flowable]:
    """Fallback body: a key/value table of the content."""
    rows = [[key, value] for key, value in content.items()]
    return [_table(rows, [45 * mm, 125 * mm])] if rows else []


def render_document(kind: str, title: str, content: dict[str, Any], issued_at: datetime) -> bytes:
    """Render a notice of ``kind`` as an A4 PDF and return its bytes."""
    title = title or TITLES.get(kind, kind)
    builders = {"rejection_notice": _rejection, "one_time_notice": _one_time}
    story: list[Flowable] = [_p(title, "title"), *builders.get(kind, _generic)(content)]
    story += [Spacer(1, 12 * mm), _p(f"出具时间：{format_local(issued_at)}", "right")]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="casehall",
        creator="casehall",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    doc.build(story)
    return buffer.getvalue()
