"""Walk a TIFF's chain of page directories (IFDs) before any decoder does.

A damaged TIFF can point a page's "next" offset back at an earlier page (a loop) or past the end of
the file; a hostile one declares thousands of pages. Checked here from the raw bytes, with the
reason, so a decoder never goes round in circles or takes a broken index at face value.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from pipeline.errors import CorruptFileError, DecompressionBombError


def count_tiff_pages(fh: BinaryIO, shown: str, max_pages: int) -> int:
    """The number of pages of a (classic or Big) TIFF, after checking its page index."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(0)
    head = fh.read(16)
    order = "<" if head[:2] == b"II" else ">"
    (magic,) = struct.unpack(order + "H", head[2:4])
    if magic == 43:  # BigTIFF: 8-byte offsets and counts
        (offset,) = struct.unpack(order + "Q", head[8:16])
        count_fmt, count_len, entry_len, off_fmt, off_len = "Q", 8, 20, "Q", 8
    else:
        (offset,) = struct.unpack(order + "I", head[4:8])
        count_fmt, count_len, entry_len, off_fmt, off_len = "H", 2, 12, "I", 4
    seen: set[int] = set()
    pages = 0
    while offset:
        if offset in seen:
            raise CorruptFileError(
                shown, f"TIFF page index is damaged: after page {pages} it points back to an earlier page (a loop)"
            )
        if offset + count_len > size:
            raise CorruptFileError(shown, f"TIFF page index is damaged: page {pages + 1} lies past the end of the file")
        seen.add(offset)
        pages += 1
        if pages > max_pages:
            raise DecompressionBombError(shown, f"TIFF declares more than {max_pages} pages; not a scan of one file")
        fh.seek(offset)
        (entries,) = struct.unpack(order + count_fmt, fh.read(count_len))
        next_at = offset + count_len + entries * entry_len
        if next_at + off_len > size:
            raise CorruptFileError(shown, f"TIFF page index is damaged: page {pages} is cut off")
        fh.seek(next_at)
        (offset,) = struct.unpack(order + off_fmt, fh.read(off_len))
    if pages == 0:
        raise CorruptFileError(shown, "TIFF has no pages")
    return pages
