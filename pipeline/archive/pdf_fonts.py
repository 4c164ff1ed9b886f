"""Re-encode composite fonts that carry an embedded CMap so text extractors read them right.

fpdf2 (OCRmyPDF's text-layer renderer) embeds CFF CJK fonts as Type0 fonts whose /Encoding
is an embedded CMap stream mapping its own 2-byte codes to CIDs. That is valid PDF, and
poppler reads it, but pypdf does not understand embedded CMaps: it falls back to one-byte
codes and extracts "\\x00社\\x00会…". Rewriting the shown strings as CIDs and switching the
font to the predefined /Identity-H encoding (code == CID) keeps every glyph and width as it
was and is understood by every reader. PDF/A-2 (6.2.11.3.1) accepts Identity-H with any
CIDSystemInfo, so the file stays conforming.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name, Object, Stream, String

log = logging.getLogger(__name__)

_CODESPACE = re.compile(rb"begincodespacerange(.*?)endcodespacerange", re.S)
_CIDCHAR = re.compile(rb"begincidchar(.*?)endcidchar", re.S)
_CIDRANGE = re.compile(rb"begincidrange(.*?)endcidrange", re.S)
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = rb"<([0-9A-Fa-f]+)>"
_TEXT_SHOWING = {"Tj", "'", '"', "TJ"}
_BFCHAR_BLOCK = 100  # a CMap block holds at most 100 entries (PDF 32000-1, 9.10.3)

CodeToCid = dict[int, int]


def _two_byte_codespace(cmap: bytes) -> bool:
    spaces = _CODESPACE.findall(cmap)
    ranges = [r for block in spaces for r in re.findall(_HEX + rb"\s*" + _HEX, block)]
    return bool(ranges) and all(len(lo) == 4 and len(hi) == 4 for lo, hi in ranges)


def parse_cid_cmap(cmap: bytes) -> CodeToCid | None:
    """Code → CID of an embedded 2-byte CMap, or None when it is not one we can read exactly."""
    if b"usecmap" in cmap or not _two_byte_codespace(cmap):
        return None
    mapping: CodeToCid = {}
    for block in _CIDCHAR.findall(cmap):
        for code, cid in re.findall(_HEX + rb"\s+(\d+)", block):
            mapping[int(code, 16)] = int(cid)
    for block in _CIDRANGE.findall(cmap):
        for lo, hi, cid in re.findall(_HEX + rb"\s*" + _HEX + rb"\s+(\d+)", block):
            start = int(lo, 16)
            for offset in range(int(hi, 16) - start + 1):
                mapping[start + offset] = int(cid) + offset
    return mapping


def _utf16(hexstr: bytes) -> str:
    return bytes.fromhex(hexstr.decode()).decode("utf-16-be", errors="replace")


def parse_to_unicode(cmap: bytes) -> dict[int, str]:
    """Code → text of a ToUnicode CMap (bfchar and bfrange entries)."""
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        for code, dst in re.findall(_HEX + rb"\s*" + _HEX, block):
            mapping[int(code, 16)] = _utf16(dst)
    for block in _BFRANGE.findall(cmap):
        for lo, hi, rest in re.findall(_HEX + rb"\s*" + _HEX + rb"\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            start, end = int(lo, 16), int(hi, 16)
            if rest.startswith(b"["):
                for offset, dst in enumerate(re.findall(_HEX, rest)):
                    mapping[start + offset] = _utf16(dst)
                continue
            first = bytes.fromhex(rest[1:-1].decode())
            for offset in range(end - start + 1):
                # bfrange increments the last byte of the destination (PDF 32000-1, 9.10.3)
                dst = first[:-1] + bytes([(first[-1] + offset) & 0xFF]) if first else first
                mapping[start + offset] = dst.decode("utf-16-be", errors="replace")
    return mapping


def to_unicode_cmap(cid_to_text: dict[int, str]) -> bytes:
    """A ToUnicode CMap for Identity-H codes (2 bytes, code == CID)."""
    entries = sorted(cid_to_text.items())
    out = [
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
    ]
    for start in range(0, len(entries), _BFCHAR_BLOCK):
        block = entries[start : start + _BFCHAR_BLOCK]
        out.append(b"%d beginbfchar\n" % len(block))
        for cid, text in block:
            out.append(b"<%04X> <%s>\n" % (cid, text.encode("utf-16-be").hex().upper().encode()))
        out.append(b"endbfchar\n")
    out.append(b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
    return b"".join(out)


def _remap(raw: bytes, code_to_cid: CodeToCid) -> bytes:
    out = bytearray()
    for i in range(0, len(raw) - 1, 2):
        # An unmapped code selects CID 0 (.notdef) by the CMap rules; keep that meaning.
        cid = code_to_cid.get((raw[i] << 8) | raw[i + 1], 0)
        out += cid.to_bytes(2, "big")
    return bytes(out)


def _remap_operand(operand: Object, code_to_cid: CodeToCid) -> Object:
    if isinstance(operand, String):
        return String(_remap(bytes(operand), code_to_cid))
    if isinstance(operand, Array):
        return Array([_remap_operand(item, code_to_cid) for item in operand])
    return operand


def _fonts_of(resources: Object | None) -> dict[str, Object]:
    if not isinstance(resources, Dictionary) or Name.Font not in resources:
        return {}
    return {str(name): font for name, font in resources.Font.items()}


def _convertible(font: Object) -> CodeToCid | None:
    if not isinstance(font, Dictionary) or font.get(Name.Subtype) != Name.Type0:
        return None
    encoding = font.get(Name.Encoding)
    if not isinstance(encoding, Stream):
        return None
    return parse_cid_cmap(encoding.read_bytes())


def _content_holders(pdf: pikepdf.Pdf) -> Iterator[tuple[Object, Object | None]]:
    """(page or form XObject, resources its fonts resolve against), each stream once."""
    seen: set[tuple[int, int]] = set()

    def forms(resources: Object | None) -> Iterator[tuple[Object, Object | None]]:
        if not isinstance(resources, Dictionary) or Name.XObject not in resources:
            return
        for xobj in resources.XObject.values():
            if not isinstance(xobj, Stream) or xobj.get(Name.Subtype) != Name.Form:
                continue
            if xobj.objgen in seen:
                continue
            seen.add(xobj.objgen)
            own = xobj.get(Name.Resources, resources)
            yield xobj, own
            yield from forms(own)

    for page in pdf.pages:
        resources = page.obj.get(Name.Resources)
        yield page.obj, resources
        yield from forms(resources)


def _rewrite(instructions: list, fonts: dict[str, Object], maps: dict[tuple[int, int], CodeToCid]) -> bool:
    changed = False
    current: CodeToCid | None = None
    stack: list[CodeToCid | None] = []
    for index, (operands, operator) in enumerate(instructions):
        op = str(operator)
        if op == "q":
            stack.append(current)
        elif op == "Q":
            current = stack.pop() if stack else None
        elif op == "Tf" and operands:
            font = fonts.get(str(operands[0]))
            current = maps.get(font.objgen) if font is not None else None
        elif op in _TEXT_SHOWING and current is not None:
            new_operands = [_remap_operand(o, current) for o in operands]
            instructions[index] = pikepdf.ContentStreamInstruction(new_operands, operator)
            changed = True
    return changed


def reencode_cid_fonts_identity(pdf: pikepdf.Pdf) -> int:
    """Switch Type0 fonts with an embedded 2-byte CID CMap to /Identity-H; returns how many."""
    holders = list(_content_holders(pdf))
    maps: dict[tuple[int, int], CodeToCid] = {}
    fonts_by_id: dict[tuple[int, int], Object] = {}
    for _holder, resources in holders:
        for font in _fonts_of(resources).values():
            if font.objgen in maps or font.objgen == (0, 0):
                continue
            code_to_cid = _convertible(font)
            if code_to_cid is not None:
                maps[font.objgen] = code_to_cid
                fonts_by_id[font.objgen] = font
    if not maps:
        return 0

    for holder, resources in holders:
        fonts = _fonts_of(resources)
        if not any(f.objgen in maps for f in fonts.values()):
            continue
        source = holder if isinstance(holder, Stream) else pikepdf.Page(holder)
        instructions = list(pikepdf.parse_content_stream(source))
        if not _rewrite(instructions, fonts, maps):
            continue
        data = pikepdf.unparse_content_stream(instructions)
        if isinstance(holder, Stream):
            holder.write(data)
        else:
            holder.Contents = pdf.make_stream(data)

    for objgen, font in fonts_by_id.items():
        code_to_cid = maps[objgen]
        cid_to_text: dict[int, str] = {}
        if isinstance(font.get(Name.ToUnicode), Stream):
            for code, text in parse_to_unicode(font.ToUnicode.read_bytes()).items():
                cid = code_to_cid.get(code)
                # fpdf2 maps its filler code 0 to U+0000; a NUL in the text layer breaks search.
                if cid is not None and text and text != "\x00":
                    cid_to_text[cid] = text
        font.Encoding = Name("/Identity-H")
        font.ToUnicode = pdf.make_stream(to_unicode_cmap(cid_to_text))
    log.debug("re-encoded %d composite font(s) as Identity-H", len(maps))
    return len(maps)
