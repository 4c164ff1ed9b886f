"""Broken inputs of every kind a real batch holds, written on demand."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
from PIL import Image


def good_jpeg(path: Path, size: tuple[int, int] = (620, 877)) -> Path:
    Image.new("RGB", size, "white").save(path, "JPEG", dpi=(75, 75))
    return path


def write_bad_files(folder: Path) -> dict[str, str]:
    """Write the broken files; return {relative name: words the quarantine reason must contain}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>>\nendobj\ngarbage" * 3)
    buf = io.BytesIO()
    Image.new("RGB", (400, 560), "white").save(buf, "PDF", resolution=50)
    with pikepdf.open(io.BytesIO(buf.getvalue())) as pdf:
        pdf.save(folder / "encrypted.pdf", encryption=pikepdf.Encryption(user="secret", owner="owner"))
    (folder / "notes.jpg").write_text("this is a text file, not a scan\n", encoding="utf-8")
    jpeg = io.BytesIO()
    Image.effect_noise((800, 1100), 60).convert("RGB").save(jpeg, "JPEG", quality=90)
    (folder / "truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 3])
    return {
        "empty.pdf": "empty",
        "corrupt.pdf": "PDF",
        "encrypted.pdf": "password",
        "notes.jpg": "not a PDF, JPEG, PNG or TIFF",
        "truncated.jpg": "truncated",
    }
