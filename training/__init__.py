"""Training of the product's learned parts: the form classifier and the field-confidence calibration.

A tool beside the product (like synth/ and bench/): it imports the product, the product never imports it,
and the product's wheel does not contain it. What it writes (classifiers/artifacts/, schemas/decide/) is.
"""
