"""Stage 1: discover a batch, check every file, split files into page images."""

from pipeline.ingest.discover import discover_batch
from pipeline.ingest.sources import load_page, probe_file

__all__ = ["discover_batch", "load_page", "probe_file"]
