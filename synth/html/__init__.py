"""The second synthetic family: forms written as HTML/CSS, printed by Chromium, then scanned."""

from synth.html.batch import FAMILY, GENERATOR_VERSION, generate_batch

__all__ = ["FAMILY", "GENERATOR_VERSION", "generate_batch"]
