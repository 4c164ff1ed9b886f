import pytest

from pipeline.assemble import title_classifier
from schemas.models import OcrPage, Word
from schemas.registry import get_registry


def page_with(*lines: str) -> OcrPage:
    words = [
        Word(text=t, box=(300, 150 + 90 * i, 300 + 60 * len(t), 210 + 90 * i), confidence=0.97)
        for i, t in enumerate(lines)
    ]
    words.append(Word(text="姓名", box=(200, 1500, 320, 1560), confidence=0.99))
    return OcrPage(engine="test", engine_version="0", width=2480, height=3508, words=words)


def form_id_of(title: str) -> str:
    return next(f.form_id for f in get_registry().forms if f.title == title)


@pytest.mark.parametrize(
    ("printed", "title"),
    [
        ("个人注册登记表", "个人注册登记表"),
        ("北京市个人注册登记表", "个人注册登记表"),
        ("个人注册登记单", "个人注册登记表"),
        ("个人注删登记表", "个人注册登记表"),  # one character misread
        ("养老保险待遇审核表", "养老保险待遇审核表"),
        ("工伤定期待遇审核单", "工伤定期待遇审核单"),
    ],
)
def test_titles_survive_prefixes_variants_and_ocr_errors(printed: str, title: str) -> None:
    result = title_classifier().classify(page_with("编号：", printed))
    assert result.label == form_id_of(title)
    assert result.confidence >= 0.75


def test_unknown_form_gets_no_label() -> None:
    result = title_classifier().classify(page_with("房屋租赁合同"))
    assert result.label is None and result.confidence == 0.0


def test_a_title_contained_in_a_longer_one_is_no_rival() -> None:
    registry = get_registry()
    longer = [
        (f.title, o.title)
        for f in registry.main_forms()
        for o in registry.main_forms()
        if o.title != f.title and o.title in f.title
    ]
    assert longer, "the registry has nested titles (参保登记表 in 个人参保登记表)"
    long_title, _short_title = longer[0]
    result = title_classifier().classify(page_with(long_title))
    assert result.label == form_id_of(long_title)
    assert result.confidence >= 0.75
