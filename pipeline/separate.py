"""Stage 4: cut a file's page stream into documents (件).

A page whose title names a main form opens a new document; attachments (ID-card copies,
certificates), continuation pages and blank versos join the document before them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from classifiers.title_match import TitleMatchClassifier
from schemas.models import Classification, PageKind, PageResult

# A title match this strong on a page's top region means a new form starts here.
SPLIT_MIN_SCORE = 80.0


@dataclass
class DocumentSpan:
    first_page: int
    last_page: int
    page_kinds: list[PageKind] = field(default_factory=list)
    classification: Classification | None = None


def page_kind(result: PageResult, matcher: TitleMatchClassifier) -> tuple[PageKind, Classification | None]:
    if result.preprocess.is_blank:
        return PageKind.BLANK, None
    match = matcher.best_match(result.ocr)
    if match is not None and match.score >= SPLIT_MIN_SCORE:
        if match.role == "main":
            return PageKind.FORM, matcher.classify(result.ocr)
        return PageKind.ATTACHMENT, None
    return PageKind.ATTACHMENT, None


def separate_pages(results: list[PageResult], matcher: TitleMatchClassifier) -> list[DocumentSpan]:
    """Documents as contiguous page runs; the first page of a file always opens one."""
    spans: list[DocumentSpan] = []
    for result in sorted(results, key=lambda r: r.page.page_no):
        kind, cls = page_kind(result, matcher)
        if kind is PageKind.FORM or not spans:
            if kind is not PageKind.FORM and cls is None:
                # An unrecognised first page still opens a document; classify says it is unknown.
                cls = matcher.classify(result.ocr)
            spans.append(DocumentSpan(result.page.page_no, result.page.page_no, [], cls))
        span = spans[-1]
        span.last_page = result.page.page_no
        span.page_kinds.append(kind)
    return spans
