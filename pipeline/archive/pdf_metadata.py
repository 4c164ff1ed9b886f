"""What an archive PDF says about itself: the metadata model and how it lands in XMP and DocInfo.

PDF/A-2 admits only the predefined XMP schemas unless a custom one is described by an
extension schema, and the validator that approves our files (pikepdf's, the one OCRmyPDF
uses) does not accept extension schemas. So the archive's own identifiers go into
predefined Dublin Core / XMP properties, which every PDF/A reader understands:

=================  ===========================================================
archive_no         dc:identifier, and ``archive_no:…`` in xmp:Identifier
record_id          ``record_id:…`` in xmp:Identifier and dc:relation
form_date (形成日期) dc:date
title (材料名称)    dc:title (language alternative, zh-CN as the default)
author             dc:creator
subject            dc:description
keywords           dc:subject (bag) and pdf:Keywords
publisher          dc:publisher (e.g. the agency or 全宗)
source             dc:source (the scan the pages came from)
doc_type           dc:type (form type / 材料类别)
=================  ===========================================================

The same identifiers are also written as custom DocInfo keys (/ArchiveNo, /RecordId,
/FormDate), which PDF/A-2 permits and tools such as pdfinfo show.
"""

from __future__ import annotations

from datetime import date

import pikepdf
from pikepdf import Name
from pydantic import BaseModel, ConfigDict, Field

LANGUAGE = "zh-CN"


class PdfMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, description="材料名称")
    archive_no: str = Field(min_length=1, description="档案编号 年度-业务类型-卷号-件号")
    record_id: str = Field(min_length=1)
    author: str | None = Field(default=None, description="who made the document, e.g. the agency")
    subject: str | None = None
    keywords: list[str] = []
    form_date: date | None = Field(default=None, description="形成日期")
    publisher: str | None = Field(default=None, description="holding agency or 全宗")
    source: str | None = Field(default=None, description="source scan, relative path")
    doc_type: str | None = Field(default=None, description="form type or category")


def _identifiers(meta: PdfMetadata) -> set[str]:
    return {f"archive_no:{meta.archive_no}", f"record_id:{meta.record_id}"}


def apply_metadata(pdf: pikepdf.Pdf, meta: PdfMetadata) -> None:
    """Write `meta` into the XMP packet and DocInfo of an open PDF."""
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:title"] = meta.title
        xmp["dc:identifier"] = meta.archive_no
        xmp["xmp:Identifier"] = _identifiers(meta)
        xmp["dc:relation"] = {f"record_id:{meta.record_id}"}
        xmp["dc:language"] = {LANGUAGE}
        if meta.author:
            xmp["dc:creator"] = [meta.author]
        if meta.subject:
            xmp["dc:description"] = meta.subject
        if meta.keywords:
            xmp["dc:subject"] = set(meta.keywords)
            xmp["pdf:Keywords"] = "; ".join(meta.keywords)
        if meta.form_date:
            xmp["dc:date"] = [meta.form_date.isoformat()]
        if meta.publisher:
            xmp["dc:publisher"] = {meta.publisher}
        if meta.source:
            xmp["dc:source"] = meta.source
        if meta.doc_type:
            xmp["dc:type"] = {meta.doc_type}
    info = pdf.docinfo
    info[Name("/ArchiveNo")] = meta.archive_no
    info[Name("/RecordId")] = meta.record_id
    if meta.form_date:
        info[Name("/FormDate")] = meta.form_date.isoformat()
    pdf.Root.Lang = pikepdf.String(LANGUAGE)
