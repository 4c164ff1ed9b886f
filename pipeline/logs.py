"""Structured logging for the command line, with ID numbers masked in every line."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# 18-character resident IDs and unified social credit codes: keep the ends, hide the middle.
_ID_PATTERN = re.compile(r"(?<![0-9A-Z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Z])")


def mask_ids(text: str) -> str:
    return _ID_PATTERN.sub(lambda m: m.group(1)[:4] + "*" * 12 + m.group(3)[-2:], text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_ids(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = mask_ids(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "WARNING", log_file: str | None = None) -> None:
    """Called once by the CLI; libraries never configure logging themselves."""
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("ocrmypdf", "PIL", "pikepdf", "urllib3", "elastic_transport", "RapidOCR", "fontTools"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
