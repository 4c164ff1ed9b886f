"""The synthetic scan generator: valid values, deterministic files, ground truth that matches them."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
from datetime import date
from pathlib import Path
from typing import cast

import numpy as np
import pikepdf
import pytest
from PIL import Image
from stdnum.cn import ric, uscc

from pipeline.extract.id_check import area_known, is_valid_id
from schemas.registry_models import FieldKind, FieldSpec, FormSpec
from synth import FormSource, GroundTruth, generate_batch, main_synth
from synth.degrade import Rotation, draw_params, scan
from synth.plan import SynthOutputError, plan_batch, registry_source
from synth.truth import GENERATOR_VERSION, TRUTH_FILE
from synth.values import credit_code, format_date, make_case

FORMS = (
    FormSpec(
        form_id="personal_registration",
        title="个人注册登记表",
        variants=["社会保险个人注册登记表"],
        role="main",
        fields=[
            FieldSpec(key="id_number", label="公民身份号码", kind=FieldKind.ID_NUMBER, required=True),
            FieldSpec(key="name", label="姓名", kind=FieldKind.NAME, required=True),
            FieldSpec(key="sex", label="性别", kind=FieldKind.SEX, required=True),
            FieldSpec(key="birth_date", label="出生日期", kind=FieldKind.DATE, required=True),
            FieldSpec(key="personal_no", label="个人编号"),
            FieldSpec(key="phone", label="联系电话", kind=FieldKind.PHONE),
            FieldSpec(key="form_date", label="填表日期", kind=FieldKind.DATE, required=True),
        ],
    ),
    FormSpec(
        form_id="unit_registration",
        title="单位社会保险登记表",
        role="main",
        fields=[
            FieldSpec(key="unit_name", label="单位名称", required=True),
            FieldSpec(key="unit_code", label="统一社会信用代码", kind=FieldKind.UNIT_CODE, required=True),
            FieldSpec(key="postcode", label="邮政编码"),
            FieldSpec(key="amounts", label="缴费基数", kind=FieldKind.AMOUNT, required=True),
        ],
    ),
)
SOURCE = FormSource(FORMS, {"personal_registration": ("在职证明",)})


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _page_count(path: Path) -> int:
    if path.suffix == ".pdf":
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    with Image.open(path) as im:
        return getattr(im, "n_frames", 1)


@pytest.fixture(scope="module")
def mixed_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("synth") / "batch"
    return out, generate_batch(out, 8, 11, "mixed", source=SOURCE, workers=1)


def test_id_numbers_are_valid_and_agree_with_birth_date_and_sex() -> None:
    rng = random.Random(5)
    for _ in range(300):
        person = make_case(rng).person
        assert is_valid_id(person.id_number)
        assert ric.get_birth_date(person.id_number) == person.birth_date
        assert int(person.id_number[16]) % 2 == (1 if person.sex == "男" else 0)
        assert is_valid_id(person.personal_no) is False  # the decoy never passes as an ID


def test_id_numbers_are_issued_under_newer_and_unknown_area_codes() -> None:
    """The generator does not agree with the validator by construction: a share of the numbers carries
    an area code created after the holder's birth year (stdnum's birth-year check refuses them), a
    share one no GB/T 2260 table lists; all have a right check digit and birth date."""
    rng = random.Random(17)
    people = [make_case(rng).person for _ in range(400)]
    newer = [p for p in people if area_known(p.id_number[:6]) and not ric.is_valid(p.id_number)]
    unknown = [p for p in people if not area_known(p.id_number[:6])]
    assert len(newer) >= 60 and len(unknown) >= 15
    assert all(is_valid_id(p.id_number) for p in people)
    born_before_code = [p for p in newer if p.birth_date.year < 1984]
    assert born_before_code  # pensioners holding a code their county got after they were born


def test_credit_codes_are_valid() -> None:
    rng = random.Random(9)
    codes = {credit_code(rng, "653001") for _ in range(200)}
    assert all(uscc.is_valid(c) for c in codes)
    assert len(codes) == 200


@pytest.mark.parametrize(
    ("style", "printed"),
    [
        ("cn", "2013年5月12日"),
        ("cn0", "2013年05月12日"),
        ("dot", "2013.05.12"),
        ("dot_short", "2013.5.12"),
        ("dash", "2013-05-12"),
        ("slash", "2013/05/12"),
        ("cn_upper", "二〇一三年五月十二日"),
    ],
)
def test_date_styles(style: str, printed: str) -> None:
    assert format_date(date(2013, 5, 12), style) == printed
    assert format_date(date(2020, 10, 30), "cn_upper") == "二〇二〇年十月三十日"


def test_minority_names_use_the_middle_dot() -> None:
    rng = random.Random(2)
    names = [make_case(rng).person.name for _ in range(400)]
    dotted = [n for n in names if "·" in n]
    assert dotted, "some people should have minority names"
    assert all(len(part) >= 2 for n in dotted for part in n.split("·"))


def test_same_seed_gives_byte_identical_files_serial_or_parallel(tmp_path: Path) -> None:
    a = generate_batch(tmp_path / "a", 5, 42, "mixed", source=SOURCE, workers=1)
    b = generate_batch(tmp_path / "b", 5, 42, "mixed", source=SOURCE, workers=2)
    assert a == b
    hashes_a, hashes_b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert hashes_a == hashes_b
    c = generate_batch(tmp_path / "c", 5, 43, "mixed", source=SOURCE, workers=1)
    assert _hashes(tmp_path / "c") != hashes_a
    assert c != a


def test_ground_truth_file_matches_the_returned_model(mixed_batch: tuple[Path, GroundTruth]) -> None:
    out, truth = mixed_batch
    on_disk = GroundTruth.model_validate_json((out / TRUTH_FILE).read_text(encoding="utf-8"))
    assert on_disk == truth
    raw = json.loads((out / TRUTH_FILE).read_text(encoding="utf-8"))
    assert set(raw) >= {"seed", "generator_version", "documents"}
    assert [d.doc_index for d in truth.documents] == list(range(8))


def test_out_dir_holds_only_scans_and_truth(mixed_batch: tuple[Path, GroundTruth]) -> None:
    out, truth = mixed_batch
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert files == set(truth.files()) | {TRUTH_FILE}
    assert all(Path(f).suffix in {".pdf", ".tif", ".tiff", ".jpg", ".jpeg"} for f in truth.files())
    assert all("\\" not in f and not f.startswith("/") for f in truth.files())


def _check_page_ranges(out: Path, truth: GroundTruth) -> None:
    """Documents and separator sheets tile every file's pages exactly, without overlap."""
    by_file: dict[str, list[tuple[int, int]]] = {}
    for doc in truth.documents:
        assert doc.last_page - doc.first_page + 1 == len(doc.pages)
        by_file.setdefault(doc.source_file, []).append((doc.first_page, doc.last_page))
    for sep in truth.separators:
        assert sep.page.kind == "separator"
        by_file.setdefault(sep.source_file, []).append((sep.page_no, sep.page_no))
    for rel, ranges in by_file.items():
        ranges.sort()
        assert ranges[0][0] == 1
        assert all(prev[1] + 1 == nxt[0] for prev, nxt in itertools.pairwise(ranges))
        assert _page_count(out / rel) == ranges[-1][1] == truth.files()[rel]


def test_page_ranges_match_the_files(mixed_batch: tuple[Path, GroundTruth]) -> None:
    _check_page_ranges(*mixed_batch)


def test_separator_sheets_sit_between_documents_and_read_back(tmp_path: Path) -> None:
    from pipeline.barcodes import read_separator

    out = tmp_path / "batch"
    truth = generate_batch(out, 6, 12, "box", source=SOURCE, workers=1, separator_share=1.0)
    assert truth.separators and truth.generator_version == GENERATOR_VERSION == "1.3"
    _check_page_ranges(out, truth)
    starts = {(d.source_file, d.first_page) for d in truth.documents}
    for sep in truth.separators:
        # a sheet is always followed by the first page of a document
        assert (sep.source_file, sep.page_no + 1) in starts
    sep = truth.separators[0]
    path = out / sep.source_file
    if path.suffix == ".pdf":
        with pikepdf.open(path) as pdf:
            (image,) = pdf.pages[sep.page_no - 1].Resources.XObject.values()
            page = pikepdf.PdfImage(cast(pikepdf.Stream, image)).as_pil_image()
    else:
        with Image.open(path) as im:
            im.seek(sep.page_no - 1)
            page = im.convert("L")
    grey = np.asarray(page.convert("L").rotate(-sep.page.rotation, expand=True))
    assert read_separator(np.ascontiguousarray(grey), dpi=sep.page.dpi) is not None
    none = generate_batch(tmp_path / "none", 6, 12, "box", source=SOURCE, workers=1, separator_share=0.0)
    assert none.separators == []


def test_person_tables_have_two_to_eight_valid_rows(tmp_path: Path) -> None:
    from schemas.registry import get_registry

    form = get_registry().form("unit_staff_change")
    source = FormSource((form,), {})
    truth = generate_batch(tmp_path / "t", 3, 21, "counter", source=source, workers=1, continuation_share=0.0)
    for doc in truth.documents:
        assert [p.kind for p in doc.pages].count("continuation") == 0
        assert 2 <= len(doc.rows) <= 8
        for row in doc.rows:
            assert set(row) <= set(form.person_table)
            assert is_valid_id(row["id_number"]) and row["change_type"] in ("增加", "减少")
            assert date.fromisoformat(row["change_date"]) <= date.fromisoformat(doc.fields["form_date"])
        # the document is filed under its first person; birth dates live only in the IDs
        assert all(doc.fields[k] == v for k, v in doc.rows[0].items())
        assert "birth_date" not in doc.fields
        assert len({r["id_number"] for r in doc.rows}) == len(doc.rows)


def test_continuation_sheets_carry_the_people_the_first_sheet_has_no_room_for(tmp_path: Path) -> None:
    from schemas.registry import get_registry

    form = get_registry().form("unit_staff_change")
    out = tmp_path / "t"
    truth = generate_batch(out, 4, 21, "box", source=FormSource((form,), {}), workers=1, continuation_share=1.0)
    _check_page_ranges(out, truth)
    for doc in truth.documents:
        kinds = [p.kind for p in doc.pages]
        assert kinds[:2] == ["form", "continuation"] and kinds.count("continuation") == 1
        # the first sheet has room for 5–9 people and is full; 1–6 more go on
        assert 6 <= len(doc.rows) <= 15
        assert all(is_valid_id(r["id_number"]) for r in doc.rows)
        assert len({r["id_number"] for r in doc.rows}) == len(doc.rows)
        assert all(doc.fields[k] == v for k, v in doc.rows[0].items())


def test_continuation_sheets_leave_other_documents_as_they_were(tmp_path: Path) -> None:
    from schemas.registry import get_registry

    source = FormSource((get_registry().form("unit_staff_change"), *FORMS), {})
    before = generate_batch(tmp_path / "a", 6, 8, "counter", source=source, workers=1, continuation_share=0.0)
    after = generate_batch(tmp_path / "b", 6, 8, "counter", source=source, workers=1, continuation_share=1.0)
    _check_page_ranges(tmp_path / "b", after)
    continued = {d.source_file for d in after.documents if any(p.kind == "continuation" for p in d.pages)}
    assert len(continued) == 2
    hashes_before, hashes_after = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    for old, new in zip(before.documents, after.documents, strict=True):
        if new.source_file in continued:
            # the first sheet's people are the same, more follow them (a one-page JPEG became a PDF)
            assert Path(new.source_file).stem == Path(old.source_file).stem
            assert new.rows[: len(old.rows)] == old.rows and len(new.rows) > len(old.rows)
            assert new.fields == old.fields and len(new.pages) == len(old.pages) + 1
            assert hashes_after[new.source_file] != hashes_before.get(new.source_file)
        else:
            assert new == old
            assert hashes_after[new.source_file] == hashes_before[old.source_file]


def test_page_dpi_and_rotation_are_true(mixed_batch: tuple[Path, GroundTruth]) -> None:
    out, truth = mixed_batch
    checked = 0
    for doc in truth.documents:
        path = out / doc.source_file
        for offset, page in enumerate(doc.pages):
            number = doc.first_page + offset
            if path.suffix == ".pdf":
                with pikepdf.open(path) as pdf:
                    pg = pdf.pages[number - 1]
                    (image,) = pg.Resources.XObject.values()
                    width, height = int(image.Width), int(image.Height)
                    box = [float(v) for v in pg.mediabox]
                    dpi_x = width / ((box[2] - box[0]) / 72)
                    dpi_y = height / ((box[3] - box[1]) / 72)
            else:
                with Image.open(path) as im:
                    im.seek(number - 1)
                    width, height = im.size
                    dpi_x, dpi_y = (float(v) for v in im.info["dpi"])
            assert dpi_x == pytest.approx(page.dpi, rel=0.01)
            assert dpi_y == pytest.approx(page.dpi, rel=0.01)
            # A4 portrait on the platen: a quarter turn makes the stored image landscape
            assert (width > height) == (page.rotation in (90, 270))
            assert abs(page.skew_deg) <= 3.0
            checked += 1
    assert checked == sum(len(d.pages) for d in truth.documents)


def test_fields_are_normalised_and_consistent(mixed_batch: tuple[Path, GroundTruth]) -> None:
    _, truth = mixed_batch
    for doc in truth.documents:
        assert doc.pages[0].kind == "form"
        spec = {f.form_id: f for f in FORMS}[doc.form_id]
        assert doc.form_title == spec.title
        assert doc.title_printed.endswith(spec.title) or doc.title_printed in spec.variants
        fields = doc.fields
        for key in (f.key for f in spec.fields if f.required):
            assert key in fields
        if "id_number" in fields:
            ident = fields["id_number"]
            assert is_valid_id(ident) and ident == ident.upper()
            assert ric.get_birth_date(ident).isoformat() == fields["birth_date"]
            assert fields["sex"] == ("男" if int(ident[16]) % 2 else "女")
            date.fromisoformat(fields["form_date"])
        if "unit_code" in fields:
            assert uscc.is_valid(fields["unit_code"])
            assert float(fields["amounts"]) > 0 and fields["amounts"].count(".") == 1


@pytest.mark.parametrize("profile", ["box", "counter"])
def test_profiles_lay_out_files_differently(tmp_path: Path, profile: str) -> None:
    truth = generate_batch(tmp_path / profile, 4, 3, profile, source=SOURCE, workers=1)  # type: ignore[arg-type]
    docs_per_file: dict[str, int] = {}
    for doc in truth.documents:
        docs_per_file[doc.source_file] = docs_per_file.get(doc.source_file, 0) + 1
    if profile == "counter":
        assert all(n == 1 for n in docs_per_file.values())
        assert all(Path(f).suffix in {".pdf", ".jpg", ".jpeg"} for f in docs_per_file)
        for doc in truth.documents:
            if Path(doc.source_file).suffix != ".pdf":
                assert len(doc.pages) == 1
    else:
        assert all(Path(f).suffix in {".pdf", ".tif", ".tiff"} for f in docs_per_file)
        assert all(Path(f).name.startswith(("box-", "scan-")) for f in docs_per_file)
        assert max(docs_per_file.values()) >= 2


def test_larger_plans_have_attachments_blanks_rotations_and_bitonal_pages() -> None:
    files = plan_batch(SOURCE, 60, 8, "mixed")
    kinds = {k for f in files for d in f.docs for k in d.pages}
    assert kinds == {"form", "id_copy", "certificate", "blank"}
    assert {f.kind for f in files} == {"pdf", "tiff", "jpeg"}
    assert any("/" in f.rel_path for f in files)
    docs = [d for f in files for d in f.docs]
    assert any(len(d.pages) == 1 for d in docs) and any(len(d.pages) > 2 for d in docs)


def test_every_registry_form_with_fields_is_planned() -> None:
    source = registry_source()
    assert source.forms
    planned = {d.form.form_id for f in plan_batch(source, len(source.forms), 1, "mixed") for d in f.docs}
    assert planned == {f.form_id for f in source.forms}


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "old.pdf").write_bytes(b"%PDF")
    with pytest.raises(SynthOutputError):
        generate_batch(tmp_path, 1, 1, source=SOURCE)


def test_main_synth_writes_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_synth(tmp_path / "cli", 2, 5, "counter")
    truth = GroundTruth.model_validate_json((tmp_path / "cli" / TRUTH_FILE).read_text(encoding="utf-8"))
    assert len(truth.documents) == 2
    assert "wrote 2 documents" in capsys.readouterr().err


@pytest.mark.parametrize(("rotation", "skew"), [(0, 2.0), (0, -2.0), (0, 0.5), (90, 0.0), (270, 0.0)])
def test_scan_applies_skew_and_rotation_clockwise(rotation: Rotation, skew: float) -> None:
    page = Image.new("RGB", (400, 300), "white")
    page.paste((0, 0, 0), (50, 148, 350, 152))  # a horizontal bar through the centre
    page.paste((0, 0, 0), (20, 20, 40, 40))  # a mark in the top-left corner
    params = dataclasses.replace(
        draw_params(random.Random(1), mode="gray"),
        rotation=rotation,
        skew_deg=skew,
        blur_sigma=0.0,
        noise_sigma=0.0,
        jpeg_quality=None,
        specks=0,
        edge_shadow=0,
    )
    out = np.asarray(scan(page, params))
    if rotation == 0:
        rows = np.nonzero(out[:, 60] < 128)[0].mean(), np.nonzero(out[:, 340] < 128)[0].mean()
        # clockwise on screen (y grows downwards): the right end of the bar drops
        assert (rows[1] - rows[0] > 0) == (skew > 0)
        assert abs(rows[1] - rows[0]) == pytest.approx(280 * np.tan(np.radians(abs(skew))), abs=2)
    else:
        assert out.shape == (400, 300)
        # a quarter turn clockwise carries the top-left mark to the top-right; anticlockwise to bottom-left
        top_right, bottom_left = out[20:40, 260:280].mean(), out[360:380, 20:40].mean()
        assert (top_right < 64, bottom_left < 64) == ((True, False) if rotation == 90 else (False, True))
