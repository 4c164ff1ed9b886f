"""File names are bytes: a lossless text form for the catalogue, logs and summaries.

A scanner share may hold names in any encoding (Latin-1, GBK, broken UTF-8). The catalogue stores
text, so every name is kept as `name_text(raw)`: valid UTF-8 stays as it is, each undecodable byte and
each character that does not print (controls, format characters) becomes `\\xHH` and a backslash
becomes `\\\\`. The form is valid UTF-8 (any database takes it), safe to print (no newline can forge a
log line) and `name_bytes` turns it back into the exact bytes, so identity and fixity follow the name
on disk.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def _printable(ch: str) -> bool:
    # Controls, format characters (a right-to-left override makes "gpj.exe" read as "exe.jpg"),
    # unassigned code points and odd spaces are all escaped: what is shown is what is there.
    return ch.isprintable()


def name_text(raw: bytes) -> str:
    """The lossless, printable text form of a raw name (or relative path) of the batch folder."""
    out: list[str] = []
    rest = raw
    while rest:
        try:
            text = rest.decode("utf-8")
            bad = b""
            rest = b""
        except UnicodeDecodeError as e:
            text = rest[: e.start].decode("utf-8")
            bad = rest[e.start : e.end]
            rest = rest[e.end :]
        for ch in text:
            if ch == "\\":
                out.append("\\\\")
            elif _printable(ch):
                out.append(ch)
            else:
                out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
        out.extend(f"\\x{b:02x}" for b in bad)
    return "".join(out)


def name_bytes(text: str) -> bytes:
    """The raw name a `name_text` form stands for."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        out += text[pos : m.start()].encode("utf-8")
        token = m.group(1)
        out += b"\\" if token == "\\" else bytes([int(token[1:], 16)])
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)
