"""A grey or bitonal scan keeps one channel in its working copy; a colour scan keeps its colour."""

from __future__ import annotations

import numpy as np

from pipeline.archive.page_encoding import grey_if_grey


def test_grey_scan_decoded_as_bgr_becomes_one_channel_with_the_same_pixels() -> None:
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, size=(400, 300), dtype=np.uint8)
    bgr = np.repeat(grey[:, :, None], 3, axis=2)
    bgr[::7, ::5, 0] = np.clip(bgr[::7, ::5, 0].astype(int) + 2, 0, 255).astype(np.uint8)  # JPEG rounding
    out = grey_if_grey(bgr)
    assert out.ndim == 2 and out.shape == grey.shape
    assert int(np.abs(out.astype(int) - grey.astype(int)).max()) <= 2


def test_a_red_seal_keeps_the_page_in_colour() -> None:
    page = np.full((400, 300, 3), 245, dtype=np.uint8)
    page[100:160, 100:160] = (40, 40, 210)  # BGR red ink over a small part of the page
    assert grey_if_grey(page) is page
    assert grey_if_grey(page[:, :, 0]).ndim == 2
