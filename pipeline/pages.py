"""Stages 1–3 for one page: load it from its file, preprocess a working copy, store it, recognise it once."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from pipeline.archive.page_encoding import encode_page, grey_if_grey
from pipeline.context import RunContext
from pipeline.ingest.sources import load_page
from pipeline.ocr.factory import get_engine
from pipeline.partial_files import write_bytes_atomically
from pipeline.preprocess import effective_dpi, preprocess_page
from schemas.models import FileKind, OcrPage, PageRef, PageResult

log = logging.getLogger(__name__)


def process_page(ctx: RunContext, file_id: str, rel_path: str, kind: FileKind, page_no: int) -> PageResult:
    """One page, end to end. The original file is only read; corrections apply to the working copy."""
    started = time.perf_counter()
    image, tagged_dpi = load_page(ctx.source_path(rel_path), kind, page_no, root=ctx.batch_root)
    # Before preprocessing: a grey scan is then resampled, turned and deskewed as one channel, not three.
    image = grey_if_grey(image)
    height, width = image.shape[:2]
    dpi = effective_dpi(width, height, tagged_dpi)
    engine = get_engine(ctx.ocr)
    working, info = preprocess_page(image, dpi, engine)
    # Encoded for the archive now, while the pixels are in memory: the PDF/A embeds these bytes as they
    # are, and a JPEG or G4 page is written in a tenth of the time a PNG took.
    encoded = encode_page(working, ctx.archive_images)
    out = ctx.page_image(file_id, page_no, encoded.suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of this process's own: a second run of the batch, or a worker orphaned by a kill,
    # writing the same page never shares it.
    write_bytes_atomically(out, encoded.data, ctx.batch_id)
    ocr_started = time.perf_counter()
    if info.is_blank:
        # Nothing to read on a blank verso; an empty result keeps "recognised once" honest.
        ocr = OcrPage(
            engine=engine.name,
            engine_version=engine.version(),
            width=working.shape[1],
            height=working.shape[0],
            words=[],
        )
    else:
        ocr = engine.recognize(working)
    ocr_seconds = time.perf_counter() - ocr_started
    ref = PageRef(
        file_id=file_id,
        rel_path=rel_path,
        page_no=page_no,
        image_path=str(out),
        source_dpi=dpi,
        width=working.shape[1],
        height=working.shape[0],
    )
    log.debug(
        "page %s#%d: rotation %d skew %.2f blank %s words %d",
        rel_path,
        page_no,
        info.rotation,
        info.skew_degrees,
        info.is_blank,
        len(ocr.words),
    )
    return PageResult(
        page=ref,
        preprocess=info,
        ocr=ocr,
        seconds_ocr=ocr_seconds,
        seconds_total=time.perf_counter() - started,
        finished_at=datetime.now(UTC),
    )
