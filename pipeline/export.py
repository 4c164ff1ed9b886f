"""`dangan export`: one JSON object per document, a stable shape for downstream systems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pipeline.identity import record_id_for
from pipeline.store import CatalogueStore
from schemas.models import Document, ExtractedField

# These keep their software names; every other field is keyed by the label printed on the form.
CANONICAL_KEYS = frozenset({"id_number", "name", "unit_name", "unit_code", "form_date"})


def _field_json(field: ExtractedField) -> dict[str, object]:
    return {
        "value": field.normalized or field.value,
        "confidence": field.confidence,
        "status": field.status.value,
    }


def document_json(doc: Document, archive_no: str | None, pdfa_path: str | None) -> dict[str, object]:
    fields: dict[str, object] = {}
    for f in doc.fields:
        fields[f.key if f.key in CANONICAL_KEYS else f.label] = _field_json(f)
    return {
        "record_id": record_id_for(doc.doc_id),
        "source_file": doc.rel_path,
        "first_page": doc.first_page,
        "last_page": doc.last_page,
        "form_title": doc.form_title,
        "form_confidence": doc.classification.confidence if doc.classification else 0.0,
        "status": doc.status.value,
        "archive_no": archive_no,
        "pdfa_path": pdfa_path,
        "fields": fields,
    }


def iter_export(store: CatalogueStore, batch_id: str | None = None) -> Iterator[dict[str, object]]:
    records = {r.doc_id: r for r in store.records(batch_id)}
    for doc in sorted(store.documents(batch_id), key=lambda d: (d.batch_id, d.rel_path, d.first_page)):
        rec = records.get(doc.doc_id)
        yield document_json(doc, rec.archive_no if rec else None, rec.pdfa_path if rec else None)


def export_jsonl(store: CatalogueStore, out: Path, batch_id: str | None = None) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for obj in iter_export(store, batch_id):
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(out)
    return n
