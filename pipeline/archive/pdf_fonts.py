"""ToUnicode CMaps: the map from a composite font's 2-byte codes to the text they stand for.

The archive's text layer (`text_layer`) shows codes of a glyphless font; the ToUnicode CMap is
the only place the text lives, so text extraction, search and copy all go through it.
"""

from __future__ import annotations

import re

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = rb"<([0-9A-Fa-f]+)>"
_BFCHAR_BLOCK = 100  # a CMap block holds at most 100 entries (PDF 32000-1, 9.10.3)


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
