"""PDF/A-2b writer: conformance, 300-DPI images, a Chinese text layer that extracts cleanly, atomicity.

Pages are drawn here with Noto Sans CJK at known boxes and their OcrPage is built from those
boxes, so no recogniser runs: the text layer must come from the given OcrPage alone.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from datetime import date
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.archive.image_pages import read_png
from pipeline.archive.pdf_fonts import parse_to_unicode, to_unicode_cmap
from pipeline.archive.pdfa import PdfMetadata, image_dpis, sha256_file, write_pdfa
from pipeline.archive.text_layer import glyphless_font_program, layer_content
from pipeline.errors import ArchiveError
from pipeline.settings import ArchiveImageSettings
from schemas.models import OcrPage, Word

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_INDEX_SC = 2  # the Simplified Chinese face of the collection
TITLE = "社会保险个人注册登记表"
ID_NUMBER = "11010519491231002X"
W, H = 1200, 900  # 4 x 3 inches at 300 DPI: small, fast, still a real 300-DPI page

PAGE_LINES = [
    [(TITLE, 230, 60, 56), (f"公民身份号码 {ID_NUMBER}", 60, 250, 36), ("姓名 张三  性别 男", 60, 400, 36)],
    [("居民身份证复印件", 300, 100, 48), ("签发机关 北京市公安局", 60, 300, 36)],
]


def _draw_page(path: Path, lines: list[tuple[str, int, int, int]]) -> OcrPage:
    image = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(image)
    words = []
    for text, x, y, size in lines:
        font = ImageFont.truetype(FONT, size, index=FONT_INDEX_SC)
        draw.text((x, y), text, font=font, fill=0)
        words.append(Word(text=text, box=draw.textbbox((x, y), text, font=font), confidence=0.97))
    image.save(path, dpi=(300, 300))
    return OcrPage(engine="synthetic", engine_version="1", width=W, height=H, words=words)


def _pages(folder: Path) -> list[tuple[Path, OcrPage]]:
    pages = []
    for number, lines in enumerate(PAGE_LINES, start=1):
        path = folder / f"page{number}.png"
        pages.append((path, _draw_page(path, lines)))
    return pages


META = PdfMetadata(
    title=TITLE,
    archive_no="2023-YL-0001-0007",
    record_id="rec-0007",
    author="某市社会保险事业管理局",
    subject="养老保险 / 参保登记",
    keywords=["养老保险", "参保登记"],
    form_date=date(2023, 5, 4),
    source="box01/scan0001.pdf",
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[Path, OcrPage]]]:
    folder = tmp_path_factory.mktemp("pdfa")
    pages = _pages(folder)
    out = write_pdfa(pages, folder / "out" / "doc.pdf", META)
    return out, pages


def _pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_output_is_pdfa_2b(written):
    out, _pages = written
    with pikepdf.open(out) as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "2"
        assert xmp["pdfaid:conformance"] == "B"
    report = pikepdf.pdfa.validate_written(out, "2b")
    assert report.passed, report.summary()


def test_page_count_and_images_at_300_dpi(written):
    out, pages = written
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == len(pages)
        for page, (image_path, _ocr) in zip(pdf.pages, pages, strict=True):
            (image,) = page.get_images().values()
            with Image.open(image_path) as source:
                assert (int(image.Width), int(image.Height)) == source.size  # no resampling
            width_pt = float(page.mediabox[2]) - float(page.mediabox[0])
            height_pt = float(page.mediabox[3]) - float(page.mediabox[1])
            assert int(image.Width) / (width_pt / 72) == pytest.approx(300, abs=0.5)
            assert int(image.Height) / (height_pt / 72) == pytest.approx(300, abs=0.5)
        assert image_dpis(pdf) == [pytest.approx((300, 300), abs=0.5)] * len(pages)


def test_pypdf_extracts_clean_chinese(written):
    out, _pages = written
    reader = pypdf.PdfReader(out)
    first, second = (page.extract_text() for page in reader.pages)
    assert "\x00" not in first + second
    assert TITLE in first
    assert re.search(rf"(?<![0-9X]){ID_NUMBER}(?![0-9X])", first)
    assert "居民身份证复印件" in second
    assert TITLE not in second


def test_pdftotext_extracts_clean_chinese(written):
    out, _pages = written
    text = _pdftotext(out)
    assert "\x00" not in text
    first, second = text.split("\f")[:2]
    assert TITLE in first
    assert ID_NUMBER in first
    assert "签发机关" in second


def test_text_lies_on_its_box(written):
    """Selecting the invisible text must land on the printed text: word boxes match the OCR boxes."""
    out, pages = written
    bbox_html = _pdftotext(out, "-bbox", "-f", "1", "-l", "1")
    found = {
        m.group(5): tuple(float(m.group(i)) for i in range(1, 5))
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)</word>', bbox_html
        )
    }
    assert TITLE in found and ID_NUMBER in found
    words = {w.text: w.box for w in pages[0][1].words}
    to_pt = 72 / 300
    x0, y0, x1, y1 = (v * to_pt for v in words[TITLE])
    fx0, fy0, fx1, fy1 = found[TITLE]
    assert fx0 == pytest.approx(x0, abs=2) and fx1 == pytest.approx(x1, abs=2)
    assert fy0 < (y0 + y1) / 2 < fy1  # the text line straddles the printed line's middle
    # the ID sits at the right end of its line's box
    assert found[ID_NUMBER][2] == pytest.approx(words[f"公民身份号码 {ID_NUMBER}"][2] * to_pt, abs=2)


def test_text_is_invisible(written):
    out, _pages = written
    with pikepdf.open(out) as pdf:
        for page in pdf.pages:
            for xobj in page.Resources.XObject.values():
                if xobj.Subtype == "/Form":
                    ops = [str(op) for operands, op in pikepdf.parse_content_stream(xobj)]
                    assert "Tj" in ops or "TJ" in ops
                    trs = [int(o[0]) for o, op in pikepdf.parse_content_stream(xobj) if str(op) == "Tr"]
                    assert trs and set(trs) == {3}


def test_metadata(written):
    out, _pages = written
    with pikepdf.open(out) as pdf:
        with pdf.open_metadata() as xmp:
            assert xmp["dc:title"] == TITLE
            assert xmp["dc:identifier"] == META.archive_no
            assert f"record_id:{META.record_id}" in xmp["xmp:Identifier"]
            assert f"archive_no:{META.archive_no}" in xmp["xmp:Identifier"]
            assert xmp["dc:date"] == ["2023-05-04"]
            assert xmp["dc:creator"] == [META.author]
            assert set(xmp["dc:subject"]) == {"养老保险", "参保登记"}
            assert xmp["dc:source"] == META.source
        info = pdf.docinfo
        assert str(info["/Title"]) == TITLE
        assert str(info["/ArchiveNo"]) == META.archive_no
        assert str(info["/RecordId"]) == META.record_id
    assert pypdf.PdfReader(out).metadata.title == TITLE


def test_sha256_file(written):
    out, _pages = written
    assert sha256_file(out) == hashlib.sha256(out.read_bytes()).hexdigest()


def test_no_temporary_files_left(written):
    out, _pages = written
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_missing_image_raises_and_leaves_nothing(tmp_path):
    pages = _pages(tmp_path)
    missing = tmp_path / "gone.png"
    out = tmp_path / "out" / "doc.pdf"
    with pytest.raises(ArchiveError) as err:
        write_pdfa([pages[0], (missing, pages[1][1])], out, META)
    assert str(missing) in err.value.message and str(out) in err.value.message
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_failure_after_work_started_leaves_nothing(tmp_path):
    """The final rename fails (a directory holds the name): the temporary file is removed too."""
    pages = _pages(tmp_path)
    out = tmp_path / "doc.pdf"
    out.mkdir()
    (out / "keep").write_text("x")
    with pytest.raises(ArchiveError):
        write_pdfa(pages, out, META)
    assert out.is_dir() and [p.name for p in out.iterdir()] == ["keep"]
    assert not list(tmp_path.glob(".doc.pdf.*"))


def test_ocr_of_another_image_is_refused(tmp_path):
    path, ocr = _pages(tmp_path)[0]
    wrong = ocr.model_copy(update={"width": H, "height": W})
    with pytest.raises(ArchiveError, match="OCR result"):
        write_pdfa([(path, wrong)], tmp_path / "doc.pdf", META)
    assert not (tmp_path / "doc.pdf").exists()


def test_empty_document_is_refused(tmp_path):
    with pytest.raises(ArchiveError):
        write_pdfa([], tmp_path / "doc.pdf", META)


def test_overwrite_replaces_whole_file(written, tmp_path):
    _out, pages = written
    target = tmp_path / "doc.pdf"
    target.write_bytes(b"old, partial content")
    write_pdfa(pages[:1], target, META)
    assert len(pypdf.PdfReader(target).pages) == 1
    assert pikepdf.pdfa.validate_written(target, "2b").passed


def test_page_without_text_and_rgba_image(tmp_path):
    """A blank verso with no OCR words, saved with an alpha channel, still makes a valid page."""
    path = tmp_path / "blank.png"
    Image.new("RGBA", (W, H), (255, 255, 255, 255)).save(path, dpi=(300, 300))
    blank = OcrPage(engine="synthetic", engine_version="1", width=W, height=H, words=[])
    out = write_pdfa([(path, blank)], tmp_path / "blank.pdf", META)
    assert pikepdf.pdfa.validate_written(out, "2b").passed
    with pikepdf.open(out) as pdf:
        assert image_dpis(pdf) == [pytest.approx((300, 300), abs=0.5)]


def test_text_layer_keeps_boxes_and_skips_empty_words():
    page = OcrPage(
        engine="x",
        engine_version="1",
        width=100,
        height=50,
        words=[
            Word(text="姓名", box=(1, 2, 30, 12), confidence=0.9),
            Word(text="  ", box=(40, 2, 50, 12), confidence=0.9),
            Word(text="坏框", box=(60, 20, 60, 30), confidence=0.9),
        ],
    )
    # a 100 x 50 pt page: one point per pixel, y flipped
    content = layer_content(page, {"姓": 1, "名": 2, "坏": 3, "框": 4}, (0.0, 0.0, 100.0, 50.0))
    runs = [line for line in content.decode().splitlines() if line.endswith("Tj")]
    assert runs == ["/FGlyphless 10 Tf 290 Tz 1 0 0 1 1 38 Tm <00010002> Tj"]
    assert content.decode().splitlines()[:2] == ["BT", "3 Tr"]


def test_glyphless_font_program_is_reproducible():
    program = glyphless_font_program()
    glyphless_font_program.cache_clear()
    assert glyphless_font_program() == program
    assert len(program) < 2000


def test_to_unicode_cmap_round_trip():
    to_unicode = (
        b"2 beginbfchar\n<0001> <793E>\n<0002> <D842DFB7>\nendbfchar\n"
        b"1 beginbfrange\n<0010> <0011> <0030>\nendbfrange\n"
    )
    assert parse_to_unicode(to_unicode) == {1: "社", 2: "𠮷", 16: "0", 17: "1"}
    many = {cid: chr(0x4E00 + cid) for cid in range(1, 251)}  # more than one 100-entry block
    assert parse_to_unicode(to_unicode_cmap(many)) == many
    assert parse_to_unicode(to_unicode_cmap({28824: "社", 9889: "𠮷"})) == {28824: "社", 9889: "𠮷"}


def test_lossless_archive_embeds_png_pages_byte_for_byte(tmp_path):
    pages = _pages(tmp_path)
    out = write_pdfa(pages, tmp_path / "doc.pdf", META, ArchiveImageSettings(lossless=True))
    assert pikepdf.pdfa.validate_written(out, "2b").passed
    with pikepdf.open(out) as pdf:
        for page, (image_path, _ocr) in zip(pdf.pages, pages, strict=True):
            (image,) = page.get_images().values()
            png = read_png(image_path)
            assert png is not None and image.read_raw_bytes() == png.idat
            assert image.Filter == "/FlateDecode" and image.DecodeParms.Predictor == 15


def test_only_plain_8_bit_pngs_pass_through(tmp_path):
    for mode, passes in (("L", True), ("RGB", True), ("RGBA", False), ("P", False), ("1", False)):
        path = tmp_path / f"{mode}.png"
        Image.new(mode, (8, 4)).save(path)
        assert (read_png(path) is not None) is passes, mode
    jpeg = tmp_path / "page.jpg"
    Image.new("RGB", (8, 4)).save(jpeg)
    assert read_png(jpeg) is None
