"""Extraction by geometry: labels wrapped in narrow cells, labels in running text, table rules in words."""

from __future__ import annotations

import random

import cv2
import numpy as np

from pipeline.extract.fields import extract_fields
from pipeline.extract.layout import in_running_text, label_words
from pipeline.extract.rules import split_at_rules, split_word, vertical_rules
from schemas.models import ExtractedField, OcrPage, Word
from schemas.registry import get_registry
from synth.values import credit_code, make_case

H = 50  # a printed line at 300 DPI


def _w(text: str, x: int, y: int, width: int | None = None) -> Word:
    width = width if width is not None else H * len(text)
    return Word(text=text, box=(x, y, x + width, y + H), confidence=0.99)


def _page(*words: Word) -> OcrPage:
    return OcrPage(engine="test", engine_version="0", width=2480, height=3508, words=list(words))


def _fields(form_id: str, page: OcrPage) -> dict[str, ExtractedField]:
    return {f.key: f for f in extract_fields(get_registry().form(form_id), [(1, page)])}


def test_a_label_wrapped_over_two_lines_of_a_narrow_cell_is_found() -> None:
    code = credit_code(random.Random(3), "653001")
    page = _page(
        _w("统一社会", 200, 600),
        _w("信用代码：", 200, 655),
        _w(code, 520, 628, 700),
        _w("单位名称", 200, 400),
        _w("阿图什市第一中学", 520, 400),
    )
    assert "统一社会信用代码：" in [w.text for w in label_words(page)]
    got = _fields("unit_social_insurance_registration", page)
    assert got["unit_code"].normalized == code


def test_a_label_wrapped_over_three_lines_is_found_and_a_line_ending_in_a_colon_ends_it() -> None:
    page = _page(_w("享受待", 200, 600), _w("遇起始", 200, 655), _w("时间：", 200, 710), _w("伤残级", 200, 780))
    joined = [w.text for w in label_words(page)]
    assert "享受待遇起始时间：" in joined
    assert not any("伤残" in t and "时间" in t for t in joined)  # the next cell's label is not joined on


def test_a_label_quoted_or_opening_a_sentence_or_in_a_note_is_no_label() -> None:
    assert in_running_text("2.“公民身份号码”栏须填写18位居民身份证号码", "公民身份号码")
    assert in_running_text("“公民身份号码”栏须填写18位居民身份证号码", "公民身份号码")
    assert in_running_text("「姓名」须与居民身份证上的姓名一致。", "姓名")
    assert in_running_text("单位名称须与单位公章名称完全一致。", "单位名称")
    assert in_running_text("注：联系电话请填写本人常用手机号码", "联系电话")
    assert not in_running_text("公民身份号码：653001194703120016", "公民身份号码")
    assert not in_running_text("单位名称", "单位名称")


def test_a_footnote_that_quotes_a_label_gives_no_value() -> None:
    person = make_case(random.Random(8)).person
    page = _page(
        _w("姓名", 200, 400),
        _w(person.name, 420, 400),
        _w("说明：", 200, 2000),
        _w("1.本表一式两份。", 200, 2060),
        _w("2.“公民身份号码”栏须填写18位居民身份证号码", 200, 2120, 1400),
        _w(person.id_number, 1650, 2120, 700),
    )
    got = _fields("personal_registration", page)
    assert got["name"].normalized == person.name
    assert "id_number" not in got or got["id_number"].normalized is None


def _grid(width: int, height: int, xs: list[int], ys: list[int]) -> np.ndarray:
    img = np.full((height, width), 245, np.uint8)
    for x in xs:
        cv2.line(img, (x, ys[0]), (x, ys[-1]), 30, 3)
    for y in ys:
        cv2.line(img, (xs[0], y), (xs[-1], y), 30, 3)
    return img


def test_rules_of_a_grid_are_found_and_a_seal_rim_is_not() -> None:
    img = _grid(2480, 1200, [200, 600, 1400, 2200], [300, 400, 500])
    cv2.circle(img, (1800, 900), 230, 60, 5)  # a seal: its rim is locally vertical but no grid
    found = sorted(round(r.x) for r in vertical_rules(img, H))
    assert len(found) == 4 and all(abs(a - b) <= 4 for a, b in zip(found, [200, 600, 1400, 2200], strict=True))


def test_a_word_run_across_a_rule_is_split_there_and_the_glyph_the_rule_became_is_dropped() -> None:
    img = _grid(2480, 1200, [200, 640, 1400], [300, 400, 500])
    rules = vertical_rules(img, H)
    glued = _w("阿依古丽·吐尔逊文化程度本科", 250, 325, 702)  # 13.5 character widths, the rule after 逊
    ruled = _w("丨3101", 195, 425, 3 * H)  # the left rule read as 丨
    real = _w("1310", 215, 425, 2 * H)  # a real first digit beside the rule stays
    page = split_at_rules(_page(glued, ruled, real), rules)
    texts = [w.text for w in page.words]
    assert texts == ["阿依古丽·吐尔逊", "文化程度本科", "3101", "1310"]
    assert split_word(real, [640.0]) == [real]  # a rule beyond the word: nothing to do
