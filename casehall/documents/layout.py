"""The page of an official document after GB/T 9704-2012: A4, the type area 156 x 225 mm, the issuing authority's
red mark, the document number and the red rule, the title, the signature with its seal area and the page numbers.

Only drawing lives here; what a document says is in ``casehall.documents.pdf``.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from casehall.documents.fonts import printable, register

PAGE_WIDTH, PAGE_HEIGHT = A4
TOP, BOTTOM, LEFT, RIGHT = 37 * mm, 35 * mm, 28 * mm, 26 * mm  # 天头, 地脚, 订口, 翻口
WIDTH = PAGE_WIDTH - LEFT - RIGHT  # 156 mm: 28 characters of 三号 per line
RED = colors.HexColor("#d7000f")
BODY_SIZE = 16  # 三号
LEADING = 28.9  # 22 lines in the 225 mm type area


@cache
def styles() -> dict[str, ParagraphStyle]:
    font = register()
    body = ParagraphStyle("body", fontName=font, fontSize=BODY_SIZE, leading=LEADING, wordWrap="CJK",
                          firstLineIndent=2 * BODY_SIZE, alignment=TA_JUSTIFY)
    return {
        "body": body,
        "plain": ParagraphStyle("plain", parent=body, firstLineIndent=0),
        "number": ParagraphStyle("number", parent=body, firstLineIndent=0, alignment=TA_CENTER),
        "cell": ParagraphStyle("cell", parent=body, fontSize=12, leading=17, firstLineIndent=0, alignment=0),
        "small": ParagraphStyle("small", parent=body, fontSize=12, leading=18, firstLineIndent=0),
    }


def text(value: Any) -> str:
    """User text as paragraph markup: the font's missing characters spelled, XML escaped, line breaks kept."""
    return escape(printable("" if value is None else str(value))).replace("\n", "<br/>")


def para(value: Any, style: str = "body", markup: str | None = None) -> Paragraph:
    """A paragraph of ``value`` (escaped), or of ``markup`` already built from escaped pieces."""
    return Paragraph(markup if markup is not None else text(value), styles()[style])


def table(rows: list[list[Any]], widths: list[float], header: bool = False) -> Table:
    """A bordered table of escaped, wrapping cells; the header row (or the first column) shaded."""
    shade = colors.HexColor("#efefef")
    grid = Table([[para(cell, "cell") for cell in row] for row in rows], colWidths=widths, hAlign="CENTER",
                 repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), register()),  # else the table names Helvetica, a font nobody embeds
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    style.append(("BACKGROUND", (0, 0), (-1, 0), shade) if header else ("BACKGROUND", (0, 0), (0, -1), shade))
    grid.setStyle(TableStyle(style))
    return grid


def _fit(value: str, size: float, width: float) -> float:
    """The largest size <= ``size`` (and >= 60 % of it) at which ``value`` fits ``width``."""
    font = register()
    natural = pdfmetrics.stringWidth(value, font, size)
    return size if natural <= width else max(size * 0.6, size * width / natural)


class Heading(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """One centred line in a heavy face (the font has one weight: the strokes are thickened), shrunk to fit."""

    def __init__(self, value: str, size: float, color: Any = colors.black, space_after: float = 0,
                 letter_spacing: float = 0) -> None:
        super().__init__()
        self.value = printable(value)
        self.size, self.color, self.space_after, self.letter_spacing = size, color, space_after, letter_spacing

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self.font_size = _fit(self.value, self.size, avail_width - self.letter_spacing * len(self.value))
        return avail_width, self.font_size * 1.45 + self.space_after

    def draw(self) -> None:
        canvas = self.canv
        font = register()
        size = self.font_size
        width = pdfmetrics.stringWidth(self.value, font, size) + self.letter_spacing * (len(self.value) - 1)
        canvas.saveState()
        canvas.setFillColor(self.color)
        canvas.setStrokeColor(self.color)
        canvas.setLineWidth(size * 0.035)
        obj = canvas.beginText((self.width - width) / 2, self.space_after + size * 0.35)
        obj.setTextRenderMode(2)  # fill and stroke: a bold Song for the mark and the title
        obj.setFont(font, size)
        obj.setCharSpace(self.letter_spacing)
        obj.textOut(self.value)
        canvas.drawText(obj)
        canvas.restoreState()


class Rule(Flowable):  # type: ignore[misc]
    """A horizontal rule over the type area: red under the document number, black in the receipt."""

    def __init__(self, thickness: float = 1, color: Any = RED, space: float = 4 * mm, dash: tuple[int, ...] = ()):
        super().__init__()
        self.thickness, self.color, self.space, self.dash = thickness, color, space, dash

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, 2 * self.space

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.thickness)
        if self.dash:
            self.canv.setDash(*self.dash)
        self.canv.line(0, self.space, self.width, self.space)
        self.canv.restoreState()


class Signature(Flowable):  # type: ignore[misc]
    """The issuing authority and the date, the date four characters from the right, the authority centred over
    it, and the seal area: a dashed red circle of 42 mm pressing down on both (GB/T 9704-2012, 7.3.5.1)."""

    RADIUS = 21 * mm

    def __init__(self, authority: str, day: str, seal: bool = True) -> None:
        super().__init__()
        self.authority, self.day, self.seal = printable(authority), printable(day), seal

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, 2 * LEADING + 4 * mm  # the seal reaches above, into the space left for it

    def draw(self) -> None:
        canvas, font = self.canv, register()
        date_width = pdfmetrics.stringWidth(self.day, font, BODY_SIZE)
        date_right = self.width - 4 * BODY_SIZE
        centre = date_right - date_width / 2
        authority_size = _fit(self.authority, BODY_SIZE, self.width * 0.6)
        canvas.saveState()
        canvas.setFont(font, authority_size)
        canvas.drawCentredString(centre, LEADING + 4 * mm, self.authority)
        canvas.setFont(font, BODY_SIZE)
        canvas.drawRightString(date_right, 4 * mm, self.day)
        if self.seal:
            canvas.setStrokeColor(RED)
            canvas.setFillColor(RED)
            canvas.setLineWidth(0.8)
            canvas.setDash(3, 2)
            cy = LEADING / 2 + 4 * mm + 4 * mm  # a little above the middle: the text sits low in the seal
            canvas.circle(centre, cy, self.RADIUS, stroke=1, fill=0)
            canvas.setFont(font, 9)
            canvas.drawCentredString(centre, cy + self.RADIUS - 6 * mm, "（印章）")
        canvas.restoreState()


def page_number(canvas: Any, doc: Any) -> None:
    """'— 1 —' under the type area: odd pages on the right, even pages on the left (one character in)."""
    font = register()
    label = f"— {doc.page} —"
    canvas.saveState()
    canvas.setFont(font, 14)
    y = BOTTOM - 7 * mm - 14
    if doc.page % 2:
        canvas.drawRightString(PAGE_WIDTH - RIGHT - 14, y, label)
    else:
        canvas.drawString(LEFT + 14, y, label)
    canvas.restoreState()
