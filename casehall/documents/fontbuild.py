"""Build the embedded document font from Noto Serif CJK SC (a maintainer's tool; needs ``fonttools``).

    python -m casehall.documents.fontbuild [/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc]

The source is Debian's ``fonts-noto-cjk`` (SIL Open Font License 1.1). The result keeps every character of GB 2312
and the whole CJK Unified Ideographs block (U+4E00-U+9FFF, so every hanzi of GBK: names with 喆, 堃, 赟 print),
ASCII, Latin-1 and the punctuation and symbol blocks an official document uses. reportlab embeds TrueType outlines
only, so the CFF outlines are converted to quadratic curves (cu2qu, 1 unit of 1000 per em at most). The font is
renamed ("Casehall Serif SC"), as the licence asks of a modified version, and stored xz-compressed next to this
file; ``casehall.documents.fonts`` decompresses it in memory. Nothing is downloaded at run time.
"""

from __future__ import annotations

import io
import lzma
import sys
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
OUTPUT = Path(__file__).parent / "fonts" / "CasehallSerifSC-Regular.ttf.xz"
FAMILY = "Casehall Serif SC"
POSTSCRIPT = "CasehallSerifSC-Regular"
SC_INDEX = 2  # JP, KR, SC, TC, HK in the collection

RANGES = [
    (0x20, 0x7E), (0xA0, 0xFF),  # ASCII, Latin-1
    (0x2000, 0x206F),  # general punctuation: — ‘ ’ “ ” …
    (0x2100, 0x22FF),  # letterlike (№ ℃), number forms (Ⅰ Ⅱ), arrows, mathematical operators
    (0x2460, 0x24FF),  # enclosed numbers ① ⑴ ⒈
    (0x2500, 0x25FF),  # box drawing, geometric shapes (□ ■ ○ ●)
    (0x3000, 0x303F),  # CJK punctuation: 、。〇〔〕《》「」
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xFF00, 0xFFEF),  # full-width forms
]


def gb2312() -> set[int]:
    """Every character of GB 2312 (hanzi, symbols, Greek, Cyrillic, kana, pinyin)."""
    found = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def wanted() -> set[int]:
    chars = gb2312()
    for lo, hi in RANGES:
        chars.update(range(lo, hi + 1))
    return chars


def _to_truetype(font: Any) -> None:
    """Replace the CFF outlines by TrueType ``glyf`` outlines, in place."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                 "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    del font["CFF "]
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


def _rename(font: Any) -> None:
    names = font["name"]
    source = names.getDebugName(4)
    for record in list(names.names):
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (4,):
            record.string = f"{FAMILY} Regular"
        elif record.nameID == 3:
            record.string = f"{POSTSCRIPT};subset of {source}"
        elif record.nameID == 6:
            record.string = POSTSCRIPT
        elif record.nameID == 17:
            record.string = "Regular"


def build(source: Path = DEFAULT_SOURCE, output: Path = OUTPUT) -> int:
    """Write the subset font; returns the number of characters it maps."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    font = TTCollection(str(source)).fonts[SC_INDEX]
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE", "GDEF", "GSUB", "GPOS", "DSIG", "meta"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted())
    subsetter.subset(font)
    _to_truetype(font)
    _rename(font)
    raw = io.BytesIO()
    font.save(raw)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(lzma.compress(raw.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    return len(font.getBestCmap())


if __name__ == "__main__":
    count = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
    print(f"{OUTPUT}: {count} characters, {OUTPUT.stat().st_size} bytes")
