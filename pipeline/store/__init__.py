"""The catalogue database (SQLite file or PostgreSQL): the source of truth of the archive.

The search index can always be rebuilt from it.
"""

from pipeline.store.catalogue import CatalogueStore, open_store
from pipeline.store.engine import mask_url

__all__ = ["CatalogueStore", "mask_url", "open_store"]
