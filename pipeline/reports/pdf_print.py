"""HTML to PDF with the system's headless Chromium (Debian's `chromium`): the same engine that shows the
report on screen prints it, so the PDF looks like the page and sets Chinese in the system's CJK fonts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.errors import ArchiveError, MissingDependencyError

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
_TIMEOUT_S = 120


def chromium_path() -> str:
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise MissingDependencyError("printing a report to PDF needs Chromium: apt-get install chromium")


def print_pdf(html: Path, out: Path) -> Path:
    """Print the HTML file to `out` (A4, no browser header or footer)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dangan-print-") as profile:
        cmd = [
            chromium_path(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            html.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise ArchiveError(f"{out}: Chromium could not print {html} ({proc.stderr.strip()[-300:]})")
    return out
