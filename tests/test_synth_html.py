"""The html synthetic family: labels land where the HTML puts them, ID numbers carry real-world area
codes, the ground truth round-trips, and a seed always gives the same files."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import random
from datetime import date
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image
from stdnum.cn import ric

from pipeline.errors import DanganError
from schemas.registry import get_registry
from schemas.registry_models import FieldKind
from synth import GroundTruth
from synth.batch import generate_batch as pillow_batch
from synth.families import FAMILIES, generator
from synth.html import GENERATOR_VERSION, generate_batch
from synth.html.areas import all_areas, known_codes
from synth.html.batch import build_batch
from synth.html.entries import Entry
from synth.html.form_html import form_page
from synth.html.ids import check_digit, issued_id
from synth.html.people import html_case
from synth.html.plan import plan_batch
from synth.html.render import CharBox, char_boxes, print_pdf
from synth.html.sheet import document
from synth.html.style import draw_style
from synth.plan import FormSource, registry_source
from synth.truth import TRUTH_FILE
from synth.values import FieldValue, make_case

# ---------------------------------------------------------------- ID numbers


def _area_years(code: str) -> list[tuple[int | None, int | None]]:
    return [(a.start, a.end) for a in all_areas() if a.code == code]


@pytest.mark.parametrize("birth", [date(1947, 7, 12), date(1952, 2, 29), date(1968, 11, 3)])
def test_newer_area_codes_are_valid_numbers_a_birth_year_check_rejects(birth: date) -> None:
    rng = random.Random(birth.toordinal())
    for sex in ("男", "女") * 10:
        issued = issued_id(rng, birth, sex, "newer")
        n = issued.number
        assert n[-1] == check_digit(n[:17])  # GB 11643 check digit right
        assert date(int(n[6:10]), int(n[10:12]), int(n[12:14])) == birth  # a real birth date
        assert int(n[16]) % 2 == (1 if sex == "男" else 0)
        years = _area_years(n[:6])
        assert years and all(start is not None and start > birth.year for start, _ in years)
        assert not ric.is_valid(n)  # the strict check ties the code to the birth year: wrong for these
        for pos in range(17):  # one digit changed: the check digit no longer agrees
            digit = str((int(n[pos]) + 1 + rng.randrange(9)) % 10)
            changed = n[:pos] + digit + n[pos + 1 :]
            assert changed[-1] != check_digit(changed[:17])


def test_unknown_area_codes_are_in_no_list_but_keep_their_prefecture() -> None:
    rng = random.Random(7)
    prefectures = {a.code[:4] for a in all_areas()}
    for _ in range(30):
        n = issued_id(rng, date(1950, 5, 6), "女", "unknown").number
        assert n[:6] not in known_codes()
        assert n[:4] in prefectures
        assert n[-1] == check_digit(n[:17])


def test_cases_mix_birth_year_newer_and_unknown_codes() -> None:
    rng = random.Random(2024)
    origins = [html_case(rng)[1].origin for _ in range(200)]
    assert origins.count("newer") > 40 and origins.count("unknown") > 0 and origins.count("birth_year") > 60
    for _ in range(50):
        case, issued = html_case(rng)
        assert case.person.id_number == issued.number
        assert case.person.id_number[6:14] == case.person.birth_date.strftime("%Y%m%d")


# ---------------------------------------------------------------- layout, read back from the text layer

_REG = get_registry()
_UNIT_FORM = _REG.form("unit_social_insurance_registration")


def _entries(case_seed: int) -> list[Entry]:
    rng = random.Random(case_seed)
    case = make_case(rng)
    out = []
    for spec in _UNIT_FORM.fields:
        if spec.key == "unit_code":
            out.append(Entry(spec, "统一社会信用代码", FieldValue(case.unit.code, case.unit.code)))
        elif spec.key == "unit_name":
            out.append(Entry(spec, spec.label, FieldValue(case.unit.name, case.unit.name)))
        elif spec.key == "form_date":
            out.append(Entry(spec, "填表日期", FieldValue("2019年5月27日", "2019-05-27")))
        elif spec.kind is FieldKind.TEXT and spec.key == "postcode":
            out.append(Entry(spec, spec.label, FieldValue("845350", "845350")))
    return out


def _style(layout: str, **changes: object) -> object:
    base = draw_style(random.Random(layout))
    hand = dataclasses.replace(base.applicant, typed=True, slant_deg=0.0, jitter=0.0)
    fields = {
        "layout": layout,
        "label_mm": 14.0,
        "label_pt": 11.0,
        "pairs": 2,
        "boxed_id": False,
        "split_date": False,
        "checkboxes": False,
        "applicant": hand,
        "authority": False,
        "form_code": False,
        "serial": False,
    }
    fields.update(changes)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> list[list[CharBox]]:
    """Three sheets (grid with narrow label cells, labels above values, sections), printed in one run."""
    case = make_case(random.Random(3))
    pages = [
        form_page("单位社会保险登记表", _entries(1), _style("grid"), case, random.Random(10)),  # type: ignore[arg-type]
        form_page("单位社会保险登记表", _entries(1), _style("above", pairs=3), case, random.Random(11)),  # type: ignore[arg-type]
        form_page("单位社会保险登记表", _entries(1), _style("sections"), case, random.Random(12)),  # type: ignore[arg-type]
    ]
    out = tmp_path_factory.mktemp("print") / "sheets.pdf"
    print_pdf(document(pages), out, len(pages))
    pdf = pdfium.PdfDocument(out)
    return [char_boxes(pdf, i) for i in range(len(pages))]


def _find(boxes: list[CharBox], text: str) -> list[CharBox]:
    """The boxes of `text`, read in order through the text layer (first occurrence)."""
    chars = "".join(b.char for b in boxes)
    at = chars.find(text)
    assert at >= 0, f"{text!r} not on the page: {chars[:200]!r}"
    return boxes[at : at + len(text)]


def _lines(boxes: list[CharBox]) -> int:
    tops = sorted(b.box[1] for b in boxes)
    return 1 + sum(1 for a, b in itertools.pairwise(tops) if b - a > 2.0)


def test_a_long_label_in_a_narrow_cell_wraps_and_its_value_is_beside_it(printed: list[list[CharBox]]) -> None:
    grid = printed[0]
    label = _find(grid, "统一社会信用代码")
    assert _lines(label) >= 2  # wrapped by the browser, over two or three lines
    value = _find(grid, _entries(1)[1].value.printed)  # type: ignore[union-attr]
    label_right = max(b.box[2] for b in label)
    assert min(b.box[0] for b in value) > label_right  # right of the label …
    label_rows = (min(b.box[1] for b in label), max(b.box[3] for b in label))
    middle = sum((b.box[1] + b.box[3]) / 2 for b in value) / len(value)
    assert label_rows[0] <= middle <= label_rows[1]  # … on the label's row
    assert _lines(value) == 1


def test_labels_above_values(printed: list[list[CharBox]]) -> None:
    above = printed[1]
    label = _find(above, "单位名称")
    value = _find(above, _entries(1)[0].value.printed)  # type: ignore[union-attr]
    assert min(b.box[1] for b in value) > max(b.box[3] for b in label)  # under the label
    assert abs(min(b.box[0] for b in value) - min(b.box[0] for b in label)) < 6  # in the same cell


def test_section_headers_are_written_top_to_bottom(printed: list[list[CharBox]]) -> None:
    head = _find(printed[2], "单位信息")
    lefts = [b.box[0] for b in head]
    tops = [b.box[1] for b in head]
    assert max(lefts) - min(lefts) < 1.5  # one column
    assert all(b > a for a, b in itertools.pairwise(tops))  # each character under the one before


def test_footnotes_quote_labels_in_running_text(printed: list[list[CharBox]]) -> None:
    text = "".join("".join(b.char for b in page) for page in printed)
    assert any(head in text for head in ("说明", "注：", "备注", "填表须知"))
    assert (
        any(
            f"{o}{label}{c}" in text
            for o, c in (("“", "”"), ("「", "」"))
            for label in ("统一社会信用代码", "单位名称", "填表日期", "联系电话", "邮政编码")
        )
        or "本表" in text
    )


# ---------------------------------------------------------------- batches


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _pages(path: Path) -> int:
    if path.suffix == ".pdf":
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    with Image.open(path) as im:
        return getattr(im, "n_frames", 1)


_SOURCE = FormSource(
    (_REG.form("unit_staff_change"), _REG.form("personal_registration")), {"personal_registration": ("在职证明",)}
)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("html") / "batch"
    return out, generate_batch(
        out, 4, 4242, "box", source=_SOURCE, workers=1, separator_share=1.0, continuation_share=1.0
    )


def test_ground_truth_round_trips_and_matches_the_files(batch: tuple[Path, GroundTruth]) -> None:
    out, truth = batch
    again = GroundTruth.model_validate_json((out / TRUTH_FILE).read_text(encoding="utf-8"))
    assert again == truth
    assert truth.generator_version == GENERATOR_VERSION
    for rel, count in truth.files().items():
        assert _pages(out / rel) == count
    forms = {f.form_id for f in registry_source().forms}
    for doc in truth.documents:
        assert doc.form_id in forms
        assert doc.pages[0].kind == "form"
        assert doc.last_page - doc.first_page + 1 == len(doc.pages)
        number = doc.fields["id_number"]
        assert ric.calc_check_digit(number) == number[-1]
    assert truth.separators  # separator sheets between the documents of a box


def test_continuation_sheets_carry_the_rows_the_first_sheet_had_no_room_for(batch: tuple[Path, GroundTruth]) -> None:
    _, truth = batch
    tables = [d for d in truth.documents if d.form_id == "unit_staff_change"]
    assert tables
    for doc in tables:
        assert [p.kind for p in doc.pages][:2] == ["form", "continuation"]
        assert len(doc.rows) > 6  # more people than the largest first sheet leaves room for … at least 6 rows
        assert doc.fields["name"] == doc.rows[0]["name"] and doc.fields["id_number"] == doc.rows[0]["id_number"]
        assert all(ric.calc_check_digit(r["id_number"]) == r["id_number"][-1] for r in doc.rows)


def test_same_seed_same_files_serial_or_parallel(batch: tuple[Path, GroundTruth], tmp_path: Path) -> None:
    out, truth = batch
    again = generate_batch(
        tmp_path / "b", 4, 4242, "box", source=_SOURCE, workers=2, separator_share=1.0, continuation_share=1.0
    )
    assert again == truth
    assert _hashes(tmp_path / "b") == _hashes(out)


def test_families_by_name() -> None:
    assert FAMILIES == ("pillow", "html")
    assert generator("html") is generate_batch
    assert generator("pillow") is pillow_batch
    with pytest.raises(DanganError, match="unknown synthetic family"):
        generator("pil")


def test_every_listed_value_is_printed_on_its_form_sheet(tmp_path: Path) -> None:
    """What the ground truth lists is on the sheet, inside the paper: no value clipped by the page edge."""
    forms = registry_source().forms
    files = plan_batch(list(forms), {}, len(forms), 515, "counter")
    sheets, jobs, truth = build_batch(files, 515)
    out = tmp_path / "sheets.pdf"
    print_pdf(document(sheets), out, len(sheets))
    pdf = pdfium.PdfDocument(out)
    by_file = {job.rel_path: job for job in jobs}
    for doc in truth.documents:
        first = by_file[doc.source_file].pages[doc.first_page - 1]
        assert first.kind == "form" and first.index is not None
        boxes = char_boxes(pdf, first.index)
        text = "".join(b.char for b in boxes)
        values = [doc.fields.get(k) for k in ("unit_name", "unit_code", "phone")]
        values += [doc.fields.get(k) for k in ("id_number", "name")] if not doc.rows else []
        values += [row["id_number"] for row in doc.rows[:3]]  # a table's people: its first rows
        for value in filter(None, values):
            at = text.find(value)
            assert at >= 0, f"{doc.form_id}: {value!r} is not on the sheet"
            # inside the paper, not pushed past its edge (pdfium misplaces the odd glyph: most, not all; a
            # glyph it misplaces comes back several times the size of its neighbours and is not counted)
            glyphs = boxes[at : at + len(value)]
            size = sorted(b.box[3] - b.box[1] for b in glyphs)[len(glyphs) // 2]
            inside = [_on_paper(b) for b in glyphs if b.box[3] - b.box[1] <= 2 * size]
            assert sum(inside) >= 0.8 * len(inside), f"{doc.form_id}: {value!r} runs off the sheet"


def _on_paper(b: CharBox) -> bool:
    return b.box[0] >= -0.5 and b.box[2] <= 210.5 and b.box[1] >= -0.5 and b.box[3] <= 297.5
