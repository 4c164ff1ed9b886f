"""The catalogue database (SQLite file or PostgreSQL): the source of truth of the archive.

The search index can always be rebuilt from it.
"""

# The review application's tables join the shared metadata whenever the store is imported,
# so migrations and the schema check see every table.
from pipeline.store import access_tables as access_tables
from pipeline.store import preservation_tables as preservation_tables
from pipeline.store.catalogue import CatalogueStore, open_store
from pipeline.store.engine import mask_url

__all__ = ["CatalogueStore", "mask_url", "open_store"]
