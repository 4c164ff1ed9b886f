"""Stages 4–7 for one source file: separate its pages into documents, classify, extract, decide."""

from __future__ import annotations

import logging
from functools import lru_cache

from classifiers.base import FormClassifier
from classifiers.factory import build_title_classifier, load_ensemble
from classifiers.title_match import TitleMatchClassifier
from pipeline.context import RunContext
from pipeline.decide import decide_document, decide_rows
from pipeline.extract.checks import cross_check
from pipeline.extract.fields import extract_fields
from pipeline.extract.rules import ruled_words
from pipeline.extract.table_rows import extract_table_rows, mirror_first_row
from pipeline.identity import doc_id_for
from pipeline.separate import separate_pages
from schemas.models import Document, ExtractedField, OcrPage, PageKind, PageResult, SourceFile
from schemas.registry import Registry, get_registry
from schemas.registry_models import FormSpec

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def title_classifier() -> TitleMatchClassifier:
    """Title matching alone: separation uses it to see where a form starts."""
    return build_title_classifier(get_registry())


@lru_cache(maxsize=1)
def form_classifier() -> FormClassifier:
    """Title match + n-gram ensemble with calibrated confidence: names each document's form."""
    return load_ensemble(get_registry())


def _classified_form_title(registry: Registry, form_id: str | None) -> str | None:
    return registry.form(form_id).title if form_id else None


def read_fields(
    form: FormSpec, form_pages: list[tuple[int, OcrPage]]
) -> tuple[list[ExtractedField], list[list[ExtractedField]]]:
    """The form's fields and person-table rows, read from the OCR of its non-blank pages (1-based numbers)."""
    rows = extract_table_rows(form, form_pages)
    # the first row stands in for the person the record is filed under: check them together
    return cross_check(mirror_first_row(extract_fields(form, form_pages), rows)), rows


def assemble_file(ctx: RunContext, source: SourceFile, pages: list[PageResult]) -> list[Document]:
    """Documents of one file, each decided (accepted or review) with its fields and reasons."""
    registry = get_registry()
    matcher = title_classifier()
    by_no = {p.page.page_no: p for p in pages}
    documents: list[Document] = []
    classifier = form_classifier()
    for span in separate_pages(pages, matcher):
        cls = classifier.classify(by_no[span.first_page].ocr)
        form = registry.form(cls.label) if cls is not None and cls.label else None
        form_pages = [
            # a table's rules part the words of neighbouring cells (and are no characters of them)
            (n - span.first_page + 1, ruled_words(by_no[n]))
            for n, kind in zip(range(span.first_page, span.last_page + 1), span.page_kinds, strict=True)
            if kind is not PageKind.BLANK
        ]
        fields, rows = read_fields(form, form_pages) if form is not None else ([], [])
        doc = Document(
            doc_id=doc_id_for(source.file_id, span.first_page),
            batch_id=ctx.batch_id,
            file_id=source.file_id,
            rel_path=source.rel_path,
            first_page=span.first_page,
            last_page=span.last_page,
            page_kinds=span.page_kinds,
            classification=cls,
            form_title=_classified_form_title(registry, form.form_id if form else None),
            fields=fields,
            table_rows=rows,
        )
        documents.append(decide_rows(decide_document(doc, form, ctx.decide), form, ctx.decide))
    log.info("file %s: %d pages, %d documents", source.rel_path, len(pages), len(documents))
    return documents
