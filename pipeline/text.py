"""Text normalisation at the bottom of the stack: the classifiers, the extractors and the calibration
features compare printed words the same way, and none of them owns it."""

from __future__ import annotations

import re
import unicodedata

# Spaces, punctuation and table debris that OCR scatters between characters of a title or label.
_NOISE = re.compile(r"[\s\u3000:：;；,，.。、_\-—|()（）\[\]【】<>《》\"'“”‘’*/\\]+")


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), upper-case, no spaces or punctuation."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).upper()
