"""Ingest, one hostile case at a time: names, links, special files, duplicates, decoding, degenerate
files, rules data, vendors' file lists (issue 12, classes 1 to 6)."""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook
from PIL import Image

from pipeline.context import RunContext
from pipeline.errors import (
    BadInputError,
    ConfigError,
    CorruptFileError,
    DecompressionBombError,
    DegenerateFileError,
    UnsupportedFileError,
)
from pipeline.ingest import discover, discover_batch, inspect_file, load_page
from pipeline.ingest.names import name_bytes, name_text
from pipeline.ingest.rules import RULES_FILE, load_rules
from pipeline.ingest.safe_open import open_in_batch
from pipeline.preserve.fixity import run_fixity
from pipeline.run import ingest_batch
from pipeline.settings import OcrSettings, Settings
from pipeline.store import open_store
from schemas.models import FileKind, FileStatus
from tests.hostile import corpus

# ---- 1. names are bytes ----------------------------------------------------------------------


def test_every_name_has_a_lossless_printable_text_form() -> None:
    rng = random.Random(12)
    samples = [bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 40))) for _ in range(2000)]
    samples += [b"caf\xe9.jpg", "档案.jpg".encode("gbk"), b"a\\x41", b"\\", b"new\nline", "普通.pdf".encode()]
    for raw in samples:
        text = name_text(raw)
        assert name_bytes(text) == raw
        assert text.isprintable() or "\\" in text
        text.encode("utf-8")  # storable in any catalogue
        assert "\n" not in text and "\r" not in text
    # Valid UTF-8 names without a backslash keep their form: existing catalogues keep their paths.
    assert name_text("盒01/个人注册登记表.pdf".encode()) == "盒01/个人注册登记表.pdf"
    assert name_text(b"caf\xe9.jpg") == "caf\\xe9.jpg"


def test_non_utf8_names_are_ingested_with_stable_ids(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    latin1, gbk = b"caf\xe9.jpg", "档案.jpg".encode("gbk")
    for seed, raw in enumerate((latin1, gbk)):
        with open(os.path.join(os.fsencode(batch), raw), "wb") as fh:
            fh.write(corpus.page_jpeg(seed))
    _, files, skipped = discover_batch(batch)
    assert skipped == []
    assert {f.rel_path for f in files} == {"caf\\xe9.jpg", "\\xb5\\xb5\\xb0\\xb8.jpg"}
    _, again, _ = discover_batch(batch)
    assert [f.file_id for f in again] == [f.file_id for f in files]
    settings = Settings(home=tmp_path / "home", workers=1, ocr=OcrSettings(engine="null"))
    summary = ingest_batch(batch, settings, show_progress=False)
    assert summary.quarantined == [] and summary.failed == [] and summary.documents == 2
    ctx = RunContext.create(settings, summary.batch_id, batch)
    assert ctx.source_path("caf\\xe9.jpg").read_bytes() == corpus.page_jpeg(0)
    # Fixity finds the originals under their raw names.
    with open_store(settings.database_url) as store:
        report = run_fixity(store)
    assert report.problems == [] and report.ok == report.checked >= 4


def test_a_utf8_name_keeps_the_file_id_it_always_had() -> None:
    old = hashlib.sha256("b1\0盒/a.pdf\0abc".encode()).hexdigest()[:32]
    assert discover.file_id_for("b1", "盒/a.pdf".encode(), "abc") == old


# ---- 2. links and special files --------------------------------------------------------------


def test_links_are_reported_never_followed(tmp_path: Path) -> None:
    batch, outside = tmp_path / "batch", tmp_path / "outside"
    batch.mkdir()
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(corpus.page_jpeg(1))
    (batch / "real.jpg").write_bytes(corpus.page_jpeg(2))
    (batch / "sub").mkdir()
    os.symlink(outside / "secret.jpg", batch / "out.jpg")
    os.symlink("../../outside", batch / "sub" / "up")
    os.symlink("gone.jpg", batch / "dangling.jpg")
    os.symlink("loop2.jpg", batch / "loop1.jpg")
    os.symlink("loop1.jpg", batch / "loop2.jpg")
    os.symlink("../real.jpg", batch / "sub" / "alias.jpg")
    os.mkfifo(batch / "pipe.pdf")
    _, files, skipped = discover_batch(batch)
    assert [f.rel_path for f in files] == ["real.jpg"]
    reasons = {s.rel_path: s.reason for s in skipped}
    assert reasons["out.jpg"].startswith(f"link leaves the batch folder (-> {outside / 'secret.jpg'})")
    assert reasons["sub/up"].startswith(f"link leaves the batch folder (-> {outside})")
    assert reasons["dangling.jpg"].startswith("dangling link (-> gone.jpg)")
    assert reasons["loop1.jpg"].startswith("link loop") and reasons["loop2.jpg"].startswith("link loop")
    assert reasons["sub/alias.jpg"].startswith("link to real.jpg inside the batch: a duplicate of it")
    assert reasons["pipe.pdf"] == "not a regular file (a FIFO, a named pipe); never opened"


def test_open_in_batch_never_follows_a_link_nor_opens_a_fifo(tmp_path: Path) -> None:
    batch, outside = tmp_path / "batch", tmp_path / "outside"
    (batch / "box").mkdir(parents=True)
    outside.mkdir()
    (outside / "x.jpg").write_bytes(b"outside")
    (batch / "box" / "x.jpg").write_bytes(b"inside")
    with open_in_batch(batch, b"box/x.jpg") as fh:
        assert fh.read() == b"inside"
    # A folder on the way swapped for a link out of the batch, after discovery saw a real one.
    (batch / "box" / "x.jpg").unlink()
    (batch / "box").rmdir()
    os.symlink(outside, batch / "box")
    with pytest.raises(UnsupportedFileError, match="link"):
        open_in_batch(batch, b"box/x.jpg")
    os.symlink(outside / "x.jpg", batch / "swapped.jpg")
    with pytest.raises(UnsupportedFileError, match="a link"):
        open_in_batch(batch, b"swapped.jpg")
    os.mkfifo(batch / "pipe.jpg")
    with pytest.raises(UnsupportedFileError, match="FIFO"):
        open_in_batch(batch, b"pipe.jpg")
    with pytest.raises(UnsupportedFileError, match="not inside"):
        open_in_batch(batch, b"../outside/x.jpg")


def test_a_file_that_changes_while_it_is_read_is_read_again_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    growing = batch / "copying.jpg"
    growing.write_bytes(corpus.page_jpeg(3))

    class Appending:
        """sha256 whose first update finds the vendor's copy still writing to the file."""

        appended = False

        def __init__(self, data: bytes = b"") -> None:
            self.inner = hashlib.sha256(data)

        def update(self, data: bytes) -> None:
            if not Appending.appended:
                Appending.appended = True
                with growing.open("ab") as fh:
                    fh.write(b"\0" * 4096)
            self.inner.update(data)

        def hexdigest(self) -> str:
            return self.inner.hexdigest()

    fake = type("hashlib", (), {"sha256": Appending})
    monkeypatch.setattr(discover, "hashlib", fake)
    _, files, skipped = discover_batch(batch)
    assert files == []
    assert [s.rel_path for s in skipped] == ["copying.jpg"]
    assert "changed while it was read" in skipped[0].reason and "next run" in skipped[0].reason
    monkeypatch.undo()
    _, files, skipped = discover_batch(batch)
    assert [f.rel_path for f in files] == ["copying.jpg"] and skipped == []


# ---- 3. duplicates ---------------------------------------------------------------------------


def test_the_file_taken_in_first_stays_the_original(tmp_path: Path) -> None:
    """A copy added later under a name that sorts first is the duplicate, not the file already archived."""
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "b.jpg").write_bytes(corpus.page_jpeg(4))
    settings = Settings(home=tmp_path / "home", workers=1, ocr=OcrSettings(engine="null"))
    ingest_batch(batch, settings, show_progress=False)
    (batch / "a_copy.jpg").write_bytes(corpus.page_jpeg(4))
    (batch / "c_empty.jpg").write_bytes(b"")
    (batch / "d_empty.jpg").write_bytes(b"")
    summary = ingest_batch(batch, settings, show_progress=False)
    assert [(d.rel_path, d.reason) for d in summary.duplicates] == [
        ("a_copy.jpg", "duplicate of b.jpg (the same bytes); recorded once")
    ]
    # Empty files are all alike: each is refused as empty, none is "a duplicate" of another.
    assert sorted(q.rel_path for q in summary.quarantined) == ["c_empty.jpg", "d_empty.jpg"]
    assert summary.documents == 1 and summary.files == 3
    with open_store(settings.database_url) as store:
        assert len(store.records()) == 1
        statuses = {f.rel_path: f.status for f in store.source_files(summary.batch_id)}
    assert statuses["a_copy.jpg"] is FileStatus.DUPLICATE and statuses["b.jpg"] is FileStatus.DONE


# ---- 4. decoding by real depth ---------------------------------------------------------------


def _save(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _ink_and_paper(image: np.ndarray) -> tuple[float, float]:
    """(share of dark pixels, share of light pixels) of a BGR page."""
    grey = image.mean(axis=2)
    return float((grey < 100).mean()), float((grey > 200).mean())


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("grey16.png", corpus.grey16_png, FileKind.PNG),
        ("ink_in_alpha.png", corpus.ink_in_alpha_png, FileKind.PNG),
        ("palette.png", corpus.palette_transparency_png, FileKind.PNG),
        ("cmyk.jpg", corpus.cmyk_jpeg, FileKind.JPEG),
        ("page.jp2", corpus.jpeg2000, FileKind.JP2),
    ],
)
def test_pages_decode_to_ink_on_paper(tmp_path: Path, name: str, make: object, kind: FileKind) -> None:
    assert callable(make)
    path = _save(tmp_path, name, make(5))
    assert inspect_file(path).kind is kind
    image, _dpi = load_page(path, kind, 1)
    ink, paper = _ink_and_paper(image)
    # A form page is mostly paper with some ink; all-white (16 bits clipped) or all-black (alpha dropped) fail.
    assert 0.005 < ink < 0.3 and paper > 0.6, (name, ink, paper)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = _save(tmp_path, "photo.jpg", corpus.exif_rotated_jpeg(6))
    image, _dpi = load_page(path, FileKind.JPEG, 1)
    upright = np.asarray(corpus.page_image(6))
    assert image.shape[:2] == upright.shape[:2]  # portrait again, as the paper was
    grey, expected = image.mean(axis=2), upright.mean(axis=2)
    assert np.abs(grey - expected).mean() < 12


def test_a_page_that_decodes_to_nothing_is_refused_not_blank(tmp_path: Path) -> None:
    """32-bit values far below the top of their range: scaled by 16 bits they would all come out black."""
    values = np.zeros((400, 300), dtype=np.int32)
    values[100:200, 50:250] = 100_000_000
    values[:, :] += 70_000
    path = tmp_path / "wide.tif"
    Image.fromarray(values, "I").save(path)
    image, _ = load_page(path, FileKind.TIFF, 1)
    assert image.min() < image.max()  # scaled by its own largest value, detail kept
    # 16-bit detail in the lowest bits only: no 8-bit page can show it, and a flat page is no blank page.
    faint = np.full((400, 300), 100, dtype=np.uint16)
    faint[100:200, 50:250] = 101
    Image.fromarray(faint).save(tmp_path / "faint.png")
    with pytest.raises(CorruptFileError, match="one flat colour although the file holds detail"):
        load_page(tmp_path / "faint.png", FileKind.PNG, 1)


# ---- 5. degenerate files ---------------------------------------------------------------------


def test_degenerate_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    cases: dict[str, tuple[bytes, type[BadInputError], str]] = {
        "dots.tif": (corpus.many_tiny_pages_tiff(20), DegenerateFileError, "1x1 pixels"),
        "loop.tif": (corpus.looping_tiff(), CorruptFileError, "a loop"),
        "bomb.png": (corpus.bomb_png(), DecompressionBombError, "too large"),
        "zip.pdf": (corpus.zip_bytes(), UnsupportedFileError, "ZIP archive"),
    }
    for name, (data, error, words) in cases.items():
        with pytest.raises(error, match=words):
            inspect_file(_save(tmp_path, name, data))


def test_a_tiff_index_past_the_end_is_damaged(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("L", (300, 300), 255).save(buf, "TIFF")
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, 4, len(data) + 1000)
    with pytest.raises(CorruptFileError, match="past the end"):
        inspect_file(_save(tmp_path, "cut.tif", bytes(data)))


def test_an_absurd_page_count_is_refused(tmp_path: Path) -> None:
    limit = load_rules().pages.max_per_file
    buf = io.BytesIO()
    page = Image.new("1", (300, 300), 1)
    page.save(buf, "TIFF", save_all=True, append_images=[page] * limit)
    with pytest.raises(DecompressionBombError, match=f"more than {limit} pages"):
        inspect_file(_save(tmp_path, "thick.tif", buf.getvalue()))


def test_small_pages_are_measured_in_pixels_and_at_their_declared_resolution(tmp_path: Path) -> None:
    small = io.BytesIO()
    Image.new("L", (400, 560), 255).save(small, "PNG", dpi=(1200, 1200))
    with pytest.raises(DegenerateFileError, match="mm at the 1200 DPI"):
        inspect_file(_save(tmp_path, "stamp.png", small.getvalue()))
    fine = io.BytesIO()
    Image.new("L", (400, 560), 255).save(fine, "PNG", dpi=(100, 100))
    assert inspect_file(_save(tmp_path, "receipt.png", fine.getvalue())).page_count == 1


def test_pdf_active_content_is_named_and_the_pages_kept(tmp_path: Path) -> None:
    js = inspect_file(_save(tmp_path, "js.pdf", corpus.pdf_with_javascript(7)))
    attached = inspect_file(_save(tmp_path, "att.pdf", corpus.pdf_with_attachment(8)))
    plain = inspect_file(_save(tmp_path, "plain.pdf", corpus.page_pdf(9)))
    assert js.page_count == attached.page_count == plain.page_count == 1
    assert js.note is not None and "JavaScript" in js.note and "none of it reaches the archive" in js.note
    assert attached.note is not None and "attached file" in attached.note
    assert plain.note is None


def test_the_rules_file_is_validated(tmp_path: Path) -> None:
    assert load_rules(RULES_FILE).pages.min_side_px > 1
    broken = tmp_path / "rules.yaml"
    broken.write_text(RULES_FILE.read_text(encoding="utf-8").replace("min_side_px: 200", "min_side_px: -1"))
    with pytest.raises(ConfigError, match="min_side_px"):
        load_rules(broken)
    broken.write_text(RULES_FILE.read_text(encoding="utf-8").replace("version: 1", "version: 9"))
    with pytest.raises(ConfigError, match="not supported"):
        load_rules(broken)


# ---- 6. vendors' file lists and every skipped entry named ------------------------------------


def _list_batch(tmp_path: Path) -> Path:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "a.jpg").write_bytes(corpus.page_jpeg(1))
    with open(os.path.join(os.fsencode(batch), "档案.jpg".encode("gbk")), "wb") as fh:
        fh.write(corpus.page_jpeg(2))
    return batch


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_lists_in_every_encoding_vendors_use(tmp_path: Path, encoding: str) -> None:
    batch = _list_batch(tmp_path)
    text = "文件名,盒号,扫描日期\na.jpg,0007,2024-05-06\n档案.jpg,0007,2024年5月6日\n..\\x.jpg,#,2024-02-30\n"
    (batch / "清单.csv").write_bytes(text.encode(encoding))
    _, _, skipped = discover_batch(batch)
    rows = {s.row: s.reason for s in skipped if s.rel_path == "清单.csv"}
    assert rows[None].startswith("vendor's file list, not a scan: 3 rows checked, 1 bad")
    assert set(rows) == {None, 4}
    assert "leaves the batch folder" in rows[4] and "box number '#'" in rows[4] and "not a date" in rows[4]


def test_xlsx_lists_and_lists_that_cannot_be_read(tmp_path: Path) -> None:
    batch = _list_batch(tmp_path)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "影像文件", "盒号", "扫描日期", "页数"])
    sheet.append([1, "a.jpg", 7, None, 1])
    sheet.append([2, "/etc/passwd", 7, None, 0])
    book.save(batch / "list.xlsx")
    (batch / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (batch / "latin1.csv").write_bytes("file\ncaf\xe9.jpg\n".encode("latin-1") + b"\xff\xfe\x81")
    _, _, skipped = discover_batch(batch)
    reasons = {(s.rel_path, s.row): s.reason for s in skipped}
    assert "leaves the batch folder" in reasons[("list.xlsx", 3)] and "page count '0'" in reasons[("list.xlsx", 3)]
    assert ("list.xlsx", 2) not in reasons
    assert reasons[("broken.xlsx", None)].startswith("file list cannot be read as an Excel workbook")
    assert reasons[("latin1.csv", None)] == "file list is neither UTF-8 nor GBK text; not read"


def test_every_skipped_entry_is_named_in_the_stored_summary(tmp_path: Path) -> None:
    batch = _list_batch(tmp_path)
    (batch / "readme.txt").write_text("x")
    (batch / ".hidden.jpg").write_bytes(corpus.page_jpeg(3))
    (batch / "清单.csv").write_text("文件名\nnot_here.jpg\n", encoding="utf-8")
    settings = Settings(home=tmp_path / "home", workers=1, ocr=OcrSettings(engine="null"))
    summary = ingest_batch(batch, settings, show_progress=False)
    with open_store(settings.database_url) as store:
        runs = store.runs.get(summary.batch_id, _only_run(settings.database_url))
    assert runs is not None
    stored = {(s.rel_path, s.row): s.reason for s in runs.skipped}
    assert stored == {(s.rel_path, s.row): s.reason for s in summary.skipped}
    assert stored[("readme.txt", None)] == "not a scan (suffix .txt); not read"
    assert stored[(".hidden.jpg", None)].startswith("hidden entry")
    assert stored[("清单.csv", 2)] == "'not_here.jpg' is not a scan in the batch"


def _only_run(db_url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT run_id FROM batch_runs")).scalar_one())
    finally:
        engine.dispose()


def test_a_folder_nested_deeper_than_the_recursion_limit_is_walked(tmp_path: Path) -> None:
    """A limit lowered for the test, not a tree deeper than the default: shutil.rmtree (pytest's clean-up
    of old temporary folders) recurses as deep as the tree, and must never meet one it cannot remove."""
    batch = tmp_path / "batch"
    deep = batch / ("d/" * 300)
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("x")
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        _, files, skipped = discover_batch(batch)
    finally:
        sys.setrecursionlimit(old)
    assert files == []
    assert [s.rel_path for s in skipped] == ["d/" * 300 + "deep.txt"]
