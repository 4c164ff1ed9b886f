"""One METS file per package: every 档号 linked to its PDF/A, with Dublin Core and PREMIS per record.

Laid out as Archivematica lays out an AIP's METS: a dmdSec (DC) and an amdSec (PREMIS object, events
and agents) per record, a fileSec with each file's SHA-256, and a logical structMap 全宗 → 卷 → 件.
Validated against the METS schema that metsrw ships, with the XLink schema kept in schemas/delivery/
so no network is needed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from lxml import etree

import schemas
from pipeline.deliver.provenance import PremisAgent, PremisEvent, RecordHistory
from pipeline.deliver.rows import DeliveryRow

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
PREMIS = "http://www.loc.gov/premis/v3"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"mets": METS, "xlink": XLINK, "premis": PREMIS, "dc": DC, "xsi": XSI}
_SCHEMA_DIR = Path(schemas.__file__).resolve().parent / "delivery"
_XLINK_XSD = _SCHEMA_DIR / "xlink.xsd"
_PREMIS_TYPES_XSD = _SCHEMA_DIR / "premis-types-lax.xsd"
_XS = "http://www.w3.org/2001/XMLSchema"


def _m(tag: str) -> str:
    return f"{{{METS}}}{tag}"


def _p(tag: str) -> str:
    return f"{{{PREMIS}}}{tag}"


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, attrib: dict[str, str] | None = None, **attrs: str
) -> etree._Element:
    el = etree.SubElement(parent, tag, attrib or {}, **attrs)
    if text is not None:
        el.text = text
    return el


def _wrap(parent: etree._Element, tag: str, el_id: str, mdtype: str) -> etree._Element:
    section = _sub(parent, _m(tag), ID=el_id)
    wrap = _sub(section, _m("mdWrap"), MDTYPE=mdtype)
    return _sub(wrap, _m("xmlData"))


def _premis_identifier(parent: etree._Element, kind: str, id_type: str, value: str) -> None:
    ident = _sub(parent, _p(f"{kind}Identifier"))
    _sub(ident, _p(f"{kind}IdentifierType"), id_type)
    _sub(ident, _p(f"{kind}IdentifierValue"), value)


def _premis_object(parent: etree._Element, row: DeliveryRow, size: int) -> None:
    obj = _sub(parent, _p("object"), attrib={f"{{{XSI}}}type": "premis:file"})
    _premis_identifier(obj, "object", "档号", row.archive_code)
    chars = _sub(obj, _p("objectCharacteristics"))
    fixity = _sub(chars, _p("fixity"))
    _sub(fixity, _p("messageDigestAlgorithm"), "SHA-256")
    _sub(fixity, _p("messageDigest"), row.sha256)
    _sub(chars, _p("size"), str(size))
    fmt = _sub(_sub(chars, _p("format")), _p("formatDesignation"))
    _sub(fmt, _p("formatName"), "PDF/A")
    _sub(fmt, _p("formatVersion"), "2b")
    _sub(obj, _p("originalName"), row.file_path)


def _premis_event(parent: etree._Element, event: PremisEvent) -> None:
    ev = _sub(parent, _p("event"))
    _premis_identifier(ev, "event", "UUID", event.identifier)
    _sub(ev, _p("eventType"), event.event_type)
    _sub(ev, _p("eventDateTime"), event.date_time)
    _sub(_sub(ev, _p("eventDetailInformation")), _p("eventDetail"), event.detail)
    outcome = _sub(ev, _p("eventOutcomeInformation"))
    _sub(outcome, _p("eventOutcome"), event.outcome)
    if event.outcome_note:
        _sub(_sub(outcome, _p("eventOutcomeDetail")), _p("eventOutcomeDetailNote"), event.outcome_note)
    for agent, role in event.agents:
        link = _sub(ev, _p("linkingAgentIdentifier"))
        _sub(link, _p("linkingAgentIdentifierType"), "local")
        _sub(link, _p("linkingAgentIdentifierValue"), agent.identifier)
        _sub(link, _p("linkingAgentRole"), role)


def _premis_agent(parent: etree._Element, agent: PremisAgent) -> None:
    el = _sub(parent, _p("agent"))
    _premis_identifier(el, "agent", "local", agent.identifier)
    _sub(el, _p("agentName"), agent.name)
    _sub(el, _p("agentType"), agent.kind)
    if agent.kind == "software":
        _sub(el, _p("agentVersion"), agent.name.rsplit(" ", 1)[-1])


def _dublin_core(parent: etree._Element, row: DeliveryRow) -> None:
    dc = _sub(parent, f"{{{DC}}}dc")
    _sub(dc, f"{{{DC}}}identifier", row.archive_code)
    _sub(dc, f"{{{DC}}}title", row.title)
    if row.responsible:
        _sub(dc, f"{{{DC}}}creator", row.responsible)
    if row.form_date:
        _sub(dc, f"{{{DC}}}date", row.form_date.isoformat())
    _sub(dc, f"{{{DC}}}type", row.form_id or "未识别材料")
    _sub(dc, f"{{{DC}}}subject", f"{row.insurance_type}—{row.business_step}")
    _sub(dc, f"{{{DC}}}format", "application/pdf (PDF/A-2b)")


def build_mets(
    batch_id: str,
    created: datetime,
    histories: list[RecordHistory],
    events: dict[str, list[PremisEvent]],
    sizes: dict[str, int],
    creators: list[PremisAgent],
) -> etree._ElementTree:
    """The METS document; `events` and `sizes` are keyed by record_id."""
    root = etree.Element(
        _m("mets"),
        nsmap=NSMAP,
        OBJID=batch_id,
        LABEL=f"社会保险业务档案交付包 {batch_id}",
        TYPE="AIP",
    )
    root.set(f"{{{XSI}}}schemaLocation", f"{METS} http://www.loc.gov/standards/mets/mets.xsd")
    hdr = _sub(root, _m("metsHdr"), CREATEDATE=created.isoformat(timespec="seconds"), RECORDSTATUS="Complete")
    for agent in creators:
        attrs = {"ROLE": "CREATOR", "TYPE": "ORGANIZATION" if agent.kind == "organization" else "OTHER"}
        if agent.kind == "software":
            attrs["OTHERTYPE"] = "SOFTWARE"
        elif agent.kind == "person":
            attrs["TYPE"] = "INDIVIDUAL"
        _sub(_sub(hdr, _m("agent"), attrib=attrs), _m("name"), agent.name)

    for n, h in enumerate(histories, start=1):
        _dublin_core(_wrap(root, "dmdSec", f"dmd-{n}", "DC"), h.row)
    for n, h in enumerate(histories, start=1):
        amd = _sub(root, _m("amdSec"), ID=f"amd-{n}")
        _premis_object(_wrap(amd, "techMD", f"tech-{n}", "PREMIS:OBJECT"), h.row, sizes[h.row.record_id])
        record_events = events[h.row.record_id]
        for k, event in enumerate(record_events, start=1):
            _premis_event(_wrap(amd, "digiprovMD", f"event-{n}-{k}", "PREMIS:EVENT"), event)
        agents = {a.identifier: a for e in record_events for a, _role in e.agents}
        for k, agent in enumerate(agents.values(), start=1):
            _premis_agent(_wrap(amd, "digiprovMD", f"agent-{n}-{k}", "PREMIS:AGENT"), agent)

    grp = _sub(_sub(root, _m("fileSec")), _m("fileGrp"), USE="preservation")
    for n, h in enumerate(histories, start=1):
        f = _sub(
            grp,
            _m("file"),
            ID=f"file-{n}",
            MIMETYPE="application/pdf",
            SIZE=str(sizes[h.row.record_id]),
            CHECKSUM=h.row.sha256,
            CHECKSUMTYPE="SHA-256",
            ADMID=f"amd-{n}",
            CREATED=h.pdfa_created.isoformat(timespec="seconds"),
        )
        _sub(
            f, _m("FLocat"), attrib={"LOCTYPE": "OTHER", "OTHERLOCTYPE": "SYSTEM", f"{{{XLINK}}}href": h.row.file_path}
        )

    smap = _sub(root, _m("structMap"), TYPE="logical", LABEL="全宗—年度—险种—业务环节—件")
    top = _sub(smap, _m("div"), TYPE="batch", LABEL=batch_id)
    volumes: dict[str, list[tuple[int, RecordHistory]]] = defaultdict(list)
    for n, h in enumerate(histories, start=1):
        volumes[h.row.volume_code].append((n, h))
    for v, code in enumerate(sorted(volumes), start=1):
        vdiv = _sub(top, _m("div"), TYPE="volume", LABEL=code, ORDER=str(v))
        for n, h in volumes[code]:
            item = _sub(
                vdiv,
                _m("div"),
                TYPE="item",
                LABEL=h.row.archive_code,
                ORDER=str(h.row.seq_in_volume),
                DMDID=f"dmd-{n}",
                ADMID=f"amd-{n}",
            )
            _sub(item, _m("fptr"), FILEID=f"file-{n}")
    return etree.ElementTree(root)


@lru_cache(maxsize=1)
def mets_schema() -> etree.XMLSchema:
    """The METS schema from metsrw's resources, its XLink import pointed at our local copy, and the
    PREMIS object types made resolvable (see premis-types-lax.xsd)."""
    xsd = etree.parse(str(files("metsrw") / "resources" / "mets.xsd"))
    root = xsd.getroot()
    for imp in root.iterfind(f"{{{_XS}}}import"):
        if imp.get("namespace") == XLINK:
            imp.set("schemaLocation", _XLINK_XSD.as_uri())
            imp.addnext(etree.Element(f"{{{_XS}}}import", namespace=PREMIS, schemaLocation=_PREMIS_TYPES_XSD.as_uri()))
    return etree.XMLSchema(xsd)


def validate_mets(doc: etree._ElementTree) -> list[str]:
    """Schema errors, each with its line; empty when valid."""
    schema = mets_schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def unlinked_events(doc: etree._ElementTree) -> list[str]:
    """PREMIS events that name no agent, or an agent the package does not describe."""
    described = set(
        doc.xpath("//premis:agent/premis:agentIdentifier/premis:agentIdentifierValue/text()", namespaces=NSMAP)
    )
    problems = []
    for ev in doc.iterfind(f".//{_p('event')}"):
        ident = ev.findtext(f"{_p('eventIdentifier')}/{_p('eventIdentifierValue')}")
        linked = ev.xpath("premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue/text()", namespaces=NSMAP)
        if not linked:
            problems.append(f"event {ident}: no agent")
        problems.extend(f"event {ident}: agent {a} is not described" for a in linked if a not in described)
    return problems
