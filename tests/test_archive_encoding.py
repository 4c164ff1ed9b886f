"""Archival encoding of a page by colour mode: colour JPEG where there is red ink, grey JPEG, CCITT G4 for
bitonal pages; the PDF/A embeds the stored bytes as they are, stays PDF/A-2b, and renders what was stored."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pikepdf.pdfa
import pytest
from PIL import Image

from pipeline.archive.legibility import compare_fields
from pipeline.archive.page_encoding import colour_mode, encode_page
from pipeline.archive.pdfa import PdfMetadata, image_dpis, write_pdfa
from pipeline.settings import ArchiveImageSettings
from schemas.models import OcrPage

W, H = 1200, 900  # 4 x 3 inches at 300 DPI
SEAL = (300, 650)  # (row, column) of the red seal's centre
SETTINGS = ArchiveImageSettings()
META = PdfMetadata(title="测试", archive_no="2023-YL-0001-0001", record_id="rec-1", form_date=date(2023, 5, 4))


def _ink(page: np.ndarray) -> np.ndarray:
    for row in range(120, 800, 90):
        cv2.putText(page, "ZHANG SAN 11010519491231002X", (60, row), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 4)
    return page


def colour_scan() -> np.ndarray:
    rng = np.random.default_rng(3)
    page = np.clip(rng.normal((228, 238, 243), 6, size=(H, W, 3)), 0, 255).astype(np.uint8)  # BGR, warm paper
    _ink(page)
    cv2.circle(page, SEAL[::-1], 110, (40, 40, 210), 12)  # a red seal's ring
    return page


def grey_scan() -> np.ndarray:
    rng = np.random.default_rng(4)
    return _ink(np.clip(rng.normal(236, 6, size=(H, W)), 0, 255).astype(np.uint8))


def bitonal_scan() -> np.ndarray:
    page = _ink(np.full((H, W), 255, dtype=np.uint8))
    return np.where(page < 128, 0, 255).astype(np.uint8)  # OpenCV smooths its text: a scanner's cut


def _blank_ocr() -> OcrPage:
    return OcrPage(engine="synthetic", engine_version="1", width=W, height=H, words=[])


def _render(pdf: Path, page_no: int, folder: Path) -> np.ndarray:
    """The page as a viewer shows it: rendered by poppler at 300 DPI, as BGR."""
    prefix = folder / f"render{page_no}"
    subprocess.run(
        ["pdftoppm", "-r", "300", "-f", str(page_no), "-l", str(page_no), "-png", "-singlefile", str(pdf), str(prefix)],
        check=True,
    )
    rendered = cv2.imread(f"{prefix}.png", cv2.IMREAD_COLOR)
    assert rendered is not None
    return rendered


def test_each_colour_mode_gets_its_encoding() -> None:
    colour, grey, bitonal = (encode_page(p, SETTINGS) for p in (colour_scan(), grey_scan(), bitonal_scan()))
    assert (colour.mode, colour.suffix) == ("colour", ".jpg")
    assert (grey.mode, grey.suffix) == ("grey", ".jpg")
    assert (bitonal.mode, bitonal.suffix) == ("bitonal", ".tif")
    with Image.open(io.BytesIO(colour.data)) as im:
        assert (im.format, im.mode) == ("JPEG", "RGB")
    with Image.open(io.BytesIO(grey.data)) as im:
        assert (im.format, im.mode) == ("JPEG", "L")
    with Image.open(io.BytesIO(bitonal.data)) as im:
        assert (im.format, im.mode, im.info["compression"]) == ("TIFF", "1", "group4")
        assert np.array_equal(np.asarray(im.convert("L")), bitonal_scan())  # G4 loses nothing of a bitonal page
    # compact: every encoding is far below the lossless page
    lossless = ArchiveImageSettings(lossless=True)
    for page, encoded in ((colour_scan(), colour), (bitonal_scan(), bitonal)):
        assert len(encoded.data) < len(encode_page(page, lossless).data) / 3


def test_the_red_seal_stays_red_in_the_archived_jpeg() -> None:
    decoded = cv2.imdecode(np.frombuffer(encode_page(colour_scan(), SETTINGS).data, np.uint8), cv2.IMREAD_COLOR)
    b, g, r = (int(v) for v in decoded[SEAL[0] - 110, SEAL[1]])  # on the ring
    assert r > 150 and g < 110 and b < 110


def test_a_grey_page_with_mid_tones_is_not_made_bitonal() -> None:
    page = bitonal_scan()
    page[100:400, 100:700] = np.linspace(30, 220, 600, dtype=np.uint8)[None, :]  # a photo: a fifth of the page
    assert colour_mode(page, SETTINGS) == "grey"
    assert colour_mode(bitonal_scan(), SETTINGS) == "bitonal"


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], Path]:
    """Three stored pages, as the page worker writes them, in one PDF/A."""
    folder = tmp_path_factory.mktemp("encoded")
    stored = []
    for number, page in enumerate((colour_scan(), grey_scan(), bitonal_scan()), start=1):
        encoded = encode_page(page, SETTINGS)
        path = folder / f"{number:06d}_pp{encoded.suffix}"
        path.write_bytes(encoded.data)
        stored.append(path)
    out = write_pdfa([(p, _blank_ocr()) for p in stored], folder / "doc.pdf", META, SETTINGS)
    return out, stored, folder


def test_archive_with_every_encoding_is_pdfa_2b(archived) -> None:
    out, _stored, _folder = archived
    report = pikepdf.pdfa.validate_written(out, "2b")
    assert report.passed, report.summary()
    with pikepdf.open(out) as pdf:
        assert image_dpis(pdf) == [pytest.approx((300, 300), abs=0.5)] * 3


def test_stored_bytes_are_embedded_as_they_are(archived) -> None:
    out, stored, _folder = archived
    with pikepdf.open(out) as pdf:
        images = [next(iter(page.get_images().values())) for page in pdf.pages]
        colour, grey, bitonal = images
        assert (colour.Filter, colour.ColorSpace, int(colour.BitsPerComponent)) == ("/DCTDecode", "/DeviceRGB", 8)
        assert (grey.Filter, grey.ColorSpace, int(grey.BitsPerComponent)) == ("/DCTDecode", "/DeviceGray", 8)
        assert (bitonal.Filter, bitonal.ColorSpace, int(bitonal.BitsPerComponent)) == (
            "/CCITTFaxDecode",
            "/DeviceGray",
            1,
        )
        assert int(bitonal.DecodeParms.K) == -1
        assert colour.read_raw_bytes() == stored[0].read_bytes()
        assert grey.read_raw_bytes() == stored[1].read_bytes()
        assert len(bitonal.read_raw_bytes()) < stored[2].stat().st_size  # the strip without the TIFF around it


def test_archived_pages_render_as_stored(archived) -> None:
    """Black text stays black on white (the G4 polarity), the seal stays red."""
    out, _stored, folder = archived
    bitonal = cv2.cvtColor(_render(out, 3, folder), cv2.COLOR_BGR2GRAY)
    assert bitonal.shape == (H, W)
    # poppler resamples image edges even at the image's own resolution; inverted, this would be ~0.1
    assert float(((bitonal < 128) == (bitonal_scan() < 128)).mean()) > 0.98
    colour = _render(out, 1, folder)
    b, g, r = (int(v) for v in colour[SEAL[0] - 110, SEAL[1]])
    assert r > 150 and g < 110 and b < 110
    grey = cv2.cvtColor(_render(out, 2, folder), cv2.COLOR_BGR2GRAY)
    assert float(((grey < 128) == (grey_scan() < 128)).mean()) > 0.98  # the ink where it was (JPEG drops the noise)


def test_bitonal_page_decodes_to_the_same_pixels(archived) -> None:
    """poppler's own CCITT decoder, with the image's decode parameters, gives back every pixel."""
    out, _stored, folder = archived
    subprocess.run(["pdfimages", "-f", "3", "-l", "3", "-png", str(out), str(folder / "img")], check=True)
    decoded = cv2.imread(str(folder / "img-000.png"), cv2.IMREAD_GRAYSCALE)
    assert decoded is not None and np.array_equal(decoded, bitonal_scan())


def test_pages_stored_by_an_older_run_as_png_are_encoded_too(tmp_path: Path) -> None:
    pages = []
    for name, page in (("colour", colour_scan()), ("bitonal", bitonal_scan())):
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), page)
        pages.append((path, _blank_ocr()))
    out = write_pdfa(pages, tmp_path / "doc.pdf", META, SETTINGS)
    assert pikepdf.pdfa.validate_written(out, "2b").passed
    with pikepdf.open(out) as pdf:
        filters = [str(next(iter(p.get_images().values())).Filter) for p in pdf.pages]
    assert filters == ["/DCTDecode", "/CCITTFaxDecode"]


def test_field_agreement_counts_every_field_either_reading_found() -> None:
    working = {"name": "张三", "id_number": "11010519491231002X", "row.1.name": "李四"}
    archived = {"name": "张三", "id_number": "11010519491231002Y", "form_date": "2023-05-04"}
    agreement = compare_fields(working, archived)
    assert (agreement.compared, agreement.agreed) == (4, 1)
    assert agreement.differing == ["form_date", "id_number", "row.1.name"]
    assert agreement.rate == 0.25
    assert (agreement + compare_fields(working, working)).rate == 4 / 7
