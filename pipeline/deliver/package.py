"""`dangan deliver`: a batch's delivery package, a BagIt bag laid out as the archive files it.

data/<全宗号>/<年度>/<险种>-<业务环节>/<档号>.pdf  the records' PDF/A files
data/目录/                                       归档文件目录, 卷内目录, 案卷目录, 备考表 (xlsx and XML)
data/METS.<batch>.xml                            every 档号 linked to its file, with PREMIS events
data/质检/                                        self-check report, correction log, audit sample
data/说明文件.txt                                 what the package holds and how to check it

Nothing is delivered that the catalogue does not vouch for: a record whose PDF/A is missing or whose
bytes changed since it was catalogued stops the package, as do documents still waiting for review,
and the error lists every one of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import bagit
import pikepdf
from pydantic import BaseModel, ConfigDict, Field

from pipeline.deliver.catalogue_xml import write_catalogue_xml
from pipeline.deliver.evidence import CorrectionRow, SampleRow, self_check
from pipeline.deliver.mets import build_mets, unlinked_events, validate_mets
from pipeline.deliver.provenance import RecordHistory, dangan_agent, organization_agent, record_events
from pipeline.deliver.rows import DeliveryRow, build_rows, build_volumes
from pipeline.deliver.sheets import write_workbook
from pipeline.deliver.spec import PackageSpec, package_spec
from pipeline.errors import DeliveryError
from pipeline.store import CatalogueStore
from pipeline.store.review_save import ReviewSaver
from schemas.models import ArchiveRecord, Document, FileStatus, QcTask
from schemas.review_work import Correction, CorrectionKind

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
README_NAME = "说明文件.txt"
SELF_CHECK_NAME = "自检报告.json"


class DeliveryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: str
    out: Path = Field(description="the bag's folder; must not exist or be empty")
    vendor: str = Field(min_length=1, description="数字化服务机构 (Source-Organization)")
    contract: str = Field(min_length=1, description="合同编号")
    fonds_no: str | None = Field(default=None, description="全宗号; default the batch manifest's")
    contact: str | None = None
    allow_open_review: bool = Field(
        default=False, description="deliver documents whose review is not finished (marked 待复核 in 备注)"
    )


class DeliveryResult(BaseModel):
    bag: Path
    records: int
    volumes: int
    pages: int
    payload_bytes: int


def _copy_hashing(src: Path, dest: Path) -> str:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
    shutil.copystat(src, dest)
    return digest.hexdigest()


def _pdf_created(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _engines(store: CatalogueStore, doc: Document) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for page in store.pages(doc.file_id):
        if doc.first_page <= page.page.page_no <= doc.last_page and page.ocr.engine:
            seen[(page.ocr.engine, page.ocr.engine_version)] = None
    return list(seen)


class _Gathered(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    documents: dict[str, Document]
    records: list[ArchiveRecord]
    tasks: list[QcTask]
    corrections: dict[str, list[Correction]]


def _gather(store: CatalogueStore, opts: DeliveryOptions) -> _Gathered:
    documents = {d.doc_id: d for d in store.documents(opts.batch_id)}
    records = store.records(opts.batch_id)
    tasks = [t for t in store.qc_tasks(None) if t.doc_id in documents]
    problems: list[str] = []
    with_record = {r.doc_id for r in records}
    problems += [
        f"{d.rel_path} p{d.first_page}-{d.last_page}: no archive record"
        for d in documents.values()
        if d.doc_id not in with_record
    ]
    for r in records:
        if not r.pdfa_path or not Path(r.pdfa_path).is_file():
            problems.append(f"{r.archive_no}: PDF/A file missing ({r.pdfa_path or 'never written'})")
        elif not r.sha256:
            problems.append(f"{r.archive_no}: no SHA-256 in the catalogue")
    if not opts.allow_open_review:
        problems += [
            f"{documents[t.doc_id].rel_path} p{documents[t.doc_id].first_page}: review not finished ({t.status})"
            for t in tasks
            if t.status != "done"
        ]
    if not records:
        problems.append("the batch has no archive records")
    if problems:
        shown = "\n  ".join(problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise DeliveryError(f"batch {opts.batch_id} cannot be delivered ({len(problems)} problem(s)):\n  {shown}{more}")
    corrections: dict[str, list[Correction]] = {doc_id: [] for doc_id in documents}
    for c in ReviewSaver(store.engine).corrections(opts.batch_id):
        if c.kind is CorrectionKind.CORRECTED and c.doc_id in corrections:
            corrections[c.doc_id].append(c)
    return _Gathered(documents=documents, records=records, tasks=tasks, corrections=corrections)


def _page_counter() -> Callable[[ArchiveRecord], int]:
    def count(rec: ArchiveRecord) -> int:
        with pikepdf.open(rec.pdfa_path or "") as pdf:
            return len(pdf.pages)

    return count


def _readme(opts: DeliveryOptions, fonds: str, rows: list[DeliveryRow], volumes: int, spec: PackageSpec) -> str:
    years = sorted({r.year for r in rows})
    return "\n".join(
        [
            "社会保险业务档案数字化成果交付包 说明文件",
            "",
            f"批次：{opts.batch_id}",
            f"全宗号：{fonds}",
            f"数字化服务机构：{opts.vendor}",
            f"合同编号：{opts.contract}",
            f"生成时间：{datetime.now(UTC).isoformat(timespec='seconds')}",
            f"生成软件：{dangan_agent().name}",
            f"年度：{years[0]}–{years[-1]}" if years else "年度：无",
            f"案卷：{volumes} 卷；文件：{len(rows)} 件；页数：{sum(r.pages for r in rows)} 页",
            "",
            "结构（BagIt 1.0，SHA-256 清单）：",
            f"  data/{spec.record_path}  每件一个 PDF/A-2b 文件（300 DPI 图像与文字层）",
            f"  data/{spec.catalogue_dir}/  归档文件目录、卷内目录、案卷目录、备考表（xlsx 与 XML），各附数据字典",
            f"  data/METS.{opts.batch_id}.xml  METS 结构图与每件的 PREMIS 事件",
            f"  data/{spec.evidence_dir}/  自检报告、更正记录、抽检记录",
            "",
            "核验方法：校验 BagIt 清单（manifest-sha256.txt、tagmanifest-sha256.txt）后，",
            "按归档文件目录逐条挂接文件（文件名列为 data/ 内路径，SHA-256 列为文件校验值），",
            "或运行 `dangan accept <本包路径>` 生成移交与接收登记表。",
            "",
        ]
    )


def build_package(store: CatalogueStore, opts: DeliveryOptions, spec: PackageSpec | None = None) -> DeliveryResult:
    spec = spec or package_spec()
    batch = store.get_batch(opts.batch_id)
    if batch is None:
        raise DeliveryError(
            f"batch {opts.batch_id} is not in the catalogue (see `dangan qc list` or the ingest summary)"
        )
    fonds = opts.fonds_no or batch.manifest.fonds_no
    if not fonds:
        raise DeliveryError(f"batch {opts.batch_id}: no 全宗号 (fonds_no) in its manifest; give one with --fonds")
    if opts.out.exists() and any(opts.out.iterdir()):
        raise DeliveryError(f"{opts.out}: not empty; a package is built into a new folder")
    got = _gather(store, opts)
    done = {t.doc_id: t for t in got.tasks if t.status == "done"}
    counts = {doc_id: len(events) for doc_id, events in got.corrections.items()}
    rows = build_rows(
        got.records, got.documents, done, fonds_no=fonds, path_pattern=spec.record_path, pages_of=_page_counter()
    )
    unfinished = {t.doc_id for t in got.tasks if t.status != "done"}
    for row in rows:
        if row.doc_id in unfinished:
            row.remarks = "；".join(x for x in (row.remarks, "待复核") if x)
    volumes = build_volumes(rows, compiled_on=date.today(), corrections=counts)

    opts.out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    histories: list[RecordHistory] = []
    sizes: dict[str, int] = {}
    changed: list[str] = []
    records = {r.record_id: r for r in got.records}
    sources = {f.file_id: f for f in store.source_files(opts.batch_id)}
    for row in rows:
        rec = records[row.record_id]
        src = Path(rec.pdfa_path or "")
        digest = _copy_hashing(src, opts.out / row.file_path)
        if digest != rec.sha256:
            changed.append(f"{rec.archive_no}: {src} has SHA-256 {digest}, the catalogue says {rec.sha256}")
        sizes[row.record_id] = src.stat().st_size
        doc = got.documents[row.doc_id]
        histories.append(
            RecordHistory(
                row=row,
                document=doc,
                batch=batch,
                source_sha256=sources[doc.file_id].sha256 if doc.file_id in sources else "",
                engines=_engines(store, doc),
                pdfa_created=_pdf_created(src),
                review=done.get(row.doc_id),
                corrections=got.corrections.get(row.doc_id, []),
                fixity_checked=datetime.now(UTC),
                fixity_ok=digest == rec.sha256,
            )
        )
    if changed:
        shutil.rmtree(opts.out)
        raise DeliveryError("PDF/A files changed since they were catalogued (fixity):\n  " + "\n  ".join(changed))

    title_attrs = {"全宗号": fonds, "批次": opts.batch_id}
    for sheet in spec.sheets:
        sheet_rows = rows if sheet.per == "record" else volumes
        title = f"{sheet.name}　全宗号 {fonds}　批次 {opts.batch_id}"
        write_workbook(opts.out / spec.catalogue_dir / f"{sheet.name}.xlsx", spec, sheet, title, sheet_rows)
        write_catalogue_xml(opts.out / spec.catalogue_dir / f"{sheet.name}.xml", sheet, title_attrs, sheet_rows)

    vendor = organization_agent(opts.vendor)
    events = {h.row.record_id: record_events(h, vendor) for h in histories}
    mets = build_mets(opts.batch_id, started, histories, events, sizes, [vendor, dangan_agent()])
    problems = validate_mets(mets) + unlinked_events(mets)
    if problems:
        raise DeliveryError("the METS written for this package is not valid:\n  " + "\n  ".join(problems[:20]))
    mets.write(str(opts.out / f"METS.{opts.batch_id}.xml"), encoding="utf-8", xml_declaration=True, pretty_print=True)

    _write_evidence(
        opts,
        spec,
        fonds,
        rows,
        got,
        counts,
        [f.rel_path for f in sources.values() if f.status is FileStatus.QUARANTINED],
    )
    (opts.out / README_NAME).write_text(_readme(opts, fonds, rows, len(volumes), spec), encoding="utf-8")

    bag_info = {
        "Source-Organization": opts.vendor,
        "External-Identifier": opts.batch_id,
        "External-Description": f"社会保险业务档案数字化成果 全宗{fonds} 批次{opts.batch_id}",
        "Internal-Sender-Identifier": opts.batch_id,
        "Contract-Number": opts.contract,
        "Fonds-Number": fonds,
        "Record-Count": str(len(rows)),
        "Bag-Software-Agent": f"{dangan_agent().name} (bagit {bagit.VERSION})",
    }
    if opts.contact:
        bag_info["Contact-Name"] = opts.contact
    bagit.make_bag(str(opts.out), bag_info=bag_info, checksums=["sha256"])
    payload = sum(p.stat().st_size for p in (opts.out / "data").rglob("*") if p.is_file())
    log.info("delivery package %s: %d records in %d volumes", opts.out, len(rows), len(volumes))
    return DeliveryResult(
        bag=opts.out, records=len(rows), volumes=len(volumes), pages=sum(r.pages for r in rows), payload_bytes=payload
    )


def _write_evidence(
    opts: DeliveryOptions,
    spec: PackageSpec,
    fonds: str,
    rows: list[DeliveryRow],
    got: _Gathered,
    counts: dict[str, int],
    quarantined: list[str],
) -> None:
    folder = opts.out / spec.evidence_dir
    folder.mkdir(parents=True, exist_ok=True)
    code = {r.doc_id: r.archive_code for r in rows}
    report = self_check(opts.batch_id, list(got.documents.values()), len(rows), got.tasks, counts, quarantined)
    (folder / SELF_CHECK_NAME).write_text(
        json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    labels = {d.doc_id: {i: f.label for i, f in enumerate(d.fields)} for d in got.documents.values()}
    corrections = [
        CorrectionRow(
            seq=i,
            archive_code=code.get(c.doc_id, ""),
            field=labels[c.doc_id].get(c.position, c.key),
            old=c.old or "",
            new=c.new or "",
            why="；".join(x for x in (c.evidence, c.reason) if x),
            actor=c.actor,
            at=c.at.isoformat(timespec="seconds"),
            record_text=c.as_archive_note(labels[c.doc_id].get(c.position, c.key)),
        )
        for i, c in enumerate((c for cs in got.corrections.values() for c in cs), start=1)
    ]
    sample = [
        SampleRow(
            seq=i,
            archive_code=code.get(t.doc_id, ""),
            reviewer=t.claimed_by or "",
            status=t.status,
            corrected_fields=counts.get(t.doc_id, 0),
        )
        for i, t in enumerate((t for t in got.tasks if t.audit_sample), start=1)
    ]
    for name, sheet_rows in (("更正记录", corrections), ("抽检记录", sample)):
        sheet = spec.sheet(name)
        title = f"{name}　全宗号 {fonds}　批次 {opts.batch_id}"
        write_workbook(folder / f"{name}.xlsx", spec, sheet, title, sheet_rows)
