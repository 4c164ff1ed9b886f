"""Separation of a file's pages into documents: forms open one, attachments and blanks join, vendor
separator sheets (QR payload or patch code, read from the page image) close one and belong to none."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from pipeline.assemble import title_classifier
from pipeline.barcodes import patch_codes, read_separator, read_separator_file
from pipeline.separate import separate_pages
from schemas.models import OcrPage, PageKind, PageRef, PageResult, PreprocessInfo, Word
from synth.attachments import render_id_copy
from synth.degrade import Mode, draw_params, scan
from synth.separator import SeparatorSymbol, render_separator
from synth.values import make_case

W, H = 2480, 3508  # A4 at 300 DPI, the working image size


def _grey(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


def _scanned_separator(symbol: SeparatorSymbol, seed: int) -> Image.Image:
    rng = random.Random(seed)
    clean = render_separator(symbol, 300, rng, "box-007")
    # deskew leaves the working copy upright to within a degree, so the reader sees it so
    modes: list[Mode] = ["color", "gray", "bitonal"]
    params = draw_params(rng, blank=False, mode=modes[seed % 3])
    params = dataclasses.replace(params, rotation=0, skew_deg=max(-1.0, min(1.0, params.skew_deg)))
    return scan(clean, params)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pages")
    paths: dict[str, str] = {}
    for name, img in (
        ("qr", _scanned_separator("qr", 1)),
        ("patch", _scanned_separator("patch_t", 2)),
        ("id_copy", render_id_copy(make_case(random.Random(3)), random.Random(3), 300)),
        ("white", Image.new("L", (W, H), 255)),
    ):
        path = folder / f"{name}.png"
        img.save(path)
        paths[name] = str(path)
    return paths


@pytest.mark.parametrize(("symbol", "seed"), [("qr", 4), ("qr", 5), ("patch_t", 6), ("patch_t", 7), ("patch_t", 8)])
def test_separator_sheets_are_read_after_scanning(symbol: SeparatorSymbol, seed: int) -> None:
    mark = read_separator(_grey(_scanned_separator(symbol, seed)))
    assert mark is not None
    if symbol == "qr":
        assert mark.symbol == "barcode" and mark.text.startswith("DANGAN-SEP")
    else:
        assert (mark.symbol, mark.text) == ("patch", "T")


def test_a_patch_turned_half_a_turn_still_separates() -> None:
    grey = _grey(_scanned_separator("patch_t", 9))
    assert set(patch_codes(grey)) == {"T"}
    turned = np.ascontiguousarray(np.rot90(grey, 2))
    assert set(patch_codes(turned)) == {"3"}  # T read backwards; patch 3 is a (batch) separator too
    assert read_separator(turned) is not None
    quarter = np.ascontiguousarray(np.rot90(grey, 1))
    assert read_separator(quarter) is not None


def test_other_codes_and_ordinary_pages_are_not_separators(images: dict[str, str]) -> None:
    other = zxingcpp.create_barcode("https://si.example.cn/verify/123", zxingcpp.BarcodeFormat.QRCode)
    page = Image.new("L", (W, H), 255)
    page.paste(Image.fromarray(np.asarray(other.to_image(scale=20))), (800, 1200))
    assert zxingcpp.read_barcodes(_grey(page))  # the code is readable, just not a separator
    assert read_separator(_grey(page)) is None
    assert read_separator_file(images["id_copy"]) is None
    assert read_separator_file(images["white"]) is None


def _words(*texts: str, top: int = 200) -> list[Word]:
    return [
        Word(text=t, box=(300, top + 120 * i, 300 + 60 * len(t), top + 120 * i + 80), confidence=0.95)
        for i, t in enumerate(texts)
    ]


def _page(no: int, words: list[Word], image: str, *, blank: bool = False) -> PageResult:
    return PageResult(
        page=PageRef(
            file_id="f1", rel_path="box-001.pdf", page_no=no, image_path=image, source_dpi=300, width=W, height=H
        ),
        preprocess=PreprocessInfo(is_blank=blank),
        ocr=OcrPage(engine="test", engine_version="1", width=W, height=H, words=words),
    )


FORM_WORDS = [*_words("参保单位人员增加减少表"), *_words(*[f"单位名称{i}" for i in range(14)], top=600)]
ID_WORDS = _words("中华人民共和国", "居民身份证", "姓名", "公民身份号码", top=900)


def test_separator_sheets_close_documents_and_belong_to_none(images: dict[str, str]) -> None:
    pages = [
        _page(1, [], images["qr"]),  # a sheet in front of the first document too
        _page(2, FORM_WORDS, images["white"]),
        _page(3, [], images["white"], blank=True),  # verso of the form: kept, flagged
        _page(4, ID_WORDS, images["id_copy"]),
        _page(5, _words("档案分隔页"), images["patch"]),
        _page(6, [], images["white"], blank=True),  # the separator's own verso
        _page(7, ID_WORDS, images["id_copy"]),  # no form title, but the separator says a new 件 starts
        _page(8, [], images["qr"]),
        _page(9, FORM_WORDS, images["white"]),
    ]
    spans = separate_pages(pages, title_classifier())
    assert [(s.first_page, s.last_page) for s in spans] == [(2, 4), (7, 7), (9, 9)]
    assert spans[0].page_kinds == [PageKind.FORM, PageKind.BLANK, PageKind.ATTACHMENT]
    assert spans[0].classification is not None and spans[0].classification.label == "unit_staff_change"
    assert spans[1].page_kinds == [PageKind.ATTACHMENT]
    assert all(PageKind.SEPARATOR not in s.page_kinds for s in spans)


def test_without_separators_blank_versos_and_attachments_join_the_form(images: dict[str, str]) -> None:
    pages = [
        _page(1, FORM_WORDS, images["white"]),
        _page(2, [], images["white"], blank=True),
        _page(3, ID_WORDS, images["id_copy"]),
        _page(4, [], images["white"], blank=True),
        _page(5, FORM_WORDS, images["white"]),
        _page(6, [], images["white"], blank=True),
    ]
    spans = separate_pages(pages, title_classifier())
    assert [(s.first_page, s.last_page) for s in spans] == [(1, 4), (5, 6)]
    assert spans[0].page_kinds == [PageKind.FORM, PageKind.BLANK, PageKind.ATTACHMENT, PageKind.BLANK]
    assert spans[1].page_kinds == [PageKind.FORM, PageKind.BLANK]


def test_a_form_page_is_never_read_for_a_barcode(tmp_path: Path) -> None:
    # many OCR words: separation decides from the words alone, so a missing image is never opened
    pages = [_page(1, FORM_WORDS, str(tmp_path / "absent.png"))]
    assert [(s.first_page, s.last_page) for s in separate_pages(pages, title_classifier())] == [(1, 1)]


def _numbered(words: list[Word], text: str) -> list[Word]:
    """The page with a sheet number (第1页 共2页) printed at its foot."""
    return [*words, Word(text=text, box=(1100, 3300, 1400, 3360), confidence=0.9)]


ROWS = _words(*[f"张{i}  11010519800101{i:04d}  增加" for i in range(8)], top=1000)


@pytest.mark.parametrize(
    "top",
    [
        ("参保单位人员增加减少表（续）",),  # the title again, with （续）
        ("参保单位人员增加减少表(续表)",),
        ("参保单位人员增加减少表续",),  # OCR lost the brackets
        ("参保单位人员增加减少表", "（续）"),  # the mark on a line of its own
        ("续表", "序号", "姓名", "公民身份号码"),  # no title; the header repeated
        ("接上页",),
    ],
)
def test_a_continuation_sheet_joins_the_form_before_it(images: dict[str, str], top: tuple[str, ...]) -> None:
    pages = [
        _page(1, FORM_WORDS, images["white"]),
        _page(2, [*_words(*top), *ROWS], images["white"]),
        _page(3, ID_WORDS, images["id_copy"]),
        _page(4, FORM_WORDS, images["white"]),
    ]
    spans = separate_pages(pages, title_classifier())
    assert [(s.first_page, s.last_page) for s in spans] == [(1, 3), (4, 4)]
    assert spans[0].page_kinds == [PageKind.FORM, PageKind.CONTINUATION, PageKind.ATTACHMENT]


def test_sheet_numbers_tell_a_repeated_plain_title_from_a_new_form(images: dict[str, str]) -> None:
    pages = [
        _page(1, _numbered(FORM_WORDS, "第1页 共2页"), images["white"]),  # the first sheet opens
        _page(2, _numbered([*_words("参保单位人员增加减少表"), *ROWS], "第2页共2页"), images["white"]),
        _page(3, _numbered(FORM_WORDS, "第1页 共1页"), images["white"]),
    ]
    spans = separate_pages(pages, title_classifier())
    assert [(s.first_page, s.last_page) for s in spans] == [(1, 2), (3, 3)]


def test_continuation_marks_are_not_read_into_other_titles(images: dict[str, str]) -> None:
    transfer = [*_words("基本养老保险关系转移接续申请表"), *_words(*[f"转出地{i}" for i in range(12)], top=600)]
    note = Word(text="本表不够填写的，可另附续表", box=(300, 3200, 1500, 3260), confidence=0.9)
    pages = [
        _page(1, FORM_WORDS, images["white"]),
        _page(2, transfer, images["white"]),  # 接续 in a title is no （续）
        _page(3, [*FORM_WORDS, note], images["white"]),  # 续表 in a note at the foot is an instruction
    ]
    spans = separate_pages(pages, title_classifier())
    assert [(s.first_page, s.last_page) for s in spans] == [(1, 1), (2, 2), (3, 3)]
    assert spans[1].classification is not None
    assert spans[1].classification.label == "pension_transfer_application"


def test_a_continuation_sheet_after_a_separator_still_opens_a_document(images: dict[str, str]) -> None:
    pages = [
        _page(1, FORM_WORDS, images["white"]),
        _page(2, [], images["qr"]),
        _page(3, [*_words("参保单位人员增加减少表（续）"), *ROWS], images["white"]),
    ]
    spans = separate_pages(pages, title_classifier())
    assert [(s.first_page, s.last_page) for s in spans] == [(1, 1), (3, 3)]
    assert spans[1].classification is not None and spans[1].classification.label == "unit_staff_change"
