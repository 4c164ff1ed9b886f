"""Erase the printed boxes of "one character per box" fields (ID numbers in 18 boxes) before recognition.

The text detector treats each box wall as a line break, so a boxed ID comes back as 18 one-digit
fragments of which some are dropped or misread (1 → √). With the walls and the comb's top and bottom
edges painted over, the digits read as one ordinary handwritten line.

A comb is recognised by its geometry alone: a row of at least `_MIN_WALLS` short vertical strokes with
the same top and bottom, evenly spaced at roughly the box height. Table rules, cell walls and the
strokes of characters never form such a row, so nothing else on the page is touched.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

_MIN_WALLS = 7
"""A comb shorter than this is more likely a small table than a boxed field."""
_WALL_MIN_PX = 0.10
"""Shortest wall, as a share of an inch (30 px at 300 DPI): longer than the gaps in a digit's stroke."""
_WALL_MAX_PX = 0.55
"""Tallest wall, as a share of an inch (165 px at 300 DPI): boxes are at most about a centimetre tall."""


@dataclass(frozen=True)
class Comb:
    """One row of character boxes: wall x positions and the shared top and bottom (pixels)."""

    walls: tuple[tuple[int, int], ...]
    """(left, right) pixel columns of each wall."""
    top: int
    bottom: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.walls[0][0], self.top, self.walls[-1][1], self.bottom


@dataclass(frozen=True)
class _Wall:
    x0: int
    x1: int
    top: int
    bottom: int

    @property
    def x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def height(self) -> int:
        return self.bottom - self.top


_PAPER_MARGIN = 60
"""Grey levels below the paper's tone that still count as ink: box outlines are often printed in a light
grey (~160 on paper at ~240) that Otsu, pulled down by the dark handwriting, leaves out."""
_EDGE_COVER = 0.8
"""Share of a comb's width its top and bottom edges must be inked over: a row of vertical strokes in
handwriting or print (川, 111) has no ruled edges."""


def _ink(grey: np.ndarray) -> np.ndarray:
    otsu, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    paper = float(np.percentile(grey[::4, ::4], 75))  # most of a form page is paper
    # Otsu on a page of bare paper splits the paper's own grain in two; ink is always well below paper.
    level = min(max(otsu, paper - _PAPER_MARGIN), paper - _PAPER_MARGIN / 2)
    _, binary = cv2.threshold(grey, level, 255, cv2.THRESH_BINARY_INV)
    return binary


def _ruled(binary: np.ndarray, row: int, x0: int, x1: int, pad: int) -> bool:
    """Is there a ruled line near `row` from x0 to x1? Three neighbouring rows (a line slightly off level)
    inked almost all along; speckle or a line of text fills the band here and there, never a row of it."""
    band = binary[max(row - pad, 0) : row + pad + 1, max(x0, 0) : x1 + 1] > 0
    if band.shape[0] < 3 or band.shape[1] == 0:
        return False
    rows = band[:-2] | band[1:-1] | band[2:]
    return bool(rows.mean(axis=1).max() >= _EDGE_COVER)


def _walls(binary: np.ndarray, dpi: int) -> list[_Wall]:
    min_h = max(int(dpi * _WALL_MIN_PX), 8)
    max_h = int(dpi * _WALL_MAX_PX)
    # Erosion keeps only vertical runs of at least min_h; contours of that sparse mask are ~7x cheaper
    # than labelling the opened mask, and a run of height h survives as h - min_h + 1 rows.
    above = min_h // 2
    eroded = cv2.erode(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (1, min_h)))
    contours, _ = cv2.findContours(eroded, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    walls: list[_Wall] = []
    page_h = binary.shape[0]
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        height = h + min_h - 1
        if height <= max_h and w <= max(6, dpi // 40):
            # a stroke touching the page edge would otherwise give a wall above or below the page
            top = max(y - above, 0)
            walls.append(_Wall(x, x + w, top, min(y - above + height, page_h)))
    return _merge_pieces(walls)


def _merge_pieces(walls: list[_Wall]) -> list[_Wall]:
    """One wall from the pieces a crossing pen stroke split it into (same column, touching spans)."""
    merged: list[_Wall] = []
    for wall in sorted(walls, key=lambda w: (w.x0, w.top)):
        for k, other in enumerate(merged):
            if abs(other.x0 - wall.x0) <= 3 and wall.top <= other.bottom + 4 and other.top <= wall.bottom + 4:
                merged[k] = _Wall(
                    min(other.x0, wall.x0),
                    max(other.x1, wall.x1),
                    min(other.top, wall.top),
                    max(other.bottom, wall.bottom),
                )
                break
        else:
            merged.append(wall)
    return merged


_MIN_PITCH = 0.5
"""Narrowest box, as a share of its height: boxes for handwriting are near square; a run of digits or
strokes in a line of text (1011019, even mirrored through the paper) is far denser."""
_ROW_OVERLAP = 0.35
"""Walls of one comb share their height; a wall faded in part still shares much of it."""
_STRONG = 0.85
"""Walls at least this share of the tallest in their row are whole walls: they set the comb's pitch."""


def _same_row(wall: _Wall, seed: _Wall) -> bool:
    overlap = min(wall.bottom, seed.bottom) - max(wall.top, seed.top)
    return overlap >= _ROW_OVERLAP * max(wall.height, seed.height)


def _pitch(strong: list[_Wall], height: int) -> float | None:
    """The box width: the median gap between neighbouring whole walls that is a plausible box width."""
    gaps = sorted(b.x - a.x for a, b in itertools.pairwise(strong) if _MIN_PITCH * height <= b.x - a.x <= 1.6 * height)
    return float(gaps[len(gaps) // 2]) if gaps else None


def _chain(row: list[_Wall], start: _Wall, pitch: float, boxed: Callable[[float, float], bool]) -> list[_Wall]:
    """Walls one pitch apart from `start` both ways. A wall lost to fading or under a heavy stroke is put
    back where it must be (one at a time); a letter's stroke inside a box is off the pitch and skipped.
    `boxed(xa, xb)` tells whether ruled edges close the box between two wall positions: the comb ends where
    its boxes do, however well a label's strokes beside it happen to fall on the pitch."""
    slack = max(4.0, 0.2 * pitch)
    chain = [start]
    for direction in (1, -1):
        x, width, lost = start.x, start.x1 - start.x0, False
        while True:
            near = [w for w in row if abs(w.x - (x + direction * pitch)) <= slack and boxed(x, w.x)]
            if near:
                wall = max(near, key=lambda w: w.height)
                chain.append(wall)
                x, lost = wall.x, False
                continue
            farther = [w for w in row if abs(w.x - (x + 2 * direction * pitch)) <= slack and boxed(x, w.x)]
            if lost or not farther:
                break
            gap_x = round(x + direction * pitch - width / 2)
            chain.append(_Wall(gap_x, gap_x + width, start.top, start.bottom))
            x, lost = x + direction * pitch, True
    return sorted(chain, key=lambda w: w.x)


def _runs(walls: list[_Wall], binary: np.ndarray, dpi: int) -> list[Comb]:
    """Rows of evenly spaced walls of one height joined by ruled top and bottom edges, top to bottom."""
    pad = max(3, dpi // 60)
    combs: list[Comb] = []
    used: set[int] = set()
    for start in sorted(range(len(walls)), key=lambda i: -walls[i].height):
        if start in used:
            continue
        seed = walls[start]
        row_ids = [i for i in range(len(walls)) if i not in used and _same_row(walls[i], seed)]
        row = sorted((walls[i] for i in row_ids), key=lambda w: w.x)
        strong = [w for w in row if w.height >= _STRONG * seed.height]
        pitch = _pitch(strong, seed.height)
        if pitch is None:
            continue
        if seed.top <= pad or seed.bottom >= binary.shape[0] - 1 - pad:
            continue  # the dark band of a scanner lid's shadow along the page edge, not a row of boxes

        def boxed(xa: float, xb: float, seed: _Wall = seed) -> bool:
            lo, hi = round(min(xa, xb)), round(max(xa, xb))
            return _ruled(binary, seed.top, lo, hi, pad) and _ruled(binary, seed.bottom, lo, hi, pad)

        chain = _chain(row, seed, pitch, boxed)
        whole = [w for w in chain if w.height >= _STRONG * seed.height]
        if len(chain) < _MIN_WALLS or len(whole) < 3:
            continue
        in_chain = {id(w) for w in chain}
        used.update(i for i in row_ids if id(walls[i]) in in_chain)
        # the comb spans its whole walls; faded ones and those put back do not stretch it
        combs.append(Comb(tuple((w.x0, w.x1) for w in chain), min(w.top for w in whole), max(w.bottom for w in whole)))
    return sorted(combs, key=lambda c: (c.top, c.walls[0][0]))


def _combs(binary: np.ndarray, dpi: int) -> list[Comb]:
    return _runs(_walls(binary, dpi), binary, dpi)


def find_combs(grey: np.ndarray, dpi: int = 300) -> list[Comb]:
    """Rows of character boxes on a grey page."""
    return _combs(_ink(grey), dpi)


def _compact(out: np.ndarray, binary: np.ndarray, comb: Comb, paper: np.uint8) -> None:
    """Move each box's character next to the previous one, then blank the rest of the comb.

    The recogniser reads widely spaced characters badly (spaces, dropped digits); at an ordinary
    handwriting pitch the 18 digits become one plain line.
    """
    inset = max(2, (comb.bottom - comb.top) // 12)
    rows = slice(comb.top + inset, comb.bottom - inset)
    pieces: list[np.ndarray] = []
    for (_, left), (right, _) in itertools.pairwise(comb.walls):
        cols = slice(left + inset, right - inset)
        if cols.stop <= cols.start:
            continue
        ink_cols = np.flatnonzero(binary[rows, cols].any(axis=0))
        if ink_cols.size:
            pieces.append(out[rows, cols][:, ink_cols[0] : ink_cols[-1] + 1].copy())
    height = rows.stop - rows.start
    gap = max(2, height // 8)
    band = out[rows, comb.walls[0][0] : comb.walls[-1][1] + 1]
    band[:] = paper
    x = gap
    for piece in pieces:
        width = piece.shape[1]
        if x + width > band.shape[1]:
            break
        band[:, x : x + width] = piece
        x += width + gap


def erase_combs(grey: np.ndarray, dpi: int = 300) -> tuple[np.ndarray, list[Comb]]:
    """A copy of `grey` with every comb's box outlines painted in the paper's tone and its characters
    set side by side at the left of the comb.

    Returns the input itself (no copy) when the page has no comb, which is most pages.
    """
    binary = _ink(grey)
    combs = _combs(binary, dpi)
    if not combs:
        return grey, []
    out = grey.copy()
    pad = max(3, dpi // 60)
    horizontal = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(dpi // 6, 20), 1))
    )
    for comb in combs:
        x0, top, x1, bottom = comb.box
        region = (slice(max(top - pad, 0), bottom + pad + 1), slice(max(x0 - pad, 0), x1 + pad + 1))
        paper = np.uint8(np.percentile(grey[region], 90))
        mask = np.zeros(grey.shape, dtype=bool)
        for left, right in comb.walls:
            mask[max(top - pad, 0) : bottom + pad + 1, max(left - 1, 0) : right + 2] = True
        for edge in (top, bottom):
            band = (slice(max(edge - pad, 0), edge + pad + 1), slice(max(x0 - pad, 0), x1 + pad + 1))
            mask[band] |= cv2.dilate(horizontal[band], np.ones((3, 3), np.uint8)) > 0
        out[mask] = paper
        _compact(out, binary, comb, paper)
    log.debug("erased %d digit-box comb(s)", len(combs))
    return out, combs
