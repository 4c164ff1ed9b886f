"""The invisible text layer of an archive PDF, drawn from the pipeline's own OCR boxes.

The layer uses a glyphless font, as Tesseract's PDF renderer does: a TrueType program with one
empty glyph, wrapped as a Type0 / CIDFontType2 font with /Identity-H codes and a ToUnicode CMap.
Only the ToUnicode map carries the text, so the file needs no real CJK font: OCRmyPDF's renderer
spent over a second per document loading and subsetting Noto CJK for text nobody sees. Text is
shown in rendering mode 3 (invisible), which PDF/A exempts from the glyph-present and width
rules; each OCR box's text is stretched with Tz to exactly its box, so a selection lands on the
printed words and pdftotext/pypdf read each box as one line.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import lru_cache

import pikepdf
from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampFromString
from fontTools.pens.ttGlyphPen import TTGlyphPen
from pikepdf import Array, Dictionary, Name

from pipeline.archive.pdf_fonts import to_unicode_cmap
from schemas.models import OcrPage

FONT_RESOURCE = Name("/FGlyphless")
LAYER_RESOURCE = Name("/XOcrText")
_UNITS_PER_EM = 1000
_ADVANCE = 500  # of 1000: every code advances half an em; Tz fits the run to its box
_MIN_FONT_PT = 0.5
_FONT_DATE = timestampFromString("Mon Jan  1 00:00:00 2024")


@lru_cache(maxsize=1)
def glyphless_font_program() -> bytes:
    """A TrueType program with .notdef and one empty glyph (advance 500/1000), built once per
    process. Fixed timestamps keep the bytes, and so the archive files, reproducible."""
    builder = FontBuilder(_UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder([".notdef", "blank"])
    builder.setupCharacterMap({0x20: "blank"})
    builder.setupGlyf({name: TTGlyphPen(None).glyph() for name in (".notdef", "blank")})
    builder.setupHorizontalMetrics({".notdef": (_ADVANCE, 0), "blank": (_ADVANCE, 0)})
    builder.setupHorizontalHeader(ascent=_UNITS_PER_EM, descent=0)
    builder.setupNameTable({"familyName": "GlyphLessFont", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=_UNITS_PER_EM, sTypoDescender=0, usWinAscent=_UNITS_PER_EM, usWinDescent=0)
    builder.setupPost()
    builder.updateHead(created=_FONT_DATE, modified=_FONT_DATE)
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def _cid_of_chars(texts: Iterable[str]) -> dict[str, int]:
    """Each distinct character → a CID from 1 up (0 is .notdef), in first-seen order."""
    cids: dict[str, int] = {}
    for text in texts:
        for char in text:
            if char not in cids:
                cids[char] = len(cids) + 1
    return cids


def glyphless_font(pdf: pikepdf.Pdf, cids: dict[str, int]) -> Dictionary:
    """The Type0 font (indirect) whose codes `cids` are; every CID draws the one empty glyph."""
    last = max(cids.values(), default=0)
    # GID 1 for every shown CID, GID 0 (.notdef) only for CID 0, which is never shown
    cid_to_gid = b"\x00\x00" + b"\x00\x01" * last
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=Name("/GlyphLessFont"),
            Flags=4,  # symbolic: the glyphs are not in the standard Latin set
            FontBBox=Array([0, 0, _ADVANCE, _UNITS_PER_EM]),
            ItalicAngle=0,
            Ascent=_UNITS_PER_EM,
            Descent=0,
            CapHeight=_UNITS_PER_EM,
            StemV=80,
            FontFile2=pdf.make_stream(glyphless_font_program()),
        )
    )
    cid_font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=Name("/GlyphLessFont"),
            CIDSystemInfo=Dictionary(
                Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
            ),
            FontDescriptor=descriptor,
            DW=_ADVANCE,
            CIDToGIDMap=pdf.make_stream(cid_to_gid),
        )
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/GlyphLessFont"),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([cid_font]),
            ToUnicode=pdf.make_stream(to_unicode_cmap({cid: char for char, cid in cids.items()})),
        )
    )


def _num(value: float) -> bytes:
    return (b"%.3f" % value).rstrip(b"0").rstrip(b".") or b"0"


def layer_content(page: OcrPage, cids: dict[str, int], box: tuple[float, float, float, float]) -> bytes:
    """Content stream of the invisible text: one run per OCR box, baseline on the box's bottom edge,
    font size the box height, stretched horizontally to the box width."""
    left, bottom, right, top = box
    sx, sy = (right - left) / page.width, (top - bottom) / page.height
    ops = [b"BT", b"3 Tr"]
    for word in page.words:
        text = word.text.strip()
        x0, y0, x1, y1 = word.box
        if not text or x1 <= x0 or y1 <= y0:
            continue
        size = max((y1 - y0) * sy, _MIN_FONT_PT)
        natural = len(text) * size * _ADVANCE / _UNITS_PER_EM
        stretch = 100.0 * (x1 - x0) * sx / natural
        codes = b"".join(cids[c].to_bytes(2, "big") for c in text)
        ops.append(
            b"/%s %s Tf %s Tz 1 0 0 1 %s %s Tm <%s> Tj"
            % (
                str(FONT_RESOURCE)[1:].encode(),
                _num(size),
                _num(stretch),
                _num(left + x0 * sx),
                _num(top - y1 * sy),
                codes.hex().upper().encode(),
            )
        )
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def add_text_layers(pdf: pikepdf.Pdf, pages: Sequence[OcrPage]) -> None:
    """Lay each OcrPage's text invisibly over the matching page of `pdf`, as a form XObject."""
    if len(pages) != len(pdf.pages):
        raise ValueError(f"{len(pages)} OCR results for {len(pdf.pages)} pages")
    cids = _cid_of_chars(w.text.strip() for p in pages for w in p.words)
    font = glyphless_font(pdf, cids) if cids else None
    for page, ocr in zip(pdf.pages, pages, strict=True):
        if font is None or not ocr.words:
            continue
        left, bottom, right, top = (float(v) for v in page.mediabox)
        form = pdf.make_stream(
            layer_content(ocr, cids, (left, bottom, right, top)),
            Type=Name.XObject,
            Subtype=Name.Form,
            BBox=Array([left, bottom, right, top]),
            Resources=Dictionary(Font=Dictionary({str(FONT_RESOURCE): font})),
        )
        if Name.Resources not in page.obj:
            page.obj.Resources = Dictionary()
        if Name.XObject not in page.obj.Resources:
            page.obj.Resources.XObject = Dictionary()
        page.obj.Resources.XObject[LAYER_RESOURCE] = form
        page.contents_add(pdf.make_stream(b"q %s Do Q\n" % str(LAYER_RESOURCE).encode()), prepend=False)
