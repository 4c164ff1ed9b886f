"""What happened to each record, as PREMIS events and agents (the digital provenance METS carries).

Every event names the agent that carried it out: a person (scanner operator, reviewer), the vendor,
or a piece of software with its version. Times come from the catalogue and the files themselves; where
only an interval is known (recognition ran between the batch's start and the PDF/A's creation) the
event time is that interval, as PREMIS allows, rather than an invented instant.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pipeline.deliver.rows import DeliveryRow
from schemas.models import Batch, Document, QcTask
from schemas.review_work import Correction

_NAMESPACE = uuid.UUID("5f0f3b8e-2d61-4c47-9a53-3c7f3c1e8a11")

AgentKind = Literal["person", "organization", "software"]


class PremisAgent(BaseModel):
    model_config = ConfigDict(frozen=True)

    identifier: str
    name: str
    kind: AgentKind
    note: str = ""


class PremisEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: str
    event_type: str
    date_time: str
    detail: str
    outcome: Literal["pass", "fail", "warning"] = "pass"
    outcome_note: str = ""
    agents: list[tuple[PremisAgent, str]]
    """(agent, role) pairs; PREMIS linkingAgentRole, e.g. implementer, executing program, validator."""


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def dangan_agent() -> PremisAgent:
    v = _package_version("dangan")
    return PremisAgent(identifier=f"software:dangan/{v}", name=f"Dangan {v}", kind="software")


def software_agent(name: str, ver: str) -> PremisAgent:
    return PremisAgent(identifier=f"software:{name}/{ver}", name=f"{name} {ver}", kind="software")


def person_agent(name: str) -> PremisAgent:
    return PremisAgent(identifier=f"person:{name}", name=name, kind="person")


def organization_agent(name: str) -> PremisAgent:
    return PremisAgent(identifier=f"organization:{name}", name=name, kind="organization")


def _iso(t: datetime | date) -> str:
    return t.isoformat(timespec="seconds") if isinstance(t, datetime) else t.isoformat()


class RecordHistory(BaseModel):
    """What the catalogue knows of one record's life, gathered by the package builder."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    row: DeliveryRow
    document: Document
    batch: Batch
    source_sha256: str
    engines: list[tuple[str, str]]
    """(engine, version) of the recognition of the document's pages."""
    pdfa_created: datetime
    review: QcTask | None = None
    corrections: list[Correction] = []
    fixity_checked: datetime
    fixity_ok: bool


Outcome = Literal["pass", "fail", "warning"]


def record_events(h: RecordHistory, vendor: PremisAgent) -> list[PremisEvent]:
    """The PREMIS events of one record, oldest first."""
    dangan = dangan_agent()
    events: list[PremisEvent] = []

    def add(
        kind: str,
        when: str,
        detail: str,
        agents: list[tuple[PremisAgent, str]],
        outcome: Outcome = "pass",
        note: str = "",
    ) -> None:
        key = f"{h.row.record_id}:{len(events)}:{kind}:{when}"
        events.append(
            PremisEvent(
                identifier=str(uuid.uuid5(_NAMESPACE, key)),
                event_type=kind,
                date_time=when,
                detail=detail,
                outcome=outcome,
                outcome_note=note,
                agents=agents,
            )
        )

    doc = h.document
    run = f"{_iso(h.batch.created_at)}/{_iso(h.pdfa_created)}"
    capture_agents: list[tuple[PremisAgent, str]] = [(vendor, "implementer")]
    if h.row.scanner:
        capture_agents.insert(0, (person_agent(h.row.scanner), "executing program"))
    add(
        "capture",
        _iso(h.row.scan_date or h.batch.created_at),
        f"纸质材料扫描为图像：{doc.rel_path} 第{doc.first_page}-{doc.last_page}页",
        capture_agents,
    )
    add(
        "ingestion",
        _iso(h.batch.created_at),
        f"批次 {h.batch.batch_id} 接收原始扫描文件 {doc.rel_path}（SHA-256 {h.source_sha256}）",
        [(dangan, "executing program")],
    )
    engines = [(software_agent(name, ver), "executing program") for name, ver in h.engines]
    add("character recognition", run, "逐页文字识别（每页一次）", engines or [(dangan, "executing program")])
    model = doc.classification.model_version if doc.classification else "none"
    add(
        "metadata extraction",
        run,
        f"表单分类（模型 {model}）与字段抽取；判定 {doc.status.value}",
        [(dangan, "executing program")],
        "pass" if doc.status.value == "accepted" or h.review else "warning",
        f"最低字段置信度 {h.row.min_confidence}" if h.row.min_confidence is not None else "",
    )
    if h.review is not None and h.review.claimed_by:
        add(
            "review",
            _iso(h.review.completed_at or h.review.created_at),
            "人工质检复核：" + "；".join(h.review.reasons),
            [(person_agent(h.review.claimed_by), "implementer")],
            note="抽检" if h.review.audit_sample else "",
        )
    labels = {i: f.label for i, f in enumerate(doc.fields)}
    for c in h.corrections:
        add(
            "metadata modification",
            _iso(c.at),
            c.as_archive_note(labels.get(c.position, c.key)),
            [(person_agent(c.actor), "implementer")],
        )
    add(
        "creation",
        _iso(h.pdfa_created),
        "生成 PDF/A-2b 档案文件（300 DPI 图像与文字层）",
        [(dangan, "executing program"), (software_agent("pikepdf", _package_version("pikepdf")), "executing program")],
    )
    add(
        "fixity check",
        _iso(h.fixity_checked),
        f"SHA-256 与编目记录核对：{h.row.sha256}",
        [(dangan, "validator")],
        "pass" if h.fixity_ok else "fail",
        "" if h.fixity_ok else "文件校验值与编目记录不一致",
    )
    return events
