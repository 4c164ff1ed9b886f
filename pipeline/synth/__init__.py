"""Synthetic scanned batches with ground truth, for tests and accuracy measurement."""

from pipeline.synth.batch import FormSource, generate_batch
from pipeline.synth.cli import main_synth
from pipeline.synth.truth import DocumentTruth, GroundTruth, PageTruth

__all__ = ["DocumentTruth", "FormSource", "GroundTruth", "PageTruth", "generate_batch", "main_synth"]
