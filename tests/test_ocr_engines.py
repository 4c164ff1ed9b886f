"""OCR engines and their factory: real RapidOCR and Tesseract on rendered text, the null engine, the
entry-point plugin path with the fault-injection engine from tests/plugins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest
from pagegen import NOTO_SANS, render_line

from pipeline.errors import ConfigError, OcrError
from pipeline.ocr import (
    NullOcrEngine,
    NullOcrOptions,
    OcrOptions,
    TesseractOcrOptions,
    clear_engine_cache,
    create_engine,
    get_engine,
    known_kinds,
    osd_rotation,
)
from pipeline.ocr.base import to_grey
from pipeline.ocr.tesseract_engine import remove_table_lines
from pipeline.settings import OcrSettings

TESTS = Path(__file__).resolve().parent


class UnknownOcrOptions(OcrOptions):
    kind: ClassVar[Literal["no-such-engine"]] = "no-such-engine"


@pytest.fixture(autouse=True)
def _fresh_engine_cache() -> Iterator[None]:
    clear_engine_cache()
    yield
    clear_engine_cache()


@pytest.fixture
def faulty_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Registers tests/plugins/faulty_engine.py under `dangan.ocr_engines` the way an installed
    distribution would: a dist-info folder with entry_points.txt on sys.path."""
    dist = tmp_path / "dangan_test_plugins-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dangan-test-plugins\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[dangan.ocr_engines]\nfaulty = plugins.faulty_engine:FaultyOcrEngine\n")
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_null_engine_returns_an_empty_page_of_the_image_size() -> None:
    page = NullOcrEngine().recognize(np.full((120, 80, 3), 255, np.uint8))
    assert (page.engine, page.width, page.height, page.words) == ("null", 80, 120, [])


def test_engines_reject_non_images() -> None:
    with pytest.raises(OcrError):
        NullOcrEngine().recognize(np.zeros((10, 10), np.float32))


def test_factory_builds_builtin_kinds_from_settings_and_options() -> None:
    assert isinstance(create_engine(OcrSettings(engine="null")), NullOcrEngine)
    assert isinstance(create_engine(NullOcrOptions()), NullOcrEngine)
    assert known_kinds() == ["null", "rapidocr", "tesseract"]


def test_factory_rejects_an_unknown_kind_and_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        create_engine(UnknownOcrOptions())
    assert "no-such-engine" in err.value.message
    for kind in ("null", "rapidocr", "tesseract"):
        assert kind in err.value.message


def test_get_engine_builds_one_engine_per_options() -> None:
    first = get_engine(NullOcrOptions())
    assert get_engine(NullOcrOptions()) is first
    assert get_engine(NullOcrOptions(red_channel_grey=False)) is not first


def test_external_engines_are_off_by_default(faulty_plugin: None) -> None:
    from plugins.faulty_engine import FaultyOcrOptions

    assert "faulty" not in known_kinds()
    with pytest.raises(ConfigError, match="external engines are off"):
        create_engine(FaultyOcrOptions())


def test_fault_injection_engine_works_through_the_factory(faulty_plugin: None) -> None:
    from plugins.faulty_engine import FaultyOcrOptions

    assert "faulty" in known_kinds(allow_external=True)
    engine = create_engine(FaultyOcrOptions(fail_every=2), allow_external=True)
    page = np.full((50, 50), 255, np.uint8)
    assert engine.recognize(page).words == []
    with pytest.raises(OcrError) as err:
        engine.recognize(page)
    assert err.value.retryable


def test_red_channel_grey_drops_red_ink() -> None:
    img = np.full((10, 10, 3), 255, np.uint8)
    img[:, :5] = (30, 30, 220)  # red seal ink, BGR
    img[:, 5:] = (0, 0, 0)
    grey = to_grey(img, red_channel=True)
    assert grey[0, 0] > 200 and grey[0, 9] == 0


def test_table_line_removal_keeps_text() -> None:
    line = np.ascontiguousarray(render_line("公民身份号码", 40)[:, :, 2])
    ruled = np.full((line.shape[0] + 40, line.shape[1] + 40), 255, np.uint8)
    ruled[20 : 20 + line.shape[0], 20 : 20 + line.shape[1]] = line
    ruled[5:8, :] = 0
    ruled[:, 5:8] = 0
    cleaned = remove_table_lines(ruled)
    assert cleaned[5:8, 100:].min() == 255 and cleaned[100:, 5:8].min() == 255
    assert (cleaned[20:-20, 20:-20] < 128).sum() > 0.9 * (line < 128).sum()


@pytest.mark.ocr
def test_rapidocr_reads_a_title_and_an_id_number_with_boxes_inside_the_image() -> None:
    title = render_line("个人注册登记表", 48, NOTO_SANS)
    number = render_line("110105198503120018", 40, NOTO_SANS)
    page = np.full((400, 900, 3), 255, np.uint8)
    page[40 : 40 + title.shape[0], 60 : 60 + title.shape[1]] = title
    page[220 : 220 + number.shape[0], 60 : 60 + number.shape[1]] = number
    before = page.copy()
    result = get_engine(OcrSettings(engine="rapidocr")).recognize(page)
    texts = [w.text for w in result.words]
    assert "个人注册登记表" in texts
    assert "110105198503120018" in texts
    assert np.array_equal(page, before)
    for word in result.words:
        x0, y0, x1, y1 = word.box
        assert 0 <= x0 < x1 <= 900 and 0 <= y0 < y1 <= 400
        assert 0.5 <= word.confidence <= 1.0
    number_box = next(w.box for w in result.words if w.text == "110105198503120018")
    assert number_box[1] >= 200  # the second line is found where it was drawn
    assert re.match(r"rapidocr-onnxruntime \d", result.engine_version)


@pytest.mark.ocr
def test_tesseract_reads_a_rendered_line() -> None:
    line = render_line("社会保险登记表 2019年7月1日", 48, NOTO_SANS)
    result = create_engine(TesseractOcrOptions()).recognize(line)
    text = "".join(w.text for w in result.words)
    assert "2019" in text and "保险" in text
    assert all(0.0 <= w.confidence <= 1.0 for w in result.words)
    assert result.engine == "tesseract" and "chi_sim" in result.engine_version


@pytest.mark.ocr
def test_osd_cannot_tell_a_blank_page() -> None:
    assert osd_rotation(np.full((800, 600), 255, np.uint8)) is None


@pytest.mark.ocr
def test_rapidocr_sessions_run_on_one_thread() -> None:
    engine = create_engine(OcrSettings(engine="rapidocr"))
    ocr = engine._ocr  # type: ignore[attr-defined]
    sessions = [ocr.text_det.infer.session, ocr.text_cls.infer.session, ocr.text_rec.session.session]
    for session in sessions:
        opts = session.get_session_options()
        assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (1, 1)
