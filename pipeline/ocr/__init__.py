"""OCR engines behind one interface; build them with `create_engine` / `get_engine`."""

from pipeline.ocr.base import OcrEngine, OcrOptions
from pipeline.ocr.factory import ENTRY_POINT_GROUP, clear_engine_cache, create_engine, get_engine, known_kinds
from pipeline.ocr.null_engine import NullOcrEngine, NullOcrOptions
from pipeline.ocr.rapidocr_engine import RapidOcrOptions
from pipeline.ocr.tesseract_engine import TesseractOcrEngine, TesseractOcrOptions, osd_rotation

__all__ = [
    "ENTRY_POINT_GROUP",
    "NullOcrEngine",
    "NullOcrOptions",
    "OcrEngine",
    "OcrOptions",
    "RapidOcrOptions",
    "TesseractOcrEngine",
    "TesseractOcrOptions",
    "clear_engine_cache",
    "create_engine",
    "get_engine",
    "known_kinds",
    "osd_rotation",
]
