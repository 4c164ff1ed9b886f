"""The CJK fonts synthetic forms are printed and "hand-written" with (Debian font packages)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from pipeline.errors import MissingDependencyError

_NOTO = Path("/usr/share/fonts/opentype/noto")
_ARPHIC = Path("/usr/share/fonts/truetype/arphic")
_WQY = Path("/usr/share/fonts/truetype/wqy")

# (file, face index); index 2 of the Noto collections is the Simplified Chinese face.
PRINT_FONTS: list[tuple[Path, int]] = [
    (_NOTO / "NotoSansCJK-Regular.ttc", 2),
    (_NOTO / "NotoSerifCJK-Regular.ttc", 2),
    (_ARPHIC / "uming.ttc", 0),
    (_WQY / "wqy-zenhei.ttc", 0),
]
TITLE_FONTS: list[tuple[Path, int]] = [
    (_NOTO / "NotoSansCJK-Bold.ttc", 2),
    (_NOTO / "NotoSerifCJK-Bold.ttc", 2),
    (_WQY / "wqy-zenhei.ttc", 0),
]
HAND_FONT: tuple[Path, int] = (_ARPHIC / "ukai.ttc", 0)
SANS_FONT: tuple[Path, int] = PRINT_FONTS[0]

FontRef = tuple[Path, int]


@lru_cache(maxsize=512)
def font(ref: FontRef, size_px: int) -> ImageFont.FreeTypeFont:
    path, index = ref
    if not path.exists():
        raise MissingDependencyError(
            f"font {path} is missing: install fonts-noto-cjk, fonts-arphic-ukai, fonts-arphic-uming "
            "and fonts-wqy-zenhei"
        )
    return ImageFont.truetype(str(path), max(size_px, 4), index=index)


def pt_to_px(points: float, dpi: int) -> int:
    return round(points * dpi / 72)


def fit_size(ref: FontRef, text: str, size_px: int, max_width: float, min_px: int = 6) -> int:
    """The largest size ≤ size_px at which `text` fits in `max_width` pixels."""
    size = size_px
    while size > min_px and font(ref, size).getlength(text) > max_width:
        size = max(min_px, int(size * 0.92))
    return size
