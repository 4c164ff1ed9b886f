"""Catalogue sheets as XML: the same rows and columns as the xlsx, for the receiving system to load."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lxml import etree
from pydantic import BaseModel

from pipeline.deliver.sheets import cell_value
from pipeline.deliver.spec import SheetSpec


def write_catalogue_xml(out: Path, sheet: SheetSpec, attrs: dict[str, str], rows: Sequence[BaseModel]) -> Path:
    root = etree.Element("目录", 名称=sheet.name, 标准=sheet.standard, 条目数=str(len(rows)), **attrs)
    for row in rows:
        item = etree.SubElement(root, "条目")
        for col in sheet.columns:
            etree.SubElement(item, col.header).text = str(cell_value(row, col.source))
    out.parent.mkdir(parents=True, exist_ok=True)
    etree.ElementTree(root).write(str(out), encoding="utf-8", xml_declaration=True, pretty_print=True)
    return out


def read_catalogue_xml(path: Path) -> list[dict[str, str]]:
    """The rows of a catalogue XML as header → text, for the acceptance check."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    return [{child.tag: child.text or "" for child in item} for item in root.iterfind("条目")]
