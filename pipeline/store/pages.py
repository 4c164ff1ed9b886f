"""Pages read per document: what the PDF/A writer and the search index both need."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.store.catalogue import CatalogueStore
from schemas.models import Document, PageResult


def pages_by_document(store: CatalogueStore, docs: Iterable[Document]) -> dict[str, list[PageResult]]:
    """Each document's own pages in order, reading every source file's pages once."""
    by_file: dict[str, list[PageResult]] = {}
    out: dict[str, list[PageResult]] = {}
    for doc in docs:
        if doc.file_id not in by_file:
            by_file[doc.file_id] = sorted(store.pages(doc.file_id), key=lambda p: p.page.page_no)
        out[doc.doc_id] = [p for p in by_file[doc.file_id] if doc.first_page <= p.page.page_no <= doc.last_page]
    return out
