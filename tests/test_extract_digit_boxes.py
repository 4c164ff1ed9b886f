"""Boxed IDs (one digit per printed box): the comb is found, erased and its digits set side by side."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.ocr.digit_boxes import erase_combs, find_combs
from tests.pagegen import NOTO_SANS, NOTO_SERIF, font

ID = "11010519491231002X"
BOX_W, BOX_H = 74, 92  # 6.3 x 7.8 mm at 300 DPI, as on the forms


def _boxed_page(with_comb: bool = True) -> np.ndarray:
    """Label cell + 18 boxes with a digit in each, inside a ruled table row; a title above it."""
    img = Image.new("L", (1900, 420), 246)
    draw = ImageDraw.Draw(img)
    draw.text((600, 20), "个人注册登记表", font=font(NOTO_SERIF, 80), fill=20)
    draw.rectangle((20, 180, 1880, 330), outline=30, width=4)
    draw.line((300, 180, 300, 330), fill=30, width=4)
    draw.text((40, 225), "公民身份号码", font=font(NOTO_SANS, 40), fill=25)
    top = 210
    for i, ch in enumerate(ID):
        x = 320 + i * BOX_W
        if with_comb:
            draw.rectangle((x, top, x + BOX_W, top + BOX_H), outline=110, width=2)
        draw.text((x + 18, top + 10), ch, font=font(NOTO_SERIF, 62), fill=40)
    return np.asarray(img)


def test_comb_is_found_with_a_wall_per_box() -> None:
    combs = find_combs(_boxed_page())
    assert len(combs) == 1
    assert len(combs[0].walls) == len(ID) + 1
    x0, top, x1, bottom = combs[0].box
    assert abs(bottom - (210 + BOX_H)) <= 3
    assert abs(x0 - 320) <= 3 and abs(x1 - (320 + 18 * BOX_W)) <= 3 and abs(top - 210) <= 3


def test_erased_comb_has_no_walls_left_and_keeps_every_digit() -> None:
    page = _boxed_page()
    out, combs = erase_combs(page)
    assert combs and out is not page
    assert find_combs(out) == []
    ink_before = int((page[200:320, 320:1660] < 90).sum())
    ink_after = int((out[200:320, 320:1660] < 90).sum())
    # walls were light grey (not counted as dark ink); digits survive moving almost whole
    assert ink_after >= 0.9 * ink_before
    # set side by side: the digits now end well before the comb's right end
    cols = np.flatnonzero((out[220:300, 320:1660] < 90).any(axis=0))
    assert cols[-1] < 0.75 * (1660 - 320)
    # the title and the table rules are untouched
    assert np.array_equal(out[:170], page[:170])
    assert np.array_equal(out[:, :300], page[:, :300])


def test_page_without_comb_is_returned_as_is() -> None:
    page = _boxed_page(with_comb=False)
    out, combs = erase_combs(page)
    assert combs == [] and out is page


def test_a_small_table_is_not_a_comb() -> None:
    img = Image.new("L", (1200, 400), 250)
    draw = ImageDraw.Draw(img)
    for i in range(5):  # five evenly spaced cells: too few walls for a boxed field
        draw.rectangle((50 + i * 200, 100, 250 + i * 200, 190), outline=20, width=3)
    assert find_combs(np.asarray(img)) == []


@pytest.mark.ocr
def test_rapidocr_reads_a_boxed_id_as_one_line() -> None:
    from pipeline.extract.validators import parse_id_number
    from pipeline.ocr.rapidocr_engine import RapidOcrEngine, RapidOcrOptions

    page = _boxed_page()
    words = RapidOcrEngine(RapidOcrOptions()).recognize(page).words
    assert any(parse_id_number(w.text)[0] == ID for w in words), [w.text for w in words]


def test_a_wall_split_by_a_pen_stroke_still_closes_the_comb() -> None:
    page = _boxed_page().copy()
    x = 320 + 15 * BOX_W
    # one wall cut twice, as crossing strokes leave it after thresholding: too little of it may be left to
    # count as a wall, so the run has to bridge a double-width box
    page[240:250, x - 12 : x + 12] = 255
    page[270:300, x - 1 : x + 3] = 255
    combs = find_combs(page)
    assert len(combs) == 1
    assert combs[0].box[2] >= 320 + 18 * BOX_W - 3


@pytest.mark.parametrize("edge", ["top", "bottom"])
def test_comb_cut_by_the_page_edge_is_erased_without_error(edge: str) -> None:
    """A scan cropped through a row of boxes: the walls reach the page edge (this once crashed OpenCV)."""
    page = _boxed_page()
    cut = page[240:, :] if edge == "top" else page[:250, :]
    out, combs = erase_combs(np.ascontiguousarray(cut))
    assert out.shape == cut.shape
    for comb in combs:
        assert 0 <= comb.top < comb.bottom <= cut.shape[0]


def _faint_comb_page(lost_wall: int | None, broken: tuple[int, ...]) -> np.ndarray:
    """Walls printed light grey (as ~160 on paper at ~240) next to dark handwriting; some walls faded in
    part, one gone."""
    img = Image.new("L", (1900, 420), 240)
    draw = ImageDraw.Draw(img)
    draw.text((40, 225), "公民身份号码", font=font(NOTO_SANS, 40), fill=25)
    top = 210
    draw.line((320, top, 320 + 18 * BOX_W, top), fill=160, width=2)
    draw.line((320, top + BOX_H, 320 + 18 * BOX_W, top + BOX_H), fill=160, width=2)
    for i in range(19):
        x = 320 + i * BOX_W
        if i == lost_wall:
            continue
        if i in broken:  # the lower half faded away
            draw.line((x, top, x, top + BOX_H // 2), fill=160, width=2)
        else:
            draw.line((x, top, x, top + BOX_H), fill=160, width=2)
    for i, ch in enumerate(ID):
        draw.text((320 + i * BOX_W + 18, top + 10), ch, font=font(NOTO_SERIF, 62), fill=30)
    return np.asarray(img)


def test_faint_comb_with_faded_and_lost_walls_is_found_whole() -> None:
    combs = find_combs(_faint_comb_page(lost_wall=6, broken=(3, 11)))
    assert len(combs) == 1
    walls = combs[0].walls
    assert len(walls) == len(ID) + 1  # the lost wall is put back where it must be
    assert abs(walls[6][0] - (320 + 6 * BOX_W)) <= 4
    _, top, _, bottom = combs[0].box
    assert abs(top - 210) <= 3 and abs(bottom - (210 + BOX_H)) <= 3


def test_a_line_of_digits_without_ruled_edges_is_not_a_comb() -> None:
    img = Image.new("L", (1900, 300), 240)
    draw = ImageDraw.Draw(img)
    # strokes of even pitch and height, as 1111111 written large, but no box edges above and below
    for i in range(12):
        x = 300 + i * 70
        draw.line((x, 100, x, 190), fill=30, width=4)
    assert find_combs(np.asarray(img)) == []
