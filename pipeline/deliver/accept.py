"""`dangan accept PACKAGE`: the receiving archive's check of a delivery, written as that side would.

It trusts nothing the package says about itself until it has checked it: the bag's manifests, every
checksum, the catalogue against the files (数据挂接: no file without a row, no row without a file),
页数 against the PDF, 档号 unique and well formed, PDF/A valid, images at the resolution required, ID
numbers and unit codes passing their checks, and METS against its schema. Every problem is named, not
only the first; each belongs to one of the four properties of DA/T 70's 四性检测 (真实性, 完整性,
可用性, 安全性), which the 移交与接收登记表 reports.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import bagit
import pikepdf
import pikepdf.pdfa
from lxml import etree
from pydantic import BaseModel, Field

from pipeline.deliver.catalogue_xml import read_catalogue_xml
from pipeline.deliver.mets import NSMAP, validate_mets
from pipeline.deliver.spec import PackageSpec, package_spec
from pipeline.extract.validators import parse_id_number, parse_unit_code

Property = Literal["真实性", "完整性", "可用性", "安全性"]
PROPERTIES: tuple[Property, ...] = ("真实性", "完整性", "可用性", "安全性")
RECORD_SHEET = "归档文件目录"
_CHUNK = 1 << 20
# What a delivery may hold in its payload; anything else (an executable, an archive) is a security finding.
_PAYLOAD_SUFFIXES = {".pdf", ".xlsx", ".xml", ".txt", ".json"}


class Problem(BaseModel):
    prop: Property
    check: str
    item: str
    message: str

    def __str__(self) -> str:
        return f"[{self.prop}] {self.check}: {self.item}: {self.message}"


class AcceptanceReport(BaseModel):
    package: Path
    batch_id: str = ""
    records: int = 0
    files: int = 0
    pages: int = 0
    payload_bytes: int = 0
    checks_run: dict[str, int] = Field(default_factory=dict, description="items each check looked at")
    problems: list[Problem] = []
    sample: list[dict[str, str]] = Field(default_factory=list, description="rows drawn for a human check")
    sample_seed: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems

    def passed_property(self, prop: Property) -> bool:
        return not any(p.prop == prop for p in self.problems)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Checker:
    def __init__(self, package: Path, spec: PackageSpec) -> None:
        self.root = package
        self.data = package / "data"
        self.spec = spec
        self.report = AcceptanceReport(package=package)

    def problem(self, prop: Property, check: str, item: str, message: str) -> None:
        self.report.problems.append(Problem(prop=prop, check=check, item=item, message=message))

    def counted(self, check: str, n: int = 1) -> None:
        self.report.checks_run[check] = self.report.checks_run.get(check, 0) + n

    # -- the bag ------------------------------------------------------------------------

    def bag(self) -> dict[str, str]:
        """Check manifests and checksums ourselves, so every bad file is named; returns the payload manifest."""
        try:
            bag = bagit.Bag(str(self.root))
        except bagit.BagError as e:
            self.problem("完整性", "BagIt", str(self.root), f"not a readable bag ({e})")
            return {}
        self.report.batch_id = str(bag.info.get("External-Identifier", ""))
        manifest = self._manifest(self.root / "manifest-sha256.txt", "manifest-sha256.txt")
        on_disk = {p.relative_to(self.root).as_posix() for p in self.data.rglob("*") if p.is_file()}
        for rel, expected in manifest.items():
            self.counted("checksum")
            path = self.root / rel
            if rel not in on_disk:
                self.problem("完整性", "BagIt manifest", rel, "listed in the manifest but missing")
            elif _sha256(path) != expected:
                self.problem("真实性", "checksum", rel, "SHA-256 differs from the manifest")
        for rel in sorted(on_disk - set(manifest)):
            self.problem("完整性", "BagIt manifest", rel, "in the payload but not in the manifest")
        oxum = str(bag.info.get("Payload-Oxum", ""))
        size = sum((self.root / r).stat().st_size for r in on_disk)
        self.report.payload_bytes = size
        if oxum != f"{size}.{len(on_disk)}":
            self.problem("完整性", "Payload-Oxum", "bag-info.txt", f"says {oxum}, the payload is {size}.{len(on_disk)}")
        tags = self._manifest(self.root / "tagmanifest-sha256.txt", "tagmanifest-sha256.txt")
        for rel, expected in tags.items():
            self.counted("tag checksum")
            path = self.root / rel
            if not path.is_file():
                self.problem("完整性", "tag manifest", rel, "missing")
            elif _sha256(path) != expected:
                self.problem("真实性", "tag manifest", rel, "SHA-256 differs from the tag manifest")
        for rel in sorted(on_disk):
            if Path(rel).suffix.lower() not in _PAYLOAD_SUFFIXES:
                self.problem("安全性", "file types", rel, "a file of a type a delivery does not hold")
        return manifest

    def _manifest(self, path: Path, name: str) -> dict[str, str]:
        if not path.is_file():
            self.problem("完整性", "BagIt", name, "missing")
            return {}
        entries: dict[str, str] = {}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            digest, _, rel = line.strip().partition(" ")
            rel = rel.strip().lstrip("*")
            if not re.fullmatch(r"[0-9a-f]{64}", digest) or not rel:
                self.problem("完整性", "BagIt", f"{name} line {n}", "not a SHA-256 manifest line")
                continue
            entries[rel] = digest
        return entries

    # -- catalogue against files ----------------------------------------------------------

    def catalogue(self, manifest: dict[str, str]) -> list[dict[str, str]]:
        path = self.data / self.spec.catalogue_dir / f"{RECORD_SHEET}.xml"
        if not path.is_file():
            self.problem(
                "完整性", "数据挂接", f"{self.spec.catalogue_dir}/{RECORD_SHEET}.xml", "the catalogue is missing"
            )
            return []
        try:
            rows = read_catalogue_xml(path)
        except etree.XMLSyntaxError as e:
            self.problem("完整性", "数据挂接", path.name, f"the catalogue cannot be read ({e})")
            return []
        self.report.records = len(rows)
        pattern = re.compile(self.spec.archive_code_pattern)
        codes = Counter(r.get("档号", "") for r in rows)
        for code, n in codes.items():
            if n > 1:
                self.problem("完整性", "档号 unique", code, f"listed {n} times in {RECORD_SHEET}")
        listed: set[str] = set()
        for row in rows:
            code = row.get("档号", "")
            rel = row.get("文件名", "")
            self.counted("数据挂接")
            if not pattern.fullmatch(code):
                self.problem(
                    "真实性", "档号 form", code or f"row {row.get('序号')}", "not 全宗号-年度-业务类型-卷号-件号"
                )
            listed.add(f"data/{rel}")
            path = self.data / rel
            if not rel or not path.is_file():
                self.problem("完整性", "数据挂接", code, f"row without a file ({rel or 'no file name'})")
                continue
            if row.get("SHA-256") and manifest.get(f"data/{rel}") not in (None, row["SHA-256"]):
                self.problem("真实性", "catalogue checksum", code, "the SHA-256 column differs from the file")
            self._id_checks(code, row)
        records = {p for p in manifest if p.endswith(".pdf")}
        on_disk = {f"data/{p.relative_to(self.data).as_posix()}" for p in self.data.rglob("*.pdf")}
        for rel in sorted((records | on_disk) - listed):
            self.problem("完整性", "数据挂接", rel, "file without a catalogue row")
        self.report.files = len(on_disk)
        return rows

    def _id_checks(self, code: str, row: dict[str, str]) -> None:
        id_number = row.get("公民身份号码", "")
        if id_number:
            self.counted("公民身份号码")
            parsed, repaired = parse_id_number(id_number)
            if parsed != id_number or repaired:
                self.problem("真实性", "公民身份号码 (GB 11643)", code, "fails its check")
        unit_code = row.get("统一社会信用代码", "")
        if unit_code:
            self.counted("统一社会信用代码")
            if parse_unit_code(unit_code) != unit_code:
                self.problem("真实性", "统一社会信用代码 (GB 32100)", code, "fails its check")

    # -- the files themselves ------------------------------------------------------------------

    def files(self, rows: list[dict[str, str]]) -> None:
        for row in rows:
            code = row.get("档号", "")
            path = self.data / row.get("文件名", "")
            if not row.get("文件名") or not path.is_file():
                continue
            self.counted("PDF/A")
            try:
                with pikepdf.open(path) as pdf:
                    pages = len(pdf.pages)
                    self.report.pages += pages
                    if str(pages) != row.get("页数", ""):
                        self.problem("完整性", "页数", code, f"catalogue says {row.get('页数')}, the PDF has {pages}")
                    for n, dpi in self._page_dpis(pdf):
                        if dpi < self.spec.min_dpi - 0.5:
                            self.problem("可用性", "resolution", code, f"page {n} is {dpi:.0f} DPI")
                    if "/Names" in pdf.Root and any(k in pdf.Root.Names for k in ("/JavaScript", "/EmbeddedFiles")):
                        self.problem("安全性", "active content", code, "holds JavaScript or embedded files")
            except pikepdf.PdfError as e:
                self.problem("可用性", "PDF", code, f"cannot be opened ({e})")
                continue
            result = pikepdf.pdfa.validate_written(path, "2b")
            if not result.passed:
                self.problem("可用性", "PDF/A-2b", code, "; ".join(str(f) for f in list(result.findings)[:3]))

    @staticmethod
    def _page_dpis(pdf: pikepdf.Pdf) -> Iterator[tuple[int, float]]:
        """The finest image on each page, in pixels per inch of the page (the text layer's page box)."""
        for n, page in enumerate(pdf.pages, start=1):
            box = page.mediabox
            width_in = (float(box[2]) - float(box[0])) / 72.0
            images = list(page.get_images().values())
            if not images:
                yield n, 0.0
                continue
            yield n, max(int(img.Width) for img in images) / width_in

    # -- METS ---------------------------------------------------------------------------------

    def mets(self, rows: list[dict[str, str]]) -> None:
        found = sorted(self.data.glob("METS.*.xml"))
        if not found:
            self.problem("完整性", "METS", "data/METS.*.xml", "missing")
            return
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            doc = etree.parse(str(found[0]), parser)
        except etree.XMLSyntaxError as e:
            self.problem("完整性", "METS", found[0].name, f"not well-formed ({e})")
            return
        for err in validate_mets(doc)[:20]:
            self.problem("真实性", "METS schema", found[0].name, err)
        hrefs = {
            f.get(f"{{{NSMAP['xlink']}}}href"): f.getparent().get("CHECKSUM")
            for f in doc.iterfind(".//{http://www.loc.gov/METS/}FLocat")
        }
        for row in rows:
            self.counted("METS")
            rel = row.get("文件名", "")
            if rel not in hrefs:
                self.problem("完整性", "METS", row.get("档号", ""), "the record is not in the METS file section")
            elif row.get("SHA-256") and hrefs[rel] != row["SHA-256"]:
                self.problem("真实性", "METS", row.get("档号", ""), "METS checksum differs from the catalogue")

    def sample(self, rows: list[dict[str, str]], seed: int) -> None:
        n = min(len(rows), max(1, math.ceil(len(rows) * self.spec.sample_share))) if rows else 0
        self.report.sample_seed = seed
        self.report.sample = sorted(random.Random(seed).sample(rows, n), key=lambda r: r.get("档号", ""))


def check_package(package: Path, *, seed: int = 0, spec: PackageSpec | None = None) -> AcceptanceReport:
    """Run every check over the package folder; the report lists every problem found."""
    checker = _Checker(package, spec or package_spec())
    manifest = checker.bag()
    rows = checker.catalogue(manifest)
    checker.files(rows)
    checker.mets(rows)
    checker.sample(rows, seed)
    return checker.report
