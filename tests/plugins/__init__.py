"""Fault-injection OCR engines, loaded through the `dangan.ocr_engines` entry points in tests."""
