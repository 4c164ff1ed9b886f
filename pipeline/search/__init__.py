"""Search backends: SQLite FTS5 embedded (default) or Elasticsearch in production.

Both hold only what the catalogue holds, so `rebuild_index` can always recreate either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pipeline.search.base import SearchBackend, SearchDoc, SearchHit
from pipeline.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["SearchBackend", "SearchDoc", "SearchHit", "open_search", "rebuild_index"]


def open_search(settings: Settings) -> SearchBackend:
    """The backend `settings.search_backend` names; heavy client imports happen only here."""
    if settings.search_backend == "elasticsearch":
        from pipeline.search.elasticsearch_index import ElasticsearchIndex

        return ElasticsearchIndex(settings.es_url, settings.es_index)
    from pipeline.search.sqlite_fts import SqliteFtsIndex

    return SqliteFtsIndex(settings.home / "index.sqlite")


def rebuild_index(backend: SearchBackend, docs: Iterable[SearchDoc]) -> int:
    """Empty the index and fill it again from catalogue records; returns how many were indexed."""
    backend.clear()
    written = backend.index(docs)
    log.info("search index rebuilt: %d records", written)
    return written
