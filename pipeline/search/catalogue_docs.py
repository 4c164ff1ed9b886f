"""Search documents built from the catalogue, the source of truth: a batch's, or all of them again."""

from __future__ import annotations

from pipeline.search import open_search, rebuild_index
from pipeline.search.base import SearchDoc
from pipeline.settings import Settings
from pipeline.store import CatalogueStore, open_store
from pipeline.store.pages import pages_by_document


def search_docs(store: CatalogueStore, batch_id: str | None) -> list[SearchDoc]:
    """One search document per record (of the batch, or of the whole catalogue when None)."""
    documents = {d.doc_id: d for d in store.documents(batch_id)}
    pages = pages_by_document(store, documents.values())
    docs = []
    for record in store.records(batch_id):
        doc = documents.get(record.doc_id)
        if doc is None:
            continue
        docs.append(
            SearchDoc.from_record(
                record,
                form_id=doc.classification.label if doc.classification else None,
                status=doc.status,
                text="\n".join(p.ocr.text for p in pages[doc.doc_id]),
                fields={f.key: f.normalized or f.value or "" for f in doc.fields},
            )
        )
    return docs


def index_batch(store: CatalogueStore, settings: Settings, batch_id: str) -> int:
    """Records of the batch into the search index (rebuildable from the catalogue at any time)."""
    return open_search(settings).index(search_docs(store, batch_id))


def reindex_all(settings: Settings) -> int:
    """Rebuild the whole index from the catalogue."""
    with open_store(settings.database_url) as store:
        return rebuild_index(open_search(settings), search_docs(store, None))
