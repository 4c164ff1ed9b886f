"""Stage 4: cut a file's page stream into documents (件).

A page whose title names a main form opens a new document; attachments (ID-card copies,
certificates), continuation pages and blank versos join the document before them. A continuation
sheet (续表) of a long person table is marked as one — 续表, （续）, 接上页 near the top, the title with
（续）, or 第2页 共2页 — and never opens a document, even when it repeats the form's title. A vendor's
separator sheet (QR code with the separator payload, or patch code 2/T) closes the current document,
belongs to none, and makes the next page open one whatever it is (a blank right after it is the
sheet's verso and belongs to none either).

Page numbers stay those of the source file, separator sheets included, so a document that follows a
separator starts one page after it (the ground truth counts the same way).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.barcodes import read_separator_file
from schemas.models import Classification, OcrPage, PageKind, PageResult, Word

log = logging.getLogger(__name__)

# A title match this strong on a page's top region means a new form starts here.
SPLIT_MIN_SCORE = 80.0
# Separator sheets carry a caption at most; forms and ID-card copies give more OCR words than this, so
# the page image is read for a barcode only on the few pages that could be a separator.
SEPARATOR_MAX_WORDS = 12
# Continuation marks sit with the title, above the table; lower down, "可另附续表" in a form's notes is
# an instruction, not a mark.
CONTINUATION_REGION = 0.28
_TOP_MARK = re.compile(
    r"续|续[表页].{0,3}|接上[页表].{0,2}"  # the mark alone: 续表, 续表一, 续页, 接上页
    r"|.*\(续(?:[)表页上].*)?"  # （续）, （续表）, （续上页）, the title followed by one
    r"|.*[表单册函]续\)?"  # the title with （续） whose brackets OCR lost
)
# 第2页 (共2页) anywhere: a sheet numbered after the first continues the one before.
_LATER_SHEET = re.compile(r"第(?:[2-9]|[1-9][0-9]|[二三四五六七八九十])页")


class TitleHit(Protocol):
    """The best title on a page: how well it matches (0–100) and whether its form is a 主件 or 附件."""

    @property
    def score(self) -> float: ...

    @property
    def role(self) -> str: ...


class TitleMatcher(Protocol):
    """What separation needs of a form classifier (classifiers/title_match.py is the one used): the
    best-matching title on a page, and the page's form once it opens a document."""

    def best_match(self, page: OcrPage) -> TitleHit | None: ...

    def classify(self, page: OcrPage) -> Classification: ...


@dataclass
class DocumentSpan:
    first_page: int
    last_page: int
    page_kinds: list[PageKind] = field(default_factory=list)
    classification: Classification | None = None


def is_separator_sheet(result: PageResult) -> bool:
    """A vendor's separator sheet: few words and a separator barcode or patch code on the working image."""
    if result.preprocess.is_blank or len(result.ocr.words) > SEPARATOR_MAX_WORDS:
        return False
    mark = read_separator_file(result.page.image_path)
    if mark is not None:
        log.info(
            "page %d of %s is a separator sheet (%s %s)",
            result.page.page_no,
            result.page.rel_path,
            mark.symbol,
            mark.text,
        )
    return mark is not None


def is_continuation_mark(word: Word, page_height: int) -> bool:
    """Is this word (at its place on a page `page_height` high) a mark of a continuation sheet?"""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", word.text))
    if _LATER_SHEET.search(text):
        return True
    return word.box[1] < page_height * CONTINUATION_REGION and _TOP_MARK.fullmatch(text) is not None


def continuation_mark(page: OcrPage) -> str | None:
    """The word that marks this page as a continuation sheet of the page before it, or None."""
    return next((w.text for w in page.words if is_continuation_mark(w, page.height)), None)


def page_kind(result: PageResult, matcher: TitleMatcher) -> tuple[PageKind, Classification | None]:
    if result.preprocess.is_blank:
        return PageKind.BLANK, None
    if is_separator_sheet(result):
        return PageKind.SEPARATOR, None
    match = matcher.best_match(result.ocr)
    mark = continuation_mark(result.ocr)
    if match is not None and match.score >= SPLIT_MIN_SCORE and match.role == "main":
        if mark is None:
            return PageKind.FORM, matcher.classify(result.ocr)
        log.info("page %d of %s continues the page before (%s)", result.page.page_no, result.page.rel_path, mark)
    # attachments and continuation sheets join the current document
    return (PageKind.ATTACHMENT if mark is None else PageKind.CONTINUATION), None


def separate_pages(results: list[PageResult], matcher: TitleMatcher) -> list[DocumentSpan]:
    """Documents as contiguous page runs; the first page of a file, or the first after a separator
    sheet, always opens one. Separator sheets are in no span."""
    spans: list[DocumentSpan] = []
    open_next = True  # the file's first page, or the first after a separator sheet, opens a document
    previous: PageKind | None = None
    for result in sorted(results, key=lambda r: r.page.page_no):
        kind, cls = page_kind(result, matcher)
        # a blank right after a separator sheet is the sheet's own verso (scanned duplex): in no document
        skip = kind is PageKind.SEPARATOR or (kind is PageKind.BLANK and previous is PageKind.SEPARATOR)
        previous = PageKind.SEPARATOR if skip else kind
        if skip:
            open_next = True
            continue
        if kind is PageKind.FORM or open_next:
            if kind is not PageKind.FORM and cls is None:
                # An unrecognised first page still opens a document; classify says it is unknown.
                cls = matcher.classify(result.ocr)
            spans.append(DocumentSpan(result.page.page_no, result.page.page_no, [], cls))
            open_next = False
        span = spans[-1]
        span.last_page = result.page.page_no
        span.page_kinds.append(kind)
    return spans
