"""OCRmyPDF plugin whose "OCR engine" hands back the text our own OCR stage already found.

Each page is recognised once, upstream; OCRmyPDF is used only to lay that text on the page
and to make the file PDF/A. The plugin is loaded by module name
(`plugins=["pipeline.archive.ocrmypdf_plugin"]`) and selected with `ocr_engine="dangan"`.
The pages' `OcrPage` results reach it as a JSON file named in the options' `extra_attrs`
(key `OCR_JSON_KEY`), because OCRmyPDF serialises options to JSON when it hands a page to
a worker and this survives that.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocrmypdf import hookimpl
from ocrmypdf.models.ocr_element import BoundingBox, OcrClass, OcrElement
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence

from schemas.models import OcrPage

log = logging.getLogger(__name__)

ENGINE_NAME = "dangan"
OCR_JSON_KEY = "dangan_ocr_json"
LANGUAGE = "chi_sim"


def dump_pages(pages: Sequence[OcrPage], path: Path) -> Path:
    """Write the pages' OCR results where the plugin will look for them."""
    path.write_text(json.dumps([p.model_dump(mode="json") for p in pages], ensure_ascii=False), "utf-8")
    return path


def _load_page(options: Any, page_number: int) -> OcrPage:
    json_path = options.extra_attrs.get(OCR_JSON_KEY)
    if not json_path:
        raise RuntimeError(f"OCRmyPDF options lack extra_attrs[{OCR_JSON_KEY!r}]; use write_pdfa()")
    # Re-read per page: a page is a few kB of JSON, and a worker process has no shared cache.
    raw = json.loads(Path(json_path).read_text("utf-8"))
    if not 0 <= page_number < len(raw):
        raise RuntimeError(f"no OCR result for page {page_number + 1} ({len(raw)} given)")
    return OcrPage.model_validate(raw[page_number])


def ocr_tree(page: OcrPage, page_number: int) -> OcrElement:
    """The OcrElement tree OCRmyPDF's renderer draws: one line, holding one word, per OCR box.

    Our engines report text lines (RapidOCR) or words (Tesseract); either way each box
    becomes its own line, so the renderer scales the whole text horizontally to that box.
    """
    lines = []
    for word in page.words:
        text = word.text.strip()
        x0, y0, x1, y1 = word.box
        if not text or x1 <= x0 or y1 <= y0:
            continue
        bbox = BoundingBox(left=x0, top=y0, right=x1, bottom=y1)
        leaf = OcrElement(ocr_class=OcrClass.WORD, bbox=bbox, text=text, confidence=word.confidence)
        lines.append(OcrElement(ocr_class=OcrClass.LINE, bbox=bbox, children=[leaf], language=LANGUAGE))
    return OcrElement(
        ocr_class=OcrClass.PAGE,
        bbox=BoundingBox(left=0, top=0, right=page.width, bottom=page.height),
        dpi=float(page.dpi),
        page_number=page_number,
        language=LANGUAGE,
        children=lines,
    )


class PrecomputedOcrEngine(OcrEngine):
    """Returns the stored OcrPage of each page instead of recognising the image."""

    @staticmethod
    def version() -> str:
        return "1"

    @staticmethod
    def creator_tag(options: Any) -> str:
        return "Dangan (text layer from the pipeline's own OCR)"

    def __str__(self) -> str:
        return "Dangan precomputed OCR"

    @staticmethod
    def languages(options: Any) -> set[str]:
        return {LANGUAGE, "eng"}

    @staticmethod
    def get_orientation(input_file: Path, options: Any) -> OrientationConfidence:
        # Pages arrive upright from preprocess; zero confidence means "do not rotate".
        return OrientationConfidence(angle=0, confidence=0.0)

    @staticmethod
    def get_deskew(input_file: Path, options: Any) -> float:
        return 0.0

    @staticmethod
    def supports_generate_ocr() -> bool:
        return True

    @staticmethod
    def generate_ocr(input_file: Path, options: Any, page_number: int = 0) -> tuple[OcrElement, str]:
        page = _load_page(options, page_number)
        return ocr_tree(page, page_number), page.text

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options: Any) -> None:
        raise RuntimeError("the dangan engine serves only the fpdf2 renderer; set pdf_renderer='fpdf2'")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        raise RuntimeError("the dangan engine serves only the fpdf2 renderer; set pdf_renderer='fpdf2'")


@hookimpl
def get_ocr_engine(options: Any) -> OcrEngine | None:
    # Only when asked for by name, so this module cannot displace another job's engine.
    if options is None or getattr(options, "ocr_engine", None) != ENGINE_NAME:
        return None
    return PrecomputedOcrEngine()
