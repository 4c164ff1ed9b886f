from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import BadInputError, DecompressionBombError, EncryptedPdfError
from pipeline.ingest import discover_batch, load_page, probe_file
from schemas.models import FileKind
from tests.badfiles import good_jpeg, write_bad_files


def test_every_bad_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    expected = write_bad_files(tmp_path)
    for name, words in expected.items():
        with pytest.raises(BadInputError) as info:
            probe_file(tmp_path / name)
        assert words in info.value.reason, (name, info.value.reason)
        assert name in str(info.value)


def test_encrypted_pdf_has_its_own_error(tmp_path: Path) -> None:
    write_bad_files(tmp_path)
    with pytest.raises(EncryptedPdfError):
        probe_file(tmp_path / "encrypted.pdf")


def test_content_decides_the_type_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    Image.new("RGB", (300, 400), "white").save(path, "PNG", dpi=(150, 150))
    assert probe_file(path) == (FileKind.PNG, 1)
    image, dpi = load_page(path, FileKind.PNG, 1)
    assert image.shape == (400, 300, 3) and dpi == pytest.approx(150, abs=1)


def test_multipage_tiff_and_pdf_pages(tmp_path: Path) -> None:
    pages = [Image.new("RGB", (827, 1169), c) for c in ("white", "red", "blue")]
    tif = tmp_path / "box.tif"
    pages[0].save(tif, save_all=True, append_images=pages[1:], dpi=(100, 100))
    assert probe_file(tif) == (FileKind.TIFF, 3)
    img, _ = load_page(tif, FileKind.TIFF, 2)
    assert tuple(img[10, 10]) == (0, 0, 255)  # red, in BGR order
    pdf = tmp_path / "box.pdf"
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=100)
    assert probe_file(pdf) == (FileKind.PDF, 3)
    img, dpi = load_page(pdf, FileKind.PDF, 3)
    # Rendered at the embedded scan's own resolution, with colours in BGR order.
    assert dpi == pytest.approx(100, rel=0.02)
    assert abs(img.shape[1] - 827) <= 2
    blue, green, red = (int(c) for c in img[20, 20])
    assert blue > 240 and green < 15 and red < 15


def test_decompression_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(path)
    with pytest.raises(DecompressionBombError):
        probe_file(path)


def test_discover_skips_non_scans_and_fingerprints(tmp_path: Path) -> None:
    good_jpeg(tmp_path / "a.jpg")
    (tmp_path / "sub").mkdir()
    good_jpeg(tmp_path / "sub" / "b.jpeg")
    (tmp_path / "ground_truth.json").write_text("{}")
    (tmp_path / "Thumbs.db").write_bytes(b"x")
    batch, files, skipped = discover_batch(tmp_path)
    assert [f.rel_path for f in files] == ["a.jpg", "sub/b.jpeg"]
    assert sorted(s.rel_path for s in skipped) == ["Thumbs.db", "ground_truth.json"]
    assert all("not a scan" in s.reason for s in skipped)
    again, files2, _ = discover_batch(tmp_path)
    assert again.batch_id == batch.batch_id and [f.file_id for f in files2] == [f.file_id for f in files]
