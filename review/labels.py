"""Reviewers' corrections and confirmations as labelled data: each field the machine read, what it read,
its confidence and features, and the truth a person gave. `bench/calibrate.py --corrections FILE`
re-fits the calibration from these beside the synthetic batches.

One JSON object a line; ID numbers are in it (it is training data for the archive's own staff), so the
download is for archivists only and is audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.review_work import Correction, CorrectionKind

LABEL_FORMAT = "dangan-review-labels/1"


def labelled(c: Correction) -> dict[str, Any]:
    return {
        "format": LABEL_FORMAT,
        "at": c.at.isoformat(),
        "actor": c.actor,
        "batch_id": c.batch_id,
        "doc_id": c.doc_id,
        "form_id": c.form_id,
        "position": c.position,
        "key": c.key,
        "kind": c.kind.value,
        "machine_value": c.old,
        "truth": c.new,
        # The machine was right when the person confirmed it (or typed the same value again).
        "right": c.kind is CorrectionKind.CONFIRMED or (c.old or "") == (c.new or ""),
        "machine_confidence": c.machine_confidence,
        "machine_status": c.machine_status,
        "features": c.features,
        "reason": c.reason,
        "evidence": c.evidence,
    }


def label_lines(corrections: Iterable[Correction]) -> Iterator[str]:
    for c in corrections:
        yield json.dumps(labelled(c), ensure_ascii=False) + "\n"
