"""The embedded document font (Casehall Serif SC, a subset of Noto Serif CJK SC under the OFL; see fonts/README.md).

It ships xz-compressed inside the package and is decompressed in memory once per process; reportlab embeds the
glyphs a PDF uses. Characters the font lacks are never left to a viewer's .notdef box: ``printable`` spells them.
"""

from __future__ import annotations

import io
import lzma
from functools import cache
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "CasehallSerifSC"
FONT_FILE = "CasehallSerifSC-Regular.ttf.xz"


@cache
def font_bytes() -> bytes:
    """The TrueType font, decompressed."""
    packed = resources.files("casehall.documents").joinpath("fonts", FONT_FILE).read_bytes()
    return lzma.decompress(packed)


@cache
def register() -> str:
    """Register the font with reportlab once; returns its name."""
    pdfmetrics.registerFont(TTFont(FONT, io.BytesIO(font_bytes())))
    return FONT


@cache
def charset() -> frozenset[int]:
    """The code points the font draws."""
    register()
    font = pdfmetrics.getFont(FONT)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]


def printable(text: str) -> str:
    """``text`` with each character the font lacks written as [U+XXXX], so nothing prints as an empty box."""
    chars = charset()
    if all(ord(c) in chars or c in "\n\t" for c in text):
        return text
    return "".join(c if ord(c) in chars or c in "\n\t" else f"[U+{ord(c):04X}]" for c in text)
