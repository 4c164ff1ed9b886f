"""Honest field confidence: features → calibrated P(right) → per-kind thresholds.

Trained by one command, `python bench/calibrate.py`, which writes schemas/decide/calibration.json
and schemas/decide/thresholds.yaml; the decide stage loads both once and applies them.
"""
