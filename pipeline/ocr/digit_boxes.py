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


def _ink(grey: np.ndarray) -> np.ndarray:
    # Otsu on the page: box outlines are often printed in a light grey that a fixed threshold misses.
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return binary


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


def _runs(walls: list[_Wall]) -> list[Comb]:
    """Evenly spaced walls of one height and baseline, left to right."""
    combs: list[Comb] = []
    used: set[int] = set()
    order = sorted(range(len(walls)), key=lambda i: (walls[i].top, walls[i].x))
    for start in order:
        if start in used:
            continue
        seed = walls[start]
        tol = max(4, seed.height // 8)
        row = sorted(
            (
                i
                for i in order
                if i not in used and abs(walls[i].top - seed.top) <= tol and abs(walls[i].bottom - seed.bottom) <= tol
            ),
            key=lambda i: walls[i].x,
        )
        run: list[int] = []
        for i in row:
            if run:
                gap = walls[i].x - walls[run[-1]].x
                first_gap = walls[run[1]].x - walls[run[0]].x if len(run) > 1 else gap
                slack = max(4.0, 0.2 * first_gap)
                # one wall lost under a heavy stroke leaves a double-width box in the run
                even = abs(gap - first_gap) <= slack or (len(run) > 1 and abs(gap - 2 * first_gap) <= slack)
                plausible = 0.35 * seed.height <= gap <= 1.6 * seed.height or (len(run) > 1 and even)
                if not (plausible and even):
                    if len(run) >= _MIN_WALLS:
                        break
                    run = []
                    if not plausible:
                        # `i` may still open a run of its own with the next wall
                        run = [i]
                        continue
            run.append(i)
        if len(run) >= _MIN_WALLS:
            used.update(run)
            top = min(walls[i].top for i in run)
            bottom = max(walls[i].bottom for i in run)
            combs.append(Comb(tuple((walls[i].x0, walls[i].x1) for i in run), top, bottom))
    return combs


def find_combs(grey: np.ndarray, dpi: int = 300) -> list[Comb]:
    """Rows of character boxes on a grey page."""
    return _runs(_walls(_ink(grey), dpi))


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
    combs = _runs(_walls(binary, dpi))
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
