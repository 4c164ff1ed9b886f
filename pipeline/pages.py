"""Stages 1–3 for one page: load it from its file, preprocess a working copy, recognise it once."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import cv2
import numpy as np

from pipeline.context import RunContext
from pipeline.ingest.sources import load_page
from pipeline.ocr.factory import get_engine
from pipeline.preprocess import effective_dpi, preprocess_page
from schemas.models import FileKind, OcrPage, PageRef, PageResult

log = logging.getLogger(__name__)


# A grey scan rendered or decoded as BGR has its three channels equal but for JPEG's rounding; stored as
# one channel, the working copy (and the PDF/A that embeds it) holds the same pixels at a third of the size
# and is written three times faster. A colour scan, a red seal or a tinted paper, keeps its colour.
_GREY_SPREAD = 4
_COLOUR_SHARE = 0.0005


def grey_if_grey(image: np.ndarray) -> np.ndarray:
    """`image` as one channel when its colour channels agree everywhere (a grey or bitonal scan)."""
    if image.ndim != 3:
        return image
    sample = image[::4, ::4].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    if float((spread > _GREY_SPREAD).mean()) > _COLOUR_SHARE:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def process_page(ctx: RunContext, file_id: str, rel_path: str, kind: FileKind, page_no: int) -> PageResult:
    """One page, end to end. The original file is only read; corrections apply to the working copy."""
    started = time.perf_counter()
    image, tagged_dpi = load_page(ctx.source_path(rel_path), kind, page_no)
    height, width = image.shape[:2]
    dpi = effective_dpi(width, height, tagged_dpi)
    engine = get_engine(ctx.ocr)
    working, info = preprocess_page(image, dpi, engine)
    working = grey_if_grey(working)
    out = ctx.page_image(file_id, page_no)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part.png")
    # Fast compression: the working copy is scratch, and zlib at the default level costs a third of OCR time.
    if not cv2.imwrite(str(tmp), working, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise OSError(f"cannot write working image {tmp}")
    tmp.replace(out)
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
