"""The accuracy benchmark must measure what it says: scored on hand-made cases, and smoke-run for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.accuracy import evaluate, reassemble, run
from schemas.models import Classification, Document, DocumentStatus, ExtractedField, FieldStatus
from synth import GroundTruth
from synth.truth import DocumentTruth, PageTruth

ID = "11010519491231002X"


def _truth(first: int, last: int, form_id: str, fields: dict[str, str]) -> DocumentTruth:
    pages = [PageTruth(kind="form", rotation=0, skew_deg=0.0, dpi=300, mode="color") for _ in range(first, last + 1)]
    return DocumentTruth(
        doc_index=first,
        source_file="box.pdf",
        first_page=first,
        last_page=last,
        form_id=form_id,
        form_title=form_id,
        title_printed=form_id,
        fields=fields,
        pages=pages,
    )


def _doc(first: int, last: int, label: str | None, fields: list[ExtractedField], status: DocumentStatus) -> Document:
    return Document(
        doc_id=f"d{first}",
        batch_id="b",
        file_id="f",
        rel_path="box.pdf",
        first_page=first,
        last_page=last,
        classification=Classification(label=label, confidence=0.9, model_version="t"),
        form_title=label,
        fields=fields,
        status=status,
    )


def _field(key: str, value: str, status: FieldStatus) -> ExtractedField:
    return ExtractedField(key=key, label=key, value=value, normalized=value, confidence=0.9, status=status)


def test_evaluate_scores_separation_forms_fields_and_precision() -> None:
    truth = GroundTruth.model_validate(
        {
            "seed": 1,
            "generator_version": "t",
            "profile": "box",
            "documents": [
                _truth(1, 2, "a", {"id_number": ID, "name": "张三"}).model_dump(),
                _truth(3, 3, "b", {"id_number": ID}).model_dump(),
            ],
        }
    )
    docs = [
        # right pages, right form, one right accepted field, one wrong accepted field -> accepted with error
        _doc(
            1,
            2,
            "a",
            [_field("id_number", ID, FieldStatus.ACCEPTED), _field("name", "李四", FieldStatus.ACCEPTED)],
            DocumentStatus.ACCEPTED,
        ),
        # wrong page range and wrong form, sent to review
        _doc(3, 4, "c", [_field("id_number", ID, FieldStatus.REVIEW)], DocumentStatus.REVIEW),
    ]
    result = evaluate(truth, docs)
    assert result["separation_f1"] == pytest.approx(0.5)
    assert result["form_accuracy"] == pytest.approx(0.5)
    assert result["accepted_field_precision"] == pytest.approx(0.5)
    assert result["accepted_fields"] == 2
    assert result["accepted_with_error"] == 1
    assert result["straight_through_rate"] == 0.0
    assert result["field_accuracy"]["id_number"] == 1.0 and result["field_accuracy"]["name"] == 0.0


@pytest.mark.ocr
@pytest.mark.slow
def test_benchmark_smoke(tmp_path: Path) -> None:
    result = run(docs=2, seed=31337, workers=1, keep=tmp_path, profile="counter")
    assert result["documents"] == 2 and result["pages"] >= 2
    assert result["separation_f1"] == 1.0
    assert 0.0 <= result["accepted_field_precision"] <= 1.0 and result["pages_per_minute"] > 0
    again = reassemble(tmp_path)
    assert again["form_accuracy"] == result["form_accuracy"]
    assert (tmp_path / "home" / "catalogue.sqlite").exists()
