"""Synthetic scanned batches with ground truth, for tests and accuracy measurement."""

from synth.batch import generate_batch
from synth.cli import main_synth
from synth.plan import FormSource
from synth.truth import DocumentTruth, GroundTruth, PageTruth

__all__ = ["DocumentTruth", "FormSource", "GroundTruth", "PageTruth", "generate_batch", "main_synth"]
