"""HTML sheets to page images: Chromium prints them to PDF, pdfium rasterises the pages.

Chromium costs seconds to start, so a whole batch's sheets go through one print (one HTML document,
one sheet per page) and the pages are rasterised from that PDF afterwards. Debian's `chromium` only:
never a browser download.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from pipeline.errors import DanganError, MissingDependencyError

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
_PRINT_TIMEOUT_S = 900
_PT_PER_MM = 72 / 25.4


class RenderError(DanganError):
    """Chromium did not print the sheets (or printed a different number of pages)."""


@dataclass(frozen=True)
class CharBox:
    char: str
    box: tuple[float, float, float, float]  # left, top, right, bottom in mm from the page's top left


def chromium_path() -> str:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise MissingDependencyError(
        "chromium is not installed; the html synthetic family prints its sheets with it: "
        "apt-get install chromium (it is in the Makefile's APT_PACKAGES)"
    )


def print_pdf(html: str, out_pdf: Path, expected_pages: int) -> None:
    """Print one HTML document to `out_pdf` with headless Chromium; check the page count."""
    with tempfile.TemporaryDirectory(prefix="dangan-chromium-") as tmp:
        src = Path(tmp) / "sheets.html"
        src.write_text(html, encoding="utf-8")
        cmd = [
            chromium_path(),
            "--headless",
            "--no-sandbox",
            # renderers as the browser's own children, so the run's CPU time is counted where it is waited for
            "--no-zygote",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
            # its own profile: parallel prints (tests, workers) must not share one
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out_pdf}",
            src.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as e:
            raise RenderError(f"chromium did not print {expected_pages} sheets in {_PRINT_TIMEOUT_S} s") from e
    if proc.returncode != 0 or not out_pdf.exists():
        tail = proc.stderr.strip().splitlines()[-3:]
        raise RenderError(f"chromium failed to print {out_pdf.name} (exit {proc.returncode}): {' | '.join(tail)}")
    pages = len(pdfium.PdfDocument(out_pdf))
    if pages != expected_pages:
        raise RenderError(f"chromium printed {pages} pages into {out_pdf.name}, the sheets were {expected_pages}")


def rasterise(pdf: pdfium.PdfDocument, index: int, dpi: int) -> Image.Image:
    """Page `index` (0-based) as an RGB image at `dpi`."""
    page = pdf[index]
    try:
        return page.render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        page.close()


def char_boxes(pdf: pdfium.PdfDocument, index: int) -> list[CharBox]:
    """The text layer of page `index`: every character with its box, for checking where text landed."""
    page = pdf[index]
    height = page.get_height()
    text = page.get_textpage()
    out = []
    for i in range(text.count_chars()):
        ch = text.get_text_range(i, 1)
        if not ch.strip():
            continue
        left, bottom, right, top = text.get_charbox(i)
        out.append(
            CharBox(
                ch,
                (left / _PT_PER_MM, (height - top) / _PT_PER_MM, right / _PT_PER_MM, (height - bottom) / _PT_PER_MM),
            )
        )
    text.close()
    page.close()
    return out
