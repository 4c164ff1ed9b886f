"""Page preprocessing on rendered CJK form pages: DPI, orientation, deskew, blank detection."""

from __future__ import annotations

import sys
from typing import Literal

import numpy as np
import pytest
from pagegen import FONTS, a4_size, render_form, render_line, rotate_quarter, scanner_noise, skew

from pipeline.ocr import NullOcrEngine, TesseractOcrEngine
from pipeline.ocr.upright import classify_lines, upright_turn
from pipeline.preprocess import (
    deskew,
    effective_dpi,
    estimate_skew,
    is_blank,
    normalize_dpi,
    preprocess_page,
    text_is_horizontal,
)
from pipeline.preprocess.orientation import line_crops, upright_vote


@pytest.fixture(scope="module")
def form() -> np.ndarray:
    return render_form(dpi=100, seed=1)


@pytest.mark.parametrize("angle", [-3.0, -1.7, -0.5, 0.5, 1.2, 2.4, 3.0])
def test_skew_is_found_within_a_third_of_a_degree(form: np.ndarray, angle: float) -> None:
    crooked = skew(form, angle)
    found = estimate_skew(crooked)
    assert abs(found - angle) <= 0.3
    assert abs(estimate_skew(deskew(crooked, found))) <= 0.3


def test_deskew_fills_white_and_leaves_the_input_alone(form: np.ndarray) -> None:
    before = form.copy()
    out = deskew(form, 4.0)
    assert np.array_equal(form, before)
    assert out.shape == form.shape and out[0, 0].tolist() == [255, 255, 255]


def test_level_page_reports_no_skew(form: np.ndarray) -> None:
    assert estimate_skew(form) == 0.0


@pytest.mark.parametrize("font_index", range(len(FONTS)))
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_text_line_direction(font_index: int, turn: int) -> None:
    page = skew(render_form(dpi=100, seed=font_index, font_path=FONTS[font_index]), 1.5)
    assert text_is_horizontal(rotate_quarter(page, turn)) is (turn in (0, 180))


@pytest.mark.ocr
@pytest.mark.parametrize("turn", [0, 180])
def test_line_classifier_votes_upright_or_upside_down(turn: int) -> None:
    page = skew(render_form(dpi=150, seed=7, font_path=FONTS[-1]), 1.0)
    vote = upright_vote(rotate_quarter(page, turn), classify_lines)
    assert vote > 0.5 if turn == 0 else vote < -0.5


def test_no_lines_no_vote() -> None:
    w, h = a4_size(100)
    assert line_crops(np.full((h, w, 3), 255, np.uint8)) == []
    assert upright_vote(np.full((h, w, 3), 255, np.uint8), classify_lines) == 0.0


@pytest.mark.ocr
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_orientation_of_rotated_pages(turn: int) -> None:
    page = skew(render_form(dpi=150, seed=turn // 90, font_path=FONTS[turn // 90 % len(FONTS)]), -1.0)
    assert upright_turn(rotate_quarter(page, turn)) == (360 - turn) % 360


def test_blank_and_text_pages() -> None:
    w, h = a4_size(100)
    white = np.full((h, w, 3), 255, np.uint8)
    assert is_blank(white)
    assert is_blank(scanner_noise(white, seed=3, specks=1500))
    assert is_blank(scanner_noise(white, seed=4, show_through=True))
    assert not is_blank(render_form(dpi=100, seed=2))
    one_line = white.copy()
    line = render_line("身份证复印件", 16)
    one_line[300 : 300 + line.shape[0], 200 : 200 + line.shape[1]] = line
    assert not is_blank(one_line)


def test_dpi_of_a_200_dpi_a4_scan_with_a_wrong_tag() -> None:
    w, h = a4_size(200)
    assert effective_dpi(w, h, 72.0) == 200.0
    assert effective_dpi(w, h, 300.0) == 200.0
    assert effective_dpi(w, h, None) == 200.0
    assert effective_dpi(h, w, 96.0) == 200.0  # landscape scan of the same page
    assert effective_dpi(w, h, 204.0) == 204.0  # a plausible tag that agrees with A4 is believed


def test_dpi_of_a_page_that_is_not_a4() -> None:
    assert effective_dpi(1000, 1000, 150.0) == 150.0
    assert effective_dpi(1000, 1000, None) == 300.0


def test_normalize_dpi_resamples_to_300() -> None:
    img = np.full((a4_size(200)[1], a4_size(200)[0]), 255, np.uint8)
    up, source = normalize_dpi(img, 200.0)
    assert up.shape == (round(img.shape[0] * 1.5), round(img.shape[1] * 1.5)) and source == 200.0
    down, source = normalize_dpi(np.full((7016, 4960), 255, np.uint8), 600.0)
    assert down.shape == (3508, 2480) and source is None
    same, source = normalize_dpi(img, 300.0)
    assert same.shape == img.shape and same is not img and source is None


def test_preprocess_blank_page_is_flagged_and_left_unturned() -> None:
    w, h = a4_size(150)
    page = scanner_noise(np.full((h, w), 255, np.uint8), seed=5)
    out, info = preprocess_page(page, 150.0, TesseractOcrEngine())
    assert info.is_blank and info.rotation == 0 and info.upsampled_from_dpi == 150.0
    assert abs(out.shape[0] - 3508) <= 1 and abs(out.shape[1] - 2480) <= 1


@pytest.mark.ocr
def test_preprocess_page_turns_levels_and_upsamples() -> None:
    upright = render_form(dpi=150, seed=4)
    page = rotate_quarter(skew(upright, 2.0), 90)
    before = page.copy()
    out, info = preprocess_page(page, 150.0, TesseractOcrEngine())
    assert np.array_equal(page, before)
    assert info.rotation == 270 and abs(info.skew_degrees - 2.0) <= 0.3
    assert not info.is_blank and info.upsampled_from_dpi == 150.0
    assert abs(out.shape[0] - 3508) <= 1 and abs(out.shape[1] - 2480) <= 1
    assert abs(estimate_skew(out)) <= 0.3


def test_the_null_engine_orients_without_rapidocr_or_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(*_args: object) -> None:
        raise AssertionError("the null engine reached for an orientation model")

    monkeypatch.setattr("pipeline.ocr.upright.classify_lines", no_model)
    monkeypatch.setattr("pipeline.ocr.tesseract_engine.osd_rotation", no_model)
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    page = rotate_quarter(skew(render_form(dpi=100, seed=3), 1.5), 180)
    _out, info = preprocess_page(page, 100.0, NullOcrEngine())
    assert info.rotation == 0 and not info.is_blank  # left as scanned: no model tells up from down
    assert abs(info.skew_degrees) > 0.5  # deskew is geometry and still runs


def test_preprocessing_asks_the_engine_which_way_is_up() -> None:
    class Upside:
        def detect_orientation(self, image: np.ndarray) -> Literal[180]:
            return 180

    page = render_form(dpi=100, seed=5)
    out, info = preprocess_page(page, 100.0, Upside())
    assert info.rotation == 180
    assert np.array_equal(out, rotate_quarter(normalize_dpi(page, 100.0)[0], 180))
