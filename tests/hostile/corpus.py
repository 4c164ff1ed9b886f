"""A hostile batch, built at test time (no binary fixture is committed): what a scanner share can hold.

`build_corpus(root)` writes, under `root`:
- `batch/`: a few good synthetic scans, good pages in tricky encodings (16-bit grey, transparency,
  CMYK, JPEG 2000, an EXIF-rotated photo, names that are not UTF-8), and every kind of bad entry:
  links out of the batch, in it, dangling and looping, a FIFO and a socket, duplicates, degenerate
  and damaged files, archives renamed as scans, PDFs with JavaScript or an attachment, an encrypted
  PDF, truncated and empty files, vendors' file lists in GBK and UTF-8 with a BOM with bad rows;
- `second/`: a later batch holding a copy of a scan of the first and one new scan;
- `outside/`: what the links point at (a FIFO, a file whose access time is watched, a folder).

It returns what each entry must become, so a test can hold the pipeline to it. Run it on its own
(`python -m tests.hostile.corpus DIR`) to look at the files.
"""

from __future__ import annotations

import io
import os
import socket
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pikepdf
from openpyxl import Workbook
from PIL import Image

from synth import generate_batch
from tests.pagegen import render_form

PAGE_DPI = 100.0
# Access and modification times of the watched outside file: access before modification, so even a
# relatime mount records a read.
WATCHED_ATIME = datetime(2001, 1, 1).timestamp()
WATCHED_MTIME = datetime(2002, 1, 1).timestamp()


@dataclass
class Corpus:
    batch: Path
    second: Path
    outside: Path
    fifos: list[Path]
    watched: Path
    good: dict[str, int] = field(default_factory=dict)
    """shown name → pages: every one must be ingested, each page exactly once."""
    not_blank: set[str] = field(default_factory=set)
    """good files whose page holds a form: decoded right, it is not blank."""
    quarantined: dict[str, str] = field(default_factory=dict)
    """shown name → words of the reason."""
    skipped: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)
    """shown name → the shown name of its original (words of the reason)."""
    notes: dict[str, str] = field(default_factory=dict)
    bad_rows: dict[tuple[str, int], str] = field(default_factory=dict)
    """(file list, row) → words of the reason."""
    second_good: dict[str, int] = field(default_factory=dict)
    second_duplicates: dict[str, str] = field(default_factory=dict)


def page_image(seed: int) -> Image.Image:
    return Image.fromarray(render_form(PAGE_DPI, seed=seed)[:, :, ::-1])


def page_jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    page_image(seed).save(buf, "JPEG", quality=80, dpi=(PAGE_DPI, PAGE_DPI))
    return buf.getvalue()


def page_pdf(seed: int) -> bytes:
    buf = io.BytesIO()
    page_image(seed).save(buf, "PDF", resolution=PAGE_DPI)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png() -> bytes:
    """A PNG whose header declares 200000 x 200000 pixels and whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", 200_000, 200_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def looping_tiff() -> bytes:
    """A two-page TIFF whose second page points back at the first."""
    buf = io.BytesIO()
    first = page_image(40).convert("L")
    first.save(buf, "TIFF", save_all=True, append_images=[page_image(41).convert("L")], dpi=(PAGE_DPI, PAGE_DPI))
    data = bytearray(buf.getvalue())
    order = "<" if data[:2] == b"II" else ">"
    (ifd1,) = struct.unpack_from(order + "I", data, 4)
    (n1,) = struct.unpack_from(order + "H", data, ifd1)
    (ifd2,) = struct.unpack_from(order + "I", data, ifd1 + 2 + 12 * n1)
    (n2,) = struct.unpack_from(order + "H", data, ifd2)
    struct.pack_into(order + "I", data, ifd2 + 2 + 12 * n2, ifd1)
    return bytes(data)


def many_tiny_pages_tiff(pages: int = 500) -> bytes:
    buf = io.BytesIO()
    dot = Image.new("L", (1, 1), 0)
    dot.save(buf, "TIFF", save_all=True, append_images=[dot] * (pages - 1))
    return buf.getvalue()


def grey16_png(seed: int) -> bytes:
    grey = np.asarray(page_image(seed).convert("L"), dtype=np.uint16) * 257
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, "PNG", dpi=(PAGE_DPI, PAGE_DPI))
    return buf.getvalue()


def ink_in_alpha_png(seed: int) -> bytes:
    """Black everywhere, the ink in the alpha channel: dropping alpha gives an all-black page."""
    grey = np.asarray(page_image(seed).convert("L"))
    rgba = np.zeros((*grey.shape, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255 - grey
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG", dpi=(PAGE_DPI, PAGE_DPI))
    return buf.getvalue()


def palette_transparency_png(seed: int) -> bytes:
    """A palette page whose paper is a transparent black: dropping transparency gives an all-black page."""
    grey = np.asarray(page_image(seed).convert("L"))
    index = np.where(grey > 128, 0, 1).astype(np.uint8)
    im = Image.fromarray(index, "P")
    im.putpalette([0, 0, 0, 0, 0, 0] + [0, 0, 0] * 254)
    buf = io.BytesIO()
    im.save(buf, "PNG", transparency=0, dpi=(PAGE_DPI, PAGE_DPI))
    return buf.getvalue()


def cmyk_jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    page_image(seed).convert("CMYK").save(buf, "JPEG", quality=85, dpi=(PAGE_DPI, PAGE_DPI))
    return buf.getvalue()


def jpeg2000(seed: int) -> bytes:
    buf = io.BytesIO()
    page_image(seed).save(buf, "JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[20])
    return buf.getvalue()


def exif_rotated_jpeg(seed: int) -> bytes:
    """A phone photo: pixels stored lying on their side, EXIF orientation 6 says turn 90° clockwise."""
    stored = page_image(seed).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=80, exif=exif, dpi=(PAGE_DPI, PAGE_DPI))
    return buf.getvalue()


def pdf_with_javascript(seed: int) -> bytes:
    with pikepdf.open(io.BytesIO(page_pdf(seed))) as pdf:
        action = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hello');"))
        )
        pdf.Root.OpenAction = action
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def pdf_with_attachment(seed: int) -> bytes:
    with pikepdf.open(io.BytesIO(page_pdf(seed))) as pdf:
        pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not really a program")
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def encrypted_pdf(seed: int) -> bytes:
    with pikepdf.open(io.BytesIO(page_pdf(seed))) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner"))
        return out.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("scan_0001.tif", b"not inside")
    return buf.getvalue()


def _pages_of(path: Path) -> int:
    if path.suffix.lower() == ".pdf":
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    with Image.open(path) as im:
        return getattr(im, "n_frames", 1)


def _write(folder: Path, raw_name: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), raw_name), "wb") as fh:
        fh.write(data)


def _outside(root: Path) -> tuple[Path, list[Path], Path]:
    outside = root / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "folder" / "private.jpg").write_bytes(page_jpeg(90))
    fifo = outside / "fifo"
    os.mkfifo(fifo)
    watched = outside / "watched.jpg"
    watched.write_bytes(page_jpeg(91))
    os.utime(watched, (WATCHED_ATIME, WATCHED_MTIME))
    return outside, [fifo], watched


def _synthetic(batch: Path, c: Corpus, docs: int, seed: int) -> None:
    truth = generate_batch(batch, docs, seed, "mixed", workers=1)
    for rel in truth.files():
        c.good[rel] = _pages_of(batch / rel)
    c.skipped["ground_truth.json"] = "not a scan"


def _good_tricky(batch: Path, c: Corpus) -> None:
    tricky: dict[bytes, bytes] = {
        b"grey16.png": grey16_png(10),
        b"ink_in_alpha.png": ink_in_alpha_png(11),
        b"palette_transparent.png": palette_transparency_png(12),
        b"cmyk.jpg": cmyk_jpeg(13),
        b"page.jp2": jpeg2000(14),
        b"photo_exif_rotated.jpg": exif_rotated_jpeg(15),
        b"caf\xe9_latin1.jpg": page_jpeg(16),
        "档案_gbk.jpg".encode("gbk"): page_jpeg(17),
        b"line\nbreak.jpg": page_jpeg(18),
        b"[bold]markup.jpg": page_jpeg(19),
    }
    for raw, data in tricky.items():
        _write(batch, raw, data)
    shown = {
        b"caf\xe9_latin1.jpg": "caf\\xe9_latin1.jpg",
        "档案_gbk.jpg".encode("gbk"): "\\xb5\\xb5\\xb0\\xb8_gbk.jpg",
        b"line\nbreak.jpg": "line\\x0abreak.jpg",
    }
    for raw in tricky:
        name = shown[raw] if raw in shown else raw.decode()
        c.good[name] = 1
        c.not_blank.add(name)
    _write(batch, b"with_javascript.pdf", pdf_with_javascript(20))
    _write(batch, b"with_attachment.pdf", pdf_with_attachment(21))
    c.good |= {"with_javascript.pdf": 1, "with_attachment.pdf": 1}
    c.notes |= {"with_javascript.pdf": "JavaScript", "with_attachment.pdf": "attached file"}


def _bad_files(batch: Path, c: Corpus) -> None:
    truncated_png = grey16_png(30)
    bad: dict[str, tuple[bytes, str]] = {
        "tiny_pages_500.tif": (many_tiny_pages_tiff(), "1x1 pixels"),
        "looping_index.tif": (looping_tiff(), "loop"),
        "bomb.png": (bomb_png(), "too large"),
        "archive_renamed.pdf": (zip_bytes(), "ZIP archive"),
        "archive_renamed.tif": (zip_bytes() + b"\0", "ZIP archive"),
        "jbig2_renamed.tif": (b"\x97JB2\r\n\x1a\n" + b"\0" * 64, "JBIG2"),
        "encrypted.pdf": (encrypted_pdf(31), "password"),
        "truncated.jpg": (page_jpeg(32)[:4000], "truncated"),
        "truncated.png": (truncated_png[: len(truncated_png) // 3], "truncated"),
        "empty.pdf": (b"", "empty"),
        "text_named_as.jpg": ("这不是扫描件\n".encode(), "not a PDF, JPEG, PNG or TIFF"),
    }
    for name, (data, words) in bad.items():
        _write(batch, name.encode(), data)
        c.quarantined[name] = words
    tiny = io.BytesIO()
    Image.new("L", (50, 50), 255).save(tiny, "PNG")
    _write(batch, b"tiny.png", tiny.getvalue())
    c.quarantined["tiny.png"] = "50x50 pixels"
    small_at_dpi = io.BytesIO()
    page_image(33).convert("L").resize((400, 566)).save(small_at_dpi, "PNG", dpi=(1200, 1200))
    _write(batch, b"stamp_at_1200dpi.png", small_at_dpi.getvalue())
    c.quarantined["stamp_at_1200dpi.png"] = "mm at the 1200 DPI"


def _links_and_specials(batch: Path, outside: Path, fifo: Path, watched: Path, c: Corpus) -> list[Path]:
    links = {
        "etc_passwd.pdf": ("/etc/passwd", "link leaves the batch folder"),
        "secret.jpg": (str(watched), "link leaves the batch folder"),
        "pipe_outside.tif": (str(fifo), "link leaves the batch folder"),
        "up": ("..", "link leaves the batch folder"),
        "elsewhere": (str(outside / "folder"), "link leaves the batch folder"),
        "dangling.pdf": ("no_such_scan.pdf", "dangling link"),
        "loop_a.pdf": ("loop_b.pdf", "link loop"),
        "loop_b.pdf": ("loop_a.pdf", "link loop"),
        "alias_of_cmyk.jpg": ("cmyk.jpg", "link to cmyk.jpg inside the batch"),
    }
    for name, (target, words) in links.items():
        os.symlink(target, batch / name)
        c.skipped[name] = words
    inside_fifo = batch / "pipe_inside.pdf"
    os.mkfifo(inside_fifo)
    c.skipped["pipe_inside.pdf"] = "FIFO"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(batch / "scanner.sock.jpg"))
    finally:
        sock.close()
    c.skipped["scanner.sock.jpg"] = "socket"
    (batch / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    c.skipped[".DS_Store"] = "hidden"
    (batch / "readme.txt").write_text("scanned by vendor X\n", encoding="utf-8")
    c.skipped["readme.txt"] = "not a scan"
    return [inside_fifo]


def _duplicates(batch: Path, c: Corpus) -> None:
    (batch / "rescan").mkdir()
    (batch / "rescan" / "cmyk_again.jpg").write_bytes((batch / "cmyk.jpg").read_bytes())
    c.duplicates["rescan/cmyk_again.jpg"] = "duplicate of cmyk.jpg"
    _write(batch, b"~[bold]dropped_twice.jpg", (batch / "grey16.png").read_bytes())
    c.duplicates["~[bold]dropped_twice.jpg"] = "duplicate of grey16.png"


def _file_lists(batch: Path, c: Corpus) -> None:
    good = sorted(name for name in c.good if "\\" not in name)
    gbk_rows = [
        "文件名,盒号,扫描日期,页数",
        f"{good[0]},0001,2024-03-05,{c.good[good[0]]}",
        "档案_gbk.jpg,0001,2024/03/05,1",
        "../../etc/passwd,0001,2024-03-05,1",
        "missing_scan.jpg,0002,2024-03-05,1",
        f"{good[1]},盒#1,2024-03-05,1",
        f"{good[2]},0003,2024-13-45,1",
        f"{good[3]},0003,2099-01-01,1",
        f"{good[4]},0003,2024-03-05,-3",
        f"{good[0]},0001,2024-03-05,1",
    ]
    (batch / "清单_gbk.csv").write_bytes(("\r\n".join(gbk_rows) + "\r\n").encode("gbk"))
    for row, words in {
        4: "leaves the batch folder",
        5: "is not a scan in the batch",
        6: "box number",
        7: "is not a date",
        8: "out of range",
        9: "page count",
        10: "listed twice",
    }.items():
        c.bad_rows[("清单_gbk.csv", row)] = words
    c.skipped["清单_gbk.csv"] = "vendor's file list"
    bom_rows = ["file,box,date", f"{good[5]},B-12,20240305", "/mnt/share/x.jpg,B-12,20240305", "C:\\scans\\y.jpg,B-1,"]
    (batch / "list_bom.csv").write_bytes("\ufeff".encode() + ("\n".join(bom_rows) + "\n").encode())
    c.bad_rows[("list_bom.csv", 3)] = "leaves the batch folder"
    c.bad_rows[("list_bom.csv", 4)] = "leaves the batch folder"
    c.skipped["list_bom.csv"] = "vendor's file list"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["文件名", "盒号", "扫描日期"])
    sheet.append([good[6], 12, datetime(2024, 3, 5)])
    sheet.append([good[7], "??", "not a date"])
    book.save(batch / "清单.xlsx")
    c.bad_rows[("清单.xlsx", 3)] = "box number"
    c.skipped["清单.xlsx"] = "vendor's file list"
    (batch / "old_list.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    c.skipped["old_list.xls"] = ".xls format"
    (batch / "notes.csv").write_text("说明,备注\n扫描完成,无\n", encoding="utf-8")
    c.skipped["notes.csv"] = "no file-name column"


def _second_batch(root: Path, batch: Path, c: Corpus) -> None:
    second = root / "second"
    second.mkdir()
    (second / "again_cmyk.jpg").write_bytes((batch / "cmyk.jpg").read_bytes())
    c.second_duplicates["again_cmyk.jpg"] = "duplicate of cmyk.jpg in batch"
    (second / "new_scan.jpg").write_bytes(page_jpeg(60))
    c.second_good["new_scan.jpg"] = 1


def build_corpus(root: Path, synthetic_docs: int = 4, seed: int = 1212) -> Corpus:
    """Write the hostile corpus under `root` (which must not exist yet or be empty)."""
    root.mkdir(parents=True, exist_ok=True)
    batch = root / "batch"
    outside, fifos, watched = _outside(root)
    c = Corpus(batch=batch, second=root / "second", outside=outside, fifos=fifos, watched=watched)
    _synthetic(batch, c, synthetic_docs, seed)
    _good_tricky(batch, c)
    _bad_files(batch, c)
    c.fifos += _links_and_specials(batch, outside, fifos[0], watched, c)
    _duplicates(batch, c)
    _file_lists(batch, c)
    _second_batch(root, batch, c)
    # Last, after every write: the watched file's times as the test expects them.
    os.utime(watched, (WATCHED_ATIME, WATCHED_MTIME))
    return c


if __name__ == "__main__":
    built = build_corpus(Path(sys.argv[1]))
    print(f"{built.batch}: {len(built.good)} good files, {len(built.quarantined)} to quarantine, "
          f"{len(built.skipped)} to skip, {len(built.duplicates)} duplicates")  # fmt: skip
