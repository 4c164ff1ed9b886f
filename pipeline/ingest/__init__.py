"""Stage 1: discover a batch, check every file, split files into page images."""

from pipeline.ingest.discover import as_duplicate, discover_batch
from pipeline.ingest.sources import FileProbe, inspect_file, load_page, probe_file

__all__ = ["FileProbe", "as_duplicate", "discover_batch", "inspect_file", "load_page", "probe_file"]
