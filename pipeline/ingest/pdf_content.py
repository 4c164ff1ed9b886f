"""What a PDF carries besides its pages: JavaScript, attached files, launch actions.

The pipeline renders every page to an image, so none of it reaches the archive; a person should still
know the vendor's file carried it (the original is kept as delivered).
"""

from __future__ import annotations

from typing import BinaryIO

import pikepdf


def active_content(fh: BinaryIO) -> str | None:
    """A note naming the active content of a PDF, or None when it has none (or cannot be examined)."""
    scripts = attachments = launches = 0
    try:
        with pikepdf.open(fh) as pdf:
            for obj in pdf.objects:
                if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    continue
                action = obj.get("/S")
                if "/JS" in obj or action == pikepdf.Name.JavaScript:
                    scripts += 1
                if obj.get("/Type") == pikepdf.Name.EmbeddedFile or obj.get("/Subtype") == pikepdf.Name.FileAttachment:
                    attachments += 1
                if action == pikepdf.Name.Launch:
                    launches += 1
    except (pikepdf.PdfError, ValueError, OSError):
        # pdfium already read its pages; a structure qpdf cannot walk is no reason to refuse them.
        return None
    found = [
        f"{n} {what}" for n, what in ((scripts, "JavaScript action(s)"), (attachments, "attached file(s)"),
                                     (launches, "launch action(s)")) if n
    ]  # fmt: skip
    if not found:
        return None
    return (
        f"PDF carries {', '.join(found)}: its pages are rendered as images, so none of it reaches the archive; "
        "the original is kept as delivered"
    )
